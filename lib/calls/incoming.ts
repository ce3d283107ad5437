import { defineAction } from '../ingest/action.js';

/** How the incoming-call webhook routed a call. */
export type CallRoute = 'office' | 'after-hours' | 'voicemail' | 'fallback';

export interface IncomingCallEvent {
  provider: 'twilio';
  providerCallId: string;
  fromNumber: string | null;
  toNumber: string | null;
  callerName: string | null;
  route: CallRoute;
  /** ISO time Twilio asked us for instructions: the call has started ringing. */
  receivedAt: string;
}

/**
 * The call row, created the moment Twilio asks for instructions (one statement). A status callback may have
 * created it first; then only what we alone know (route, caller name, start) is filled in.
 */
export const recordIncomingCall = defineAction('calls.incoming', async (db, event: IncomingCallEvent) => {
  await db.query(
    `INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, caller_name, status,
       started_at, route)
     VALUES ($1, $2, 'inbound', $3, $4, $5, 'ringing', $6, $7)
     ON CONFLICT (provider, provider_call_id) DO UPDATE
       SET route = EXCLUDED.route,
           caller_name = coalesce(calls.caller_name, EXCLUDED.caller_name),
           started_at = least(calls.started_at, EXCLUDED.started_at)
       WHERE calls.route IS NULL`,
    [
      event.provider,
      event.providerCallId,
      event.fromNumber,
      event.toNumber,
      event.callerName,
      event.receivedAt,
      event.route,
    ],
  );
});

export interface DialResultEvent {
  provider: 'twilio';
  providerCallId: string;
  fromNumber: string | null;
  toNumber: string | null;
  dialStatus: string;
  /** How long the office line talked (DialCallDuration): the call's talk time, greeting and voicemail excluded. */
  dialDurationSeconds?: number | null;
}

/**
 * What the `<Dial>` to the office line ended as: tells an answered call from a missed one later. A result
 * written late (after the call's final status stored a missed-call text) cancels that text while it still
 * waits, and gives the caller's day claim back.
 */
export const recordDialResult = defineAction('calls.dial-result', async (db, event: DialResultEvent) => {
  await db.query(
    `WITH dialed AS (
       INSERT INTO calls (provider, provider_call_id, direction, from_number, to_number, status, route, dial_status,
         dial_duration_seconds)
       VALUES ($1, $2, 'inbound', $3, $4, 'in-progress', 'office', $5, $6)
       ON CONFLICT (provider, provider_call_id) DO UPDATE
         SET dial_status = EXCLUDED.dial_status,
           dial_duration_seconds = coalesce(EXCLUDED.dial_duration_seconds, calls.dial_duration_seconds)
         WHERE calls.dial_status IS DISTINCT FROM EXCLUDED.dial_status
           OR (calls.dial_duration_seconds IS NULL AND EXCLUDED.dial_duration_seconds IS NOT NULL)
       RETURNING dial_status
     ), canceled AS (
       UPDATE sms_messages SET status = 'canceled'
       WHERE provider = $1 AND provider_message_id = 'missed-call:' || $2 AND status = 'pending'
         AND EXISTS (SELECT 1 FROM dialed d WHERE d.dial_status IN ('completed', 'answered'))
       RETURNING to_number, created_at
     )
     DELETE FROM outbound_guards g USING canceled c
     WHERE g.kind = 'missed-call' AND g.phone_number = c.to_number AND g.created_at = c.created_at`,
    [
      event.provider,
      event.providerCallId,
      event.fromNumber,
      event.toNumber,
      event.dialStatus,
      event.dialDurationSeconds ?? null,
    ],
  );
});
