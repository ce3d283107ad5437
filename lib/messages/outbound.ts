import { logger } from '../observability.js';
import { sendMessage } from '../queue/index.js';

/** What the outbound-sms queue carries: the id of a stored outbound row to send (lib/messages/send.ts). */
export interface StoredTextJob {
  provider: 'twilio' | 'voipms';
  /** sms_messages.id of the outbound row. */
  messageId: number;
}

export function parseStoredTextJob(body: string): StoredTextJob | undefined {
  try {
    const job = JSON.parse(body) as Partial<StoredTextJob>;
    if ((job.provider === 'twilio' || job.provider === 'voipms') && Number.isSafeInteger(job.messageId))
      return { provider: job.provider, messageId: job.messageId as number };
  } catch {
    // Fall through: a malformed job can never succeed.
  }
  return undefined;
}

/**
 * Hands stored texts to the outbound worker now. Best effort by design: the rows are the record of what must
 * be sent, and the follow-up relay hands on any the queue did not take (lib/followups/relay.ts).
 */
export async function handOnTexts(jobs: readonly StoredTextJob[], options: { delaySeconds?: number } = {}) {
  for (const job of jobs) {
    try {
      await sendMessage('outboundSms', job, options);
    } catch (error) {
      logger.warn('text left for the relay', { messageId: job.messageId, error: (error as Error).message });
    }
  }
}
