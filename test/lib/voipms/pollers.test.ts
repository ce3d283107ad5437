import { beforeEach, describe, expect, it } from 'vitest';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { localQueues } from '../../../lib/queue/index.js';
import { normalizeCdrRecords, upsertVoipmsCalls } from '../../../lib/voipms/calls.js';
import { createVoipmsClient, type VoipmsClient } from '../../../lib/voipms/index.js';
import {
  CDR_CURSOR,
  pollVoipmsCdr,
  pollVoipmsRecordings,
  readCursor,
  voipmsOffsetHours,
} from '../../../lib/voipms/pollers.js';
import { insertVoipmsRecordings } from '../../../lib/voipms/recordings.js';
import type { FakeCdrSeed, FakeVoipms } from '../../fakes/voipms-api.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { useFakeVoipms } from '../../support/voipms.js';

const testDb = useTestDb();
let fake: FakeVoipms;
let client: VoipmsClient;
useFakeVoipms((started) => ({ fake, client } = started));

let counter = 0;
function cdrSeed(overrides: Partial<FakeCdrSeed> = {}): FakeCdrSeed {
  counter += 1;
  return {
    startedAt: new Date('2024-05-06T14:00:00Z'),
    callerid: '"Jane Roe" <5145550123>',
    destination: '5145550000',
    description: 'Inbound DID',
    disposition: 'ANSWERED',
    seconds: 65,
    uniqueid: `1714990000.${counter}`,
    total: '0.01950000',
    ...overrides,
  };
}

const calls = async () =>
  (
    await testDb.db.query<{ provider_call_id: string; started_at: Date; status: string }>(
      'SELECT provider_call_id, started_at, status FROM calls ORDER BY provider_call_id',
    )
  ).rows;

