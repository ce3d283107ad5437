import { getDb } from '../lib/db/index.js';
import { twilioSignature, twiml, webhookRoute } from '../lib/http/index.js';
import { performOrDefer } from '../lib/ingest/action.js';
import { decideAutoReply } from '../lib/messages/auto-reply.js';
import { recordInboundSms } from '../lib/messages/inbound.js';
import { logger } from '../lib/observability.js';
import { toE164 } from '../lib/phone.js';
import {
  DEFAULT_PRACTICE_SETTINGS,
  loadPracticeSettings,
  type PracticeSettings,
} from '../lib/practice/settings.js';
import { parseTwilio } from '../lib/twilio/params.js';
import { mediaUrls, smsIncomingSchema } from '../lib/twilio/sms-incoming.js';
import { messagingTwiml } from '../lib/twilio/twiml.js';

/** Settings are cached per container; if Postgres is down, the defaults still give a sensible reply. */
async function practiceFor(number: string): Promise<PracticeSettings> {
  try {
    return await loadPracticeSettings(await getDb(), 'twilio', number);
  } catch (error) {
    logger.warn('practice settings unavailable; using defaults', { error: (error as Error).message });
    return DEFAULT_PRACTICE_SETTINGS;
  }
}

/** Inbound text: decide the reply in memory, then store message, opt-out change and reply in one statement. */
export const handler = webhookRoute({
  provider: 'twilio',
  name: 'twilio/sms/incoming',
  methods: ['POST'],
  verify: twilioSignature,
  parse: (request) => ({
    params: parseTwilio(smsIncomingSchema, request.fields),
    media: mediaUrls(request.fields),
  }),
  handle: async ({ params, media }) => {
    const fromNumber = toE164(params.From);
    const toNumber = toE164(params.To);
    const settings = await practiceFor(toNumber);
    const decision = decideAutoReply({
      text: params.Body,
      fromNumber,
      toNumber,
      optOutType: params.OptOutType || undefined,
      settings,
    });
    const outcome = await performOrDefer(recordInboundSms, {
      provider: 'twilio',
      providerMessageId: params.MessageSid,
      fromNumber,
      toNumber,
      body: params.Body,
      numSegments: params.NumSegments === undefined ? null : Number(params.NumSegments),
      numMedia: params.NumMedia === undefined ? 0 : Number(params.NumMedia),
      mediaUrls: media,
      decision,
    });
    // Stored: answer only if this delivery stored the reply. Deferred (database down): answer from the rules;
    // Twilio itself refuses to text a number that opted out.
    const reply = outcome.stored ? outcome.result.reply : decision.reply;
    return twiml(messagingTwiml(reply));
  },
});
