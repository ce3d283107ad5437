import { prepareClassifier } from '../autoreply/classifier.js';
import { loadAutoReplyRules } from '../autoreply/rules-store.js';
import type { Config } from '../config.js';
import { getDb } from '../db/index.js';
import type { PendingLog } from '../http/log-row.js';
import { performOrDefer } from '../ingest/action.js';
import { logger } from '../observability.js';
import { toE164 } from '../phone.js';
import { officeDay } from '../practice/hours.js';
import {
  DEFAULT_PRACTICE_SETTINGS,
  loadPracticeSettings,
  type PracticeSettings,
} from '../practice/settings.js';
import { decideAutoReply } from './auto-reply.js';
import { recordInboundSms } from './inbound.js';

export interface InboundText {
  provider: 'twilio' | 'voipms';
  providerMessageId: string;
  fromNumber: string;
  toNumber: string;
  body: string;
  numSegments?: number | null;
  numMedia?: number;
  mediaUrls?: string[];
  optOutType?: string;
  /** The provider's own time of the message, when it gives one (VoIP.ms `date`). */
  sentAt?: Date;
}

/** Settings and rules are cached per container; if Postgres is down, the defaults still give a sensible reply. */
async function context(provider: InboundText['provider'], number: string) {
  try {
    const db = await getDb();
    // The rules are asked for first: on a cold container their lexicon compiles (the classifier's slowest step)
    // while the settings are still on their way.
    const [rules, settings] = await Promise.all([
      loadAutoReplyRules(db).then(prepareClassifier),
      loadPracticeSettings(db, provider, number),
    ]);
    return { settings, rules };
  } catch (error) {
    logger.warn('practice settings unavailable; using defaults', { error: (error as Error).message });
    return { settings: DEFAULT_PRACTICE_SETTINGS as PracticeSettings, rules: [] };
  }
}

/** Today in the office's zone; a zone the settings misspell counts in UTC rather than failing the text. */
function officeDayOr(timezone: string, now: Date): string {
  try {
    return officeDay(timezone, now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

/**
 * An inbound text from either provider: decide the auto-reply in memory, then store the text, the opt-out
 * change and the reply in one statement (or defer it all to the ingest queue when Postgres is down).
 * Returns the reply text to answer with now (Twilio TwiML), or null.
 */
export async function receiveInboundText(
  text: InboundText,
  config: Config,
  pendingLog?: PendingLog,
): Promise<string | null> {
  const now = new Date();
  const { settings, rules } = await context(text.provider, text.toNumber);
  const decision = decideAutoReply({
    provider: text.provider,
    text: text.body,
    fromNumber: text.fromNumber,
    toNumber: text.toNumber,
    optOutType: text.optOutType,
    settings,
    rules,
    ownNumbers: [config.twilio.phoneNumber, config.voipms.did ? toE164(config.voipms.did) : undefined],
    now,
  });
  const outcome = await performOrDefer(
    recordInboundSms,
    {
      provider: text.provider,
      providerMessageId: text.providerMessageId,
      fromNumber: text.fromNumber,
      toNumber: text.toNumber,
      body: text.body,
      numSegments: text.numSegments ?? null,
      numMedia: text.numMedia ?? 0,
      mediaUrls: text.mediaUrls ?? [],
      decision,
      officeDay: officeDayOr(settings.timezone, now),
      sentAt: sentAt(text.sentAt, now).toISOString(),
      eventText: settings.eventsIncludeText,
    },
    pendingLog,
  );
  // Stored: answer only if this delivery stored a reply for the TwiML answer. Deferred (database down): no
  // answer now, since the sender may have opted out in words Twilio does not know; the ingest worker stores the
  // text when Postgres is back and its reply, if any, goes out through the outbound worker.
  return outcome.stored ? (outcome.result.reply?.body ?? null) : null;
}

/** The provider's time when it is plausible (not in the future), else now: it orders opt-outs and opt-ins. */
function sentAt(provided: Date | undefined, now: Date): Date {
  if (!provided || Number.isNaN(provided.getTime()) || provided.getTime() > now.getTime()) return now;
  return provided;
}