describe('VoIP.ms pollers', () => {
  beforeEach(() => {
    useConfig();
    clearPracticeSettingsCache();
    localQueues.reset();
    fake.calls.length = 0;
    fake.bareObjects('getCDR', false);
    fake.bareObjects('getCallRecordings', false);
  });

  it('CDR: overlapping windows upsert each call once, cursor advancing with each poll', async () => {
    // Prepare: the first poll sees one call; the second (overlapping) sees it again plus a new one.
    const first = cdrSeed({ startedAt: new Date('2024-05-06T14:00:00Z') });
    fake.seedCdr(first);
    const t1 = new Date('2024-05-06T15:00:00Z');

    // Act
    const poll1 = await pollVoipmsCdr({ db: testDb.db, client, now: t1 });
    const second = cdrSeed({
      startedAt: new Date('2024-05-06T15:02:00Z'),
      disposition: 'NO ANSWER',
      seconds: 0,
    });
    fake.seedCdr(second);
    const t2 = new Date('2024-05-06T15:05:00Z');
    const poll2 = await pollVoipmsCdr({ db: testDb.db, client, now: t2 });

    // Assess
    expect(poll1).toMatchObject({ fetched: 1, stored: 1 });
    // Cursor 15:00 minus the 1 h overlap and the 24 h longest call.
    expect(poll2.from.toISOString()).toBe('2024-05-05T14:00:00.000Z');
    expect(poll2.fetched).toBe(2);
    const rows = await calls();
    expect(rows.map((row) => row.provider_call_id)).toEqual([first.uniqueid, second.uniqueid].sort());
    expect(new Date(rows.find((r) => r.provider_call_id === first.uniqueid)!.started_at).toISOString()).toBe(
      '2024-05-06T14:00:00.000Z',
    );
    expect((await readCursor(testDb.db, CDR_CURSOR))?.toISOString()).toBe(t2.toISOString());
  });

  it('CDR: asks VoIP.ms at the practice offset and reads dates back exactly', async () => {
    fake.seedCdr(cdrSeed({ startedAt: new Date('2024-01-15T03:30:00Z') }));
    await pollVoipmsCdr({ db: testDb.db, client, now: new Date('2024-01-15T04:00:00Z') });
    expect(fake.callsTo('getCDR')[0]?.params).toMatchObject({ timezone: '-5', date_from: '2024-01-13' });
    // 03:30Z is the previous evening in New York: still the right instant.
    expect(new Date((await calls())[0]!.started_at).toISOString()).toBe('2024-01-15T03:30:00.000Z');
  });

  it('CDR: a one-row answer as a bare object is still stored', async () => {
    fake.bareObjects('getCDR', true);
    const seed = cdrSeed({ startedAt: new Date('2024-06-01T12:00:00Z') });
    fake.seedCdr(seed);
    const result = await pollVoipmsCdr({ db: testDb.db, client, now: new Date('2024-06-01T12:30:00Z') });
    expect(result.fetched).toBe(1);
    expect((await calls()).map((row) => row.provider_call_id)).toContain(seed.uniqueid);
  });

  it('CDR: a failed poll leaves the cursor where it was', async () => {
    const now = new Date('2024-07-01T12:00:00Z');
    await pollVoipmsCdr({ db: testDb.db, client, now });
    fake.failWith('getCDR', 'ip_not_enabled', 1);
    await expect(
      pollVoipmsCdr({ db: testDb.db, client, now: new Date('2024-07-01T12:05:00Z') }),
    ).rejects.toMatchObject({ status: 'ip_not_enabled' });
    expect((await readCursor(testDb.db, CDR_CURSOR))?.toISOString()).toBe(now.toISOString());
  });

  it('offset for VoIP.ms follows daylight saving of the practice zone', () => {
    expect(voipmsOffsetHours('America/New_York', new Date('2024-01-15T12:00:00Z'))).toBe(-5);
    expect(voipmsOffsetHours('America/New_York', new Date('2024-07-15T12:00:00Z'))).toBe(-4);
    expect(voipmsOffsetHours('UTC', new Date())).toBe(0);
  });

  it('recordings: queues only new ones across overlapping polls, bare object included', async () => {
    // Prepare
    fake.bareObjects('getCallRecordings', true);
    fake.seedRecording({
      id: 'REC-ONE',
      datetime: '2024-08-01 10:00:00',
      mp3: Buffer.from('a'),
      account: '100000',
    });

    // Act
    await pollVoipmsRecordings({
      db: testDb.db,
      client,
      account: '100000',
      now: new Date('2024-08-01T15:00:00Z'),
    });
    fake.bareObjects('getCallRecordings', false);
    fake.seedRecording({ id: 'REC-TWO', datetime: '2024-08-01 11:00:00', mp3: Buffer.from('b') });
    await pollVoipmsRecordings({
      db: testDb.db,
      client,
      account: '100000',
      now: new Date('2024-08-01T15:10:00Z'),
    });

    // Assess
    const jobs = localQueues.messages('recordings') as { providerRecordingId: string; recordingId: number }[];
    expect(jobs.map((job) => job.providerRecordingId)).toEqual(['REC-ONE', 'REC-TWO']);
    expect(jobs[0]).toMatchObject({ provider: 'voipms', account: '100000' });
    const rows = await testDb.db.query('SELECT provider_recording_id, status FROM recordings ORDER BY id');
    expect(rows.rows).toEqual([
      { provider_recording_id: 'REC-ONE', status: 'completed' },
      { provider_recording_id: 'REC-TWO', status: 'completed' },
    ]);
  });

  it('CDR: a long call that began before midnight is stored by the first poll after it ends', async () => {
    // Prepare: New York (UTC-4 in June). Polls every 5 minutes; a call from 22:00 to 01:20 local.
    await pollVoipmsCdr({ db: testDb.db, client, now: new Date('2024-06-11T05:15:00Z') }); // 01:15 local
    const longCall = cdrSeed({
      startedAt: new Date('2024-06-11T02:00:00Z'), // 22:00 local, June 10
      seconds: 12_000, // 3 h 20 min: ends 01:20 local, June 11, when VoIP.ms writes its record
      uniqueid: '1718071200.77',
    });
    fake.seedCdr(longCall);
    fake.calls.length = 0;

    // Act
    const poll = await pollVoipmsCdr({ db: testDb.db, client, now: new Date('2024-06-11T05:25:00Z') }); // 01:25

    // Assess: the window reaches back to June 10 (the call's date), not only to 00:15 June 11.
    expect(fake.callsTo('getCDR').map((c) => [c.params.date_from, c.params.date_to])).toEqual([
      ['2024-06-10', '2024-06-11'],
    ]);
    expect(poll.fetched).toBe(1);
    const { rows } = await testDb.db.query<{ status: string; duration_seconds: number; started_at: Date }>(
      'SELECT status, duration_seconds, started_at FROM calls WHERE provider_call_id = $1',
      ['1718071200.77'],
    );
    expect(rows).toEqual([
      { status: 'completed', duration_seconds: 12_000, started_at: new Date('2024-06-11T02:00:00Z') },
    ]);
  });

  it('recordings: with no account configured, skips the poll with a clear reason and keeps the cursor', async () => {
    // Prepare
    const before = await readCursor(testDb.db, 'voipms.recordings');
    fake.calls.length = 0;

    // Act
    const result = await pollVoipmsRecordings({
      db: testDb.db,
      client,
      now: new Date('2024-09-01T12:00:00Z'),
    });

    // Assess
    expect(result).toMatchObject({ fetched: 0, stored: 0, skipped: 'no_account' });
    expect(fake.callsTo('getCallRecordings')).toEqual([]);
    expect(await readCursor(testDb.db, 'voipms.recordings')).toEqual(before);
  });

  it("recordings: uses the client's configured account", async () => {
    // Prepare
    const configured = createVoipmsClient({
      apiUrl: fake.url,
      username: fake.username,
      password: fake.password,
      account: '100000',
    });
    fake.calls.length = 0;

    // Act
    const result = await pollVoipmsRecordings({
      db: testDb.db,
      client: configured,
      now: new Date('2024-09-02T12:00:00Z'),
    });

    // Assess
    expect(result.skipped).toBeUndefined();
    expect(fake.callsTo('getCallRecordings').map((c) => c.params.account)).toEqual(['100000']);
  });
});

