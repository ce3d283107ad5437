// Reply texts per intent and language, with placeholders filled from the practice settings and the office status.
// A rule from `auto_responses` (enabled, same intent and language) replaces the built-in text.

import { formatOfficeTime, type OfficeStatus } from '../practice/hours.js';
import type { IntentRule } from './classifier.js';
import type { Intent, Language } from './lexicon.js';

export interface ReplyContext {
  practiceName: string;
  officeLine?: string | null;
  /** After-hours emergency number; the office line stands in when there is none. */
  emergencyLine?: string | null;
  address?: string | null;
  /** Office time zone, for showing when the office opens next. */
  timezone: string;
  status: OfficeStatus;
  rules?: readonly IntentRule[];
}

/** SMS replies stay within two segments. */
export const MAX_REPLY_LENGTH = 320;

type Templates = Record<Intent, string>;

/**
 * {open_status} and {next_open} are sentences (or empty); the other placeholders are plain values.
 * {emergency_line} is the number to call for an emergency right now: the office line while the office is open,
 * the emergency line (or the office line when there is none) outside hours.
 * `[A|B]` reads A when every placeholder in A is configured, else B (`[A|]`: A or nothing), so a practice that
 * has not set its name, line or address still gets whole sentences ("We are open now…", not "our office: We…").
 */
export const BUILTIN_REPLIES: Record<Language, Templates> = {
  en: {
    appointment:
      'Thanks for texting[ {practice_name}|]! To book, change or cancel an appointment, [call {office_line} or reply|reply] with the day and time that suit you and our team will get back to you. {open_status}',
    emergency:
      'If this is a dental emergency, [call {emergency_line} now.|call the office now.] {open_status} If you have trouble breathing or swallowing, or swelling reaching your eye or neck, call 911.',
    hours: '[{practice_name}: |]{open_status} {next_open}[ Office line: {office_line}.|]',
    location:
      '[{practice_name}: |][We are at {address}.|Our team will text you our address.] Need directions? [Call {office_line}.|Reply here and we will help.]',
    insurance:
      '[{practice_name} works with most dental insurance plans and offers payment options.|We work with most dental insurance plans and offer payment options.] [Call {office_line} and our team|Reply here and our team] will check your coverage or answer billing questions. {open_status}',
    opt_out:
      'You are unsubscribed from [{practice_name} texts|our texts] and will receive no more messages. Reply START to resubscribe.',
    opt_in:
      'You are subscribed to [{practice_name} texts|our texts] again. Reply HELP for help, STOP to unsubscribe.',
    help: '[{practice_name}: for help|For help][ call {office_line}|, reply with your question and our team will get back to you]. Msg & data rates may apply. Reply STOP to unsubscribe.',
    default:
      'Thanks for your message[ to {practice_name}|]. {open_status} {next_open}[ For anything urgent call {office_line}.|]',
  },
  es: {
    appointment:
      '¡Gracias por escribir[ a {practice_name}|]! Para hacer, cambiar o cancelar una cita [llame al {office_line} o responda|responda] con el día y la hora que le convienen y le contestaremos. {open_status}',
    emergency:
      'Si es una emergencia dental, [llame ahora al {emergency_line}.|llame ahora a la oficina.] {open_status} Si le cuesta respirar o tragar, o la hinchazón llega al ojo o al cuello, llame al 911.',
    hours: '[{practice_name}: |]{open_status} {next_open}[ Teléfono: {office_line}.|]',
    location:
      '[{practice_name}: |][Estamos en {address}.|Le enviaremos nuestra dirección por mensaje.] ¿Necesita indicaciones? [Llame al {office_line}.|Responda aquí y le ayudaremos.]',
    insurance:
      '[{practice_name} trabaja con la mayoría de los seguros dentales y ofrece opciones de pago.|Trabajamos con la mayoría de los seguros dentales y ofrecemos opciones de pago.] [Llame al {office_line} y revisaremos|Responda aquí y revisaremos] su cobertura o su cuenta. {open_status}',
    opt_out:
      'Ya no recibirá mensajes de [{practice_name}|nuestra clínica]. Responda START para volver a suscribirse.',
    opt_in:
      'Está suscrito de nuevo a los mensajes de [{practice_name}|nuestra clínica]. Responda HELP para ayuda, STOP para cancelar.',
    help: '[{practice_name}: para ayuda|Para ayuda][ llame al {office_line}|, responda con su pregunta y le contestaremos]. Pueden aplicarse cargos por mensajes y datos. Responda STOP para cancelar.',
    default:
      'Gracias por su mensaje[ a {practice_name}|]. {open_status} {next_open}[ Para algo urgente llame al {office_line}.|]',
  },
};

const FALLBACK_LINE: Record<Language, string> = { en: 'our office', es: 'nuestra oficina' };
const FALLBACK_ADDRESS: Record<Language, string> = { en: 'our office', es: 'nuestra oficina' };

function openStatus(ctx: ReplyContext, language: Language): string {
  const { status } = ctx;
  if (status.open && status.closesAt) {
    const until = formatOfficeTime({ timezone: ctx.timezone }, status.closesAt, language, true);
    return language === 'es'
      ? `Estamos abiertos ahora hasta las ${until}.`
      : `We are open now until ${until}.`;
  }
  if (status.isHoliday) {
    return language === 'es' ? 'Hoy estamos cerrados por día festivo.' : 'We are closed today for a holiday.';
  }
  return language === 'es' ? 'Ahora estamos cerrados.' : 'We are closed right now.';
}

