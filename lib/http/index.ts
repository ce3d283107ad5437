export * from './errors.js';
export { IpAllowList } from './ip-allowlist.js';
export { maskPayload, maskPhone } from './mask.js';
export {
  decodeRequest,
  first,
  firstValues,
  MAX_BODY_BYTES,
  type Params,
  parseParams,
  type WebhookRequest,
} from './request.js';
export { json, noContent, plainText, refusal, twiml, type WebhookResponse } from './responses.js';
export { type RouteContext, type RouteSpec, webhookRoute } from './route.js';
export { twilioSignature } from './twilio-signature.js';
export { type CallerCheck, safeEqual, voipmsCaller } from './verify.js';
export { insertWebhookLog, writeWebhookLog } from './webhook-log.js';