describe('VoIP.ms recording durations', () => {
  beforeEach(() => {
    useConfig();
    clearPracticeSettingsCache();
    localQueues.reset();
  });

  it('stores the duration VoIP.ms lists for each recording, in seconds, zero included', async () => {
    // Prepare: 1 h 5 min 9 s, and a recording of no length; a first run, looking back a day.
    await testDb.db.query("DELETE FROM sync_state WHERE name = 'voipms.recordings'");
    fake.seedRecording(
      { id: 'REC-LONG', datetime: '2024-11-04 09:00:00', mp3: Buffer.from('a'), duration: '01:05:09' },
      { id: 'REC-EMPTY', datetime: '2024-11-04 09:30:00', mp3: Buffer.from('b'), duration: '00:00' },
    );

    // Act
    await pollVoipmsRecordings({
      db: testDb.db,
      client,
      account: '100000',
      now: new Date('2024-11-04T18:00:00Z'),
    });

    // Assess
    const { rows } = await testDb.db.query<{
      provider_recording_id: string;
      duration_seconds: number | null;
    }>(
      `SELECT provider_recording_id, duration_seconds FROM recordings
       WHERE provider_recording_id IN ('REC-LONG', 'REC-EMPTY') ORDER BY provider_recording_id`,
    );
    expect(rows).toEqual([
      { provider_recording_id: 'REC-EMPTY', duration_seconds: 0 },
      { provider_recording_id: 'REC-LONG', duration_seconds: 3909 },
    ]);
  });

  it('stores no duration for a pushed reference that gives none', async () => {
    // Act
    await insertVoipmsRecordings(testDb.db, [{ providerRecordingId: 'REC-PUSHED', account: '100000' }]);

    // Assess
    const { rows } = await testDb.db.query(
      "SELECT duration_seconds FROM recordings WHERE provider_recording_id = 'REC-PUSHED'",
    );
    expect(rows).toEqual([{ duration_seconds: null }]);
  });
});

