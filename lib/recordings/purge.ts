import type { Db } from '../db/index.js';
import { logger } from '../observability.js';
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
}

const BATCH = 500;

/**
 * Removes recordings (audio, transcript file, rows; transcriptions go with them) and webhook logs older than
 * the retention, then writes one `purge_log` row. Rows go only after their files are gone.
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
  };

  let afterId = 0;
  for (;;) {
    const { rows } = await db.query<{
      id: string | number;
      storage_key: string | null;
      output_key: string | null;
      has_transcription: boolean;
    }>(
      `SELECT r.id, r.storage_key, t.output_key, t.id IS NOT NULL AS has_transcription
       FROM recordings r LEFT JOIN transcriptions t ON t.recording_id = r.id
       WHERE r.created_at < $1 AND r.id > $2 ORDER BY r.id LIMIT ${BATCH}`,
      [cutoff, afterId],
    );
    if (rows.length === 0) break;
    afterId = Number(rows[rows.length - 1]!.id);

    const keysOf = (row: (typeof rows)[number]) =>
      [row.storage_key, row.output_key].filter((key): key is string => Boolean(key));
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

  await db.query(
    `INSERT INTO purge_log (cutoff, retention_days, recordings, transcriptions, objects, objects_failed, webhook_logs)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      cutoff,
      result.retentionDays,
      result.recordings,
      result.transcriptions,
      result.objects,
      result.objectsFailed,
      result.webhookLogs,
    ],
  );
  logger.info('retention purge', { ...result });
  return result;
}
