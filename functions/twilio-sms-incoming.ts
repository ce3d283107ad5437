import { twilioSignature, twiml, webhookRoute } from '../lib/http/index.js';
import { receiveInboundText } from '../lib/messages/receive.js';
import { toE164 } from '../lib/phone.js';
import { parseTwilio } from '../lib/twilio/params.js';
import { mediaUrls, smsIncomingSchema } from '../lib/twilio/sms-incoming.js';
import { messagingTwiml, replyStatusCallback } from '../lib/twilio/twiml.js';

/** Inbound text: stored once, auto-reply decided by intent and answered in the TwiML, or `<Response/>`. */
export const handler = webhookRoute({
  provider: 'twilio',
  name: 'twilio/sms/incoming',
  methods: ['POST'],
  verify: twilioSignature,
  parse: (request) => ({
    params: parseTwilio(smsIncomingSchema, request.fields),
    media: mediaUrls(request.fields),
  }),
  handle: async ({ params, media }, { config, pendingLog }) => {
    const reply = await receiveInboundText(
      {
        provider: 'twilio',
        providerMessageId: params.MessageSid,
        fromNumber: toE164(params.From),
        toNumber: toE164(params.To),
        body: params.Body,
        numSegments: params.NumSegments === undefined ? null : Number(params.NumSegments),
        numMedia: params.NumMedia === undefined ? 0 : Number(params.NumMedia),
        mediaUrls: media,
        optOutType: params.OptOutType || undefined,
      },
      config,
      pendingLog,
    );
    // The reply's delivery comes back to the status route, naming the text it answers.
    return twiml(messagingTwiml(reply, replyStatusCallback(config.webhookBaseUrl, params.MessageSid)));
  },
});
