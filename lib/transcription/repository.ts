import type { Queryable } from '../db/index.js';

/** `starting`: a start claimed and not yet answered by Transcribe (see claimTranscriptionStart). */
export type TranscriptionStatus = 'starting' | 'in_progress' | 'completed' | 'failed' | 'disabled';

/**
 * How long a claimed start is held. Longer than the recording worker's timeout (120 s), so a live start is never
 * taken over; shorter than the recordings queue's visibility timeout (720 s), so the redelivery of a start whose
 * worker died finds the claim run out and starts the job.
 */
export const START_LEASE_MS = 5 * 60_000;

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

/**
 * Claims the recording's start: writes its row as `starting` with a lease, or takes over a `starting` row whose
 * lease ran out. Only the claimer calls StartTranscriptionJob; undefined means another attempt holds the start or
 * finished it. The value returned identifies this claim for releaseTranscriptionStart.
 */
export async function claimTranscriptionStart(
  db: Queryable,
  row: { recordingId: number; jobName: string; outputKey: string },
): Promise<string | undefined> {
  // DO NOTHING with no conflict target: two racing inserts meet on recording_id or job_name alike, and an upsert
  // naming one of them would fail on the other.
  const inserted = await db.query<{ claim: string }>(
    `INSERT INTO transcriptions (recording_id, status, job_name, output_key, claimed_until)
     VALUES ($1, 'starting', $2, $3, now() + make_interval(secs => $4::double precision / 1000))
     ON CONFLICT DO NOTHING
     RETURNING claimed_until::text AS claim`,
    [row.recordingId, row.jobName, row.outputKey, START_LEASE_MS],
  );
  if (inserted.rows[0]) return inserted.rows[0].claim;
  const taken = await db.query<{ claim: string }>(
    `UPDATE transcriptions
     SET job_name = $2, output_key = $3, claimed_until = now() + make_interval(secs => $4::double precision / 1000)
     WHERE recording_id = $1 AND status = 'starting' AND (claimed_until IS NULL OR claimed_until < now())
     RETURNING claimed_until::text AS claim`,
    [row.recordingId, row.jobName, row.outputKey, START_LEASE_MS],
  );
  return taken.rows[0]?.claim;
}

/**
 * Records what Transcribe answered the claimer: `in_progress` (started, or already there) or `failed` (refused for
 * good). Only a `starting` row changes, so an outcome the writer stored first is kept; a row the sweeper
 * released meanwhile is made again.
 */
export async function finishTranscriptionStart(
  db: Queryable,
  row: {
    recordingId: number;
    jobName: string;
    status: 'in_progress' | 'failed';
    outputKey: string;
    failureReason?: string;
    language: string;
  },
): Promise<void> {
  const params = [
    row.recordingId,
    row.status,
    row.jobName,
    row.outputKey,
    row.failureReason ?? null,
    row.language,
  ];
  const { rowCount } = await db.query(
    `UPDATE transcriptions SET status = $2, job_name = $3, output_key = $4, failure_reason = $5, language = $6,
       claimed_until = NULL
     WHERE recording_id = $1 AND status = 'starting'`,
    params,
  );
  if (rowCount > 0) return;
  await db.query(
    `INSERT INTO transcriptions (recording_id, status, job_name, output_key, failure_reason, language)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    params,
  );
}

/** Gives up this claim (Transcribe could not be asked now), so the retry can start the job at once. */
export async function releaseTranscriptionStart(
  db: Queryable,
  recordingId: number,
  claim: string,
): Promise<void> {
  await db.query(
    `DELETE FROM transcriptions
     WHERE recording_id = $1 AND status = 'starting' AND claimed_until = $2::timestamptz`,
    [recordingId, claim],
  );
}

/** The row made when a start cannot happen (no bucket); an existing row is left as it is. */
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
     ON CONFLICT (recording_id) DO UPDATE SET status = EXCLUDED.status, text = EXCLUDED.text, claimed_until = NULL,
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

/**
 * Jobs still `in_progress` whose row has not moved for `olderThanMinutes`, and starts whose claimer died (its
 * lease ran out: Transcribe may hold the job all the same), the stalest first.
 */
export async function staleTranscriptions(
  db: Queryable,
  options: { olderThanMinutes: number; limit: number },
): Promise<{ recordingId: number; jobName: string; status: 'in_progress' | 'starting' }[]> {
  const { rows } = await db.query<{
    recording_id: string;
    job_name: string;
    status: 'in_progress' | 'starting';
  }>(
    `SELECT recording_id, job_name, status FROM transcriptions
     WHERE (status = 'in_progress' AND updated_at < now() - $1 * interval '1 minute')
        OR (status = 'starting' AND (claimed_until IS NULL OR claimed_until < now()))
     ORDER BY updated_at LIMIT $2`,
    [options.olderThanMinutes, options.limit],
  );
  return rows.map((row) => ({
    recordingId: Number(row.recording_id),
    jobName: row.job_name,
    status: row.status,
  }));
}

/** An abandoned start that Transcribe did take: the row becomes the `in_progress` job it is. */
export async function adoptAbandonedStart(
  db: Queryable,
  recordingId: number,
  language: string | undefined,
): Promise<void> {
  await db.query(
    `UPDATE transcriptions SET status = 'in_progress', claimed_until = NULL, language = coalesce($2, language)
     WHERE recording_id = $1 AND status = 'starting' AND (claimed_until IS NULL OR claimed_until < now())`,
    [recordingId, language ?? null],
  );
}

/**
 * An abandoned start that never reached Transcribe: its row goes, so the sweep stops looking at it and the next
 * delivery of the recording starts the job. A claim taken over meanwhile is live again and stays.
 */
export async function dropAbandonedStart(db: Queryable, recordingId: number): Promise<void> {
  await db.query(
    `DELETE FROM transcriptions
     WHERE recording_id = $1 AND status = 'starting' AND (claimed_until IS NULL OR claimed_until < now())`,
    [recordingId],
  );
}

/** A job Transcribe is still working on: its row goes to the back of the sweep's line. */
export async function touchTranscription(db: Queryable, recordingId: number): Promise<void> {
  await db.query(
    `UPDATE transcriptions SET updated_at = now() WHERE recording_id = $1 AND status = 'in_progress'`,
    [recordingId],
  );
}
