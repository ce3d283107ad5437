import { describe, expect, it } from 'vitest';
import { recordMessageStatus, voipmsCarrierStatus } from '../../../lib/messages/status.js';
import { useTestDb } from '../../support/db.js';

// Delivery receipts: which provider error means the recipient opted out, and how a VoIP.ms carrier status
// (free text) reads as delivered, failed, or nothing at all.
const testDb = useTestDb();
const PATIENT = '+14155550123';
const PRACTICE = '+15005550006';

const receipt = (status: string, errorCode?: string, to = PATIENT) =>
  recordMessageStatus.run(testDb.db, {
    provider: 'twilio',
    providerMessageId: `SM${Math.random().toString(16).slice(2).padEnd(32, '0')}`,
    status,
    errorCode,
    fromNumber: PRACTICE,
    toNumber: to,
  });
const optOuts = async () =>
  (await testDb.db.query('SELECT phone_number, keyword FROM opt_outs ORDER BY phone_number')).rows;

describe('a delivery receipt', () => {
  it('with error 21610 (the recipient opted out) records the opt-out, once', async () => {
    await receipt('undelivered', '21610');
    await receipt('failed', '21610');
    expect(await optOuts()).toEqual([{ phone_number: PATIENT, keyword: 'error 21610' }]);
  });

  it('with any other error, or none, records no opt-out', async () => {
    await receipt('undelivered', '30005');
    await receipt('failed', '21211', '+14155550124');
    await receipt('delivered');
    expect(await optOuts()).toEqual([]);
  });

  it('for a reply answered in TwiML (?reply=) updates the stored reply, keeping one row per real message', async () => {
    const inboundSid = `SM${'2'.repeat(32)}`;
    const replySid = `SM${'3'.repeat(32)}`;
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status)
       VALUES ('twilio', $1, 'outbound', $2, $3, 'We open at 8.', 'queued')`,
      [`reply:${inboundSid}`, PRACTICE, PATIENT],
    );

    await recordMessageStatus.run(testDb.db, {
      provider: 'twilio',
      providerMessageId: replySid,
      status: 'delivered',
      fromNumber: PRACTICE,
      toNumber: PATIENT,
      replyTo: inboundSid,
    });

    expect(
      (await testDb.db.query('SELECT provider_message_id, status, provider_sent_ids FROM sms_messages')).rows,
    ).toEqual([
      { provider_message_id: `reply:${inboundSid}`, status: 'delivered', provider_sent_ids: [replySid] },
    ]);
  });

  it('counts what it changed: a new receipt one row, a stale one none', async () => {
    const first = await recordMessageStatus.run(testDb.db, {
      provider: 'twilio',
      providerMessageId: `SM${'1'.repeat(32)}`,
      status: 'delivered',
      fromNumber: PRACTICE,
      toNumber: PATIENT,
    });
    const stale = await recordMessageStatus.run(testDb.db, {
      provider: 'twilio',
      providerMessageId: `SM${'1'.repeat(32)}`,
      status: 'sent',
      fromNumber: PRACTICE,
      toNumber: PATIENT,
    });
    expect([first, stale]).toEqual([{ changed: 1 }, { changed: 0 }]);
  });
});

describe('a VoIP.ms carrier status', () => {
  it.each(['Delivered', 'message delivered to handset', 'DELIVERED'])('%j is delivered', (status) => {
    expect(voipmsCarrierStatus(status)).toBe('delivered');
  });

  it.each([
    'Undelivered',
    'undeliverable',
    'Not delivered',
    'Failed',
    'failure',
    'Rejected by carrier',
    'reject',
    'Expired',
  ])('%j is undelivered', (status) => {
    expect(voipmsCarrierStatus(status)).toBe('undelivered');
  });

  it.each(['Information not available', '', undefined, 'redelivered later', 'prefailed', 'sent'])(
    '%j tells nothing',
    (status) => {
      expect(voipmsCarrierStatus(status)).toBeUndefined();
    },
  );
});
