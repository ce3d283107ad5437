import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type Config, getConfig } from '../config.js';
import { countMetric, logger } from '../observability.js';
import { BadRequestError, HttpError } from './errors.js';
import { budgetKey, refusedPayload } from './refusal-log.js';
import { decodeRequest, type WebhookRequest } from './request.js';
import { refusal, type WebhookResponse } from './responses.js';
import { checkRoutePath } from './route-path.js';
import { sealRequest } from './sealed-request.js';
import { checkTwilioShape } from './twilio-shape.js';
import type { CallerCheck } from './verify.js';
import {
  loggedPayload,
  logRowStands,
  type PendingLog,
  type WebhookLogRow,
  writeWebhookLog,
} from './webhook-log.js';
import { wellFormed } from './well-formed.js';

export interface RouteContext {
  request: WebhookRequest;
  config: Config;
  requestId: string;
  /** This request's webhook_logs row, to ride on its first statement (performOrDefer takes it). */
  pendingLog: PendingLog;
}

export interface RouteSpec<Input> {
  provider: 'twilio' | 'voipms';
  /** Route name for logs and metrics, e.g. `twilio/sms/status`; its path is `/webhooks/<name>`, exactly. */
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
   * hears "an application error has occurred"); other routes answer 503 so the provider retries. A route
   * with a fallback also answers it when the Lambda deadline comes near (DEADLINE_MARGIN_MS).
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
    // Lone surrogates become U+FFFD before anything reads the event: jsonb could not store them.
    request.event = wellFormed(request.event);
    states.set(request.event, state);
    const config = await getConfig();
    state.request = decodeRequest(request.event, spec.methods);
    // The request's shape is checked before its signature, so a signature cannot be reused elsewhere.
    checkRoutePath(state.request.path, `/webhooks/${spec.name}`);
    if (spec.provider === 'twilio') checkTwilioShape(spec.name, state.request);
    else refuseRepeatedQueryKeys(state.request);
    try {
      spec.verify(state.request, config);
      state.signatureValid = true;
    } catch (error) {
      state.signatureValid = false;
      throw error;
    }
    // Only a request from a recognised caller is kept whole (sealed) for replay.
    state.sealed = config.replayKey ? sealRequest(request.event, config.replayKey) : null;
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
    const refused = state.signatureValid !== true && error instanceof HttpError && error.statusCode < 500;
    if (!refused) {
      // Checked before building the row, which masks the payload again.
      if (logRowStands(state.pending, response.statusCode, error)) return;
      await writeWebhookLog(logRow(spec, request, state, response.statusCode, error ?? null), state.pending);
      return;
    }
    countMetric('RequestRefused', { route: spec.name });
    const exhausted = await writeWebhookLog(refusedRow(spec, request, state, response.statusCode, error));
    if (exhausted) {
      countMetric('RefusalBudgetExhausted', { route: spec.name });
      logger.warn('refusal budget exhausted; further refusals counted, not logged', {
        route: spec.name,
        source: budgetKey(request.event.requestContext?.http?.sourceIp),
      });
    }
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
    request_id: request.context.awsRequestId ?? null,
    idempotency_token: state.request?.headers['i-twilio-idempotency-token']?.replaceAll('\u0000', '') ?? null,
    raw_request_encrypted: state.sealed ?? null,
  };
}

/** A refused request's row: small, no raw request, within its source's budget (refusal-log.ts). */
function refusedRow(
  spec: RouteSpec<unknown>,
  request: WebhookMiddyRequest,
  state: State,
  statusCode: number,
  error: Error,
): WebhookLogRow {
  return {
    ...logRow(spec, request, { ...state, sealed: null }, statusCode, error),
    endpoint: (request.event.rawPath ?? '').slice(0, 200),
    method: (request.event.requestContext?.http?.method ?? 'UNKNOWN').slice(0, 16),
    payload: refusedPayload(request.event, state.request),
    error: error.message.slice(0, 200),
    idempotency_token: null,
    refused: true,
  };
}

/** Every key once: a repeated `token` (or any key) would be read one way here and another way elsewhere. */
function refuseRepeatedQueryKeys(request: WebhookRequest): void {
  const key = Object.keys(request.query).find((name) => request.query[name]!.length > 1);
  if (key !== undefined) throw new BadRequestError(`query parameter ${key.slice(0, 40)} repeated`);
}

function answerFor(error: Error, spec: RouteSpec<unknown>): WebhookResponse {
  if (error instanceof HttpError && error.statusCode < 500) return refusal(error);
  logger.error('webhook handling failed', { route: spec.name, error: error.message });
  if (spec.fallback) return spec.fallback(error);
  if (error instanceof HttpError) return refusal(error);
  return refusal(new HttpError(503, 'temporarily unavailable, retry later'));
}

/** How long before the Lambda deadline a route with a fallback gives up waiting and answers it. */
export const DEADLINE_MARGIN_MS = 1500;

type Handler = (event: Event, context: Context) => Promise<WebhookResponse>;

/**
 * The route's answer, or its fallback if the answer is not ready DEADLINE_MARGIN_MS before the Lambda
 * deadline: a timed-out Lambda answers a bare 5xx, and Twilio then tells the caller "an application error
 * has occurred". The late work goes on while the container lives and writes its own log row when done.
 */
async function beforeDeadline(
  answer: Promise<WebhookResponse>,
  context: Context,
  spec: RouteSpec<unknown>,
  fallback: NonNullable<RouteSpec<unknown>['fallback']>,
): Promise<WebhookResponse> {
  const remaining = context.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return answer;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), Math.max(remaining - DEADLINE_MARGIN_MS, 0));
  });
  try {
    const first = await Promise.race([answer, deadline]);
    if (first !== 'deadline') return first;
    countMetric('DeadlineFallback', { route: spec.name });
    logger.error('answering the fallback before the Lambda deadline', { route: spec.name, remaining });
    return fallback(new Error('Lambda deadline near'));
  } finally {
    clearTimeout(timer);
  }
}

/** Builds a Lambda handler for one webhook route: checks, action and response in one readable spec. */
export function webhookRoute<Input>(spec: RouteSpec<Input>): Handler {
  const handler = middy<Event, WebhookResponse>()
    .use(webhookEnvelope(spec as RouteSpec<unknown>))
    .handler(async (event, context) => {
      const state = states.get(event)!;
      const request = state.request!;
      const config = await getConfig();
      const input = spec.parse(request);
      return spec.handle(input, {
        request,
        config,
        requestId: context.awsRequestId ?? '',
        pendingLog: state.pending!,
      });
    });
  const fallback = spec.fallback;
  if (!fallback) return (event, context) => handler(event, withKnownDeadline(context));
  return (event, context) => {
    const known = withKnownDeadline(context);
    return beforeDeadline(handler(event, known), known, spec as RouteSpec<unknown>, fallback);
  };
}

/**
 * The context as given when its remaining time is a finite number; otherwise the same context with no deadline.
 * middy races the handler against `getRemainingTimeInMillis()` as a timer, and a timer of NaN or Infinity
 * (a harness with no deadline) fires at once: the request would be aborted before it ran.
 */
function withKnownDeadline(context: Context): Context {
  if (!context.getRemainingTimeInMillis || Number.isFinite(context.getRemainingTimeInMillis()))
    return context;
  const { getRemainingTimeInMillis: _unknown, ...withoutDeadline } = context;
  return withoutDeadline as Context;
}
