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
  /** Twilio Advanced Opt-Out: STOP, START or HELP, already answered by Twilio itself. */
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
 * - Twilio confirms STOP/START itself (Advanced Opt-Out): we record the change and never answer it.
 * - VoIP.ms does not: we send one confirmation, only when the opt-out (or opt-in) really changed.
 * - An opted-out sender gets nothing but that; short codes, alphanumeric senders and our own numbers get
 *   nothing at all; rate limits and the daily cap are enforced by the database when the reply is stored.
 */
export function decideAutoReply(input: AutoReplyInput): AutoReplyDecision {
  return { subscribed: choose(input, false), optedOut: choose(input, true) };
}

function choose(input: AutoReplyInput, optedOut: boolean): ReplyChoice {
  const { intent, language } = classify(input.text, {
    rules: input.rules as IntentRule[] | undefined,
    optedOut,
  });
  const trimmed = input.text.trim();
  const keyword = SINGLE_WORD.test(trimmed) ? trimmed.toUpperCase() : intent;
  const optOutType = input.optOutType?.toUpperCase();
  const base = { language, keyword: null, confirmation: false } as const;

  if (optOutType) {
    // Twilio has already answered and (un)blocked the number; we only mirror the state.
    if (optOutType === 'STOP')
      return { ...base, intent: 'opt_out', reply: null, opt_out: 'out', keyword: optOutType };
    if (optOutType === 'START')
      return { ...base, intent: 'opt_in', reply: null, opt_out: 'in', keyword: optOutType };
    return { ...base, intent, reply: null, opt_out: null };
  }
  const silent =
    !isTextableNumber(input.fromNumber) ||
    input.fromNumber === input.toNumber ||
    (input.ownNumbers ?? []).includes(input.fromNumber);
  const text = (which: Intent) => (silent ? null : compose(input, which, language));

  if (intent === 'opt_out') {
    return {
      ...base,
      intent,
      opt_out: 'out',
      keyword,
      confirmation: true,
      reply: input.provider === 'voipms' ? text(intent) : null,
    };
  }
  if (intent === 'opt_in') {
    return {
      ...base,
      intent,
      opt_out: 'in',
      keyword,
      confirmation: true,
      reply: input.provider === 'voipms' ? text(intent) : null,
    };
  }
  const reply = optedOut || !input.settings.autoReplyEnabled ? null : text(intent);
  return { ...base, intent, reply, opt_out: null };
}

function compose(input: AutoReplyInput, intent: Intent, language: Language): string {
  const { settings } = input;
  return composeReply(intent, language, {
    practiceName: settings.practiceName,
    officeLine: settings.officeLine,
    emergencyLine: settings.emergencyLine,
    address: settings.address,
    timezone: settings.timezone,
    status: statusFor(settings, input.now ?? new Date()),
    rules: input.rules,
  });
}
