import type { Queryable } from '../db/index.js';

export type TranscriptionStatus = 'in_progress' | 'completed' | 'failed' | 'disabled';

export async function findTranscription(
  db: Queryable,
  recordingId: number,
): Promise<{ status: TranscriptionStatus; jobName: string } | undefined> {
  const { rows } = await db.query<{ status: TranscriptionStatus; job_name: string }>(
    'SELECT status, job_name FROM transcriptions WHERE recording_id = $1',
    [recordingId],
  );
  return rows[0] && { status: rows[0].status, jobName: rows[0].job_name };
}

/** The row made when a job starts (or cannot); an existing row is left as it is. */
export async function insertTranscription(
  db: Queryable,
  row: {
    recordingId: number;
    jobName: string;
    status: TranscriptionStatus;
    outputKey?: string;
    failureReason?: string;
    /** The language the job was started with (the outcome's own replaces it). */
    language?: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO transcriptions (recording_id, status, job_name, output_key, failure_reason, language)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [
      row.recordingId,
      row.status,
      row.jobName,
      row.outputKey ?? null,
      row.failureReason ?? null,
      row.language ?? null,
    ],
  );
}

/**
 * The outcome of a job, stamped with the recording's call and caller when that call is known. Made even if the
 * start's own insert has not landed yet; a completed transcript is never overwritten by a late failure.
 * Nothing is written for a recording that no longer exists (purged).
 */
export async function recordOutcome(
  db: Queryable,
  outcome: {
    recordingId: number;
    jobName: string;
    status: 'completed' | 'failed';
    text?: string;
    language?: string;
    failureReason?: string;
  },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO transcriptions (recording_id, status, job_name, text, language, failure_reason, call_id, caller_number)
     SELECT r.id, $2, $3, $4, $5, $6, c.id, c.from_number
     FROM recordings r
     LEFT JOIN calls c ON c.provider = r.provider AND c.provider_call_id = r.provider_call_id
     WHERE r.id = $1
     ON CONFLICT (recording_id) DO UPDATE SET status = EXCLUDED.status, text = EXCLUDED.text,
       language = coalesce(EXCLUDED.language, transcriptions.language), failure_reason = EXCLUDED.failure_reason,
       call_id = coalesce(EXCLUDED.call_id, transcriptions.call_id),
       caller_number = coalesce(EXCLUDED.caller_number, transcriptions.caller_number)
     WHERE transcriptions.status <> 'completed'`,
    [
      outcome.recordingId,
      outcome.status,
      outcome.jobName,
      outcome.text ?? null,
      outcome.language ?? null,
      outcome.failureReason ?? null,
    ],
  );
  return rowCount > 0;
}

export async function transcriptOutputKey(db: Queryable, jobName: string): Promise<string | undefined> {
  const { rows } = await db.query<{ output_key: string | null }>(
    'SELECT output_key FROM transcriptions WHERE job_name = $1',
    [jobName],
  );
  return rows[0]?.output_key ?? undefined;
}

/** Jobs still `in_progress` whose row has not moved for `olderThanMinutes`, the stalest first. */
export async function staleTranscriptions(
  db: Queryable,
  options: { olderThanMinutes: number; limit: number },
): Promise<{ recordingId: number; jobName: string }[]> {
  const { rows } = await db.query<{ recording_id: string; job_name: string }>(
    `SELECT recording_id, job_name FROM transcriptions
     WHERE status = 'in_progress' AND updated_at < now() - $1 * interval '1 minute'
     ORDER BY updated_at LIMIT $2`,
    [options.olderThanMinutes, options.limit],
  );
  return rows.map((row) => ({ recordingId: Number(row.recording_id), jobName: row.job_name }));
}

/** A job Transcribe is still working on: its row goes to the back of the sweep's line. */
export async function touchTranscription(db: Queryable, recordingId: number): Promise<void> {
  await db.query(
    `UPDATE transcriptions SET updated_at = now() WHERE recording_id = $1 AND status = 'in_progress'`,
    [recordingId],
  );
}
