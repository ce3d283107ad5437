import type { Queryable } from '../db/index.js';
import { maskPhone } from '../http/mask.js';
import { countMetric, logger } from '../observability.js';

/**
 * Every text we send ourselves (VoIP.ms auto-replies, Twilio replies that could not ride on the TwiML answer,
 * missed-call texts, confirmations) is first stored as an outbound `sms_messages` row in `pending`, by the
 * statement that stored what caused it. The outbound worker sends a row through `sendStoredText`:
 *
 * 1. Claim it in one statement with a lease longer than any attempt (SEND_LEASE): only `pending`, `unknown` or
 *    an abandoned `sending` row is taken; a recipient who opted out meanwhile makes it `suppressed`, an answered
 *    call makes its missed-call text `canceled`, and a text whose `send_after` has not come is left waiting.
 * 2. If an earlier attempt's outcome is unknown (it timed out, or its worker died mid-send), ask the provider
 *    whether it went before sending again: a text is sent at most once.
 * 3. Send, then record the outcome: `sent` (with the provider's ids), `failed` (refused for good),
 *    `pending` again (certainly not sent: retry), or `unknown` (may have gone: checked before any resend).
 */

/** Longer than the worker's timeout and the queue's visibility timeout, so a live attempt is never doubled. */
export const SEND_LEASE_MS = 15 * 60_000;

export interface ClaimedText {
  id: number;
  provider: 'twilio' | 'voipms';
  from: string;
  to: string;
  body: string;
  kind: string | null;
  createdAt: Date;
}

/** How a send failed, as far as the provider's answer tells. */
export type SendFailureKind =
  /** Certainly not sent (rate limited, refused before sending): send again later. */
  | 'retry'
  /** May have been sent (timeout, network error, 5xx): ask the provider before sending again. */
  | 'unknown'
  /** Refused for good (bad number, content): never retried. */
  | 'permanent'
  /** The provider says the recipient opted out. */
  | 'opted-out';

export class SendFailure extends Error {
  constructor(
    readonly kind: SendFailureKind,
    readonly code: string,
    /** Parts of a long text already out when a later part failed. */
    readonly sentIds: string[] = [],
  ) {
    super(`send failed (${kind}): ${code}`);
    this.name = 'SendFailure';
  }
}

/** One provider's way to send a stored text and to find one it may already have sent. */
export interface TextSender {
  send(text: ClaimedText): Promise<{ ids: string[] }>;
  /** Provider ids of texts already sent for this row since `since` (empty when none). */
  findSent(text: ClaimedText, since: Date): Promise<string[]>;
}

export type SendOutcome =
  | 'sent'
  /** An earlier attempt had gone out after all: recorded, not sent again. */
  | 'already-sent'
  | 'suppressed'
  | 'canceled'
  | 'failed'
  /** Not claimable now: sent or being sent by another worker, or not due yet. */
  | 'skipped';

interface ClaimRow {
  id: number;
  status: string;
  prior_status: string;
  provider: 'twilio' | 'voipms';
  from_number: string;
  to_number: string;
  body: string | null;
  kind: string | null;
  created_at: Date | string;
}

const CLAIM = `
  WITH target AS (
    SELECT id, status FROM sms_messages
    WHERE id = $1 AND direction = 'outbound' AND coalesce(send_after, '-infinity') <= now()
      AND (status IN ('pending', 'unknown') OR (status = 'sending' AND claimed_until < now()))
    FOR UPDATE
  )
  UPDATE sms_messages s SET
    status = CASE
      WHEN s.auto_response_intent IS DISTINCT FROM 'opt_out'
        AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone_number = s.to_number) THEN 'suppressed'
      WHEN s.kind = 'missed-call' AND EXISTS (
        SELECT 1 FROM calls c WHERE c.provider = s.provider
          AND s.provider_message_id = 'missed-call:' || c.provider_call_id
          AND c.dial_status IN ('completed', 'answered')) THEN 'canceled'
      ELSE 'sending' END,
    claimed_until = now() + make_interval(secs => $2::double precision / 1000)
  FROM target t
  WHERE s.id = t.id
  RETURNING s.id, s.status, t.status AS prior_status, s.provider, s.from_number, s.to_number, s.body, s.kind,
    s.created_at`;

