import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as recordingStatus } from '../../functions/twilio-recording-status.js';
import { handler as smsIncoming } from '../../functions/twilio-sms-incoming.js';
import { handler as voiceStatus } from '../../functions/twilio-voice-status.js';
import { clearPracticeSettingsCache } from '../../lib/practice/settings.js';
import { localQueues } from '../../lib/queue/index.js';
import { useConfig } from '../support/config.js';
import { serverUrl, useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import {
  fakeSid,
  parseXml,
  signedTwilioEvent,
  twilioRecordingStatusParams,
  twilioSmsIncomingParams,
  twilioVoiceStatusEvent,
} from '../support/twilio.js';

const COPIES = 20;
const count = async (db: { query: (t: string) => Promise<{ rows: unknown[] }> }, sql: string) =>
  (await db.query(sql)).rows[0] as { n: number };

describe.skipIf(!serverUrl)(
  'Twilio duplicates and disorder (real Postgres: PGlite runs one query at a time)',
  () => {
    const testDb = useTestDb({ real: true });

    beforeEach(() => {
      useConfig({ TWILIO_API_BASE_URL: 'https://api.twilio.com' });
      localQueues.reset();
      clearPracticeSettingsCache();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-03-14T16:00:00Z')); // Saturday noon in New York
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it(`${COPIES} concurrent deliveries of one inbound text: one row, exactly one reply`, async () => {
      // Prepare
      const params = twilioSmsIncomingParams({ Body: 'what are your hours?' });
      const headers = { 'i-twilio-idempotency-token': 'a1b2c3d4-0000-4000-8000-000000000001' };

      // Act
      const responses = await Promise.all(
        Array.from({ length: COPIES }, () =>
          invoke(smsIncoming, signedTwilioEvent('/webhooks/twilio/sms/incoming', params, { headers })),
        ),
      );

      // Assess
      expect(responses.every((response) => response.statusCode === 200)).toBe(true);
      const withReply = responses.filter((response) => parseXml(response.body).children.length > 0);
      expect(withReply).toHaveLength(1);
      expect(
        await count(testDb.db, `SELECT count(*)::int AS n FROM sms_messages WHERE direction = 'inbound'`),
      ).toEqual({ n: 1 });
      expect(
        await count(testDb.db, `SELECT count(*)::int AS n FROM sms_messages WHERE direction = 'outbound'`),
      ).toEqual({ n: 1 });
      expect(await count(testDb.db, 'SELECT count(*)::int AS n FROM webhook_logs')).toEqual({ n: COPIES });
    });

    it(`${COPIES} concurrent no-answer callbacks of one call: one missed-call text`, async () => {
      const sid = fakeSid('CA');
      await Promise.all(
        Array.from({ length: COPIES }, () =>
          invoke(
            voiceStatus,
            twilioVoiceStatusEvent({ CallSid: sid, CallStatus: 'no-answer', SequenceNumber: '2' }),
          ),
        ),
      );
      expect(localQueues.messages('outboundSms')).toHaveLength(1);
      expect(await count(testDb.db, 'SELECT count(*)::int AS n FROM calls')).toEqual({ n: 1 });
    });

    it('concurrent missed calls from one caller on one day: one missed-call text', async () => {
      await Promise.all(
        Array.from({ length: COPIES }, () =>
          invoke(voiceStatus, twilioVoiceStatusEvent({ CallStatus: 'busy' })),
        ),
      );
      expect(localQueues.messages('outboundSms')).toHaveLength(1);
      expect(await count(testDb.db, 'SELECT count(*)::int AS n FROM calls')).toEqual({ n: COPIES });
    });

    it('shuffled and repeated status callbacks, all at once: the call ends at its final status', async () => {
      const lifecycle = ['queued', 'initiated', 'ringing', 'in-progress', 'completed'];
      for (let round = 0; round < 5; round += 1) {
        const sid = fakeSid('CA');
        const deliveries = lifecycle.flatMap((status, sequence) =>
          [0, 1, 2].map(() => ({ status, sequence })),
        );
        deliveries.sort(() => Math.random() - 0.5);
        await Promise.all(
          deliveries.map(({ status, sequence }) =>
            invoke(
              voiceStatus,
              twilioVoiceStatusEvent({
                CallSid: sid,
                CallStatus: status,
                SequenceNumber: String(sequence),
                Direction: 'outbound-api',
              }),
            ),
          ),
        );
        const row = (
          await testDb.db.query<{ status: string; status_sequence: number; duration_seconds: number }>(
            'SELECT status, status_sequence, duration_seconds FROM calls WHERE provider_call_id = $1',
            [sid],
          )
        ).rows[0];
        expect(row).toEqual({ status: 'completed', status_sequence: 4, duration_seconds: 42 });
      }
    });

    it(`${COPIES} concurrent completed recording callbacks: one row, one archive job`, async () => {
      const params = twilioRecordingStatusParams();
      await Promise.all(
        Array.from({ length: COPIES }, () =>
          invoke(recordingStatus, signedTwilioEvent('/webhooks/twilio/recording/status', params)),
        ),
      );
      expect(localQueues.messages('recordings')).toHaveLength(1);
      expect(await count(testDb.db, 'SELECT count(*)::int AS n FROM recordings')).toEqual({ n: 1 });
    });
  },
);
