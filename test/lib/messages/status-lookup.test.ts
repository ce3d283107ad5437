import { describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../../lib/db/index.js';
import { type MessageStatusEvent, recordMessageStatus } from '../../../lib/messages/status.js';
import { useTestDb } from '../../support/db.js';

// A delivery receipt finds its reply by key, whatever plan the session holds: on a table never analysed (a new
// deployment's first hours) a generic plan must not walk every text of the provider to find one row.
const testDb = useTestDb();
const PATIENT = '+14155550123';
const PRACTICE = '+15005550006';
const TEXTS = 3000;
const INBOUND = `SM${'4'.repeat(32)}`;
const LINKED = `SM${'5'.repeat(32)}`;

/** Rows of sms_messages this transaction has read so far, through its indexes or by scanning it. */
async function rowsRead(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ read: number }>(
    `SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) AS read
     FROM pg_stat_xact_user_tables WHERE relname = 'sms_messages'`,
  );
  return Number(rows[0]?.read ?? 0);
}

/** Thousands of texts of the same provider stored first, then the replies the receipts may belong to. */
async function manyTexts(): Promise<void> {
  await testDb.db.query(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status)
     SELECT 'twilio', 'SM' || lpad(g::text, 32, '0'), CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
       $1, $2, 'hi', 'delivered'
     FROM generate_series(1, $3::int) g`,
    [PATIENT, PRACTICE, TEXTS],
  );
  await testDb.db.query(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
       auto_response_intent, provider_sent_ids)
     VALUES ('twilio', $1, 'outbound', $2, $3, 'We open at 8.', 'queued', 'hours', NULL),
            ('twilio', 'reply:other', 'outbound', $2, $3, 'We open at 9.', 'sent', 'hours', ARRAY[$4])`,
    [`reply:${INBOUND}`, PRACTICE, PATIENT, LINKED],
  );
}

/** The receipt in one session whose plans are generic, as a long-lived connection's become; rows it read. */
async function receiptWithGenericPlans(event: Partial<MessageStatusEvent> & { providerMessageId: string }) {
  return testDb.db.transaction(async (tx) => {
    await tx.query('SET LOCAL plan_cache_mode = force_generic_plan');
    const session: Db = {
      kind: testDb.db.kind,
      query: tx.query,
      transaction: (work) => work(tx),
      session: (work) => work(tx),
      close: async () => {},
    };
    const before = await rowsRead(tx);
    const result = await recordMessageStatus.run(session, {
      provider: 'twilio',
      status: 'delivered',
      fromNumber: PRACTICE,
      toNumber: PATIENT,
      ...event,
    });
    return { ...result, read: (await rowsRead(tx)) - before };
  });
}

const delivered = async () =>
  (
    await testDb.db.query<{ provider_message_id: string; provider_sent_ids: string[] | null }>(
      `SELECT provider_message_id, provider_sent_ids FROM sms_messages
       WHERE status = 'delivered' AND provider_message_id NOT LIKE 'SM0%' ORDER BY id`,
    )
  ).rows;

describe('a receipt on a large table that was never analysed', () => {
  it.each([
    ['an unknown message (a stray receipt)', `SM${'7'.repeat(32)}`, undefined, 0, `SM${'7'.repeat(32)}`],
    ['a reply named by ?reply=', `SM${'8'.repeat(32)}`, INBOUND, 1, `reply:${INBOUND}`],
    ['a message already linked to a reply', LINKED, undefined, 1, 'reply:other'],
  ])('reads only the rows it needs: %s', async (_case, messageId, replyTo, rowsItNeeds, takenBy) => {
    // Prepare
    await manyTexts();

    // Act
    const { changed, read } = await receiptWithGenericPlans({ providerMessageId: messageId, replyTo });

    // Assess: the receipt went to its own row, having read that row (if any) and nothing else
    expect(changed).toBe(1);
    expect(read).toBeLessThanOrEqual(rowsItNeeds + 1);
    expect(await delivered()).toEqual([
      { provider_message_id: takenBy, provider_sent_ids: takenBy === messageId ? null : [messageId] },
    ]);
  });

  it("never takes another provider's message that carries the same id", async () => {
    // Prepare: a VoIP.ms reply already linked to an id a Twilio receipt also names
    await manyTexts();
    const shared = `SM${'9'.repeat(32)}`;
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
         auto_response_intent, provider_sent_ids)
       VALUES ('voipms', 'reply:elsewhere', 'outbound', $1, $2, 'Hola.', 'sent', 'hours', ARRAY[$3])`,
      [PRACTICE, PATIENT, shared],
    );

    // Act
    const { changed } = await receiptWithGenericPlans({ providerMessageId: shared });

    // Assess: the Twilio receipt is a row of its own; the VoIP.ms reply keeps its status
    expect(changed).toBe(1);
    expect(await delivered()).toEqual([{ provider_message_id: shared, provider_sent_ids: null }]);
  });
});
