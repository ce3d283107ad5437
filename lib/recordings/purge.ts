import type { Db } from '../db/index.js';
import { logger } from '../observability.js';
import { type RecordingProvider, transcriptKey } from './keys.js';
import type { RecordingStore } from './store.js';

export interface PurgeResult {
  cutoff: string;
  retentionDays: number;
  recordings: number;
  transcriptions: number;
  /** Archived audio and transcript files removed from the store. */
  objects: number;
  /** Files that could not be removed; their rows stay so the next run tries again. */
  objectsFailed: number;
  webhookLogs: number;
  /** Published events (behind the relay's cursor, not waiting to be offered again) recorded before the cutoff. */
  events: number;
  /** Missed-call text claims and auto-reply budgets of past office days. */
  outboundGuards: number;
  autoReplyBudget: number;
}

const BATCH = 500;

/**
 * Removes recordings (audio, transcript file, rows; transcriptions go with them), webhook logs and published
 * events older than the retention, then writes one `purge_log` row. Rows go only after their files are gone.
 */
export async function purgeExpired(
  db: Db,
  store: RecordingStore,
  options: { retentionDays: number; now?: Date },
): Promise<PurgeResult> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionDays * 86_400_000);
  const result: PurgeResult = {
    cutoff: cutoff.toISOString(),
    retentionDays: options.retentionDays,
    recordings: 0,
    transcriptions: 0,
    objects: 0,
    objectsFailed: 0,
    webhookLogs: 0,
    events: 0,
    outboundGuards: 0,
    autoReplyBudget: 0,
  };

  let afterId = 0;
  for (;;) {
    const { rows } = await db.query<{
      id: string | number;
      storage_key: string | null;
      output_key: string | null;
      has_transcription: boolean;
      provider: RecordingProvider;
      provider_recording_id: string;
      created_at: Date | string;
    }>(
      `SELECT r.id, r.storage_key, t.output_key, t.id IS NOT NULL AS has_transcription, r.provider,
              r.provider_recording_id, r.created_at
       FROM recordings r LEFT JOIN transcriptions t ON t.recording_id = r.id
       WHERE r.created_at < $1 AND r.id > $2 ORDER BY r.id LIMIT ${BATCH}`,
      [cutoff, afterId],
    );
    if (rows.length === 0) break;
    afterId = Number(rows[rows.length - 1]!.id);

    const keysOf = (row: (typeof rows)[number]) =>
      [row.storage_key, ...transcriptKeys(row)].filter((key): key is string => Boolean(key));
    const { deleted, failed } = await store.delete(rows.flatMap(keysOf));
    result.objects += deleted.length;
    result.objectsFailed += failed.length;
    const failedKeys = new Set(failed);
    const removable = rows.filter((row) => !keysOf(row).some((key) => failedKeys.has(key)));
    if (removable.length === 0) continue;
    const { rowCount } = await db.query('DELETE FROM recordings WHERE id = ANY($1::bigint[])', [
      removable.map((row) => Number(row.id)),
    ]);
    result.recordings += rowCount;
    result.transcriptions += removable.filter((row) => row.has_transcription).length;
  }

  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM webhook_logs WHERE id IN (
         SELECT id FROM webhook_logs WHERE created_at < $1 ORDER BY id LIMIT 5000)`,
      [cutoff],
    );
    result.webhookLogs += rowCount;
    if (rowCount < 5000) break;
  }

  result.events = await purgeEvents(db, cutoff);

  Object.assign(result, await purgeGuards(db, now));

  await db.query(
    `INSERT INTO purge_log (cutoff, retention_days, recordings, transcriptions, objects, objects_failed, webhook_logs,
       outbound_guards, auto_reply_budget, events)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      cutoff,
      result.retentionDays,
      result.recordings,
      result.transcriptions,
      result.objects,
      result.objectsFailed,
      result.webhookLogs,
      result.outboundGuards,
      result.autoReplyBudget,
      result.events,
    ],
  );
  logger.info('retention purge', { ...result });
  return result;
}

const EVENT_BATCH = 5000;

/**
 * Events recorded before the cutoff that are on the bus already: at or behind the relay's cursor
 * (migrations/1732500009703, compared by value as the relay does) and not waiting in event_retries to be offered
 * again. An event not yet published is never deleted, however old: it means the relay is stuck, which the backlog
 * alarm (EventsOldestUnpublishedSeconds) reports, and it must still reach the bus once the relay runs again.
 * The cursor only moves forward, so an event behind it stays behind it; the relay's own statements read only
 * events past the cursor or in event_retries, never the ones removed here, and the cursor's (tx, event_id) does
 * not need its event row to exist. Nothing else points at an event row: event_retries would cascade (none of its
 * rows is removed here), and alerts keep the event id, type and numbers as values of their own, so their
 * `UNIQUE (event_id, recipient_number)` still keeps a repeat of an old event from alerting anyone twice.
 * Bounded statements, like the webhook logs.
 */
export async function purgeEvents(db: Db, cutoff: Date): Promise<number> {
  let removed = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM events WHERE id IN (
         SELECT e.id FROM events e, event_cursor c
         WHERE e.recorded_at < $1 AND (e.tx, e.id) <= (c.tx, c.event_id)
           AND NOT EXISTS (SELECT 1 FROM event_retries r WHERE r.event_id = e.id)
         ORDER BY e.tx, e.id LIMIT ${EVENT_BATCH})`,
      [cutoff],
    );
    removed += rowCount;
    if (rowCount < EVENT_BATCH) return removed;
  }
}

/**
 * The transcript file of a recording: the key its transcription row kept, else (a row written by a path that
 * kept no output_key) the key the transcription job writes to (lib/transcription/start.ts), so no file is left.
 */
export function transcriptKeys(row: {
  output_key: string | null;
  has_transcription: boolean;
  provider: RecordingProvider;
  provider_recording_id: string;
  created_at: Date | string;
}): string[] {
  if (row.output_key) return [row.output_key];
  if (!row.has_transcription) return [];
  return [transcriptKey(row.provider, row.provider_recording_id, new Date(row.created_at))];
}

/** Guard rows stay two office days (any zone's today and yesterday); after that they decide nothing. */
export const GUARD_RETENTION_DAYS = 2;

/**
 * Missed-call claims (outbound_guards) and auto-reply budgets hold only for their office day (the same-intent
 * window is 10 minutes): rows of days before yesterday are removed, so the tables stay the size of a day.
 */
export async function purgeGuards(
  db: Db,
  now: Date,
): Promise<{ outboundGuards: number; autoReplyBudget: number }> {
  const before = new Date(now.getTime() - GUARD_RETENTION_DAYS * 86_400_000).toISOString().slice(0, 10);
  const guards = await db.query('DELETE FROM outbound_guards WHERE day < $1::date', [before]);
  const budget = await db.query('DELETE FROM auto_reply_budget WHERE day < $1::date', [before]);
  return { outboundGuards: guards.rowCount, autoReplyBudget: budget.rowCount };
}
