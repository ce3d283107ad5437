import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as worker } from '../../functions/outbound-sms-worker.js';
import { handler as poller } from '../../functions/voipms-delivery-poller.js';
import { handler as inbound } from '../../functions/voipms-sms-incoming.js';
import { localQueues } from '../../lib/queue/index.js';
import { type FakeVoipms, startFakeVoipms } from '../fakes/voipms-api.js';
import { DID, PATIENT_E164, voipmsEvent, voipmsSmsParams } from '../lib/voipms/factories.js';
import { useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';

const testDb = useTestDb();
let fake: FakeVoipms;

beforeAll(async () => {
  fake = await startFakeVoipms({ dids: [DID] });
});
afterAll(async () => fake.close());

const reply = async () =>
  (
    await testDb.db.query<{ status: string; provider_sent_ids: string[] | null }>(
      "SELECT status, provider_sent_ids FROM sms_messages WHERE direction = 'outbound'",
    )
  ).rows;

describe('voipmsDeliveryPoller', () => {
  beforeEach(() => {
    useConfig({ VOIPMS_API_URL: fake.url, VOIPMS_USERNAME: fake.username, VOIPMS_PASSWORD: fake.password });
    localQueues.drain('outboundSms');
    fake.sent.length = 0;
    fake.calls.length = 0;
  });

  it('records the delivery of an auto-reply the worker sent, once the carrier reports it', async () => {
    // Prepare: a patient texts, the worker sends the reply through VoIP.ms.
    await invoke(inbound, voipmsEvent(voipmsSmsParams({ message: 'what are your hours?' })));
    const event: SQSEvent = {
      Records: localQueues
        .drain('outboundSms')
        .map((job, i) => ({ messageId: `m${i}`, body: JSON.stringify(job) }) as never),
    };
    expect((await worker(event)).batchItemFailures).toEqual([]);
    const [sent] = await reply();
    expect(sent?.status).toBe('sent');

    // Act: the carrier has not answered yet, then it has.
    const early = await poller();
    fake.setCarrierStatus(sent!.provider_sent_ids![0]!, 'Delivered');
    const later = await poller();

    // Assess
    expect(early).toMatchObject({ pending: 1, delivered: 0 });
    expect(later).toMatchObject({ pending: 1, delivered: 1 });
    expect(await reply()).toEqual([{ status: 'delivered', provider_sent_ids: sent!.provider_sent_ids }]);
    expect(fake.callsTo('getSMS').map((call) => call.params.did)).toEqual([DID, DID]);
  });

  it('with nothing waiting, needs no VoIP.ms credentials and asks VoIP.ms nothing', async () => {
    // Prepare: VoIP.ms not configured at all; only a Twilio text was sent lately.
    useConfig({ VOIPMS_USERNAME: undefined, VOIPMS_PASSWORD: undefined, VOIPMS_DID: undefined });
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status,
         provider_sent_ids)
       VALUES ('twilio', 'SM1', 'outbound', '+15005550006', $1, 'sent', ARRAY['SM1'])`,
      [PATIENT_E164],
    );

    // Act
    const result = await poller();

    // Assess
    expect(result).toEqual({ pending: 0, requests: 0, matched: 0, delivered: 0, undelivered: 0 });
    expect(fake.calls).toEqual([]);
  });
});
