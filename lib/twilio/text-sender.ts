import type { Config } from '../config.js';
import { SendFailure, type TextSender } from '../messages/send.js';
import { listTwilioMessages, sendTwilioMessage, TWILIO_OPTED_OUT, TwilioApiError } from './messages-api.js';

/** What a Messages API error says about whether the text went out. */
function failure(error: unknown): unknown {
  if (!(error instanceof TwilioApiError)) return error;
  const code = error.code ? String(error.code) : `http_${error.httpStatus}`;
  if (error.code === TWILIO_OPTED_OUT) return new SendFailure('opted-out', code);
  if (error.httpStatus === 429) return new SendFailure('retry', code);
  // No answer, or a server error: the request may have been acted on.
  if (error.httpStatus === 0 || error.httpStatus >= 500) return new SendFailure('unknown', code);
  return new SendFailure('permanent', code);
}

/** Stored texts through the Twilio Messages API; delivery receipts come back to our sms/status route. */
export function twilioTextSender(config: Config): TextSender {
  return {
    async send(text) {
      try {
        const sent = await sendTwilioMessage(config, {
          to: text.to,
          from: text.from || config.twilio.phoneNumber || '',
          body: text.body,
          statusCallback: `${config.webhookBaseUrl}/webhooks/twilio/sms/status`,
        });
        return { ids: [sent.sid] };
      } catch (error) {
        throw failure(error);
      }
    },
    async findSent(text, since) {
      const listed = await listTwilioMessages(config, {
        to: text.to,
        from: text.from || config.twilio.phoneNumber || '',
        sentOnOrAfter: since,
      });
      return listed
        .filter(
          (m) =>
            m.body === text.body && !(m.dateCreated && m.dateCreated.getTime() < since.getTime() - 60_000),
        )
        .map((m) => m.sid);
    },
  };
}
