import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as recordingStatus } from '../../../functions/twilio-recording-status.js';
import { handler as smsIncoming } from '../../../functions/twilio-sms-incoming.js';
import { handler as smsStatus } from '../../../functions/twilio-sms-status.js';
import { handler as voiceIncoming } from '../../../functions/twilio-voice-incoming.js';
import { handler as voiceStatus } from '../../../functions/twilio-voice-status.js';
import { handler as voipmsCdr } from '../../../functions/voipms-call-cdr.js';
import { type ReportData, renderReport, report, reportData } from '../../../lib/cli/report.js';
import { recordMessageStatus } from '../../../lib/messages/status.js';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { localQueues } from '../../../lib/queue/index.js';
import { PRACTICE_TWILIO_NUMBER, TEST_BASE_URL, TEST_VOIPMS_TOKEN, useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { httpEvent, invoke } from '../../support/events.js';
import {
  fakeSid,
  parseXml,
  signedTwilioEvent,
  twilioDialResultParams,
  twilioRecordingStatusParams,
  twilioSmsIncomingEvent,
  twilioSmsStatusParams,
  twilioVoiceIncomingParams,
  twilioVoiceStatusParams,
} from '../../support/twilio.js';

const testDb = useTestDb();
const OFFICE_LINE = '+15085550100';
// Tuesday 10 March 2026: 11:00 in New York (office open), and 23:00 (closed).
const OPEN_AT = new Date('2026-03-10T15:00:00Z');
const CLOSED_AT = new Date('2026-03-11T03:00:00Z');
const DAY = '2026-03-10';
const PATIENT = '+14155550123';

const at = (date: Date | string) => vi.setSystemTime(new Date(date));
/**
 * Texts are stamped by the database clock (created_at), which a test cannot fake on a real server: text
 * scenarios run at the real time, on today's New York day, and older moments are made by moving rows back.
 */
async function realTimeToday(): Promise<string> {
  vi.useRealTimers();
  const { rows } = await testDb.db.query<{ day: string }>(
    "SELECT to_char(now() AT TIME ZONE 'America/New_York', 'YYYY-MM-DD') AS day",
  );
  return rows[0]!.day;
}
/** The days either side of `day` too, for a test that moves rows back in time: they may cross midnight. */
const around = (day: string): [string, string] => {
  const shift = (days: number) =>
    new Date(Date.parse(`${day}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  return [shift(-1), shift(1)];
};
const moveBack = (number: string, interval: string) =>
  testDb.db.query(
    `UPDATE sms_messages SET created_at = created_at - $2::interval, sent_at = sent_at - $2::interval
     WHERE from_number = $1 OR to_number = $1`,
    [number, interval],
  );
const dataFor = (from = DAY, to = DAY) => reportData(testDb.db, { from, to });
const sum = (rows: Record<string, unknown>[], column: string) =>
  rows.reduce((total, row) => total + Number(row[column] ?? 0), 0);

beforeEach(async () => {
  useConfig({ TWILIO_API_BASE_URL: 'https://api.twilio.com' });
  localQueues.reset();
  vi.useFakeTimers({ toFake: ['Date'] });
  await testDb.db.query(
    "UPDATE voip_settings SET office_line = $1, missed_call_text_back = false WHERE phone_number = '*'",
    [OFFICE_LINE],
  );
  clearPracticeSettingsCache();
});
afterEach(() => {
  vi.useRealTimers();
});

/** One Twilio call through the real webhooks: the incoming request, the optional dial result, recordings, the end. */
async function twilioCall(options: {
  at: Date;
  dial?: 'completed' | 'no-answer' | 'busy';
  dialSeconds?: number;
  voicemailSeconds?: number;
  callSeconds: number;
}) {
  const CallSid = fakeSid('CA');
  at(options.at);
  await invoke(
    voiceIncoming,
    signedTwilioEvent('/webhooks/twilio/voice/incoming', twilioVoiceIncomingParams({ CallSid })),
  );
  if (options.dial) {
    const dial = twilioDialResultParams({
      CallSid,
      DialCallStatus: options.dial,
      DialCallDuration: String(options.dialSeconds ?? 0),
    });
    await invoke(
      voiceIncoming,
      signedTwilioEvent('/webhooks/twilio/voice/incoming', dial, { rawQuery: 'step=dial-result' }),
    );
    if (options.dial === 'completed') {
      const recording = twilioRecordingStatusParams({
        CallSid,
        RecordingSource: 'DialVerb',
        RecordingDuration: String(options.dialSeconds),
      });
      expect(
        (await invoke(recordingStatus, signedTwilioEvent('/webhooks/twilio/recording/status', recording)))
          .statusCode,
      ).toBe(204);
    }
  }
  if (options.voicemailSeconds) {
    const voicemail = twilioRecordingStatusParams({
      CallSid,
      RecordingSource: 'RecordVerb',
      RecordingDuration: String(options.voicemailSeconds),
    });
    expect(
      (await invoke(recordingStatus, signedTwilioEvent('/webhooks/twilio/recording/status', voicemail)))
        .statusCode,
    ).toBe(204);
  }
  const end = twilioVoiceStatusParams({
    CallSid,
    CallStatus: 'completed',
    CallDuration: String(options.callSeconds),
  });
  await invoke(voiceStatus, signedTwilioEvent('/webhooks/twilio/voice/status', end));
  return CallSid;
}

/** A patient's text through the Twilio webhook; returns the inbound sid and the TwiML answer. */
async function textIn(body: string, from = PATIENT) {
  const MessageSid = fakeSid('SM');
  const response = await invoke(
    smsIncoming,
    twilioSmsIncomingEvent({ MessageSid, SmsSid: MessageSid, Body: body, From: from }),
  );
  return { sid: MessageSid, twiml: parseXml(response.body) };
}

/** A delivery receipt as Twilio sends it for the TwiML reply (signed URL with `?reply=`), or without it. */
async function receipt(replySid: string, status: string, inboundSid?: string) {
  const params = twilioSmsStatusParams({
    MessageSid: replySid,
    SmsSid: replySid,
    MessageStatus: status,
    SmsStatus: status,
    To: PATIENT,
  });
  const event = signedTwilioEvent(
    '/webhooks/twilio/sms/status',
    params,
    inboundSid ? { rawQuery: `reply=${inboundSid}` } : {},
  );
  return invoke(smsStatus, event);
}

describe('calls: answered by a person, missed, voicemail, talk time', () => {
  it('Twilio: four calls (no answer + voicemail, after hours, answered, busy + voicemail) are 1 answered, 3 missed, 3 voicemails', async () => {
    // Prepare
    await twilioCall({ at: OPEN_AT, dial: 'no-answer', voicemailSeconds: 20, callSeconds: 58 });
    await twilioCall({ at: CLOSED_AT, voicemailSeconds: 30, callSeconds: 55 });
    await twilioCall({
      at: new Date(OPEN_AT.getTime() + 3_600_000),
      dial: 'completed',
      dialSeconds: 95,
      callSeconds: 103,
    });
    await twilioCall({
      at: new Date(OPEN_AT.getTime() + 7_200_000),
      dial: 'busy',
      voicemailSeconds: 12,
      callSeconds: 40,
    });

    // Act
    const { calls } = await dataFor();

    // Assess: all four on the New York day (the after-hours one is 23:00 local, 03:00 UTC the next day)
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      day: DAY,
      provider: 'twilio',
      number: PRACTICE_TWILIO_NUMBER,
      calls: 4,
      inbound: 4,
    });
    expect(calls[0]).toMatchObject({ answered: 1, missed: 3, voicemails: 3, failed: 0 });
    // Talk time is the conversation with the office (the dial's recording), not greeting or voicemail.
    expect(calls[0]).toMatchObject({ talk_s: 95, avg_talk_s: 95 });
  });

  it('VoIP.ms: ANSWERED is answered, NO ANSWER and BUSY are missed, FAILED is neither (as the text-back rule)', async () => {
    // Prepare
    const record = (disposition: string, uniqueid: string, seconds: string) => ({
      date: '2026-03-10 10:00:00',
      callerid: '"Jane Roe" <4155550123>',
      destination: '5145550000',
      description: 'Inbound DID',
      account: '100000_VoIP',
      disposition,
      duration: '00:00:00',
      seconds,
      rate: '0.009',
      total: '0.01',
      uniqueid,
    });
    const body = JSON.stringify({
      cdr: [
        record('ANSWERED', '1.1', '65'),
        record('NO ANSWER', '1.2', '0'),
        record('BUSY', '1.3', '0'),
        record('FAILED', '1.4', '0'),
      ],
    });

    // Act
    const response = await invoke(
      voipmsCdr,
      httpEvent({
        path: '/webhooks/voipms/call/cdr',
        rawQuery: `token=${TEST_VOIPMS_TOKEN}`,
        body,
        headers: { 'content-type': 'application/json' },
      }),
    );
    const { calls } = await dataFor();

    // Assess
    expect(response.statusCode).toBe(200);
    expect(calls).toEqual([
      expect.objectContaining({
        provider: 'voipms',
        number: '+15145550000',
        calls: 4,
        answered: 1,
        missed: 2,
        failed: 1,
        talk_s: 65,
      }),
    ]);
  });
});

describe('office days per number', () => {
  it('counts each event on the local day of its own number, and renaming the practice moves nothing', async () => {
    // Prepare: the Twilio number is in Los Angeles, the default row stays New York.
    await testDb.db.query(
      "INSERT INTO voip_settings (provider, phone_number, timezone) VALUES ('twilio', $1, 'America/Los_Angeles')",
      [PRACTICE_TWILIO_NUMBER],
    );
    clearPracticeSettingsCache();
    await realTimeToday();
    await textIn('what are your hours');
    // Its time: 05:30 UTC on the 11th, 01:30 in New York but 22:30 on the 10th in Los Angeles.
    await testDb.db.query(
      "UPDATE sms_messages SET created_at = '2026-03-11T05:30:00Z', sent_at = '2026-03-11T05:30:00Z'",
    );

    // Act
    const before = await dataFor('2026-03-10', '2026-03-11');
    await testDb.db.query(
      "UPDATE voip_settings SET practice_name = 'Renamed Dental' WHERE phone_number = '*'",
    );
    const after = await dataFor('2026-03-10', '2026-03-11');

    // Assess
    expect(before.sms.map((row) => [row.day, row.inbound])).toEqual([['2026-03-10', 1]]);
    expect(after.sms).toEqual(before.sms);
  });

  it('counts patients only: on-call staff texts and the alerts sent to them are left out', async () => {
    // Prepare: a patient's text, an on-call person's OK, and an alert text, all on the same day
    const at = '2026-03-10T15:00:00Z';
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status, kind,
         sent_at, created_at)
       VALUES ('twilio', 'SMpatient', 'inbound', '+14155550101', $1, 'hello', 'received', NULL, $2, $2),
              ('twilio', 'SMstaff', 'inbound', '+14155550199', $1, 'OK', 'received', 'staff', $2, $2),
              ('twilio', 'alert:1', 'outbound', $1, '+14155550199', 'Emergency text', 'sent', 'staff-alert', $2, $2)`,
      [PRACTICE_TWILIO_NUMBER, at],
    );

    // Act
    const data = await dataFor('2026-03-10', '2026-03-10');

    // Assess
    expect(data.sms.map((row) => [row.day, row.inbound, row.outbound])).toEqual([['2026-03-10', 1, 0]]);
  });

  it('allows one default settings row only', async () => {
    await expect(
      testDb.db.query("INSERT INTO voip_settings (provider, phone_number) VALUES ('twilio', '*')"),
    ).rejects.toThrow(/voip_settings_default_any|violates/);
  });

  it('refuses status values outside the lifecycle', async () => {
    await expect(
      testDb.db.query(
        "INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, status) VALUES ('twilio', 'x', 'outbound', '+1', '+2', 'bogus')",
      ),
    ).rejects.toThrow(/sms_messages_status_check/);
    await expect(
      testDb.db.query(
        "INSERT INTO calls (provider, provider_call_id, direction, status) VALUES ('twilio', 'y', 'inbound', 'answered')",
      ),
    ).rejects.toThrow(/calls_status_check/);
  });
});

