import type { Queryable } from '../db/index.js';
import { alertReport } from './alert-report.js';

export interface ReportOptions {
  from: string;
  to: string;
}

/** Renders rows as an aligned text table; objects (intent counts) are shown compactly. */
export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]!);
  const cell = (value: unknown) => {
    if (value === null || value === undefined) return '';
    if (value instanceof Date) return value.toISOString().slice(0, 10);
    if (typeof value === 'object') {
      return Object.entries(value)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
    }
    return String(value);
  };
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (/^-?[\d.]+$/.test(value) ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The practice's analytics views for a date range (office-timezone days, inclusive). */
export async function report(db: Queryable, { from, to }: ReportOptions): Promise<string> {
  if (!DAY.test(from) || !DAY.test(to)) throw new Error('--from and --to must be dates like 2026-11-01');
  if (from > to) throw new Error('--from must not be after --to');
  const range = [from, to];
  const sms = await db.query(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, provider, inbound, outbound, delivered, failed, auto_replies,
            auto_replies_by_intent AS by_intent
     FROM sms_analytics_daily WHERE day BETWEEN $1::date AND $2::date ORDER BY day, provider`,
    range,
  );
  const calls = await db.query(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, provider, calls, inbound, answered, missed,
            total_duration_seconds AS total_s, avg_duration_seconds AS avg_s, total_cost AS cost
     FROM call_analytics_daily WHERE day BETWEEN $1::date AND $2::date ORDER BY day, provider`,
    range,
  );
  const replies = await db.query(
    `SELECT intent, language, sum(replies)::int AS replies, sum(wrote_again)::int AS wrote_again,
            sum(called)::int AS called,
            round(100.0 * sum(followed_up) / nullif(sum(replies), 0))::int AS followed_up_pct
     FROM auto_reply_effectiveness_daily WHERE day BETWEEN $1::date AND $2::date
     GROUP BY intent, language ORDER BY replies DESC, intent`,
    range,
  );
  return [
    `Text messages ${from} to ${to}`,
    table(sms.rows),
    '',
    `Calls ${from} to ${to}`,
    table(calls.rows),
    '',
    'Auto-replies: did the patient write again or call within 24 hours',
    table(replies.rows),
    '',
    await alertReport(db, from, to),
  ].join('\n');
}
