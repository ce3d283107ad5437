import {
  LimitExceededException,
  StartTranscriptionJobCommand,
  type StartTranscriptionJobCommandInput,
} from '@aws-sdk/client-transcribe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordingStore } from '../../../lib/recordings/index.js';
import { startTranscription, TranscriptionStartError } from '../../../lib/transcription/index.js';
import { recordOutcome } from '../../../lib/transcription/repository.js';
import { startTranscriptionJobProblems, transcribeStandIn } from '../../support/aws.js';
import { useConfig } from '../../support/config.js';
import { serverUrl, useTestDb } from '../../support/db.js';
import { fakeSid } from '../../support/twilio.js';
import { insertRecording, transcriptionRow } from '../recordings/factories.js';

const BUCKET = 'pedro-test-recordings';
const PRACTICE = '+15005550006';
const testDb = useTestDb();
const transcribe = transcribeStandIn();
const store = { kind: 's3', bucket: BUCKET } as RecordingStore;

let callerCounter = 0;
/** A fresh caller number per test, so texts of one test never vote in another. */
const newCaller = () => `+1415555${String(1000 + ++callerCounter).slice(-4)}`;

/** An archived recording of a call from `caller` to the practice (or from the practice, for outbound). */
async function recordingOfCall(caller: string, direction: 'inbound' | 'outbound' = 'inbound') {
  const callSid = fakeSid('CA');
  await testDb.db.query(
    `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
     VALUES ('twilio', $1, $2, $3, $4, 'completed')`,
    [
      callSid,
      direction,
      direction === 'inbound' ? caller : PRACTICE,
      direction === 'inbound' ? PRACTICE : caller,
    ],
  );
  const id = await insertRecording(testDb.db, {
    providerCallId: callSid,
    storageKey: `recordings/${callSid}.mp3`,
  });
  return {
    id,
    provider: 'twilio' as const,
    providerRecordingId: `RE${callSid.slice(2)}`,
    storageKey: `recordings/${callSid}.mp3`,
    createdAt: new Date('2025-03-04T10:00:00Z'),
  };
}

/** Inbound texts from `from`, oldest first, with the language the classifier gave each. */
async function textsFrom(from: string, languages: string[], daysAgo = 1) {
  for (const [index, language] of languages.entries()) {
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
         language, created_at)
       VALUES ('twilio', $1, 'inbound', $2, $3, 'hola', 'received', $4,
         now() - make_interval(days => $5) + make_interval(mins => $6))`,
      [fakeSid('SM'), from, PRACTICE, language, daysAgo, index],
    );
  }
}

const startedLanguage = () => transcribe.startRequests().at(-1)?.LanguageCode;

beforeEach(() => {
  transcribe.reset();
  delete process.env.RECORDINGS_KMS_KEY_ID;
});
afterEach(async () => {
  await testDb.db.query('UPDATE voip_settings SET transcription_language = NULL');
  await testDb.db.query(`DELETE FROM voip_settings WHERE phone_number <> '*'`);
});

describe('transcription start: the language of the job', () => {
  it('uses the language the caller writes in (es-US for a Spanish texter)', async () => {
    // Prepare
    const caller = newCaller();
    await textsFrom(caller, ['es', 'es']);
    const recording = await recordingOfCall(caller);
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });

    // Act
    const started = await startTranscription(testDb.db, config, store, recording);

    // Assess
    expect(started).toEqual({ status: 'in_progress', jobName: `pedro-test-recording-${recording.id}` });
    expect(transcribe.startRequests()).toEqual([
      {
        TranscriptionJobName: `pedro-test-recording-${recording.id}`,
        Media: { MediaFileUri: `s3://${BUCKET}/${recording.storageKey}` },
        MediaFormat: 'mp3',
        LanguageCode: 'es-US',
        ContentRedaction: { RedactionType: 'PII', RedactionOutput: 'redacted' },
        OutputBucketName: BUCKET,
        OutputKey: `transcripts/twilio/2025/03/${recording.providerRecordingId}.json`,
      },
    ]);
    expect(await transcriptionRow(testDb.db, recording.id)).toMatchObject({
      status: 'in_progress',
      language: 'es-US',
    });
  });

  it('counts the majority of the latest texts, a tie going to the newest', async () => {
    // Prepare: es, en, en, es (newest last) → 2 against 2, the newest is es.
    const tied = newCaller();
    await textsFrom(tied, ['es', 'en', 'en', 'es']);
    const majority = newCaller();
    await textsFrom(majority, ['en', 'en', 'en', 'es']);
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });

    // Act
    await startTranscription(testDb.db, config, store, await recordingOfCall(tied));
    const tiedLanguage = startedLanguage();
    await startTranscription(testDb.db, config, store, await recordingOfCall(majority));

    // Assess
    expect(tiedLanguage).toBe('es-US');
    expect(startedLanguage()).toBe('en-US');
  });

  it('reads the patient, not the practice, on an outbound call', async () => {
    // Prepare
    const patient = newCaller();
    await textsFrom(patient, ['es']);
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });

    // Act
    await startTranscription(testDb.db, config, store, await recordingOfCall(patient, 'outbound'));

    // Assess
    expect(startedLanguage()).toBe('es-US');
  });

  it("follows the practice's setting over the caller's texts", async () => {
    // Prepare
    const caller = newCaller();
    await textsFrom(caller, ['en', 'en']);
    await testDb.db.query(
      `INSERT INTO voip_settings (provider, phone_number, transcription_language) VALUES ('twilio', $1, 'es-US')`,
      [PRACTICE],
    );
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });

    // Act
    await startTranscription(testDb.db, config, store, await recordingOfCall(caller));

    // Assess
    expect(startedLanguage()).toBe('es-US');
  });

  it('falls back to en-US with no setting and no recent texts (texts older than 180 days do not count)', async () => {
    // Prepare
    const caller = newCaller();
    await textsFrom(caller, ['es'], 200);
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });

    // Act
    await startTranscription(testDb.db, config, store, await recordingOfCall(caller));

    // Assess
    expect(startedLanguage()).toBe('en-US');
  });

  it('refuses a language outside en-US and es-US in the settings', async () => {
    // Act
    const update = testDb.db.query(
      `UPDATE voip_settings SET transcription_language = 'fr-FR' WHERE phone_number = '*'`,
    );

    // Assess
    await expect(update).rejects.toThrow();
  });
});