function nextOpen(ctx: ReplyContext, language: Language): string {
  const { status } = ctx;
  if (status.open || !status.nextOpenAt) return '';
  const at = formatOfficeTime({ timezone: ctx.timezone }, status.nextOpenAt, language);
  return language === 'es' ? `Abrimos de nuevo el ${at}.` : `We open again ${at}.`;
}

/** Replace {name} placeholders; unknown placeholders are left as written. */
function fillPlaceholders(template: string, values: Record<string, string>): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) break;
    const close = template.indexOf('}', open + 1);
    if (close < 0) break;
    const name = template.slice(open + 1, close);
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    out += template.slice(i, open) + (value ?? template.slice(open, close + 1));
    i = close + 1;
  }
  return out + template.slice(i);
}

/** Whether every known placeholder in a piece of template has a non-empty value. */
function allConfigured(piece: string, values: Record<string, string>): boolean {
  let i = piece.indexOf('{');
  while (i >= 0) {
    const close = piece.indexOf('}', i + 1);
    if (close < 0) break;
    const name = piece.slice(i + 1, close);
    if (Object.hasOwn(values, name) && !values[name]) return false;
    i = piece.indexOf('{', close + 1);
  }
  return true;
}

/**
 * Fill a reply template. `[A|B]` (a bracket holding a placeholder) reads A when A's placeholders are all
 * configured (non-empty), else B; `[A|]` drops A. Placeholders outside brackets that are empty take `fallbacks`
 * (a practice's own rule text such as "Call {office_line}" still reads "Call our office").
 */
export function fillTemplate(
  template: string,
  values: Record<string, string>,
  fallbacks: Record<string, string> = {},
): string {
  const plain: Record<string, string> = { ...values };
  for (const [name, fallback] of Object.entries(fallbacks)) if (!plain[name]) plain[name] = fallback;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('[', i);
    if (open < 0) break;
    const close = template.indexOf(']', open + 1);
    if (close < 0) break;
    const inside = template.slice(open + 1, close);
    out += fillPlaceholders(template.slice(i, open), plain);
    if (inside.includes('{')) {
      const bar = inside.indexOf('|');
      const first = bar < 0 ? inside : inside.slice(0, bar);
      const second = bar < 0 ? '' : inside.slice(bar + 1);
      out += allConfigured(first, values) ? fillPlaceholders(first, values) : fillPlaceholders(second, plain);
    } else {
      out += `[${fillPlaceholders(inside, plain)}]`;
    }
    i = close + 1;
  }
  return out + fillPlaceholders(template.slice(i), plain);
}

/** Collapse the gaps left by empty sentences and cut at a word boundary if a rule text is too long. */
function tidy(text: string): string {
  const compact = text
    .replace(/\s+/g, ' ')
    .replace(/\s+([.,!?])/g, '$1')
    .trim();
  if (compact.length <= MAX_REPLY_LENGTH) return compact;
  const cut = compact.slice(0, MAX_REPLY_LENGTH - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > MAX_REPLY_LENGTH / 2 ? cut.slice(0, space) : cut}…`;
}

function ruleText(
  rules: readonly IntentRule[] | undefined,
  intent: Intent,
  language: Language,
): string | null {
  for (const rule of rules ?? []) {
    if (rule.enabled && rule.intent === intent && rule.language === language) {
      const text = typeof rule.responseText === 'string' ? rule.responseText.trim() : '';
      if (text.length > 0) return text;
    }
  }
  return null;
}

/** The column default of voip_settings.practice_name: a practice that never set its name. */
const UNSET_NAMES: ReadonlySet<string> = new Set(['', 'our office', 'nuestra clínica', 'nuestra oficina']);

/**
 * The reply text for an intent in the patient's language (at most 320 characters). For `opt_out` and `opt_in` it
 * is the confirmation; whether to send it is the caller's decision (lib/messages/auto-reply.ts).
 */
export function composeReply(intent: Intent, language: Language, ctx: ReplyContext): string {
  const lang: Language = language === 'es' ? 'es' : 'en';
  const name = ctx.practiceName.trim();
  const officeLine = ctx.officeLine?.trim() ?? '';
  const values: Record<string, string> = {
    practice_name: UNSET_NAMES.has(name.toLowerCase()) ? '' : name,
    office_line: officeLine,
    emergency_line: ctx.status.open ? officeLine : ctx.emergencyLine?.trim() || officeLine,
    address: ctx.address?.trim() ?? '',
    open_status: openStatus(ctx, lang),
    next_open: nextOpen(ctx, lang),
  };
  const fallbacks: Record<string, string> = {
    practice_name: lang === 'es' ? 'nuestra clínica' : 'our office',
    office_line: FALLBACK_LINE[lang],
    emergency_line: FALLBACK_LINE[lang],
    address: FALLBACK_ADDRESS[lang],
  };
  const template =
    ruleText(ctx.rules, intent, lang) ?? BUILTIN_REPLIES[lang][intent] ?? BUILTIN_REPLIES[lang].default;
  return tidy(fillTemplate(template, values, fallbacks));
}
