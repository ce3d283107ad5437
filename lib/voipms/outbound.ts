import type { Config } from '../config.js';
import type { Queryable } from '../db/index.js';
import { countMetric, logger } from '../observability.js';
import { createVoipmsClient, type VoipmsClient } from './client.js';
import { VoipmsApiError, VoipmsInputError } from './errors.js';
import type { VoipmsOutboundJob } from './inbound.js';
import { maskNumber } from './phone.js';

export interface SendVoipmsDeps {
  db: Queryable;
  client: Pick<VoipmsClient, 'sendSms'>;
  /** The practice DID, when neither the row nor the job names the sender. */
  did?: string;
}

export type VoipmsSendOutcome =
  /** Sent now; `ids` are VoIP.ms's message ids. */
  | { outcome: 'sent'; ids: string[] }
  /** The row was already sent, failed, or is being sent by another worker: nothing done. */
  | { outcome: 'skipped' }
  /** The recipient opted out: the row is marked 'suppressed', nothing sent. */
  | { outcome: 'suppressed' }
  /** VoIP.ms refused it for good: row 'failed' with the VoIP.ms status in error_code. */
  | { outcome: 'failed'; status: string };

/** A worker that died mid-send leaves the row 'sending'; after this long another may take it over. */
const CLAIM_LEASE = '2 minutes';

interface ClaimRow {
  status: string;
  from_number: string;
  to_number: string;
  body: string | null;
}

/**
 * Sends one pending VoIP.ms text (a row stored by the inbound route, `messageId` in the job).
 * Retryable failures (api_limit_exceeded, network, timeouts, 5xx) throw so the SQS batch retries the record;
 * permanent ones (invalid_dst, sms_toolong, invalid_credentials, ip_not_enabled, ...) mark the row 'failed',
 * count `OutboundSmsFailed` and return. The API password never reaches a log: errors carry only statuses.
 */
export async function sendVoipmsMessage(
  job: VoipmsOutboundJob,
  deps: SendVoipmsDeps,
): Promise<VoipmsSendOutcome> {
  const { db, client } = deps;
  // Claim the row in one statement: only a 'pending' (or abandoned 'sending') row is taken, and a row whose
  // recipient opted out is suppressed instead, unless it is the opt-out confirmation itself.
  const { rows } = await db.query<ClaimRow>(
    `UPDATE sms_messages s
     SET status = CASE
       WHEN s.auto_response_intent IS DISTINCT FROM 'opt_out'
         AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone_number = s.to_number) THEN 'suppressed'
       ELSE 'sending' END
     WHERE s.id = $1 AND s.provider = 'voipms' AND s.direction = 'outbound'
       AND (s.status = 'pending' OR (s.status = 'sending' AND s.updated_at < now() - interval '${CLAIM_LEASE}'))
     RETURNING s.status, s.from_number, s.to_number, s.body`,
    [job.messageId],
  );
  const row = rows[0];
  if (!row) return { outcome: 'skipped' };
  if (row.status === 'suppressed') {
    countMetric('OutboundSmsSuppressed', { provider: 'voipms' });
    return { outcome: 'suppressed' };
  }

  const did = row.from_number || job.from || deps.did || '';
  try {
    const sent = await client.sendSms({ did, dst: row.to_number, message: row.body ?? job.body });
    await markSent(db, job.messageId, sent.ids, null);
    countMetric('OutboundSmsSent', { provider: 'voipms' });
    return { outcome: 'sent', ids: sent.ids };
  } catch (error) {
    const status =
      error instanceof VoipmsApiError
        ? error.status
        : error instanceof VoipmsInputError
          ? 'invalid_input'
          : null;
    const sentIds = error instanceof VoipmsApiError ? error.sentIds : [];
    if (sentIds.length > 0) {
      // Some parts are out: a retry would repeat them. Keep the row sent, with what failed.
      await markSent(db, job.messageId, sentIds, `partial:${status}`);
      logger.warn('VoIP.ms text partly sent', {
        messageId: job.messageId,
        status,
        to: maskNumber(row.to_number),
      });
      return { outcome: 'sent', ids: sentIds };
    }
    const retryable = error instanceof VoipmsApiError ? error.retryable : status === null;
    if (retryable) {
      // Back to 'pending' so the redelivered record claims it at once.
      await db.query(`UPDATE sms_messages SET status = 'pending' WHERE id = $1 AND status = 'sending'`, [
        job.messageId,
      ]);
      logger.warn('VoIP.ms send failed, will retry', { messageId: job.messageId, status });
      throw error;
    }
    await db.query(`UPDATE sms_messages SET status = 'failed', error_code = $2 WHERE id = $1`, [
      job.messageId,
      status,
    ]);
    countMetric('OutboundSmsFailed', { provider: 'voipms', status: status ?? 'unknown' });
    logger.error('VoIP.ms send failed permanently', {
      messageId: job.messageId,
      status,
      to: maskNumber(row.to_number),
    });
    return { outcome: 'failed', status: status ?? 'unknown' };
  }
}

/** The text is out: never throw from here, or a retry would send it twice. */
async function markSent(db: Queryable, id: number, ids: string[], errorCode: string | null): Promise<void> {
  await db
    .query(
      `UPDATE sms_messages SET status = 'sent', provider_sent_ids = $2::text[], error_code = $3,
       num_segments = cardinality($2::text[])
     WHERE id = $1`,
      [id, ids, errorCode],
    )
    .catch((error: Error) =>
      logger.error('sent VoIP.ms text not marked sent', { messageId: id, error: error.message }),
    );
}

/** The client the outbound worker and pollers use, from the container's configuration. */
export function voipmsClientFromConfig(config: Pick<Config, 'voipms'>): VoipmsClient {
  return createVoipmsClient({
    apiUrl: config.voipms.apiUrl,
    username: config.voipms.username,
    password: config.voipms.password,
  });
}

/** Whether an outbound-sms queue body is a VoIP.ms job with a stored row (what sendVoipmsMessage takes). */
export function isVoipmsOutboundJob(body: unknown): body is VoipmsOutboundJob {
  const job = body as Partial<VoipmsOutboundJob> | null;
  return (
    !!job && job.provider === 'voipms' && typeof job.messageId === 'number' && Number.isInteger(job.messageId)
  );
}
