import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { ForbiddenError } from './errors.js';
import type { WebhookRequest } from './request.js';

/** Decides whether the caller is who it claims to be; throws ForbiddenError when not. */
export type CallerCheck = (request: WebhookRequest, config: Config) => void;

/** Constant-time string equality that does not leak the expected length either. */
export function safeEqual(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * VoIP.ms signs nothing and publishes no source IPs: the caller must come from an allow-listed address
 * (as API Gateway saw it, never X-Forwarded-For) and carry the shared token in the query string.
 */
export const voipmsCaller: CallerCheck = (request, config) => {
  if (!config.voipms.allowedIps.allows(request.sourceIp)) {
    throw new ForbiddenError('source IP not allowed');
  }
  const expected = config.voipms.webhookToken;
  if (!expected) throw new ForbiddenError('VoIP.ms webhook token not configured');
  const token = request.query.token?.[0];
  const accepted = [expected, config.voipms.previousWebhookToken].filter((value): value is string =>
    Boolean(value),
  );
  // Every candidate is compared, so timing does not tell which one matched.
  const matches = token === undefined ? [] : accepted.map((value) => safeEqual(token, value));
  if (!matches.includes(true)) throw new ForbiddenError('invalid token');
};
