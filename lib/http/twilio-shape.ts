import { BadRequestError } from './errors.js';
import type { WebhookRequest } from './request.js';

/**
 * The only query parameters the service itself puts in the URLs it gives Twilio, per route: the voice
 * route's `<Dial>` and `<Record>` actions (`step`, lib/twilio/twiml.ts) and the auto-reply status callback
 * (`reply`: the inbound MessageSid the reply answers). Anything else in a query string was not put there by
 * us: Twilio's signature format cannot tell a query parameter from a body field moved onto the URL.
 */
const QUERY_PARAMETERS: Record<string, Record<string, RegExp>> = {
  'twilio/voice/incoming': { step: /^(?:dial-result|voicemail-done)$/ },
  'twilio/sms/status': { reply: /^SM[0-9a-fA-F]{32}$/ },
};

/** Keys given more than once (the validator sorts them together; handlers would read only the first). */
const repeated = (params: Record<string, string[]>): string | undefined =>
  Object.keys(params).find((key) => params[key]!.length > 1);

/**
 * Twilio sends form bodies only, each key once, and only the query parameters we wrote into its URLs.
 * Refusing every other shape removes the signature format's ambiguities before the signature is checked.
 */
export function checkTwilioShape(route: string, request: WebhookRequest): void {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (request.rawBody !== '' && contentType !== 'application/x-www-form-urlencoded') {
    throw new BadRequestError('Twilio routes accept form bodies only');
  }
  const allowed = QUERY_PARAMETERS[route] ?? {};
  for (const [key, values] of Object.entries(request.query)) {
    const shape = allowed[key];
    if (!shape) throw new BadRequestError(`query parameter ${key.slice(0, 40)} not allowed`);
    if (values.length > 1) throw new BadRequestError(`query parameter ${key} repeated`);
    if (!shape.test(values[0]!)) throw new BadRequestError(`query parameter ${key} malformed`);
    if (key in request.fields) throw new BadRequestError(`${key} is both in the query and the body`);
  }
  const twice = repeated(request.fields);
  if (twice !== undefined) throw new BadRequestError(`field ${twice.slice(0, 40)} repeated`);
}

/** Every route that takes query parameters, and their names (for the docs and tests). */
export const twilioQueryParameters = (route: string): string[] => Object.keys(QUERY_PARAMETERS[route] ?? {});
