import type { Queryable } from '../db/index.js';
import type { DomainEvent } from '../events/types.js';
import { maskPhone } from '../http/mask.js';
import { handOnTexts, type StoredTextJob } from '../messages/outbound.js';
import { countMetric, logger } from '../observability.js';
import { composeAlert } from './compose.js';
import { type AlertSettings, loadAlertSettings, quietUntil } from './settings.js';

export interface AlertOptions {
  /** How long an emergency alert waits for an OK before the next recipient (ALERT_ESCALATION_SECONDS). */
  escalationSeconds: number;
  now?: Date;
}

interface Target {
  phoneNumber: string;
  /** 0 for the practice's emergency line. */
  position: number;
}

/**
 * One alert row per event and recipient (unique), and with it the outbound text that carries it, stored
 * 'pending' for the outbound worker (sendStoredText) as every text we send is. A redelivered event matches the
 * existing row and stores nothing. The hourly cap (non-urgent alerts only) is counted in the same statement; an
 * alert over it is kept as 'failed' with reason 'hourly-cap', so the report shows what was held back.
 */
const STORE_ALERT = `
  WITH recent AS (
    SELECT count(*) AS n FROM alerts
    WHERE recipient_number = $5 AND created_at > now() - interval '1 hour' AND reason IS DISTINCT FROM 'hourly-cap'
  ), message AS (
    SELECT nextval(pg_get_serial_sequence('sms_messages', 'id')) AS id
  ), alert AS (
    INSERT INTO alerts (event_id, event_type, provider, practice_number, recipient_number, position, status, reason,
      message_id, escalate_at)
    SELECT $1, $2, $3, $4, $5, $6,
      CASE WHEN r.n >= $9 THEN 'failed' ELSE 'pending' END,
      CASE WHEN r.n >= $9 THEN 'hourly-cap' END,
      CASE WHEN r.n >= $9 THEN NULL ELSE m.id END,
      CASE WHEN $10::double precision IS NOT NULL
        THEN coalesce($8::timestamptz, now()) + make_interval(secs => $10::double precision) END
    FROM recent r, message m
    ON CONFLICT (event_id, recipient_number) DO NOTHING
    RETURNING id, status, message_id
  ), text AS (
    INSERT INTO sms_messages (id, provider, provider_message_id, direction, from_number, to_number, body, status,
      kind, send_after)
    SELECT a.message_id, $3, 'alert:' || a.id, 'outbound', $4, $5, $7, 'pending', 'staff-alert', $8
    FROM alert a WHERE a.status = 'pending'
    RETURNING id
  )
  SELECT (SELECT status FROM alert) AS status, (SELECT id FROM text) AS message_id`;

/** Urgent events reach someone always: no quiet hours, no cap, no opt-in per type, and they escalate. */
export function isUrgent(event: DomainEvent): boolean {
  return (
    event.type === 'patient.emergency' ||
    (event.type === 'message.delivery_failed' && event.detail.intent === 'emergency')
  );
}

/** Who gets an alert for this event, first of all (escalation reaches the others later). */
export function alertTargets(event: DomainEvent, settings: AlertSettings): Target[] {
  if (event.type.startsWith('alert.')) return [];
  // A staff alert that failed is not alerted again (no loop); the escalation moves on instead.
  if (event.type === 'message.delivery_failed' && event.detail.kind === 'staff-alert') return [];
  if (isUrgent(event)) {
    const first = settings.recipients[0];
    if (first) return [{ phoneNumber: first.phoneNumber, position: first.position }];
    return settings.emergencyLine ? [{ phoneNumber: settings.emergencyLine, position: 0 }] : [];
  }
  return settings.recipients
    .filter((r) => (r.events.length > 0 ? r.events : settings.defaultEvents).includes(event.type))
    .map((r) => ({ phoneNumber: r.phoneNumber, position: r.position }));
}

/** The patient's own words, read only when the practice's detail level shows them. */
async function patientWords(db: Queryable, event: DomainEvent): Promise<string | null> {
  const d = event.detail;
  if ((event.type === 'sms.received' || event.type === 'patient.emergency') && d.message_id != null) {
    const { rows } = await db.query<{ body: string | null }>('SELECT body FROM sms_messages WHERE id = $1', [
      d.message_id,
    ]);
    return rows[0]?.body ?? null;
  }
  if (event.type === 'voicemail.transcribed' && d.recording_id != null) {
    if (typeof d.transcript === 'string') return d.transcript;
    const { rows } = await db.query<{ text: string | null }>(
      `SELECT text FROM transcriptions WHERE recording_id = $1 AND status = 'completed'`,
      [d.recording_id],
    );
    return rows[0]?.text ?? null;
  }
  return null;
}

export interface AlertResult {
  /** Alerts stored by this delivery (0 for a redelivery). */
  stored: number;
  capped: number;
  texts: StoredTextJob[];
}

/**
 * The subscriber's work for one event from the bus: store the alerts it calls for, with their texts, and hand
 * the texts to the outbound worker (the relay hands on any that wait: quiet hours, a failed queue call).
 * Safe to run for the same event any number of times.
 */
export async function alertForEvent(
  db: Queryable,
  event: DomainEvent,
  options: AlertOptions,
): Promise<AlertResult> {
  const result: AlertResult = { stored: 0, capped: 0, texts: [] };
  if (event.type.startsWith('alert.') || event.practice_number === 'unknown') return result;
  const settings = await loadAlertSettings(db, event.provider, event.practice_number);
  const targets = alertTargets(event, settings);
  if (targets.length === 0) return result;

  const urgent = isUrgent(event);
  const now = options.now ?? new Date();
  const sendAfter = urgent ? null : quietUntil(settings, now);
  const words = settings.detail === 'full' ? await patientWords(db, event) : null;
  const body = composeAlert(event, settings, { text: words });
  const provider = event.provider === 'voipms' ? 'voipms' : 'twilio';

  for (const target of targets) {
    const escalates = urgent && target.position > 0;
    const { rows } = await db.query<{ status: string | null; message_id: string | number | null }>(
      STORE_ALERT,
      [
        event.id,
        event.type,
        provider,
        event.practice_number,
        target.phoneNumber,
        target.position,
        body,
        sendAfter,
        urgent ? Number.MAX_SAFE_INTEGER : settings.hourlyCap,
        escalates ? options.escalationSeconds : null,
      ],
    );
    const row = rows[0];
    if (!row?.status) continue;
    result.stored++;
    if (row.status === 'failed') {
      result.capped++;
      logger.warn('alert held back by the hourly cap', {
        type: event.type,
        to: maskPhone(target.phoneNumber),
      });
    }
    if (row.message_id != null && !sendAfter)
      result.texts.push({ provider, messageId: Number(row.message_id) });
  }
  if (result.stored) countMetric('AlertsStored', { type: event.type }, result.stored);
  await handOnTexts(result.texts);
  return result;
}
