import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/voipms-sms-incoming.js';
import { setDb } from '../../lib/db/index.js';
import { ingestActions } from '../../lib/ingest/registry.js';
import type { StoredTextJob } from '../../lib/messages/outbound.js';
import { clearPracticeSettingsCache } from '../../lib/practice/settings.js';
import { localQueues } from '../../lib/queue/index.js';
import { DID_E164, PATIENT_E164, voipmsEvent, voipmsSmsParams } from '../lib/voipms/factories.js';
import { useConfig } from '../support/config.js';
import { serverUrl, unreachableDb, useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';

const testDb = useTestDb();

const messages = async () =>
  (
    await testDb.db.query<{
      id: string;
      provider_message_id: string;
      direction: string;
      from_number: string;
      to_number: string;
      body: string;
      status: string;
      media_urls: string[];
      auto_response_intent: string | null;
    }>(
      `SELECT id, provider_message_id, direction, from_number, to_number, body, status, media_urls,
         auto_response_intent FROM sms_messages ORDER BY id`,
    )
  ).rows;
const queued = () => localQueues.messages('outboundSms') as StoredTextJob[];
/** The intents of the texts handed to the outbound worker, in queue order. */
const queuedIntents = async () => {
  const ids = queued().map((job) => job.messageId);
  const { rows } = await testDb.db.query<{ id: number; auto_response_intent: string }>(
    'SELECT id, auto_response_intent FROM sms_messages WHERE id = ANY ($1::bigint[])',
    [ids],
  );
  return ids.map((id) => rows.find((row) => Number(row.id) === id)?.auto_response_intent);
};
const optOuts = async () => (await testDb.db.query('SELECT phone_number, provider FROM opt_outs')).rows;
const logs = async () =>
  (
    await testDb.db.query<{ status_code: number; payload: unknown }>(
      'SELECT status_code, payload FROM webhook_logs',
    )
  ).rows;

describe('GET|POST /webhooks/voipms/sms/incoming', () => {
  beforeEach(() => {
    useConfig();
    localQueues.reset();
    clearPracticeSettingsCache();
  });
  afterEach(() => {
    setDb(testDb.db);
  });

  it('stores a GET callback once in E.164, answers exactly ok and queues the reply', async () => {
    // Prepare
    const params = voipmsSmsParams({ message: 'what are your hours on friday?' });

    // Act
    const response = await invoke(handler, voipmsEvent(params));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('ok');
    expect(response.headers?.['content-type']).toMatch(/^text\/plain/);
    const [inbound, reply] = await messages();
    expect(inbound).toMatchObject({
      provider_message_id: params.id,
      direction: 'inbound',
      from_number: PATIENT_E164,
      to_number: DID_E164,
      status: 'received',
    });
    expect(reply).toMatchObject({
      provider_message_id: `reply:${params.id}`,
      direction: 'outbound',
      from_number: DID_E164,
      to_number: PATIENT_E164,
      status: 'pending',
      auto_response_intent: 'hours',
    });
    expect(queued()).toEqual([{ provider: 'voipms', messageId: Number(reply!.id) }]);
    const [log] = await logs();
    expect(log?.status_code).toBe(200);
    expect(JSON.stringify(log?.payload)).not.toContain('5145550123');
    expect(JSON.stringify(log?.payload)).not.toContain('hours on friday');
  });

  it.each(['form', 'json'] as const)('accepts a POST with a %s body', async (encoding) => {
    const params = voipmsSmsParams({ message: 'hello' });
    const response = await invoke(handler, voipmsEvent(params, { method: 'POST', encoding }));
    expect(response.body).toBe('ok');
    expect((await messages())[0]).toMatchObject({ provider_message_id: params.id, body: 'hello' });
  });

  it('stores MMS media URLs', async () => {
    const media = 'https://voip.ms/media/a.jpg,https://voip.ms/media/b.png';
    await invoke(handler, voipmsEvent(voipmsSmsParams({ media })));
    expect((await messages())[0]?.media_urls).toEqual([
      'https://voip.ms/media/a.jpg',
      'https://voip.ms/media/b.png',
    ]);
  });

  it('stores a duplicate delivery of the same id once and queues one reply', async () => {
    const params = voipmsSmsParams({ message: 'can I book a cleaning?' });
    for (let i = 0; i < 3; i++) {
      const response = await invoke(handler, voipmsEvent(params));
      expect(response.body).toBe('ok');
    }
    const rows = await messages();
    expect(rows.map((row) => row.direction)).toEqual(['inbound', 'outbound']);
    expect(queued()).toHaveLength(1);
  });

  it.each([
    ['wrong token', { token: 'nope' }],
    ['missing token', { token: null }],
    ['disallowed IPv4', { sourceIp: '192.0.2.55' }],
    ['disallowed IPv6', { sourceIp: '2001:db9::1' }],
  ] as const)('refuses a %s with 403 and stores nothing', async (_, options) => {
    const response = await invoke(handler, voipmsEvent(voipmsSmsParams(), options));
    expect(response.statusCode).toBe(403);
    expect(response.headers?.['content-type']).toMatch(/text\/plain/);
    expect(await messages()).toEqual([]);
    expect((await logs()).map((log) => log.status_code)).toEqual([403]);
  });

  it('accepts an allowed IPv6 caller', async () => {
    const response = await invoke(handler, voipmsEvent(voipmsSmsParams(), { sourceIp: '2001:db8::42' }));
    expect(response.body).toBe('ok');
  });

  it('answers 400 naming each missing field', async () => {
    const { id: _id, from: _from, ...params } = voipmsSmsParams();
    const response = await invoke(handler, voipmsEvent(params));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(/id is required/);
    expect(JSON.parse(response.body).error).toMatch(/from is required/);
  });

  it('opt-out: records it, queues exactly one confirmation, then nothing until opt-in', async () => {
    // Act
    await invoke(handler, voipmsEvent(voipmsSmsParams({ message: 'STOP' })));
    await invoke(handler, voipmsEvent(voipmsSmsParams({ message: 'stop' })));
    await invoke(handler, voipmsEvent(voipmsSmsParams({ message: 'when are you open?' })));
    await invoke(handler, voipmsEvent(voipmsSmsParams({ message: 'is this an emergency line' })));

    // Assess
    expect(await optOuts()).toEqual([{ phone_number: PATIENT_E164, provider: 'voipms' }]);
    expect(await queuedIntents()).toEqual(['opt_out']);
    expect((await messages()).filter((row) => row.direction === 'outbound')).toHaveLength(1);

    // opt back in: the row goes, a confirmation is queued, and replies resume
    await invoke(handler, voipmsEvent(voipmsSmsParams({ message: 'START' })));
    expect(await optOuts()).toEqual([]);
    await invoke(handler, voipmsEvent(voipmsSmsParams({ message: 'when are you open?' })));
    expect(await queuedIntents()).toEqual(['opt_out', 'opt_in', 'hours']);
  });

  it('still answers ok when Postgres is down, deferring the event to the ingest queue', async () => {
    // Prepare
    const down = unreachableDb();
    setDb(down);
    const params = voipmsSmsParams();

    // Act
    const response = await invoke(handler, voipmsEvent(params));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('ok');
    const deferred = localQueues.messages('ingest') as {
      action: string;
      event: { providerMessageId: string };
    }[];
    const job = deferred.find((item) => item.action === 'messages.inbound');
    expect(job?.event.providerMessageId).toBe(params.id);

    // ...and the ingest worker's action, run once Postgres is back, stores it and queues the reply.
    setDb(testDb.db);
    await ingestActions.get(job!.action)!.run(testDb.db, job!.event as never, { replay: true });
    expect((await messages()).map((row) => row.direction)).toEqual(['inbound', 'outbound']);
    expect(queued()).toHaveLength(1);
  });
});

describe.skipIf(!serverUrl)(
  'concurrent duplicate deliveries (needs real Postgres: TEST_DATABASE_URL)',
  () => {
    beforeEach(() => {
      useConfig();
      localQueues.reset();
    });

    it('20 simultaneous deliveries of one id store one row and queue one reply', async () => {
      const params = voipmsSmsParams({ message: 'can I book an appointment?' });
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => invoke(handler, voipmsEvent(params))),
      );
      expect(responses.every((response) => response.body === 'ok')).toBe(true);
      expect((await messages()).map((row) => row.direction)).toEqual(['inbound', 'outbound']);
      expect(queued()).toHaveLength(1);
    });

    it('20 simultaneous STOPs with different ids queue exactly one confirmation', async () => {
      await Promise.all(
        Array.from({ length: 20 }, () => invoke(handler, voipmsEvent(voipmsSmsParams({ message: 'STOP' })))),
      );
      expect(await optOuts()).toHaveLength(1);
      expect(await queuedIntents()).toEqual(['opt_out']);
    });
  },
);
