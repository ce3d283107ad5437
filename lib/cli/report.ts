import type { Queryable } from '../db/index.js';
import { alertReport } from './alert-report.js';

export const REPORT_FORMATS = ['table', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export const REPORT_SECTIONS = ['sms', 'calls', 'replies'] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];

/** A report query may read a year of history: far longer than a webhook's database timeout. */
export const REPORT_TIMEOUT_MS = 120_000;

export interface ReportOptions {
  from: string;
  to: string;
  format?: ReportFormat;
  /** csv only: one section alone (default: all three, separated by a blank line). */
  section?: ReportSection;
}

type Row = Record<string, unknown>;

export interface ReportData {
  from: string;
  to: string;
  /** Per local day, provider and practice number (sql: sms_daily). */
  sms: Row[];
  /** Per local day, provider and practice number (sql: call_daily). */
  calls: Row[];
  /** Per intent and language over the range (sql: auto_reply_effectiveness). */
  replies: Row[];
  /** Every day of the range, all offices together: the series the HTML chart draws. */
  days: DayTotals[];
}

export interface DayTotals {
  day: string;
  texts_in: number;
  texts_out: number;
  replies: number;
  replies_delivered: number;
  calls_answered: number;
  calls_missed: number;
  voicemails: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function checkRange(from: string, to: string): void {
  if (
    !DAY.test(from) ||
    !DAY.test(to) ||
    Number.isNaN(Date.parse(`${from}T00:00Z`)) ||
    Number.isNaN(Date.parse(`${to}T00:00Z`))
  )
    throw new Error('--from and --to must be dates like 2026-11-01');
  if (from > to) throw new Error('--from must not be after --to');
}

/**
 * The numbers, from the SQL functions that define them (migrations/1732500009001, docs/analytics.md), through
 * their daily rollups: the days of the range that changed since their last rollup are recomputed first
 * (refresh_analytics), so the report is current and costs a few rows per day whatever the history.
 */
export async function reportData(
  db: Queryable,
  { from, to }: Pick<ReportOptions, 'from' | 'to'>,
): Promise<ReportData> {
  checkRange(from, to);
  const range = [from, to];
  // Only the months holding a stale day are rolled up again, a month per statement: the first report after
  // a long gap (or the upgrade) rolls up its history in steps that each fit the reporting timeout.
  const { rows: stale } = await db.query<{ day: string }>(
    "SELECT to_char(d, 'YYYY-MM-DD') AS day FROM unnest(analytics_dirty_days($1::date, $2::date)) d",
    range,
  );
  const staleDays = stale.map((row) => row.day);
  for (const [first, last] of monthSpans(from, to)) {
    if (!staleDays.some((day) => day >= first && day <= last)) continue;
    await db.query('SELECT refresh_analytics($1::date, $2::date)', [first, last]);
  }
  const sms = await db.query<Row>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, provider, practice_number AS number, inbound, outbound, delivered,
            failed, auto_replies AS replies, replies_delivered, auto_replies_by_intent AS by_intent
     FROM sms_daily_rollup WHERE day BETWEEN $1::date AND $2::date ORDER BY day, provider, number`,
    range,
  );
  const calls = await db.query<Row>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, provider, practice_number AS number, calls, inbound, answered, missed,
            voicemails, failed, talk_seconds AS talk_s, avg_talk_seconds AS avg_talk_s, total_cost AS cost
     FROM call_daily_rollup WHERE day BETWEEN $1::date AND $2::date ORDER BY day, provider, number`,
    range,
  );
  const replies = await db.query<Row>(
    `SELECT intent, language, sum(replies)::int AS replies, sum(delivered)::int AS delivered,
            sum(wrote_again)::int AS wrote_again, sum(called)::int AS called,
            round(100.0 * sum(followed_up) / nullif(sum(replies), 0))::int AS followed_up_pct
     FROM auto_reply_effectiveness_rollup WHERE day BETWEEN $1::date AND $2::date
     GROUP BY intent, language ORDER BY replies DESC, intent, language`,
    range,
  );
  return {
    from,
    to,
    sms: sms.rows,
    calls: calls.rows,
    replies: replies.rows,
    days: dayTotals(from, to, sms.rows, calls.rows),
  };
}

