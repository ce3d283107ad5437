import { classify, type IntentRule } from '../autoreply/classifier.js';
import type { Intent, Language } from '../autoreply/lexicon.js';
import { composeReply } from '../autoreply/replies.js';
import { isTextableNumber } from '../phone.js';
import { type OfficeStatus, officeStatus } from '../practice/hours.js';
import type { PracticeSettings } from '../practice/settings.js';

export interface AutoReplyInput {
  provider: 'twilio' | 'voipms';
  text: string;
  fromNumber: string;
  toNumber: string;
  /** Twilio's OptOutType: STOP, START or HELP, already confirmed or answered by Twilio itself. */
  optOutType?: string;
  settings: PracticeSettings;
  rules?: readonly IntentRule[];
  /** The practice's own numbers: never auto-reply to them (two of our lines would talk forever). */
  ownNumbers?: readonly (string | undefined)[];
  now?: Date;
}

/** What to do with one inbound text, for a sender in one opt-out state. */
export interface ReplyChoice {
  intent: Intent;
  language: Language;
  /** The text to send, or null. */
  reply: string | null;
  /** The opt-out change the text asks for. */
  opt_out: 'out' | 'in' | null;
  /** Recorded in opt_outs.keyword. */
  keyword: string | null;
  /**
   * An opt-out or opt-in confirmation: sent only when the change really happened (once), and exempt from the
   * rate limits; every other reply goes through them.
   */
  confirmation: boolean;
}

/**
 * Both answers, for a sender who is subscribed and for one who opted out: the statement that stores the text
 * reads the opt-out state and picks one, so the decision costs no extra database round trip.
 */
export interface AutoReplyDecision {
  subscribed: ReplyChoice;
  optedOut: ReplyChoice;
}

const SINGLE_WORD = /^[\p{L}]{2,16}$/u;

type TwilioHandled = 'STOP' | 'START' | 'HELP';

/**
 * Twilio's default keyword handling: these whole messages (any case, surrounding spaces ignored) are confirmed or
 * answered by Twilio itself. Everything else (plain language, Spanish) reaches us unanswered.
 */
const TWILIO_DEFAULT_KEYWORDS: Readonly<Record<string, TwilioHandled>> = {
  STOP: 'STOP',
  STOPALL: 'STOP',
  UNSUBSCRIBE: 'STOP',
  CANCEL: 'STOP',
  END: 'STOP',
  QUIT: 'STOP',
  REVOKE: 'STOP',
  OPTOUT: 'STOP',
  START: 'START',
  YES: 'START',
  UNSTOP: 'START',
  HELP: 'HELP',
  INFO: 'HELP',
};

/**
 * What Twilio has already confirmed or answered for this text: what OptOutType says, or, on a number with
 * Twilio's default handling, one of its own keywords (VoIP.ms handles nothing: we always confirm there).
 */
function handledByTwilio(input: AutoReplyInput): TwilioHandled | null {
  if (input.provider !== 'twilio') return null;
  const type = input.optOutType?.trim().toUpperCase();
  if (type === 'STOP' || type === 'START' || type === 'HELP') return type;
  if ((input.settings.twilioKeywordHandling ?? 'default') !== 'default') return null;
  return TWILIO_DEFAULT_KEYWORDS[input.text.trim().toUpperCase()] ?? null;
}
const CLOSED: OfficeStatus = { open: false, closesAt: null, nextOpenAt: null, isHoliday: false };

/** Office status for the reply text; settings it cannot read count as closed (the emergency advice shows). */
function statusFor(settings: PracticeSettings, now: Date): OfficeStatus {
  try {
    return officeStatus(settings, now);
  } catch {
    return CLOSED;
  }
}

/**
 * Decides, in memory, the auto-reply to an inbound text and any opt-out change.
 * - What Twilio confirmed or answered itself (OptOutType, or its English keywords under its default handling):
 *   we record the change and never answer it, so the patient gets one answer, not two.
 * - Every other opt-out and opt-in (VoIP.ms always; Twilio for plain language and Spanish): we send one
 *   confirmation, only when the opt-out (or opt-in) really changed. HELP is answered like any other intent.
 * - An opted-out sender gets nothing but that; short codes, alphanumeric senders and our own numbers get
 *   nothing at all; rate limits and the daily cap are enforced by the database when the reply is stored.
 */
