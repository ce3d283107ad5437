import { SendFailure, type TextSender } from '../messages/send.js';
import type { VoipmsClient } from './client.js';
import { TRANSPORT_STATUSES, VoipmsApiError, VoipmsInputError } from './errors.js';
import { findSentVoipmsSms } from './sent-sms.js';

/** Statuses after which VoIP.ms may have sent the text: no answer, or a server error. */
const MAYBE_SENT: ReadonlySet<string> = new Set([
  TRANSPORT_STATUSES.timeout,
  TRANSPORT_STATUSES.network,
  TRANSPORT_STATUSES.http,
]);

function failure(error: unknown): unknown {
  if (error instanceof VoipmsInputError) return new SendFailure('permanent', 'invalid_input');
  if (!(error instanceof VoipmsApiError)) return error;
  const kind =
    MAYBE_SENT.has(error.status) && !(error.httpStatus && error.httpStatus < 500)
      ? 'unknown'
      : error.retryable
        ? 'retry'
        : 'permanent';
  return new SendFailure(kind, error.status, error.sentIds);
}

/** Stored texts through VoIP.ms `sendSMS`/`sendMMS` from the practice DID (the row's sender). */
export function voipmsTextSender(
  client: Pick<VoipmsClient, 'sendSms' | 'callApi'>,
  did?: string,
): TextSender {
  return {
    async send(text) {
      try {
        const sent = await client.sendSms({ did: text.from || did || '', dst: text.to, message: text.body });
        return { ids: sent.ids };
      } catch (error) {
        throw failure(error);
      }
    },
    findSent: (text, since) =>
      findSentVoipmsSms(client, { did: text.from || did || '', dst: text.to, message: text.body, since }),
  };
}