describe('reply delivery (Twilio TwiML replies)', () => {
  it('asks for the reply status on the status route, and the receipts update the reply row: one row, delivered', async () => {
    // Prepare
    const today = await realTimeToday();
    const { sid, twiml } = await textIn('what are your hours');
    const message = twiml.children.find((child) => child.name === 'Message');
    expect(message?.attributes.statusCallback).toBe(
      `${TEST_BASE_URL}/webhooks/twilio/sms/status?reply=${sid}`,
    );
    const replySid = fakeSid('SM');

    // Act: the TwiML message's own callbacks, then a Messaging Service callback without ?reply=
    expect((await receipt(replySid, 'sent', sid)).statusCode).toBe(204);
    expect((await receipt(replySid, 'delivered', sid)).statusCode).toBe(204);
    expect((await receipt(replySid, 'sent')).statusCode).toBe(204);

    // Assess
    const { rows } = await testDb.db.query(
      "SELECT provider_message_id, status, auto_response_intent, provider_sent_ids FROM sms_messages WHERE direction = 'outbound'",
    );
    expect(rows).toEqual([
      {
        provider_message_id: `reply:${sid}`,
        status: 'delivered',
        auto_response_intent: 'hours',
        provider_sent_ids: [replySid],
      },
    ]);
    const { sms } = await dataFor(today, today);
    expect(sms[0]).toMatchObject({ inbound: 1, outbound: 1, replies: 1, replies_delivered: 1, delivered: 1 });
  });

  it('folds a row made by a receipt that came before the reply was linked', async () => {
    // Prepare
    await realTimeToday();
    const { sid } = await textIn('what are your hours');
    const replySid = fakeSid('SM');
    await receipt(replySid, 'delivered'); // Messaging Service callback first: a bare row under the reply's SID

    // Act
    await receipt(replySid, 'sent', sid);

    // Assess
    const { rows } = await testDb.db.query(
      "SELECT provider_message_id, status FROM sms_messages WHERE direction = 'outbound'",
    );
    expect(rows).toEqual([{ provider_message_id: `reply:${sid}`, status: 'delivered' }]);
  });

  it('does not count a failed reply as a reply', async () => {
    const today = await realTimeToday();
    const { sid } = await textIn('what are your hours');
    await receipt(fakeSid('SM'), 'failed', sid);
    const { sms, replies } = await dataFor(today, today);
    expect(sms[0]).toMatchObject({ replies: 0, failed: 1 });
    expect(replies).toEqual([]);
  });

  it('VoIP.ms receipts match the reply by the part id the send returned', async () => {
    // Prepare: a VoIP.ms reply row as the outbound worker leaves it
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status, auto_response_intent, provider_sent_ids)
       VALUES ('voipms', 'reply:9001', 'outbound', '+15145550000', $1, 'We are open', 'sent', 'hours', ARRAY['777'])`,
      [PATIENT],
    );

    // Act
    await recordMessageStatus.run(testDb.db, {
      provider: 'voipms',
      providerMessageId: '777',
      status: 'delivered',
      fromNumber: '+15145550000',
      toNumber: PATIENT,
    });

    // Assess
    const { rows } = await testDb.db.query(
      "SELECT provider_message_id, status FROM sms_messages WHERE direction = 'outbound'",
    );
    expect(rows).toEqual([{ provider_message_id: 'reply:9001', status: 'delivered' }]);
  });
});

describe('follow-ups', () => {
  it('two parts of one message and a STOP are no follow-up (0 %, not 67 %)', async () => {
    // Prepare: the first part, the second 1.5 s later, STOP a minute later
    const today = await realTimeToday();
    await textIn('can i get an appointment');
    await moveBack(PATIENT, '1.5 seconds');
    await textIn('thursday afternoon maybe?');
    await moveBack(PATIENT, '60 seconds');
    await textIn('STOP');

    // Act
    const { replies } = await dataFor(...around(today));

    // Assess
    expect(sum(replies, 'replies')).toBeGreaterThan(0);
    expect(sum(replies, 'wrote_again')).toBe(0);
    expect(replies.every((row) => row.followed_up_pct === 0)).toBe(true);
  });

  it('a new message hours later is a follow-up; a call counts by its start, not by when its record arrived', async () => {
    // Prepare: patient A writes again two hours later; patient B's call started before the reply, its CDR came later.
    const A = '+14155550111';
    const B = '+14155550122';
    const today = await realTimeToday();
    await textIn('what are your hours', A);
    await moveBack(A, '2 hours');
    await textIn('thanks, one more question', A);
    await textIn('where are you located', B);
    await testDb.db.query(
      `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status, started_at)
       VALUES ('voipms', 'late-cdr', 'inbound', $1, '+15145550000', 'completed', now() - interval '10 minutes')`,
      [B],
    );

    // Act
    const { replies } = await dataFor(...around(today));

    // Assess
    const byIntent = Object.fromEntries(replies.map((row) => [row.intent, row]));
    expect(byIntent.hours).toMatchObject({ replies: 1, wrote_again: 1, called: 0, followed_up_pct: 100 });
    expect(byIntent.location).toMatchObject({ replies: 1, wrote_again: 0, called: 0, followed_up_pct: 0 });
  });
});

describe('provider time', () => {
  it('a text replayed after an outage counts on the day it was sent', async () => {
    // Prepare: sent on the 10th, stored on the 12th
    await testDb.db.query(
      `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status, sent_at, created_at)
       VALUES ('voipms', '5001', 'inbound', $1, '+15145550000', 'hello', 'received', '2026-03-10T15:00:00Z', '2026-03-12T15:00:00Z')`,
      [PATIENT],
    );

    // Act
    const { sms } = await dataFor('2026-03-10', '2026-03-12');

    // Assess
    expect(sms.map((row) => [row.day, row.inbound])).toEqual([['2026-03-10', 1]]);
  });
});

describe('rollups stay current', () => {
  it('a receipt after a report changes the next report', async () => {
    // Prepare
    const today = await realTimeToday();
    const { sid } = await textIn('what are your hours');
    expect((await dataFor(today, today)).sms[0]).toMatchObject({ replies_delivered: 0 });

    // Act
    await receipt(fakeSid('SM'), 'delivered', sid);

    // Assess
    expect((await dataFor(today, today)).sms[0]).toMatchObject({ replies_delivered: 1 });
  });
});

describe('formats', () => {
  const data: ReportData = {
    from: DAY,
    to: '2026-03-11',
    sms: [
      {
        day: DAY,
        provider: 'twilio',
        number: '+15005550006',
        inbound: 2,
        outbound: 1,
        by_intent: { hours: 1 },
      },
    ],
    calls: [{ day: DAY, provider: 'twilio', number: '+15005550006', answered: 1, missed: 2, voicemails: 1 }],
    replies: [{ intent: 'hours', language: 'en', replies: 1, followed_up_pct: 100 }],
    days: [
      {
        day: DAY,
        texts_in: 2,
        texts_out: 1,
        replies: 1,
        replies_delivered: 1,
        calls_answered: 1,
        calls_missed: 2,
        voicemails: 1,
      },
      {
        day: '2026-03-11',
        texts_in: 0,
        texts_out: 0,
        replies: 0,
        replies_delivered: 0,
        calls_answered: 0,
        calls_missed: 0,
        voicemails: 0,
      },
    ],
  };

  it('csv: a header and one line per row, by section', () => {
    expect(renderReport(data, 'csv', 'calls')).toBe(
      'day,provider,number,answered,missed,voicemails\r\n2026-03-10,twilio,+15005550006,1,2,1',
    );
    expect(renderReport(data, 'csv').split('\r\n\r\n')).toHaveLength(3);
  });

  it('json: the data as is', () => {
    expect(JSON.parse(renderReport(data, 'json'))).toEqual(data);
  });

  it('html: one self-contained page with a chart of the day-by-day series', () => {
    const page = renderReport(data, 'html');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page.match(/<svg /g)).toHaveLength(2);
    expect(page).toContain('<polyline');
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('report() fills every day of the range, with zeros where nothing happened', async () => {
    await realTimeToday();
    await textIn('hello');
    await testDb.db.query(
      "UPDATE sms_messages SET created_at = '2026-03-10T15:00:00Z', sent_at = '2026-03-10T15:00:00Z'",
    );
    const json = JSON.parse(await report(testDb.db, { from: DAY, to: '2026-03-12', format: 'json' }));
    expect(json.days.map((d: { day: string; texts_in: number }) => [d.day, d.texts_in])).toEqual([
      [DAY, 1],
      ['2026-03-11', 0],
      ['2026-03-12', 0],
    ]);
  });
});
