import { isTextableNumber } from '../phone.js';
import type { PracticeSettings } from '../practice/settings.js';
import { classifyStub, composeStub } from './reply-stub.js';

export interface AutoReplyInput {
  text: string;
  fromNumber: string;
  toNumber: string;
  /** Twilio Advanced Opt-Out: STOP, START or HELP, already answered by Twilio itself. */
  optOutType: string | undefined;
  settings: PracticeSettings;
}

export interface AutoReplyDecision {
  intent: string;
  language: string;
  /** The text to answer with, before the opted-out check the database makes in the same statement. */
  reply: string | null;
  /** A change to the sender's opt-out state. */
  optOut: 'out' | 'in' | null;
  /** What to record as the opt-out keyword. */
  keyword: string | null;
}

const SINGLE_WORD = /^[A-Za-z]{2,12}$/;

/**
 * Decides, in memory, the auto-reply to an inbound text and any opt-out change. The one place for that
 * decision: guards added later (rate limits, loop guards, rules from the database) belong here.
 * On Twilio, opt-out and opt-in are confirmed by Twilio, so they never get a reply from us.
 */
export function decideAutoReply(input: AutoReplyInput): AutoReplyDecision {
  const { intent, language } = classifyStub(input.text);
  const trimmed = input.text.trim();
  const keyword = SINGLE_WORD.test(trimmed) ? trimmed.toUpperCase() : intent;
  const optOutType = input.optOutType?.toUpperCase();
  if (optOutType === 'STOP' || (!optOutType && intent === 'opt_out')) {
    return { intent: 'opt_out', language, reply: null, optOut: 'out', keyword: optOutType ?? keyword };
  }
  if (optOutType === 'START' || (!optOutType && intent === 'opt_in')) {
    return { intent: 'opt_in', language, reply: null, optOut: 'in', keyword: optOutType ?? keyword };
  }
  const silent =
    optOutType !== undefined ||
    !input.settings.autoReplyEnabled ||
    !isTextableNumber(input.fromNumber) ||
    input.fromNumber === input.toNumber;
  const reply = silent ? null : composeStub(intent, input.settings);
  return { intent, language, reply, optOut: null, keyword: null };
}