/** Sends one stored outbound text at most once; throws (so the queue retries) only while it may still go. */
export async function sendStoredText(
  db: Queryable,
  messageId: number,
  sender: TextSender,
): Promise<SendOutcome> {
  const { rows } = await db.query<ClaimRow>(CLAIM, [messageId, SEND_LEASE_MS]);
  const row = rows[0];
  if (!row) return 'skipped';
  if (row.status === 'suppressed' || row.status === 'canceled') {
    countMetric(row.status === 'suppressed' ? 'OutboundSmsSuppressed' : 'OutboundSmsCanceled', {
      provider: row.provider,
    });
    return row.status;
  }
  const text: ClaimedText = {
    id: Number(row.id),
    provider: row.provider,
    from: row.from_number,
    to: row.to_number,
    body: row.body ?? '',
    kind: row.kind,
    createdAt: new Date(row.created_at),
  };

  if (row.prior_status !== 'pending') {
    // An earlier attempt may have gone out: the provider's own list decides, never a guess.
    let found: string[];
    try {
      found = await sender.findSent(text, text.createdAt);
    } catch (error) {
      await setStatus(db, text.id, 'unknown');
      throw error;
    }
    if (found.length > 0) {
      await markSent(db, text, found, null);
      countMetric('OutboundSmsRecovered', { provider: text.provider });
      return 'already-sent';
    }
  }

  try {
    const sent = await sender.send(text);
    await markSent(db, text, sent.ids, null);
    countMetric('OutboundSmsSent', { provider: text.provider, kind: text.kind ?? 'other' });
    return 'sent';
  } catch (error) {
    if (!(error instanceof SendFailure)) {
      // A bug or an unexpected answer: treat as "may have gone", checked before any resend.
      await setStatus(db, text.id, 'unknown');
      throw error;
    }
    if (error.sentIds.length > 0) {
      // Some parts are out: sending again would repeat them. Kept sent, with what failed.
      await markSent(db, text, error.sentIds, `partial:${error.code}`);
      return 'sent';
    }
    const log = { messageId: text.id, provider: text.provider, code: error.code, to: maskPhone(text.to) };
    switch (error.kind) {
      case 'retry':
      case 'unknown':
        await setStatus(db, text.id, error.kind === 'retry' ? 'pending' : 'unknown');
        logger.warn('text not sent yet, will retry', { ...log, outcome: error.kind });
        throw error;
      case 'opted-out':
        await db.query(
          `INSERT INTO opt_outs (phone_number, keyword, provider) VALUES ($1, 'provider opt-out', $2)
           ON CONFLICT (phone_number) DO NOTHING`,
          [text.to, text.provider],
        );
        await setStatus(db, text.id, 'suppressed', error.code);
        countMetric('OutboundSmsSuppressed', { provider: text.provider });
        return 'suppressed';
      case 'permanent':
        await setStatus(db, text.id, 'failed', error.code);
        countMetric('OutboundSmsFailed', { provider: text.provider, status: error.code });
        logger.error('text refused for good', log);
        return 'failed';
    }
  }
}

async function setStatus(db: Queryable, id: number, status: string, errorCode?: string): Promise<void> {
  await db.query(
    `UPDATE sms_messages SET status = $2, error_code = coalesce($3, error_code), claimed_until = NULL
     WHERE id = $1 AND status = 'sending'`,
    [id, status, errorCode ?? null],
  );
}

/**
 * The text is out: record it and never throw (a retry would send it twice). A Twilio text takes its Message
 * SID as its id, so the delivery callbacks update this row; a callback that came first and made a row of its
 * own is folded in.
 */
async function markSent(db: Queryable, text: ClaimedText, ids: string[], errorCode: string | null) {
  try {
    if (text.provider === 'twilio' && ids[0]) {
      await db.query(
        `WITH early AS (
           DELETE FROM sms_messages WHERE provider = 'twilio' AND provider_message_id = $2 AND id <> $1
             AND direction = 'outbound'
           RETURNING status
         )
         UPDATE sms_messages SET provider_message_id = $2, provider_sent_ids = $3::text[], error_code = $4,
           claimed_until = NULL,
           status = coalesce((SELECT e.status FROM early e
             WHERE message_status_rank(e.status) > message_status_rank('sent')), 'sent')
         WHERE id = $1`,
        [text.id, ids[0], ids, errorCode],
      );
      return;
    }
    await db.query(
      `UPDATE sms_messages SET status = 'sent', provider_sent_ids = $2::text[], error_code = $3,
         num_segments = cardinality($2::text[]), claimed_until = NULL
       WHERE id = $1`,
      [text.id, ids, errorCode],
    );
  } catch (error) {
    logger.error('sent text not marked sent', { messageId: text.id, error: (error as Error).message });
  }
}
