import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { maskPhone } from '../http/mask.js';
import { logger } from '../observability.js';
import { sendTwilioMessage, TWILIO_OPTED_OUT, TwilioApiError } from '../twilio/messages-api.js';

export type OutboundProvider = 'twilio' | 'voipms';

/** A text we start ourselves, as it travels on the outbound-sms queue. */
export interface OutboundSmsJob {
  provider: OutboundProvider;
  to: string;
  from: string;
  body: string;
  /** Why we send it, e.g. 'missed-call'. */
  kind: string;
}

/** What a provider's sender reports for a send it completed. */
export interface SentMessage {
  providerMessageId: string;
  status: string;
}

/** The recipient has opted out at the provider: record it and never retry. */
export class RecipientOptedOutError extends Error {
  constructor(readonly provider: OutboundProvider) {
    super(`recipient opted out at ${provider}`);
    this.name = 'RecipientOptedOutError';
  }
}

/** A send that failed in a way a retry cannot fix (bad number, refused content): dropped, not retried. */
export class PermanentSendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentSendError';
  }
}

export type OutboundSender = (job: OutboundSmsJob, config: Config) => Promise<SentMessage>;

/** Twilio Messages API; delivery receipts come back to our sms/status route. */
export const sendViaTwilio: OutboundSender = async (job, config) => {
  try {
    const sent = await sendTwilioMessage(config, {
      to: job.to,
      from: job.from || config.twilio.phoneNumber || '',
      body: job.body,
      statusCallback: `${config.webhookBaseUrl}/webhooks/twilio/sms/status`,
    });
    return { providerMessageId: sent.sid, status: sent.status };
  } catch (error) {
    if (error instanceof TwilioApiError && error.code === TWILIO_OPTED_OUT)
      throw new RecipientOptedOutError('twilio');
    if (error instanceof TwilioApiError && !error.retryable) throw new PermanentSendError(error.message);
    throw error;
  }
};

/**
 * The sender for a text we start ourselves. VoIP.ms texts are stored as pending rows first and sent by
 * `sendVoipmsMessage` (lib/voipms/outbound.ts); the outbound worker routes those jobs there.
 */
export function outboundSender(provider: OutboundProvider): OutboundSender {
  if (provider === 'twilio') return sendViaTwilio;
  throw new PermanentSendError(`no sender for unstored ${provider} texts`);
}

export type OutboundOutcome = 'sent' | 'opted-out' | 'dropped';

/**
 * Sends one queued text: skipped if the recipient opted out meanwhile; stored with the provider's id once
 * sent. Throws only for failures worth a retry (the queue redelivers, then dead-letters).
 */
export async function deliverOutboundSms(
  db: Db,
  config: Config,
  job: OutboundSmsJob,
): Promise<OutboundOutcome> {
  const optedOut = await db.query('SELECT 1 FROM opt_outs WHERE phone_number = $1', [job.to]);
  if (optedOut.rows.length > 0) return 'dropped';
  let sent: SentMessage;
  try {
    sent = await outboundSender(job.provider)(job, config);
  } catch (error) {
    if (error instanceof RecipientOptedOutError) {
      await db.query(
        `INSERT INTO opt_outs (phone_number, keyword, provider) VALUES ($1, 'provider opt-out', $2)
         ON CONFLICT (phone_number) DO NOTHING`,
        [job.to, job.provider],
      );
      return 'opted-out';
    }
    if (error instanceof PermanentSendError) {
      logger.error('outbound text dropped', { kind: job.kind, to: maskPhone(job.to), error: error.message });
      return 'dropped';
    }
    throw error;
  }
  try {
    await storeSentMessage(db, job, sent);
  } catch (error) {
    // The text is out: a retry would send it twice. Losing the row is the lesser harm (the receipt recreates it).
    logger.error('sent text not stored', { kind: job.kind, error: (error as Error).message });
  }
  return 'sent';
}

async function storeSentMessage(db: Db, job: OutboundSmsJob, sent: SentMessage): Promise<void> {
  await db.query(
    `INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
       kind)
     VALUES ($1, $2, 'outbound', $3, $4, $5, $6, $7)
     ON CONFLICT (provider, provider_message_id) DO UPDATE
       SET body = coalesce(sms_messages.body, EXCLUDED.body),
           kind = coalesce(sms_messages.kind, EXCLUDED.kind)`,
    [job.provider, sent.providerMessageId, job.from, job.to, job.body, sent.status, job.kind],
  );
}