describe('the Transcribe stand-in refuses what Transcribe refuses', () => {
  const valid = {
    TranscriptionJobName: 'pedro-test-recording-1',
    Media: { MediaFileUri: 's3://pedro-test-recordings/recordings/a.mp3' },
    MediaFormat: 'mp3' as const,
    LanguageCode: 'en-US' as const,
    ContentRedaction: { RedactionType: 'PII' as const, RedactionOutput: 'redacted' as const },
    OutputBucketName: 'pedro-test-recordings',
    OutputKey: 'transcripts/twilio/2025/03/RE1.json',
  };

  it('takes the request the recording worker sends', () => {
    expect(startTranscriptionJobProblems(valid)).toEqual([]);
    expect(
      startTranscriptionJobProblems({
        ...valid,
        OutputEncryptionKMSKeyId:
          'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      }),
    ).toEqual([]);
    expect(startTranscriptionJobProblems({ ...valid, OutputEncryptionKMSKeyId: 'alias/recordings' })).toEqual(
      [],
    );
  });

  it.each([
    [
      'PII redaction with language identification',
      { LanguageCode: undefined, IdentifyLanguage: true, LanguageOptions: ['en-US', 'es-US'] },
      'Redaction is not compatible with language identification',
    ],
    [
      'a language and identification together',
      { IdentifyLanguage: true },
      'exactly one of LanguageCode, IdentifyLanguage or IdentifyMultipleLanguages is required',
    ],
    [
      'no language at all',
      { LanguageCode: undefined },
      'exactly one of LanguageCode, IdentifyLanguage or IdentifyMultipleLanguages is required',
    ],
    [
      'redaction in a language batch redaction does not support',
      { LanguageCode: 'en-GB' },
      'Redaction with batch transcriptions is available with en-US and es-US only, not en-GB',
    ],
    ['an output key without a bucket', { OutputBucketName: undefined }, 'OutputKey needs OutputBucketName'],
    [
      'an output key with a space',
      { OutputKey: 'transcripts/a b.json' },
      "OutputKey must be 1-1024 of [a-zA-Z0-9-_.!*'()/]",
    ],
    [
      'a KMS key that is no key id, ARN or alias',
      { OutputEncryptionKMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/test-key' },
      'OutputEncryptionKMSKeyId must be a key id, key ARN, alias name or alias ARN',
    ],
    [
      'a KMS key with no output bucket',
      {
        OutputBucketName: undefined,
        OutputKey: undefined,
        OutputEncryptionKMSKeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      },
      'OutputEncryptionKMSKeyId needs an output location (OutputBucketName)',
    ],
    [
      'a job name with a space',
      { TranscriptionJobName: 'pedro test' },
      'TranscriptionJobName must be 1-200 of [0-9a-zA-Z._-] (not "." or "..")',
    ],
    [
      'an unknown media format',
      { MediaFormat: 'aac' },
      'MediaFormat must be one of mp3, mp4, wav, flac, ogg, amr, webm, m4a',
    ],
    [
      'redaction without its output',
      { ContentRedaction: { RedactionType: 'PII' } },
      'ContentRedaction.RedactionOutput must be redacted or redacted_and_unredacted',
    ],
  ])('refuses %s', (_label, change, problem) => {
    // Act
    const problems = startTranscriptionJobProblems({ ...valid, ...change } as typeof valid);

    // Assess
    expect(problems).toContain(problem);
  });

  it('answers BadRequestException to an invalid start, and the row records it as failed', async () => {
    // Prepare: a KMS key setting that names no key.
    const recording = await recordingOfCall(newCaller());
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });
    process.env.RECORDINGS_KMS_KEY_ID = 'not a key';

    // Act
    const started = await startTranscription(testDb.db, config, store, recording);

    // Assess
    expect(started).toMatchObject({
      status: 'failed',
      failureReason: expect.stringMatching(/^BadRequestException: .*OutputEncryptionKMSKeyId must be/),
    });
    expect(transcribe.job(`pedro-test-recording-${recording.id}`)).toBeUndefined();
  });

  it('answers ConflictException to a second job of the same name', async () => {
    // Prepare
    const recording = await recordingOfCall(newCaller());
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });
    await startTranscription(testDb.db, config, store, recording);
    await testDb.db.query('DELETE FROM transcriptions WHERE recording_id = $1', [recording.id]);

    // Act
    const again = await startTranscription(testDb.db, config, store, recording);

    // Assess
    expect(again).toEqual({ status: 'in_progress', jobName: `pedro-test-recording-${recording.id}` });
    expect(transcribe.startRequests()).toHaveLength(2);
  });
});

