import { validateRequest } from 'twilio/lib/webhooks/webhooks.js';
import { ForbiddenError } from './errors.js';
import type { CallerCheck } from './verify.js';

// Apart from the other caller checks, so a VoIP.ms route's bundle does not carry Twilio's validator.

/**
 * Twilio signs WEBHOOK_BASE_URL + path + raw query, plus the form parameters (blank values included).
 * Twilio's own validator tries the URL with and without the default port and compares in constant time.
 * During a token rotation the previous token is accepted too.
 */
export const twilioSignature: CallerCheck = (request, config) => {
  const authToken = config.twilio.authToken;
  if (!authToken) throw new ForbiddenError('Twilio auth token not configured');
  const signature = request.headers['x-twilio-signature'];
  if (!signature) throw new ForbiddenError('missing X-Twilio-Signature');
  const url = `${config.webhookBaseUrl}${request.path}${request.rawQuery ? `?${request.rawQuery}` : ''}`;
  const tokens = [authToken, config.twilio.previousAuthToken].filter((token): token is string =>
    Boolean(token),
  );
  if (!tokens.some((token) => validateRequest(token, signature, url, request.fields))) {
    throw new ForbiddenError('invalid X-Twilio-Signature');
  }
};
