import { defineAction } from '../ingest/action.js';
import { handOnTexts } from '../messages/outbound.js';
import { logger } from '../observability.js';
import { isTextableNumber } from '../phone.js';
import { isQuietHours, officeDay } from '../practice/hours.js';
import { loadPracticeSettings, type PracticeSettings } from '../practice/settings.js';
import { MISSED_CALL_STATUSES } from '../twilio/voice.js';
import { missedCallText } from './text-back.js';

export interface CallStatusEvent {
  provider: 'twilio';
  providerCallId: string;
  direction: string;
  fromNumber: string | null;
  toNumber: string | null;
  callerName: string | null;
  status: string;
  sequence: number | null;
  durationSeconds: number | null;
  /** Positive amount charged, when the provider gave a price. */
  cost: number | null;
  currency: string | null;
  startedAt: string | null;
  endedAt: string | null;
  answeredBy: string | null;
  /** ISO time the callback reached us: quiet hours and the office day are judged by it. */
  receivedAt: string;
}

/** Quiet hours; settings we cannot read (a bad timezone) never silence the text a missed caller is owed. */
function isQuiet(settings: PracticeSettings, now: Date): boolean {
  try {
    return isQuietHours(settings, now);
  } catch {
    logger.warn('office time zone unreadable; missed-call text judged in UTC', { zone: settings.timezone });
    return false;
  }
}

function officeDayOrUtc(settings: PracticeSettings, now: Date): string {
  try {
    return officeDay(settings.timezone, now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

/**
 * How long a missed-call text waits before it may go: the call's final status can arrive before the result of
 * its <Dial> (a deferred or slow write), and an answered call must never be texted "sorry we missed you".
 */
export const MISSED_CALL_WAIT_SECONDS = 30;

const FORWARD = `(call_status_rank(EXCLUDED.status) > call_status_rank(calls.status)
  OR (call_status_rank(EXCLUDED.status) = call_status_rank(calls.status)
      AND EXCLUDED.status_sequence > coalesce(calls.status_sequence, -1)))`;

/**
 * One statement: the call row moves forward only (call_status_rank, then SequenceNumber), times, duration and
 * cost are filled once known, and a missed inbound call claims the caller's missed-call text for the office
 * day (outbound_guards), unless they opted out, and stores that text as a pending outbound row in the same
 * statement (so a timeout or a failed queue call cannot lose it). An exact duplicate matches no row and so
 * claims nothing. The text waits MISSED_CALL_WAIT_SECONDS, and the sender cancels it if the call's dial result
 * says it was answered after all. Returns whether a missed-call text was stored.
 */
export const recordCallStatus = defineAction('calls.status', async (db, event: CallStatusEvent) => {
  const now = new Date(event.receivedAt);
  const from = event.fromNumber ?? '';
  const to = event.toNumber ?? '';
  // A completed call may still be missed (voicemail, unanswered dial): the statement below decides.
  const maybeMissed =
    event.direction === 'inbound' &&
    (event.status === 'completed' || (MISSED_CALL_STATUSES as readonly string[]).includes(event.status));
  const settings = maybeMissed ? await loadPracticeSettings(db, 'twilio', to) : undefined;
  const textBack =
    settings?.missedCallTextBack === true && isTextableNumber(from) && from !== to && !isQuiet(settings, now);
  const day = textBack ? officeDayOrUtc(settings, now) : null;

  const { rows } = await db.query<{ text_id: number | null }>(
    `WITH upserted AS (
       INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, caller_name, status,
         status_sequence, duration_seconds, cost, currency, started_at, ended_at, answered_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (provider, provider_call_id) DO UPDATE SET
         status = CASE WHEN ${FORWARD} THEN EXCLUDED.status ELSE calls.status END,
         status_sequence = CASE WHEN ${FORWARD} THEN EXCLUDED.status_sequence ELSE calls.status_sequence END,
         from_number = coalesce(calls.from_number, EXCLUDED.from_number),
         to_number = coalesce(calls.to_number, EXCLUDED.to_number),
         caller_name = coalesce(calls.caller_name, EXCLUDED.caller_name),
         duration_seconds = coalesce(calls.duration_seconds, EXCLUDED.duration_seconds),
         cost = coalesce(calls.cost, EXCLUDED.cost),
         currency = coalesce(calls.currency, EXCLUDED.currency),
         started_at = least(calls.started_at, EXCLUDED.started_at),
         ended_at = coalesce(calls.ended_at, EXCLUDED.ended_at),
         answered_by = coalesce(calls.answered_by, EXCLUDED.answered_by)
       WHERE ${FORWARD}
         OR (EXCLUDED.started_at IS NOT NULL AND (calls.started_at IS NULL OR EXCLUDED.started_at < calls.started_at))
         OR (calls.ended_at IS NULL AND EXCLUDED.ended_at IS NOT NULL)
         OR (calls.duration_seconds IS NULL AND EXCLUDED.duration_seconds IS NOT NULL)
         OR (calls.cost IS NULL AND EXCLUDED.cost IS NOT NULL)
       RETURNING direction, status, dial_status, from_number
     ), claimed AS (
       INSERT INTO outbound_guards (kind, phone_number, day)
       SELECT 'missed-call', u.from_number, $15::date FROM upserted u
       WHERE $16::boolean AND u.status = $7 AND u.direction = 'inbound'
         AND (u.status IN ('no-answer', 'busy', 'canceled')
              OR (u.status = 'completed' AND coalesce(u.dial_status, '') NOT IN ('completed', 'answered')))
         AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone_number = u.from_number)
       ON CONFLICT DO NOTHING
       RETURNING phone_number
     ), text AS (
       INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
         kind, send_after)
       SELECT $1, 'missed-call:' || $2, 'outbound', $5, c.phone_number, $17, 'pending', 'missed-call',
         now() + make_interval(secs => $18::double precision)
       FROM claimed c
       ON CONFLICT (provider, provider_message_id) DO NOTHING
       RETURNING id
     )
     SELECT (SELECT id FROM text) AS text_id`,
    [
      event.provider,
      event.providerCallId,
      event.direction,
      event.fromNumber,
      event.toNumber,
      event.callerName,
      event.status,
      event.sequence,
      event.durationSeconds,
      event.cost,
      event.currency,
      event.startedAt,
      event.endedAt,
      event.answeredBy,
      day,
      textBack,
      settings ? missedCallText(settings) : null,
      MISSED_CALL_WAIT_SECONDS,
    ],
  );
  const textId = rows[0]?.text_id;
  if (textId == null) return { textBackQueued: false };
  // Stored as a pending text: handed on now, due after the wait; the relay hands it on if this fails.
  await handOnTexts([{ provider: 'twilio', messageId: Number(textId) }], {
    delaySeconds: MISSED_CALL_WAIT_SECONDS + 5,
  });
  logger.info('missed-call text queued', { call: event.providerCallId });
  return { textBackQueued: true };
});
