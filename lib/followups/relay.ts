import type { Queryable } from '../db/index.js';
import { handOnTexts, type StoredTextJob } from '../messages/outbound.js';
import { countMetric, gaugeMetric, logger } from '../observability.js';
import { handOnRecordings, recordingJobFor, type UnarchivedRecordingRow } from '../recordings/follow-up.js';

/**
 * The follow-up relay (DESIGN.md: one idempotent relay for everything that must happen after a write). The
 * rows a statement stored are the outbox: outbound texts in `pending`/`unknown` and recordings `completed`
 * without a storage key. A webhook hands its follow-ups to the queue at once; the relay, run every minute on
 * AWS (functions/follow-up-relay.ts) and every few seconds by `npm start`, hands on whatever is still waiting:
 * a queueing failure, a statement that committed after its client gave up, a worker that died mid-send. It can
 * run again at any time and on several containers at once: the rows it hands on are marked under
 * `FOR UPDATE SKIP LOCKED`, and the workers claim each row before acting, so nothing is done twice.
 */

export interface RelayOptions {
  /** A row handed on less than this long ago is left to the job already on its way (ms). */
  settleMs?: number;
  /** Most rows of each kind per run, so one run stays short whatever the backlog. */
  batch?: number;
}

export interface RelayResult {
  texts: number;
  recordings: number;
  /** Seconds the oldest waiting follow-up has waited (0 when none): the backlog metric. */
  oldestWaitSeconds: number;
}

/** Sends whose worker's lease ran out while `sending`: their outcome is unknown until the provider is asked. */
const EXPIRE_LEASES = `
  UPDATE sms_messages SET status = 'unknown', claimed_until = NULL
  WHERE direction = 'outbound' AND status = 'sending' AND claimed_until < now()`;

const WAITING_TEXTS = `
  WITH due AS (
    SELECT id FROM sms_messages
    WHERE direction = 'outbound' AND status IN ('pending', 'unknown')
      AND coalesce(send_after, '-infinity') <= now()
      AND coalesce(relayed_at, created_at) < now() - make_interval(secs => $1::double precision / 1000)
    ORDER BY id LIMIT $2
    FOR UPDATE SKIP LOCKED
  )
  UPDATE sms_messages s SET relayed_at = now() FROM due WHERE s.id = due.id
  RETURNING s.id, s.provider`;

const WAITING_RECORDINGS = `
  WITH due AS (
    SELECT id FROM recordings
    WHERE status = 'completed' AND storage_key IS NULL
      AND (claimed_until IS NULL OR claimed_until < now())
      AND coalesce(relayed_at, created_at) < now() - make_interval(secs => $1::double precision / 1000)
    ORDER BY id LIMIT $2
    FOR UPDATE SKIP LOCKED
  )
  UPDATE recordings r SET relayed_at = now() FROM due WHERE r.id = due.id
  RETURNING r.id, r.provider, r.provider_recording_id, r.provider_call_id, r.provider_account, r.media_url`;

const OLDEST_WAIT = `
  SELECT extract(epoch FROM now() - least(
    (SELECT min(greatest(created_at, send_after)) FROM sms_messages
     WHERE direction = 'outbound' AND status IN ('pending', 'sending', 'unknown')),
    (SELECT min(created_at) FROM recordings WHERE status = 'completed' AND storage_key IS NULL)
  ))::float8 AS seconds`;

/** One pass: hands on every follow-up still waiting. Safe to run at any time, as often as wanted. */
export async function relayFollowUps(db: Queryable, options: RelayOptions = {}): Promise<RelayResult> {
  const settleMs = options.settleMs ?? 60_000;
  const batch = options.batch ?? 500;
  await db.query(EXPIRE_LEASES);

  const texts = await db.query<{ id: number; provider: StoredTextJob['provider'] }>(WAITING_TEXTS, [
    settleMs,
    batch,
  ]);
  await handOnTexts(texts.rows.map((row) => ({ provider: row.provider, messageId: Number(row.id) })));

  const recordings = await db.query<UnarchivedRecordingRow>(WAITING_RECORDINGS, [settleMs, batch]);
  const jobs = recordings.rows.map(recordingJobFor).filter((job) => job !== undefined);
  await handOnRecordings(jobs);

  const oldest = await db.query<{ seconds: number | null }>(OLDEST_WAIT);
  const result = {
    texts: texts.rows.length,
    recordings: jobs.length,
    oldestWaitSeconds: Math.max(0, Math.round(oldest.rows[0]?.seconds ?? 0)),
  };
  countMetric('FollowUpsRelayed', {}, result.texts + result.recordings);
  gaugeMetric('FollowUpOldestWaitSeconds', result.oldestWaitSeconds);
  if (result.texts || result.recordings) logger.info('follow-ups handed on again', result);
  return result;
}
