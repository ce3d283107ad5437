import type { Config } from '../config.js';
import { BadRequestError } from '../http/errors.js';
import type { Params, WebhookRequest } from '../http/request.js';
import { toE164 } from './phone.js';
import { type NormalizedVoipmsSms, normalizeVoipmsSms, VoipmsSmsPayloadError } from './sms.js';

/** An inbound VoIP.ms text as it travels to the store action (and, when Postgres is down, the ingest queue). */
export interface VoipmsInboundEvent extends Omit<NormalizedVoipmsSms, 'receivedAt'> {
  /** ISO instant; a string so the event survives JSON on the ingest queue. */
  receivedAt: string;
  /** Our DID when the callback's `to` is missing or not a number (config VOIPMS_DID). */
  fallbackDid?: string;
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