/** The claim on a recording's start, as the row holds it. */
async function claimOf(recordingId: number) {
  const { rows } = await testDb.db.query<{ status: string; claimed: boolean; claim_live: boolean | null }>(
    `SELECT status, claimed_until IS NOT NULL AS claimed, claimed_until > now() AS claim_live
     FROM transcriptions WHERE recording_id = $1`,
    [recordingId],
  );
  return rows[0];
}

/**
 * StartTranscriptionJob answers only once `open()` is called, so a test can act while a claimer waits on it. The
 * job is then held as Transcribe would hold it.
 */
function holdStarts() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let calls = 0;
  const waiting = new Promise<void>((resolve) => {
    transcribe.mock
      .on(StartTranscriptionJobCommand)
      .callsFake(async (input: StartTranscriptionJobCommandInput) => {
        calls++;
        resolve();
        await gate;
        const name = input.TranscriptionJobName as string;
        transcribe.seedJob(name, { LanguageCode: input.LanguageCode });
        return { TranscriptionJob: transcribe.job(name) };
      });
  });
  return { waiting, open, calls: () => calls };
}

describe('transcription start: one claimer among racing duplicates', () => {
  it('makes one StartTranscriptionJob call for two concurrent starts of one recording', async () => {
    // Prepare
    const recording = await recordingOfCall(newCaller());
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });

    // Act
    const answers = await Promise.all([
      startTranscription(testDb.db, config, store, recording),
      startTranscription(testDb.db, config, store, recording),
    ]);

    // Assess
    expect(transcribe.startRequests()).toHaveLength(1);
    expect(answers.map((answer) => answer.status)).toContain('in_progress');
    for (const answer of answers) expect(['starting', 'in_progress']).toContain(answer.status);
    expect(await claimOf(recording.id)).toEqual({ status: 'in_progress', claimed: false, claim_live: null });
  });

  it('lets a duplicate that finds the claimer waiting on Transcribe do nothing and answer `starting`', async () => {
    // Prepare
    const recording = await recordingOfCall(newCaller());
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });
    const held = holdStarts();
    const first = startTranscription(testDb.db, config, store, recording);
    await held.waiting;

    // Act
    const duplicate = await startTranscription(testDb.db, config, store, recording);
    held.open();
    const claimer = await first;

    // Assess
    expect(duplicate).toEqual({ status: 'starting', jobName: `pedro-test-recording-${recording.id}` });
    expect(claimer).toEqual({ status: 'in_progress', jobName: `pedro-test-recording-${recording.id}` });
    expect(held.calls()).toBe(1);
    expect(await transcriptionRow(testDb.db, recording.id)).toMatchObject({
      status: 'in_progress',
      output_key: `transcripts/twilio/2025/03/${recording.providerRecordingId}.json`,
      language: 'en-US',
    });
  });

  it('gives the claim up when Transcribe cannot take the job now, so a later attempt starts it', async () => {
    // Prepare
    const recording = await recordingOfCall(newCaller());
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });
    transcribe.refuseNextStart(
      new LimitExceededException({ message: 'too many jobs', $metadata: { httpStatusCode: 400 } }),
    );

    // Act
    const failed = startTranscription(testDb.db, config, store, recording);
    await expect(failed).rejects.toBeInstanceOf(TranscriptionStartError);
    const afterFailure = await transcriptionRow(testDb.db, recording.id);
    const retried = await startTranscription(testDb.db, config, store, recording);

    // Assess
    expect(afterFailure).toBeUndefined();
    expect(retried).toEqual({ status: 'in_progress', jobName: `pedro-test-recording-${recording.id}` });
    expect(transcribe.startRequests()).toHaveLength(2);
    expect(transcribe.job(`pedro-test-recording-${recording.id}`)).toBeDefined();
  });

  it('takes over a claim whose worker died once its lease has run out, and not before', async () => {
    // Prepare: two starts claimed by workers that died, one lease still running, one run out.
    const live = await recordingOfCall(newCaller());
    const expired = await recordingOfCall(newCaller());
    for (const [recording, minutes] of [
      [live, 2],
      [expired, -1],
    ] as const) {
      await testDb.db.query(
        `INSERT INTO transcriptions (recording_id, status, job_name, claimed_until)
         VALUES ($1, 'starting', $2, now() + make_interval(mins => $3))`,
        [recording.id, `pedro-test-recording-${recording.id}`, minutes],
      );
    }
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });

    // Act
    const held = await startTranscription(testDb.db, config, store, live);
    const takenOver = await startTranscription(testDb.db, config, store, expired);

    // Assess
    expect(held).toEqual({ status: 'starting', jobName: `pedro-test-recording-${live.id}` });
    expect(takenOver).toEqual({ status: 'in_progress', jobName: `pedro-test-recording-${expired.id}` });
    expect(transcribe.startRequests().map((input) => input.TranscriptionJobName)).toEqual([
      `pedro-test-recording-${expired.id}`,
    ]);
    expect(await claimOf(live.id)).toEqual({ status: 'starting', claimed: true, claim_live: true });
  });

  it('keeps an outcome the writer stored before the start recorded its answer', async () => {
    // Prepare: Transcribe's state-change event is written while the claimer still waits on its answer.
    const recording = await recordingOfCall(newCaller());
    const jobName = `pedro-test-recording-${recording.id}`;
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });
    const held = holdStarts();
    const start = startTranscription(testDb.db, config, store, recording);
    await held.waiting;
    await recordOutcome(testDb.db, {
      recordingId: recording.id,
      jobName,
      status: 'completed',
      text: 'Call me back.',
      language: 'en-US',
    });

    // Act
    held.open();
    await start;

    // Assess
    expect(await transcriptionRow(testDb.db, recording.id)).toMatchObject({
      status: 'completed',
      text: 'Call me back.',
    });
    expect(await claimOf(recording.id)).toMatchObject({ claimed: false });
  });

  it('answers a later delivery from the row, without asking Transcribe again', async () => {
    // Prepare
    const recording = await recordingOfCall(newCaller());
    const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });
    await startTranscription(testDb.db, config, store, recording);

    // Act
    const again = await startTranscription(testDb.db, config, store, recording);

    // Assess
    expect(again).toEqual({ status: 'in_progress', jobName: `pedro-test-recording-${recording.id}` });
    expect(transcribe.startRequests()).toHaveLength(1);
  });

  // PGlite runs one statement at a time; only a server shows concurrent transactions racing for the claim.
  it.skipIf(!serverUrl)(
    'makes one call per recording when ten workers race on a pool (real Postgres)',
    async () => {
      // Prepare
      const recordings = [
        await recordingOfCall(newCaller()),
        await recordingOfCall(newCaller()),
        await recordingOfCall(newCaller()),
      ];
      const config = useConfig({ STAGE: 'test', ENABLE_TRANSCRIPTION: 'true', RECORDINGS_BUCKET: BUCKET });

      // Act
      await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          startTranscription(testDb.db, config, store, recordings[index % recordings.length]!),
        ),
      );

      // Assess
      const names = transcribe.startRequests().map((input) => input.TranscriptionJobName);
      expect(names.sort()).toEqual(
        recordings.map((recording) => `pedro-test-recording-${recording.id}`).sort(),
      );
      for (const recording of recordings) {
        expect(await claimOf(recording.id)).toEqual({
          status: 'in_progress',
          claimed: false,
          claim_live: null,
        });
      }
    },
  );
});
