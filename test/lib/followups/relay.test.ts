import { beforeEach, describe, expect, it } from 'vitest';
import { relayFollowUps } from '../../../lib/followups/index.js';
import { localQueues } from '../../../lib/queue/index.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';

const testDb = useTestDb();

/** An outbound text row in the given state; times are offsets from now in seconds (negative = past). */
async function text(state: { status: string; ageSeconds: number; sendAfter?: number; claimedFor?: number }) {
  const { rows } = await testDb.db.query<{ id: number }>(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
       created_at, send_after, claimed_until)
     VALUES ('voipms', 'reply:' || gen_random_uuid(), 'outbound', '+15145550000', '+15145550123', 'hi', $1,
       now() - make_interval(secs => $2), now() + make_interval(secs => $3), now() + make_interval(secs => $4))
     RETURNING id`,
    [state.status, state.ageSeconds, state.sendAfter ?? -3600, state.claimedFor ?? -3600],
  );
  return Number(rows[0]!.id);
}

async function recording(state: {
  provider: 'twilio' | 'voipms';
  status?: string;
  storageKey?: string;
  claimedFor?: number;
}) {
  const { rows } = await testDb.db.query<{ id: number }>(
    `INSERT INTO recordings (provider, provider_recording_id, provider_call_id, status, storage_key, media_url,
       created_at, claimed_until)
     VALUES ($1, 'RE' || md5(random()::text), 'CA1', $2, $3, 'https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1',
       now() - interval '5 minutes', now() + make_interval(secs => $4))
     RETURNING id`,
    [state.provider, state.status ?? 'completed', state.storageKey ?? null, state.claimedFor ?? -3600],
  );
  return Number(rows[0]!.id);
}

const handedOnTexts = () =>
  (localQueues.drain('outboundSms') as { messageId: number }[]).map((j) => j.messageId);
const handedOnRecordings = () =>
  (localQueues.drain('recordings') as { recordingId: number }[]).map((j) => j.recordingId);
const status = async (id: number) =>
  (await testDb.db.query<{ status: string }>('SELECT status FROM sms_messages WHERE id = $1', [id])).rows[0]
    ?.status;

describe('follow-up relay', () => {
  beforeEach(() => {
    useConfig();
    localQueues.reset();
  });

  it('hands on texts still waiting after the settle time, and only those', async () => {
    // Prepare
    const waiting = await text({ status: 'pending', ageSeconds: 120 });
    const unknown = await text({ status: 'unknown', ageSeconds: 120 });
    await text({ status: 'pending', ageSeconds: 5 }); // its own job is on the way
    await text({ status: 'pending', ageSeconds: 120, sendAfter: 60 }); // not due yet
    await text({ status: 'sent', ageSeconds: 120 });
    await text({ status: 'sending', ageSeconds: 120, claimedFor: 300 }); // a worker is on it

    // Act
    const result = await relayFollowUps(testDb.db);

    // Assess
    expect(handedOnTexts().sort()).toEqual([waiting, unknown].sort());
    expect(result.texts).toBe(2);
  });

  it('hands a text on again only after another settle period, not on every run', async () => {
    const waiting = await text({ status: 'pending', ageSeconds: 120 });
    await relayFollowUps(testDb.db);
    await relayFollowUps(testDb.db);
    expect(handedOnTexts()).toEqual([waiting]);
  });

  it('makes a send whose worker lease ran out "unknown" (to be checked with the provider) and hands it on', async () => {
    const abandoned = await text({ status: 'sending', ageSeconds: 1200, claimedFor: -1 });
    await relayFollowUps(testDb.db);
    expect(await status(abandoned)).toBe('unknown');
    expect(handedOnTexts()).toEqual([abandoned]);
  });

  it('hands on recordings not yet archived nor held by a live attempt, for both providers', async () => {
    const twilio = await recording({ provider: 'twilio' });
    const voipms = await recording({ provider: 'voipms' });
    await recording({ provider: 'twilio', storageKey: 'recordings/x.mp3', status: 'archived' });
    await recording({ provider: 'twilio', claimedFor: 600 });
    await recording({ provider: 'twilio', status: 'in-progress' });

    const result = await relayFollowUps(testDb.db);

    expect(handedOnRecordings().sort()).toEqual([twilio, voipms].sort());
    expect(result.recordings).toBe(2);
  });

  it('reports how long the oldest follow-up has waited', async () => {
    await text({ status: 'pending', ageSeconds: 300 });
    const result = await relayFollowUps(testDb.db);
    expect(result.oldestWaitSeconds).toBeGreaterThanOrEqual(299);
    expect(result.oldestWaitSeconds).toBeLessThan(400);
  });
});
