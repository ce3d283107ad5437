import { type CallRoute, recordDialResult, recordIncomingCall } from '../lib/calls/index.js';
import { getDb } from '../lib/db/index.js';
import { BadRequestError, first, twilioSignature, twiml, webhookRoute } from '../lib/http/index.js';
import { performOrDefer } from '../lib/ingest/action.js';
import { logger } from '../lib/observability.js';
import { toE164 } from '../lib/phone.js';
import { officeStatus } from '../lib/practice/hours.js';
import {
  DEFAULT_PRACTICE_SETTINGS,
  loadPracticeSettings,
  type PracticeSettings,
} from '../lib/practice/settings.js';
import { parseTwilio } from '../lib/twilio/params.js';
import {
  afterHoursTwiml,
  fallbackTwiml,
  goodbyeTwiml,
  hangupTwiml,
  noAnswerTwiml,
  officeHoursTwiml,
  voiceUrls,
} from '../lib/twilio/twiml.js';
import { DIAL_ANSWERED, type VoiceIncomingParams, voiceIncomingSchema } from '../lib/twilio/voice.js';

type Input = { params: VoiceIncomingParams; step: string | undefined } | { malformed: string };

/** Settings for the called number; if Postgres is unreachable, the defaults still route the caller. */
async function practiceFor(number: string): Promise<PracticeSettings> {
  try {
    return await loadPracticeSettings(await getDb(), 'twilio', number);
  } catch (error) {
    logger.warn('practice settings unavailable; using defaults', { error: (error as Error).message });
    return DEFAULT_PRACTICE_SETTINGS;
  }
}

/**
 * Incoming call → TwiML. The same route answers the `<Dial>` action (`?step=dial-result`) and the voicemail
 * `<Record>` action (`?step=voicemail-done`). Whatever goes wrong, the caller hears help and can leave a
 * message: Twilio would otherwise say "an application error has occurred".
 */
export const handler = webhookRoute<Input>({
  provider: 'twilio',
  name: 'twilio/voice/incoming',
  methods: ['POST'],
  verify: twilioSignature,
  parse: (request) => {
    try {
      return { params: parseTwilio(voiceIncomingSchema, request.fields), step: first(request.query, 'step') };
    } catch (error) {
      if (error instanceof BadRequestError) return { malformed: error.message };
      throw error;
    }
  },
  handle: async (input, { config, pendingLog }) => {
    const urls = voiceUrls(config.webhookBaseUrl);
    if ('malformed' in input) {
      logger.warn('malformed incoming call request; answering with voicemail', { reason: input.malformed });
      return twiml(fallbackTwiml(urls));
    }
    const { params, step } = input;
    const from = params.From ? toE164(params.From) : null;
    const to = params.To ? toE164(params.To) : null;
    try {
      if (step === 'voicemail-done') return twiml(goodbyeTwiml());
      const practice = await practiceFor(to ?? '');
      if (step === 'dial-result') {
        const dialStatus = params.DialCallStatus ?? 'failed';
        await performOrDefer(
          recordDialResult,
          {
            provider: 'twilio',
            providerCallId: params.CallSid,
            fromNumber: from,
            toNumber: to,
            dialStatus,
            dialDurationSeconds:
              params.DialCallDuration === undefined ? null : Number(params.DialCallDuration),
          },
          pendingLog,
        );
        return twiml(DIAL_ANSWERED.includes(dialStatus) ? hangupTwiml() : noAnswerTwiml(practice, urls));
      }
      const open = officeStatus(practice, new Date()).open;
      const route: CallRoute = open ? (practice.officeLine ? 'office' : 'voicemail') : 'after-hours';
      await performOrDefer(
        recordIncomingCall,
        {
          provider: 'twilio',
          providerCallId: params.CallSid,
          fromNumber: from,
          toNumber: to,
          callerName: params.CallerName || null,
          route,
          receivedAt: new Date().toISOString(),
        },
        pendingLog,
      );
      return twiml(open ? officeHoursTwiml(practice, urls) : afterHoursTwiml(practice, urls));
    } catch (error) {
      logger.error('incoming call handling failed; answering with voicemail', {
        error: (error as Error).message,
      });
      return twiml(fallbackTwiml(urls));
    }
  },
  fallback: () => twiml(fallbackTwiml()),
});
