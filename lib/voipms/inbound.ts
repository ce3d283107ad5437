import { classify, type Intent } from '../autoreply/classifier.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { BadRequestError } from '../http/errors.js';
import type { Params, WebhookRequest } from '../http/request.js';
import { defineAction } from '../ingest/action.js';
import { countMetric } from '../observability.js';
import { isTextableNumber } from '../phone.js';
import { loadPracticeSettings, type PracticeSettings } from '../practice/settings.js';
import { sendMessage } from '../queue/index.js';
import { toE164 } from './phone.js';
import { type NormalizedVoipmsSms, normalizeVoipmsSms, VoipmsSmsPayloadError } from './sms.js';

/** An inbound VoIP.ms text as it travels to the store action (and, when Postgres is down, the ingest queue). */
export interface VoipmsInboundEvent extends Omit<NormalizedVoipmsSms, 'receivedAt'> {
  /** ISO instant; a string so the event survives JSON on the ingest queue. */
  receivedAt: string;
  /** Our DID when the callback's `to` is missing or not a number (config VOIPMS_DID). */
  fallbackDid?: string;
}

/** What the outbound-sms queue receives for a VoIP.ms text whose row is already stored (status 'pending'). */
export interface VoipmsOutboundJob {
  provider: 'voipms';
  /** sms_messages.id of the pending outbound row. */
  messageId: number;
  to: string;
  from: string;
  body: string;
  kind: 'auto-reply' | 'opt-out-confirmation' | 'opt-in-confirmation' | string;
}

/**
 * The callback's parameters: the query string for GET (VoIP.ms's URL Callback), the form or JSON body for
 * POST (query parameters still count there, body fields win). `token` is ours, never part of the message.
 */
export function voipmsSmsParams(request: WebhookRequest): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const add = (source: Params) => {
    for (const [key, values] of Object.entries(source)) if (key !== 'token') params[key] = values;
  };
  add(request.query);
  if (request.method === 'POST') {
    add(request.fields);
    // A JSON body may carry media as an array; fields keep scalars only.
    const json = request.json as Record<string, unknown> | undefined;
    if (json && typeof json === 'object' && Array.isArray(json.media))
      params.media = JSON.stringify(json.media);
  }
  return params;
}

/** Request → inbound event, or a 400 naming every missing field. */
export function parseVoipmsSms(request: WebhookRequest, config: Pick<Config, 'voipms'>): VoipmsInboundEvent {
  try {
    const sms = normalizeVoipmsSms(voipmsSmsParams(request));
    return {
      ...sms,
      receivedAt: sms.receivedAt.toISOString(),
      ...(config.voipms.did ? { fallbackDid: toE164(config.voipms.did) } : {}),
    };
  } catch (error) {
    if (error instanceof VoipmsSmsPayloadError) throw new BadRequestError(error.problems.join('; '));
    throw error;
  }
}

export interface ReplyDecision {
  intent: Intent;
  /** The text to send, or null for none. */
  reply: string | null;
}

/**
 * Reply texts for VoIP.ms until the shared auto-reply engine (lib/messages) lands; then this function is
 * replaced by a call to it. Kept deliberately small: intent from the shared classifier, text from settings.
 */
export function decideVoipmsReply(
  body: string,
  settings: PracticeSettings,
  options: { optedOut: boolean },
): ReplyDecision {
  const { intent, language } = classify(body, { optedOut: options.optedOut });
  const name = settings.practiceName;
  const es = language === 'es';
  const line = settings.officeLine
    ? es
      ? ` Llame al ${settings.officeLine}.`
      : ` Call ${settings.officeLine}.`
    : '';
  const texts: Record<Intent, string | null> = {
    opt_out: es
      ? `${name}: no recibira mas mensajes. Responda START para volver a suscribirse.`
      : `${name}: you are unsubscribed and will get no more messages. Reply START to resubscribe.`,
    opt_in: es
      ? `${name}: se ha vuelto a suscribir.`
      : `${name}: you are subscribed again. Reply STOP to opt out.`,
    help: `${name}.${line}${es ? ' Responda STOP para no recibir mensajes.' : ' Reply STOP to opt out.'}`,
    emergency: settings.emergencyLine
      ? es
        ? `Para una emergencia llame al ${settings.emergencyLine} o al 911.`
        : `For an emergency call ${settings.emergencyLine} or 911.`
      : es
        ? 'Para una emergencia llame al 911.'
        : 'For an emergency please call 911.',
    appointment: es
      ? `Gracias por escribir a ${name}. Le contactaremos para su cita.${line}`
      : `Thanks for texting ${name}. We will get back to you about your appointment.${line}`,
    hours: es ? `${name}: lunes a viernes, 8:00-17:00.${line}` : `${name}: Monday to Friday, 8am-5pm.${line}`,
    location: settings.address ? `${name}: ${settings.address}` : null,
    insurance: es
      ? `${name}: le responderemos sobre su seguro.${line}`
      : `${name}: we will get back to you about your insurance.${line}`,
    default: es
      ? `Gracias por escribir a ${name}. Le responderemos pronto.`
      : `Thanks for texting ${name}. We will reply soon.`,
  };
  const compliance = intent === 'opt_out' || intent === 'opt_in' || intent === 'help';
  if (!settings.autoReplyEnabled && !compliance) return { intent, reply: null };
  return { intent, reply: texts[intent] };
}

