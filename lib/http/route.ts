import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type Config, getConfig } from '../config.js';
import { countMetric, logger } from '../observability.js';
import { ForbiddenError, HttpError } from './errors.js';
import { decodeRequest, type WebhookRequest } from './request.js';
import { refusal, type WebhookResponse } from './responses.js';
import { sealRequest } from './sealed-request.js';
import type { CallerCheck } from './verify.js';
import { loggedPayload, writeWebhookLog } from './webhook-log.js';

export interface RouteContext {
  request: WebhookRequest;
  config: Config;
  requestId: string;
}

export interface RouteSpec<Input> {
  provider: 'twilio' | 'voipms';
  /** Route name for logs and metrics, e.g. `twilio/sms/status`. */
  name: string;
  methods: readonly ('GET' | 'POST')[];
  /** Who may call: Twilio signature or VoIP.ms IP + token. */
  verify: CallerCheck;
  /** Payload → typed input; throws BadRequestError naming what is wrong. */
  parse: (request: WebhookRequest) => Input;
  handle: (input: Input, context: RouteContext) => Promise<WebhookResponse>;
  /**
   * The answer when handling fails unexpectedly. Twilio voice needs TwiML even then (otherwise the caller
   * hears "an application error has occurred"); other routes answer 503 so the provider retries.
   */
  fallback?: (error: unknown) => WebhookResponse;
}

type Event = APIGatewayProxyEventV2;
type State = { started: number; request?: WebhookRequest; signatureValid: boolean | null };
type WebhookMiddyRequest = middy.Request<Event, WebhookResponse, Error, Context> & { webhookState?: State };

/** The decoded request travels from the envelope to the handler beside the event it came from. */
const decoded = new WeakMap<Event, WebhookRequest>();

/**
 * The shared envelope of every webhook: decode the HTTP API event, check the caller, and afterwards map
 * errors to the contract's responses and write one webhook_logs row, whatever happened.
 */
function webhookEnvelope(spec: RouteSpec<unknown>): middy.MiddlewareObj<Event, WebhookResponse> {
  const before = async (request: WebhookMiddyRequest) => {
    const state: State = { started: performance.now(), signatureValid: null };
    request.webhookState = state;
    const config = await getConfig();
    state.request = decodeRequest(request.event, spec.methods);
    decoded.set(request.event, state.request);
    try {
      spec.verify(state.request, config);
      state.signatureValid = true;
    } catch (error) {
      state.signatureValid = false;
      throw error;
    }
  };

  const finish = async (request: WebhookMiddyRequest) => {
    const state = request.webhookState ?? { started: performance.now(), signatureValid: null };
    const error = request.error;
    if (error) request.response = answerFor(error, spec);
    const response = request.response as WebhookResponse;
    const row = {
      provider: spec.provider,
      endpoint: request.event.rawPath ?? spec.name,
      method: request.event.requestContext?.http?.method ?? 'UNKNOWN',
      status_code: response.statusCode,
      signature_valid: state.signatureValid,
      source_ip: request.event.requestContext?.http?.sourceIp ?? null,
      duration_ms: Math.round((performance.now() - state.started) * 100) / 100,
      payload: loggedPayload(state.request, request.event.body?.length ?? 0),
      error: error ? error.message.slice(0, 500) : null,
      request_id: request.context?.awsRequestId ?? null,
      idempotency_token:
        state.request?.headers['i-twilio-idempotency-token']?.replaceAll('\u0000', '') ?? null,
    };
    const config = await getConfig().catch(() => undefined);
    const sealed = config?.replayKey && state.request ? sealRequest(request.event, config.replayKey) : null;
    countMetric('Request', { route: spec.name, status: String(response.statusCode) });
    if (error instanceof ForbiddenError) countMetric('RequestRefused', { route: spec.name });
    await writeWebhookLog({ ...row, raw_request_encrypted: sealed });
  };

  return { before, after: finish, onError: finish };
}

function answerFor(error: Error, spec: RouteSpec<unknown>): WebhookResponse {
  if (error instanceof HttpError && error.statusCode < 500) return refusal(error);
  logger.error('webhook handling failed', { route: spec.name, error: error.message });
  if (spec.fallback) return spec.fallback(error);
  if (error instanceof HttpError) return refusal(error);
  return refusal(new HttpError(503, 'temporarily unavailable, retry later'));
}

/** Builds a Lambda handler for one webhook route: checks, action and response in one readable spec. */
export function webhookRoute<Input>(spec: RouteSpec<Input>) {
  return middy<Event, WebhookResponse>()
    .use(webhookEnvelope(spec as RouteSpec<unknown>))
    .handler(async (event, context) => {
      const request = decoded.get(event)!;
      const config = await getConfig();
      const input = spec.parse(request);
      return spec.handle(input, { request, config, requestId: context?.awsRequestId ?? '' });
    });
}
