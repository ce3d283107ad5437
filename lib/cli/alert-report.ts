import type { Queryable } from '../db/index.js';
import { table } from './report.js';

/**
 * Staff alerts in a date range (office-timezone days): how many were stored, sent, delivered, failed or held
 * back by the hourly cap, how many were acknowledged or escalated, and the time from alert to OK.
 */
export async function alertReport(db: Queryable, from: string, to: string): Promise<string> {
  const { rows } = await db.query(
    `SELECT a.event_type AS type, count(*)::int AS alerts,
       count(*) FILTER (WHERE a.sent_at IS NOT NULL)::int AS sent,
       count(*) FILTER (WHERE a.status = 'delivered')::int AS delivered,
       count(*) FILTER (WHERE a.status = 'failed' AND a.reason IS DISTINCT FROM 'hourly-cap')::int AS failed,
       count(*) FILTER (WHERE a.reason = 'hourly-cap')::int AS capped,
       count(*) FILTER (WHERE a.status = 'acknowledged')::int AS acknowledged,
       count(*) FILTER (WHERE a.escalated_at IS NOT NULL)::int AS escalated,
       round(avg(extract(epoch FROM a.acknowledged_at - a.created_at)) FILTER (WHERE a.acknowledged_at IS NOT NULL))::int
         AS avg_ack_s,
       round(max(extract(epoch FROM a.acknowledged_at - a.created_at)))::int AS max_ack_s
     FROM alerts a CROSS JOIN office_timezone tz
     WHERE (a.created_at AT TIME ZONE tz.zone)::date BETWEEN $1::date AND $2::date
     GROUP BY a.event_type ORDER BY alerts DESC, type`,
    [from, to],
  );
  return [`Staff alerts ${from} to ${to}`, table(rows)].join('\n');
}
