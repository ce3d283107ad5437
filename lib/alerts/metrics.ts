import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Queryable } from '../db/index.js';
import { gaugeMetric } from '../observability.js';

/**
 * Alerts of the last hour that did not reach their person: failed (not held back by the cap), or still
 * pending five minutes after they were due. Published by every relay run as `AlertsUndelivered`; its alarm is
 * the "undelivered alerts" alarm of docs/operations.md.
 */
export async function undeliveredAlerts(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM alerts a LEFT JOIN sms_messages m ON m.id = a.message_id
     WHERE a.created_at > now() - interval '1 hour'
       AND ((a.status = 'failed' AND a.reason IS DISTINCT FROM 'hourly-cap')
         OR (a.status = 'pending' AND coalesce(m.send_after, a.created_at) < now() - interval '5 minutes'))`,
  );
  const count = Number(rows[0]?.n ?? 0);
  // gaugeMetric's unit parameter takes its type from its default (seconds): widened here.
  gaugeMetric('AlertsUndelivered', count, MetricUnit.Count as never);
  return count;
}