export function decideAutoReply(input: AutoReplyInput): AutoReplyDecision {
  const trimmed = input.text.trim();
  const shared: SharedFacts = {
    singleWord: SINGLE_WORD.test(trimmed) ? trimmed.toUpperCase() : null,
    twilio: handledByTwilio(input),
    silent:
      !isTextableNumber(input.fromNumber) ||
      input.fromNumber === input.toNumber ||
      (input.ownNumbers ?? []).includes(input.fromNumber),
  };
  return { subscribed: choose(input, false, shared), optedOut: choose(input, true, shared) };
}

/** What does not depend on the sender's opt-out state, worked out once for both choices. */
interface SharedFacts {
  /** The whole text in capitals when it is one word (kept as the opt-out keyword). */
  singleWord: string | null;
  twilio: TwilioHandled | null;
  /** Never answered: short codes, alphanumeric senders, our own numbers. */
  silent: boolean;
}

function choose(input: AutoReplyInput, optedOut: boolean, shared: SharedFacts): ReplyChoice {
  const { intent, language } = classify(input.text, {
    rules: input.rules as IntentRule[] | undefined,
    optedOut,
  });
  const keyword = shared.singleWord ?? intent;
  const base = { language, keyword: null, confirmation: false } as const;

  const { twilio } = shared;
  // Twilio has already answered and (un)blocked the number; we only mirror the state.
  const twilioKeyword = shared.singleWord ?? twilio;
  if (twilio === 'STOP')
    return { ...base, intent: 'opt_out', reply: null, opt_out: 'out', keyword: twilioKeyword };
  if (twilio === 'START')
    return { ...base, intent: 'opt_in', reply: null, opt_out: 'in', keyword: twilioKeyword };
  if (twilio === 'HELP') return { ...base, intent: 'help', reply: null, opt_out: null };
  // An OptOutType we do not know: Twilio dealt with it somehow; answering could double its reply.
  if (input.optOutType?.trim()) return { ...base, intent, reply: null, opt_out: null };

  const text = (which: Intent) => (shared.silent ? null : compose(input, which, language));

  if (intent === 'opt_out' || intent === 'opt_in') {
    const opt_out = intent === 'opt_out' ? 'out' : 'in';
    return { ...base, intent, opt_out, keyword, confirmation: true, reply: text(intent) };
  }
  const reply = optedOut || !input.settings.autoReplyEnabled ? null : text(intent);
  return { ...base, intent, reply, opt_out: null };
}

/**
 * Reply texts already composed for one settings object, rule set and minute: a reply depends on nothing else
 * (office status changes on whole minutes), and composing one formats times, a cost on every text otherwise.
 */
interface Composed {
  minute: number;
  rules: readonly IntentRule[] | undefined;
  texts: Map<string, string>;
}
const composed = new WeakMap<PracticeSettings, Composed>();

function compose(input: AutoReplyInput, intent: Intent, language: Language): string {
  const { settings } = input;
  const now = input.now ?? new Date();
  const minute = Math.floor(now.getTime() / 60_000);
  let cache = composed.get(settings);
  if (cache?.minute !== minute || cache.rules !== input.rules) {
    cache = { minute, rules: input.rules, texts: new Map() };
    composed.set(settings, cache);
  }
  const key = `${intent}|${language}`;
  let text = cache.texts.get(key);
  if (text === undefined) {
    text = composeReply(intent, language, {
      practiceName: settings.practiceName,
      officeLine: settings.officeLine,
      emergencyLine: settings.emergencyLine,
      address: settings.address,
      timezone: settings.timezone,
      status: statusFor(settings, now),
      rules: input.rules,
    });
    cache.texts.set(key, text);
  }
  return text;
}
