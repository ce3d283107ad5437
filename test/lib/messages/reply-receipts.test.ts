import { describe, expect, it } from 'vitest';
import { type MessageStatusEvent, recordMessageStatus } from '../../../lib/messages/status.js';
import { useTestDb } from '../../support/db.js';

// Receipts for a stored reply (found by `?reply=` or by a provider id already linked to it): the rules of
// store_message_status on that path, written out.
const testDb = useTestDb();
const PATIENT = '+14155550123';
const PRACTICE = '+15005550006';
const INBOUND = `SM${'4'.repeat(32)}`;
const SENT = `SM${'5'.repeat(32)}`;
const PART = `SM${'6'.repeat(32)}`;

async function storedReply(status = 'queued', sentIds: string[] | null = null) {
  await testDb.db.query(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
       auto_response_intent, provider_sent_ids)
     VALUES ('twilio', $1, 'outbound', $2, $3, 'We open at 8.', $4, 'hours', $5)`,
    [`reply:${INBOUND}`, PRACTICE, PATIENT, status, sentIds],
  );
}

const receipt = (status: string, fields: Partial<MessageStatusEvent> = {}) =>
  recordMessageStatus.run(testDb.db, {
    provider: 'twilio',
    providerMessageId: SENT,
    status,
    fromNumber: PRACTICE,
    toNumber: PATIENT,
    replyTo: INBOUND,
    ...fields,
  });

const rows = async () =>
  (
    await testDb.db.query(
      `SELECT provider_message_id, status, error_code, provider_sent_ids FROM sms_messages ORDER BY id`,
    )
  ).rows;

describe('a receipt for a stored reply', () => {
  it('keeps the first final status: a later failure does not overwrite a delivery, nor its error code', async () => {
    await storedReply();
    const delivered = await receipt('delivered');
    const failed = await receipt('undelivered', { errorCode: '30003' });
    expect([delivered, failed]).toEqual([{ changed: 1 }, { changed: 0 }]);
    expect(await rows()).toEqual([
      {
        provider_message_id: `reply:${INBOUND}`,
        status: 'delivered',
        error_code: null,
        provider_sent_ids: [SENT],
      },
    ]);
  });

  it('moves forward only: a late "sent" after "delivered" changes nothing', async () => {
    await storedReply('delivered', [SENT]);
    expect(await receipt('sent')).toEqual({ changed: 0 });
    expect((await rows())[0]).toMatchObject({ status: 'delivered' });
  });

  it('a step forward brings its error code', async () => {
    await storedReply('sent', [SENT]);
    expect(await receipt('failed', { errorCode: '30007' })).toEqual({ changed: 1 });
    expect((await rows())[0]).toMatchObject({ status: 'failed', error_code: '30007' });
  });

  it('is found by a provider id already linked to it when the callback has no ?reply=', async () => {
    await storedReply('sent', [SENT]);
    expect(await receipt('delivered', { replyTo: undefined })).toEqual({ changed: 1 });
    expect(await rows()).toEqual([
      {
        provider_message_id: `reply:${INBOUND}`,
        status: 'delivered',
        error_code: null,
        provider_sent_ids: [SENT],
      },
    ]);
  });

  it('links each part of a long reply once, even when a part repeats a status the reply already has', async () => {
    await storedReply('sent', [SENT]);
    expect(await receipt('sent', { providerMessageId: PART })).toEqual({ changed: 1 });
    expect(await receipt('sent', { providerMessageId: PART })).toEqual({ changed: 0 });
    expect((await rows())[0]).toMatchObject({ status: 'sent', provider_sent_ids: [SENT, PART] });
  });

  it('folds in the row an earlier receipt made under the bare id, keeping the further status and its error', async () => {
    await storedReply('queued');
    // The receipt came before the reply was linked to its SID: stored under the bare SID.
    await receipt('undelivered', { replyTo: undefined, errorCode: '30005' });
    expect(await rows()).toHaveLength(2);

    expect(await receipt('sent')).toEqual({ changed: 1 });

    expect(await rows()).toEqual([
      {
        provider_message_id: `reply:${INBOUND}`,
        status: 'undelivered',
        error_code: '30005',
        provider_sent_ids: [SENT],
      },
    ]);
  });

  it('folds in an earlier row whose status is not further without taking it', async () => {
    await storedReply('queued');
    await receipt('sent', { replyTo: undefined });
    expect(await receipt('delivered')).toEqual({ changed: 1 });
    expect(await rows()).toEqual([
      {
        provider_message_id: `reply:${INBOUND}`,
        status: 'delivered',
        error_code: null,
        provider_sent_ids: [SENT],
      },
    ]);
  });

  it('of the same rank as the earlier row keeps the earlier row’s final status (the first outcome wins)', async () => {
    await storedReply('queued');
    await receipt('failed', { replyTo: undefined, errorCode: '30008' });
    expect(await receipt('delivered')).toEqual({ changed: 1 });
    expect(await rows()).toEqual([
      {
        provider_message_id: `reply:${INBOUND}`,
        status: 'failed',
        error_code: '30008',
        provider_sent_ids: [SENT],
      },
    ]);
  });

  it('linking another part of the same rank keeps the error code of the outcome already there', async () => {
    await storedReply('failed', [SENT]);
    await testDb.db.query(`UPDATE sms_messages SET error_code = '30003'`);
    expect(await receipt('failed', { providerMessageId: PART, errorCode: '30007' })).toEqual({ changed: 1 });
    expect((await rows())[0]).toMatchObject({
      status: 'failed',
      error_code: '30003',
      provider_sent_ids: [SENT, PART],
    });
  });

  it('linking another part that ended differently at the same rank keeps the reply’s outcome', async () => {
    await storedReply('delivered', [SENT]);
    expect(await receipt('undelivered', { providerMessageId: PART, errorCode: '30005' })).toEqual({
      changed: 1,
    });
    expect((await rows())[0]).toMatchObject({
      status: 'delivered',
      error_code: null,
      provider_sent_ids: [SENT, PART],
    });
  });

  it('a step forward replaces an error code the reply already had', async () => {
    await storedReply('sent', [SENT]);
    await testDb.db.query(`UPDATE sms_messages SET error_code = '30001'`);
    await receipt('failed', { errorCode: '30007' });
    expect((await rows())[0]).toMatchObject({ status: 'failed', error_code: '30007' });
  });

  it('touches no other message: the inbound text, other replies and other receipts stay as they were', async () => {
    await storedReply('queued');
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
         auto_response_intent)
       VALUES ('twilio', $1, 'inbound', $2, $3, 'When do you open?', 'received', NULL),
              ('twilio', $4, 'outbound', $3, $2, NULL, 'sent', NULL),
              ('twilio', $5, 'outbound', $3, $2, 'See you then.', 'delivered', 'hours'),
              ('voipms', $6, 'outbound', $3, $2, NULL, 'sent', NULL)`,
      [INBOUND, PATIENT, PRACTICE, `SM${'7'.repeat(32)}`, `reply:SM${'8'.repeat(32)}`, SENT],
    );
    const before = await rows();

    await receipt('delivered');

    const after = await rows();
    expect(after).toHaveLength(before.length);
    expect(after.slice(1)).toEqual(before.slice(1));
    expect(after[0]).toMatchObject({ status: 'delivered', provider_sent_ids: [SENT] });
  });

  it('records the opt-out an error 21610 means, whichever path the receipt takes', async () => {
    await storedReply('sent', [SENT]);
    await receipt('undelivered', { errorCode: '21610' });
    const { rows: optOuts } = await testDb.db.query('SELECT phone_number, keyword FROM opt_outs');
    expect(optOuts).toEqual([{ phone_number: PATIENT, keyword: 'error 21610' }]);
  });
});