/** The range cut at month ends: [[2026-01-15, 2026-01-31], [2026-02-01, 2026-02-10]]. */
export function monthSpans(from: string, to: string): [string, string][] {
  const spans: [string, string][] = [];
  let first = from;
  while (first <= to) {
    const start = new Date(`${first}T00:00Z`);
    const monthEnd = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0))
      .toISOString()
      .slice(0, 10);
    const last = monthEnd < to ? monthEnd : to;
    spans.push([first, last]);
    first = new Date(Date.parse(`${last}T00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  }
  return spans;
}

/** Every day of the range (days with nothing are zeros, so a chart shows the gap). */
function dayTotals(from: string, to: string, sms: Row[], calls: Row[]): DayTotals[] {
  const days = new Map<string, DayTotals>();
  for (let t = Date.parse(`${from}T00:00Z`); t <= Date.parse(`${to}T00:00Z`); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    days.set(day, {
      day,
      texts_in: 0,
      texts_out: 0,
      replies: 0,
      replies_delivered: 0,
      calls_answered: 0,
      calls_missed: 0,
      voicemails: 0,
    });
  }
  const n = (value: unknown) => Number(value ?? 0);
  for (const row of sms) {
    const d = days.get(String(row.day));
    if (!d) continue;
    d.texts_in += n(row.inbound);
    d.texts_out += n(row.outbound);
    d.replies += n(row.replies);
    d.replies_delivered += n(row.replies_delivered);
  }
  for (const row of calls) {
    const d = days.get(String(row.day));
    if (!d) continue;
    d.calls_answered += n(row.answered);
    d.calls_missed += n(row.missed);
    d.voicemails += n(row.voicemails);
  }
  return [...days.values()];
}

/** Renders rows as an aligned text table; objects (intent counts) are shown compactly. */
export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((column) => plain(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => (/^-?[\d.]+$/.test(value) ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** One cell as text: objects (counts by intent) as `key=value` pairs. */
function plain(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  }
  return String(value);
}

/** RFC 4180 CSV: a header line, then one line per row; fields quoted when they need it. */
export function csv(rows: Row[]): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  const field = (value: unknown) => {
    const text = plain(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [columns.join(','), ...rows.map((row) => columns.map((c) => field(row[c])).join(','))].join('\r\n');
}

const TITLES: Record<ReportSection, string> = {
  sms: 'Text messages per office day',
  calls: 'Calls per office day',
  replies: 'Auto-replies: did the patient follow up within 24 hours',
};

export function renderReport(
  data: ReportData,
  format: ReportFormat = 'table',
  section?: ReportSection,
): string {
  switch (format) {
    case 'json':
      return JSON.stringify(data, null, 2);
    case 'csv':
      return (section ? [section] : REPORT_SECTIONS).map((s) => csv(data[s])).join('\r\n\r\n');
    case 'html':
      return html(data);
    default:
      return REPORT_SECTIONS.map((s) => `${TITLES[s]}, ${data.from} to ${data.to}\n${table(data[s])}`).join(
        '\n\n',
      );
  }
}

/** The practice's analytics for a date range (local office days, inclusive), in the format asked for. */
export async function report(db: Queryable, options: ReportOptions): Promise<string> {
  const rendered = renderReport(await reportData(db, options), options.format, options.section);
  // Staff alerts (counts, acknowledgements, time to acknowledge) follow the table report.
  if ((options.format ?? 'table') !== 'table') return rendered;
  return `${rendered}\n\n${await alertReport(db, options.from, options.to)}`;
}

// ---- HTML: one self-contained page, inline SVG, no script and nothing fetched.

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Series {
  label: string;
  color: string;
  values: number[];
}

/** A line chart of day-by-day series, days along the bottom. */
export function lineChart(title: string, days: string[], series: Series[]): string {
  const width = 760;
  const height = 220;
  const pad = { left: 44, right: 12, top: 24, bottom: 28 };
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i: number) =>
    pad.left + (days.length <= 1 ? 0 : (i * (width - pad.left - pad.right)) / (days.length - 1));
  const y = (v: number) => height - pad.bottom - (v * (height - pad.top - pad.bottom)) / max;
  const lines = series.map((s) => {
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points}"><title>${escapeHtml(s.label)}</title></polyline>`;
  });
  const legend = series.map(
    (s, i) =>
      `<text x="${pad.left + i * 150}" y="14" font-size="12" fill="${s.color}">■ ${escapeHtml(s.label)}</text>`,
  );
  const labels = [0, days.length - 1]
    .filter((i, k, all) => i >= 0 && all.indexOf(i) === k)
    .map(
      (i) =>
        `<text x="${x(i).toFixed(1)}" y="${height - 8}" font-size="11" text-anchor="${i === 0 ? 'start' : 'end'}">${escapeHtml(days[i] ?? '')}</text>`,
    );
  const axis =
    `<line x1="${pad.left}" y1="${y(0)}" x2="${width - pad.right}" y2="${y(0)}" stroke="#999"/>` +
    `<text x="${pad.left - 6}" y="${y(max) + 4}" font-size="11" text-anchor="end">${max}</text>` +
    `<text x="${pad.left - 6}" y="${y(0) + 4}" font-size="11" text-anchor="end">0</text>`;
  return (
    `<figure><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">` +
    `${axis}${lines.join('')}${legend.join('')}${labels.join('')}</svg></figure>`
  );
}

function htmlTable(rows: Row[]): string {
  if (rows.length === 0) return '<p>(no rows)</p>';
  const columns = Object.keys(rows[0]!);
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${columns.map((c) => `<td>${escapeHtml(plain(row[c]))}</td>`).join('')}</tr>`)
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function html(data: ReportData): string {
  const days = data.days.map((d) => d.day);
  const pick = (key: keyof Omit<DayTotals, 'day'>) => data.days.map((d) => d[key]);
  const title = `Practice report ${data.from} to ${data.to}`;
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>`,
    '<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 24px}',
    'th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}figure{margin:0 0 24px}',
    'figcaption{font-weight:600;margin-bottom:4px}</style></head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    lineChart('Texts per day', days, [
      { label: 'received', color: '#1f77b4', values: pick('texts_in') },
      { label: 'sent', color: '#ff7f0e', values: pick('texts_out') },
      { label: 'auto-replies delivered', color: '#2ca02c', values: pick('replies_delivered') },
    ]),
    lineChart('Inbound calls per day', days, [
      { label: 'answered', color: '#2ca02c', values: pick('calls_answered') },
      { label: 'missed', color: '#d62728', values: pick('calls_missed') },
      { label: 'voicemails', color: '#9467bd', values: pick('voicemails') },
    ]),
    ...REPORT_SECTIONS.map((s) => `<h2>${escapeHtml(TITLES[s])}</h2>${htmlTable(data[s])}`),
    '</body></html>',
  ].join('\n');
}
