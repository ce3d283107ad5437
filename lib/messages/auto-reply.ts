import { classify } from '../autoreply/classifier.js';
import type { OfficeStatus } from '../autoreply/office-hours.js';
import { composeReply } from '../autoreply/replies.js';
import { isTextableNumber } from '../phone.js';
import { officeStatus } from '../practice/hours.js';
import type { PracticeSettings } from '../practice/settings.js';

export interface AutoReplyInput {
  text: string;
  fromNumber: string;
  toNumber: string;
  /** Twilio Advanced Opt-Out: STOP, START or HELP, already answered by Twilio itself. */
  optOutType: string | undefined;
  settings: PracticeSettings;
  now?: Date;
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
 * Decides, in memory, the auto-reply to an inbound text and any opt-out change. The one place for that
 * decision: guards added later (rate limits, loop guards, rules from the database) belong here.
 * On Twilio, opt-out and opt-in are confirmed by Twilio, so they never get a reply from us.
 */
export function decideAutoReply(input: AutoReplyInput): AutoReplyDecision {
  const { intent, language } = classify(input.text);
  const trimmed = input.text.trim();
  const keyword = SINGLE_WORD.test(trimmed) ? trimmed.toUpperCase() : intent;
  const optOutType = input.optOutType?.toUpperCase();
  if (optOutType === 'STOP' || (!optOutType && intent === 'opt_out')) {
    return { intent: 'opt_out', language, reply: null, optOut: 'out', keyword: optOutType ?? keyword };
  }
  if (optOutType === 'START' || (!optOutType && intent === 'opt_in')) {
    return { intent: 'opt_in', language, reply: null, optOut: 'in', keyword: optOutType ?? keyword };
  }
  const { settings } = input;
  const silent =
    optOutType !== undefined ||
    !settings.autoReplyEnabled ||
    !isTextableNumber(input.fromNumber) ||
    input.fromNumber === input.toNumber;
  const reply = silent
    ? null
    : composeReply(intent, language, {
        practiceName: settings.practiceName,
        officeLine: settings.officeLine,
        emergencyLine: settings.emergencyLine,
        address: settings.address,
        timezone: settings.timezone,
        status: statusFor(settings, input.now ?? new Date()),
      });
  return { intent, language, reply, optOut: null, keyword: null };
}
