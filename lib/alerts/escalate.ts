import type { Queryable } from '../db/index.js';
import { handOnTexts, type StoredTextJob } from '../messages/outbound.js';
import { countMetric, logger } from '../observability.js';

/**
 * One statement, run by every relay pass: emergency alerts whose wait for an OK is over (and whose event nobody
 * acknowledged) become 'escalated', and the next enabled recipient by position, or at the end of the chain the
 * practice's emergency line, gets an alert and its stored text, with an `alert.escalated` event. Rows are taken
 * under FOR UPDATE SKIP LOCKED and their due time is cleared, so concurrent relays escalate each alert once; the
 * unique (event, recipient) keeps a number from being alerted twice for one event.
 */
const ESCALATE = `
  WITH due AS (
    SELECT a.id, a.event_id, a.event_type, a.provider, a.practice_number, a.recipient_number, a.position,
      a.message_id, a.status
    FROM alerts a
    WHERE a.escalate_at <= now() AND a.status IN ('pending', 'sent', 'delivered', 'failed')
    ORDER BY a.escalate_at LIMIT $2
    FOR UPDATE SKIP LOCKED
  ), marked AS (
    UPDATE alerts a SET escalate_at = NULL, escalated_at = now(),
      status = CASE WHEN a.status = 'failed' THEN 'failed' ELSE 'escalated' END
    FROM due d WHERE a.id = d.id
    RETURNING a.id
  ), open AS (
    SELECT d.* FROM due d
    WHERE NOT EXISTS (SELECT 1 FROM alerts x WHERE x.event_id = d.event_id AND x.status = 'acknowledged')
  ), next AS (
    SELECT o.id AS from_alert, o.event_id, o.event_type, o.provider, o.practice_number,
      o.recipient_number AS from_number, o.message_id AS from_message, n.phone_number, n.position,
      nextval(pg_get_serial_sequence('sms_messages', 'id')) AS message_id
    FROM open o
    CROSS JOIN LATERAL (
      SELECT c.phone_number, c.position FROM (
        SELECT r.phone_number, r.position FROM alert_recipients r
        WHERE r.practice_number = o.practice_number AND r.enabled AND r.position > o.position
        UNION ALL
        SELECT s.emergency_line, 0 FROM (
          SELECT v.emergency_line FROM voip_settings v
          WHERE (v.provider IN (o.provider, 'any') AND v.phone_number = o.practice_number)
             OR (v.provider = 'any' AND v.phone_number = '*')
          ORDER BY (v.phone_number = '*'), (v.provider = 'any') LIMIT 1) s
        WHERE s.emergency_line IS NOT NULL
      ) c
      WHERE o.position > 0
        AND NOT EXISTS (SELECT 1 FROM alerts x WHERE x.event_id = o.event_id AND x.recipient_number = c.phone_number)
      ORDER BY c.position = 0, c.position LIMIT 1
    ) n
  ), alerted AS (
    INSERT INTO alerts (event_id, event_type, provider, practice_number, recipient_number, position, status,
      message_id, escalate_at)
    SELECT n.event_id, n.event_type, n.provider, n.practice_number, n.phone_number, n.position, 'pending',
      n.message_id, CASE WHEN n.position > 0 THEN now() + make_interval(secs => $1::double precision) END
    FROM next n
    ON CONFLICT (event_id, recipient_number) DO NOTHING
    RETURNING id, message_id
  ), text AS (
    INSERT INTO sms_messages (id, provider, provider_message_id, direction, from_number, to_number, body, status,
      kind)
    SELECT n.message_id, n.provider, 'alert:' || a.id, 'outbound', n.practice_number, n.phone_number,
      'ESCALATED, no OK from ' || right(n.from_number, 4) || ': '
        || coalesce(regexp_replace(m.body, '^(ESCALATED, no OK from [0-9]{4}: )+', ''), n.event_type), 'pending',
      'staff-alert'
    FROM alerted a JOIN next n ON n.message_id = a.message_id
    LEFT JOIN sms_messages m ON m.id = n.from_message
    RETURNING id, provider
  ), recorded AS (
    INSERT INTO events (id, dedupe_key, type, provider, practice_number, detail)
    SELECT md5(k.key)::uuid, k.key, 'alert.escalated', n.provider, n.practice_number,
      jsonb_build_object('event_id', n.event_id, 'event_type', n.event_type, 'from', n.from_number,
        'to', n.phone_number, 'position', n.position)
    FROM alerted a JOIN next n ON n.message_id = a.message_id,
      LATERAL (SELECT 'alert.escalated:' || n.event_id || ':' || n.phone_number AS key) k
    ON CONFLICT (id) DO NOTHING
  )
  SELECT id, provider, (SELECT count(*) FROM marked)::int AS due FROM text`;

export interface EscalationResult {
  escalated: number;
  texts: StoredTextJob[];
}

/** Escalates every emergency alert whose time is up, and hands the new alerts' texts to the outbound worker. */
export async function escalateDueAlerts(
  db: Queryable,
  escalationSeconds: number,
  batch = 100,
): Promise<EscalationResult> {
  const { rows } = await db.query<{ id: string | number; provider: 'twilio' | 'voipms' }>(ESCALATE, [
    escalationSeconds,
    batch,
  ]);
  const texts = rows.map((row) => ({ provider: row.provider, messageId: Number(row.id) }));
  if (texts.length) {
    countMetric('AlertsEscalated', {}, texts.length);
    logger.info('emergency alerts escalated', { count: texts.length });
  }
  await handOnTexts(texts);
  return { escalated: texts.length, texts };
}