export interface StoredVoipmsInbound {
  /** sms_messages.id of the inbound row; null when this `id` was already stored. */
  inboundId: number | null;
  intent: Intent | null;
  /** The queued reply (pending outbound row), if one was stored by this delivery. */
  reply: { messageId: number; to: string; from: string; body: string; intent: string } | null;
}

interface StoreRow {
  inbound_id: string | null;
  intent: string | null;
  reply_id: string | null;
  reply_body: string | null;
  reply_intent: string | null;
}

/**
 * Stores an inbound VoIP.ms text once per `id`, records opt-out / opt-in, and stores the reply row ('pending',
 * `reply:<id>`) in the same statement, then queues the send. Only a newly stored text gets a reply; an opt-out
 * confirmation goes out only when the opt-out row itself is new; nothing else goes to an opted-out number.
 */
export const storeVoipmsInbound = defineAction(
  'voipms.sms-inbound',
  async (db: Db, event: VoipmsInboundEvent): Promise<StoredVoipmsInbound> => {
    const did = isTextableNumber(event.toNumber) ? event.toNumber : (event.fallbackDid ?? event.toNumber);
    const settings = await loadPracticeSettings(db, 'voipms', did);
    const textable = isTextableNumber(event.fromNumber);
    // The reply depends on whether the sender had opted out (a bare YES then means opt-in); both are decided
    // here and the statement picks one, so the opt-out state is read in the same round trip.
    const notOptedOut = decideVoipmsReply(event.body, settings, { optedOut: false });
    const optedOut = decideVoipmsReply(event.body, settings, { optedOut: true });
    const { rows } = await db.query<StoreRow>(
      `WITH prior AS (
         SELECT EXISTS (SELECT 1 FROM opt_outs WHERE phone_number = $2) AS opted_out
       ), inbound AS (
         INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
           media_urls, num_media)
         VALUES ('voipms', $1, 'inbound', $2, $3, $4, 'received', $5::text[], cardinality($5::text[]))
         ON CONFLICT (provider, provider_message_id) DO NOTHING
         RETURNING id
       ), chosen AS (
         SELECT p.opted_out,
           CASE WHEN p.opted_out THEN $9 ELSE $6 END AS intent,
           CASE WHEN p.opted_out THEN $10 ELSE $7 END AS reply
         FROM prior p WHERE EXISTS (SELECT 1 FROM inbound)
       ), opt_out AS (
         INSERT INTO opt_outs (phone_number, keyword, provider)
         SELECT $2, left($4, 40), 'voipms' FROM chosen WHERE chosen.intent = 'opt_out'
         ON CONFLICT (phone_number) DO NOTHING
         RETURNING phone_number
       ), opt_in AS (
         DELETE FROM opt_outs
         WHERE phone_number = $2 AND EXISTS (SELECT 1 FROM chosen WHERE chosen.intent = 'opt_in')
         RETURNING phone_number
       ), reply AS (
         INSERT INTO sms_messages (provider, provider_message_id, direction, from_number, to_number, body, status,
           auto_response_intent, in_reply_to)
         SELECT 'voipms', 'reply:' || $1, 'outbound', $8, $2, c.reply, 'pending', c.intent, i.id
         FROM chosen c, inbound i
         WHERE $11::boolean AND c.reply IS NOT NULL AND CASE c.intent
           WHEN 'opt_out' THEN EXISTS (SELECT 1 FROM opt_out)
           WHEN 'opt_in' THEN EXISTS (SELECT 1 FROM opt_in)
           ELSE NOT c.opted_out END
         ON CONFLICT (provider, provider_message_id) DO NOTHING
         RETURNING id, body, auto_response_intent
       )
       SELECT (SELECT id FROM inbound) AS inbound_id, (SELECT intent FROM chosen) AS intent,
         r.id AS reply_id, r.body AS reply_body, r.auto_response_intent AS reply_intent
       FROM (SELECT 1) one LEFT JOIN reply r ON true`,
      [
        event.providerMessageId,
        event.fromNumber,
        event.toNumber,
        event.body,
        event.mediaUrls,
        notOptedOut.intent,
        notOptedOut.reply,
        did,
        optedOut.intent,
        optedOut.reply,
        textable,
      ],
    );
    const row = rows[0];
    const stored: StoredVoipmsInbound = {
      inboundId: row?.inbound_id == null ? null : Number(row.inbound_id),
      intent: (row?.intent as Intent | null) ?? null,
      reply:
        row?.reply_id == null
          ? null
          : {
              messageId: Number(row.reply_id),
              to: event.fromNumber,
              from: did,
              body: row.reply_body ?? '',
              intent: row.reply_intent ?? 'default',
            },
    };
    if (stored.inboundId === null) countMetric('DuplicateDelivery', { route: 'voipms/sms/incoming' });
    if (stored.reply) await queueVoipmsReply(stored.reply);
    return stored;
  },
);

function replyKind(intent: string): VoipmsOutboundJob['kind'] {
  if (intent === 'opt_out') return 'opt-out-confirmation';
  if (intent === 'opt_in') return 'opt-in-confirmation';
  return 'auto-reply';
}

/** The reply row exists ('pending'); the outbound worker sends it. */
export async function queueVoipmsReply(reply: NonNullable<StoredVoipmsInbound['reply']>): Promise<void> {
  const job: VoipmsOutboundJob = {
    provider: 'voipms',
    messageId: reply.messageId,
    to: reply.to,
    from: reply.from,
    body: reply.body,
    kind: replyKind(reply.intent),
  };
  await sendMessage('outboundSms', job);
}