describe('VoIP.ms recording poll dates', () => {
  beforeEach(() => {
    useConfig();
    clearPracticeSettingsCache();
    fake.calls.length = 0;
  });

  it('asks for the calendar dates of the practice zone, with the account given to the poller, trimmed', async () => {
    // Prepare: 22:00 on 30 September in New York is already 1 October in UTC
    const now = new Date('2024-10-01T02:00:00Z');
    await testDb.db.query("DELETE FROM sync_state WHERE name = 'voipms.recordings'");

    // Act
    await pollVoipmsRecordings(
      { db: testDb.db, client, account: ' 100000 ', now },
      { firstRunLookbackMs: 3_600_000 },
    );

    // Assess
    expect(
      fake.callsTo('getCallRecordings').map((c) => [c.params.date_from, c.params.date_to, c.params.account]),
    ).toEqual([['2024-09-30', '2024-09-30', '100000']]);
  });
});

describe('VoIP.ms CDR re-ingest keeps the furthest status', () => {
  beforeEach(() => {
    useConfig();
    clearPracticeSettingsCache();
  });

  /** One call record upserted as the CDR route and poller do, in UTC. */
  const ingest = (uniqueid: string, disposition: string, seconds: string) =>
    upsertVoipmsCalls(
      testDb.db,
      normalizeCdrRecords(
        [
          {
            date: '2024-10-01 09:00:00',
            callerid: '"Jane Roe" <5145550123>',
            destination: '5145550000',
            description: 'Inbound DID',
            account: '100000_VoIP',
            disposition,
            duration: '00:00:00',
            seconds,
            rate: '0.01',
            total: '0.02',
            uniqueid,
          },
        ],
        'UTC',
      ),
    );
  const stored = async (uniqueid: string) =>
    (
      await testDb.db.query<{ status: string; disposition: string }>(
        `SELECT status, disposition FROM calls WHERE provider = 'voipms' AND provider_call_id = $1`,
        [uniqueid],
      )
    ).rows;

  it.each([
    ['ANSWERED then NO ANSWER', 'ANSWERED', 'NO ANSWER', { status: 'completed', disposition: 'ANSWERED' }],
    ['BUSY then ANSWERED', 'BUSY', 'ANSWERED', { status: 'busy', disposition: 'BUSY' }],
    ['NO ANSWER then FAILED', 'NO ANSWER', 'FAILED', { status: 'no-answer', disposition: 'NO ANSWER' }],
    ['ANSWERED twice', 'ANSWERED', 'ANSWERED', { status: 'completed', disposition: 'ANSWERED' }],
  ])('%s: the first final status stays', async (_label, first, second, expected) => {
    // Prepare
    const uniqueid = `1727773200.${first}-${second}`;
    await ingest(uniqueid, first, '65');

    // Act
    await ingest(uniqueid, second, '0');

    // Assess
    expect(await stored(uniqueid)).toEqual([expected]);
  });

  it('moves a call still ringing (from a status callback) forward to its final status', async () => {
    // Prepare
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status)
       VALUES ('voipms', '1727773200.ringing', 'inbound', '+15145550123', '+15145550000', 'ringing')`,
    );

    // Act
    await ingest('1727773200.ringing', 'NO ANSWER', '0');

    // Assess
    expect(await stored('1727773200.ringing')).toEqual([{ status: 'no-answer', disposition: 'NO ANSWER' }]);
  });
});
