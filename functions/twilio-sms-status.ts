import { noContent, twilioSignature, webhookRoute } from '../lib/http/index.js';
import { performOrDefer } from '../lib/ingest/action.js';
import { recordMessageStatus } from '../lib/messages/status.js';
import { toE164 } from '../lib/phone.js';
import { parseTwilio } from '../lib/twilio/params.js';
import { replyQuerySchema } from '../lib/twilio/sms-incoming.js';
import { smsStatusSchema } from '../lib/twilio/sms-status.js';

/** Twilio delivery receipt for a message we sent: status moves forward only; 21610 records an opt-out. */
export const handler = webhookRoute({
  provider: 'twilio',
  name: 'twilio/sms/status',
  methods: ['POST'],
  verify: twilioSignature,
  successStatus: 204,
  parse: (request) => ({
    ...parseTwilio(smsStatusSchema, request.fields),
    // Set on the callback of an auto-reply sent in TwiML: the inbound text it answers.
    replyTo: parseTwilio(replyQuerySchema, request.query).reply,
  }),
  handle: async (params, { pendingLog }) => {
    await performOrDefer(
      recordMessageStatus,
      {
        provider: 'twilio',
        providerMessageId: params.MessageSid,
        status: params.MessageStatus,
        errorCode: params.ErrorCode && params.ErrorCode !== '0' ? params.ErrorCode : undefined,
        fromNumber: toE164(params.From ?? ''),
        toNumber: toE164(params.To ?? ''),
        replyTo: params.replyTo,
      },
      pendingLog,
    );
    return noContent();
  },
});
