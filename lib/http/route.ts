import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type Config, getConfig } from '../config.js';
import { countMetric, logger } from '../observability.js';
import { ForbiddenError, HttpError } from './errors.js';
import { decodeRequest, type WebhookRequest } from './request.js';
import { refusal, type WebhookResponse } from './responses.js';
import { sealRequest } from './sealed-request.js';
import type { CallerCheck } from './verify.js';
import {
  loggedPayload,
  type PendingLog,
  type WebhookLogRow,
  withPendingLog,
  writeWebhookLog,
} from './webhook-log.js';

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
  /** The status the route answers when all goes well (200 unless given): the log row written ahead says so. */
  successStatus?: number;
  /**
   * The answer when handling fails unexpectedly. Twilio voice needs TwiML even then (otherwise the caller
   * hears "an application error has occurred"); other routes answer 503 so the provider retries.
   */
  fallback?: (error: unknown) => WebhookResponse;
}

type Event = APIGatewayProxyEventV2;
type State = {
  started: number;
  request?: WebhookRequest;
  signatureValid: boolean | null;
  sealed?: Buffer | null;
  pending?: PendingLog;
};
type WebhookMiddyRequest = middy.Request<Event, WebhookResponse, Error, Context> & { webhookState?: State };

/** The envelope's state travels to the handler beside the event it came from. */
const states = new WeakMap<Event, State>();

/**
 * The shared envelope of every webhook: decode the HTTP API event, check the caller, and afterwards map
 * errors to the contract's responses and write one webhook_logs row, whatever happened.
 */
function webhookEnvelope(spec: RouteSpec<unknown>): middy.MiddlewareObj<Event, WebhookResponse> {
  const before = async (request: WebhookMiddyRequest) => {
    const state: State = { started: performance.now(), signatureValid: null };
    request.webhookState = state;
    states.set(request.event, state);
    const config = await getConfig();
    state.request = decodeRequest(request.event, spec.methods);
    state.sealed = config.replayKey ? sealRequest(request.event, config.replayKey) : null;
    try {
      spec.verify(state.request, config);
      state.signatureValid = true;
    } catch (error) {
      state.signatureValid = false;
      throw error;
    }
    // Accepted: the log row, as it will read if all goes well, rides on the handler's first statement.
    state.pending = {
      row: logRow(spec, request, state, spec.successStatus ?? 200, null),
      started: state.started,
      written: false,
    };
  };

  const finish = async (request: WebhookMiddyRequest) => {
    const state = request.webhookState ?? { started: performance.now(), signatureValid: null };
    const error = request.error;
    if (error) request.response = answerFor(error, spec);
    const response = request.response as WebhookResponse;
    countMetric('Request', { route: spec.name, status: String(response.statusCode) });
    if (error instanceof ForbiddenError) countMetric('RequestRefused', { route: spec.name });
    await writeWebhookLog(logRow(spec, request, state, response.statusCode, error ?? null), state.pending);
  };

  return { before, after: finish, onError: finish };
}

function logRow(
  spec: RouteSpec<unknown>,
  request: WebhookMiddyRequest,
  state: State,
  statusCode: number,
  error: Error | null,
): WebhookLogRow {
  return {
    provider: spec.provider,
    endpoint: request.event.rawPath ?? '',
    method: request.event.requestContext?.http?.method ?? 'UNKNOWN',
    status_code: statusCode,
    signature_valid: state.signatureValid,
    source_ip: request.event.requestContext?.http?.sourceIp ?? null,
    duration_ms: Math.round((performance.now() - state.started) * 100) / 100,
    payload: loggedPayload(state.request, request.event.body?.length ?? 0),
    error: error ? error.message.slice(0, 500) : null,
    request_id: request.context?.awsRequestId ?? null,
    idempotency_token: state.request?.headers['i-twilio-idempotency-token']?.replaceAll('\u0000', '') ?? null,
    raw_request_encrypted: state.sealed ?? null,
  };
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
      const state = states.get(event)!;
      const request = state.request!;
      const config = await getConfig();
      const input = spec.parse(request);
      return withPendingLog(state.pending!, () =>
        spec.handle(input, { request, config, requestId: context?.awsRequestId ?? '' }),
      );
    });
}
