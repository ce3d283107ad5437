import type { Queryable } from '../db/index.js';
import type { RecordingProvider } from './keys.js';

export interface RecordingRow {
  id: number;
  provider: RecordingProvider;
  providerRecordingId: string;
  providerCallId: string | null;
  status: string;
  storageKey: string | null;
  createdAt: Date;
}

export async function findRecording(db: Queryable, id: number): Promise<RecordingRow | undefined> {
  const { rows } = await db.query<{
    id: string | number;
    provider: RecordingProvider;
    provider_recording_id: string;
    provider_call_id: string | null;
    status: string;
    storage_key: string | null;
    created_at: Date | string;
  }>(
    `SELECT id, provider, provider_recording_id, provider_call_id, status, storage_key, created_at
     FROM recordings WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: Number(row.id),
    provider: row.provider,
    providerRecordingId: row.provider_recording_id,
    providerCallId: row.provider_call_id,
    status: row.status,
    storageKey: row.storage_key,
    createdAt: new Date(row.created_at),
  };
}

export async function markArchived(
  db: Queryable,
  id: number,
  stored: { storageKey: string; sizeBytes: number; contentType: string },
): Promise<void> {
  await db.query(
    `UPDATE recordings SET storage_key = $2, size_bytes = $3, content_type = $4, archived_at = now(),
       status = 'archived', error_code = NULL, claimed_until = NULL
     WHERE id = $1`,
    [id, stored.storageKey, stored.sizeBytes, stored.contentType],
  );
}

/** A permanent failure; never overwrites an archived row (a concurrent delivery may have won). */
export async function markFailed(db: Queryable, id: number, reason: string): Promise<void> {
  await db.query(
    `UPDATE recordings SET status = 'failed', error_code = $2, claimed_until = NULL
     WHERE id = $1 AND storage_key IS NULL`,
    [id, reason],
  );
}

export async function markProviderDeleted(db: Queryable, id: number): Promise<void> {
  await db.query('UPDATE recordings SET provider_deleted_at = now() WHERE id = $1', [id]);
}

/** The practice's setting: the provider's own rows win over the default row ('any', '*'). */
export async function shouldDeleteProviderCopy(db: Queryable, provider: RecordingProvider): Promise<boolean> {
  const { rows } = await db.query<{ enabled: boolean }>(
    `SELECT delete_provider_recordings AS enabled FROM voip_settings
     WHERE provider = $1 OR (provider = 'any' AND phone_number = '*')
     ORDER BY (provider = $1) DESC, (phone_number = '*') DESC LIMIT 1`,
    [provider],
  );
  return rows[0]?.enabled === true;
}
