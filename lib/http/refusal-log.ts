import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ipv6Groups } from './ip-allowlist.js';
import { insertParams, type WebhookLogRow } from './log-row.js';
import { maskPayload } from './mask.js';
import type { WebhookRequest } from './request.js';

/**
 * A request refused before its caller was recognised (forged signature, wrong token or IP, malformed, too
 * big) is anyone's to send, so it is logged small and within a budget: what was refused and why, its sizes
 * and hashes, a short masked excerpt, never the raw request. Past the budget a source's refusals still leave
 * their one row each (the contract: every request leaves one row), but a bare one: route, status, source,
 * reason, and no payload at all, so a flood costs a few hundred bytes a request and nothing it sent is kept.
 */
export const REFUSAL_BUDGET = { perSourcePerHour: 20, allSourcesPerHour: 1000 } as const;

/** Characters of masked payload a refused request may leave in webhook_logs. */
export const REFUSED_EXCERPT_CHARS = 240;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The part of the request a refused row keeps: sizes, hashes and a bounded masked excerpt. */
export function refusedPayload(event: APIGatewayProxyEventV2, request: WebhookRequest | undefined): unknown {
  const body = event.body ?? '';
  const masked = request
    ? JSON.stringify(
        maskPayload({
          query: request.query,
          fields: request.json === undefined ? request.fields : undefined,
        }),
      )
    : '';
  return {
    refused: true,
    bodyBytes: body.length,
    bodySha256: sha256(body),
    queryBytes: (event.rawQueryString ?? '').length,
    excerpt: masked.length > REFUSED_EXCERPT_CHARS ? `${masked.slice(0, REFUSED_EXCERPT_CHARS)}…` : masked,
  };
}

/**
 * Whose budget a refusal spends: the IPv4 address, or the /64 of an IPv6 one (a single host commonly holds
 * a whole /64, so counting per address would give one attacker millions of budgets).
 */
export function budgetKey(sourceIp: string | null | undefined): string {
  const ip = sourceIp ?? '';
  const version = isIP(ip);
  if (version === 4) return ip;
  if (version !== 6) return 'unknown';
  const groups = ipv6Groups(ip);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

const EXHAUSTED =
  'refusal budget exhausted: further refusals from this source (or all sources) this hour are logged bare';

/**
 * One statement: count the refusal for its source and for all sources (the counters reset each hour), and
 * insert the log row: in full (sizes, hashes, excerpt) while both are within budget, bare past it; the first
 * refusal past a budget is the marker. RETURNING `exhausted` is true only for that marker.
 */
export const REFUSED_INSERT_SQL = `WITH counted AS (
    INSERT INTO refusal_budget AS b (source_key, window_start, refused)
    VALUES ($13, date_trunc('hour', now()), 1), ('*', date_trunc('hour', now()), 1)
    ON CONFLICT (source_key) DO UPDATE
      SET refused = CASE WHEN b.window_start = EXCLUDED.window_start THEN b.refused + 1 ELSE 1 END,
          window_start = EXCLUDED.window_start
    RETURNING source_key, refused
  ), kept AS (
    SELECT s.refused <= $14::int AND a.refused <= $15::int AS within,
      (s.refused = $14::int + 1 AND a.refused <= $15::int) OR a.refused = $15::int + 1 AS marker
    FROM counted s, counted a WHERE s.source_key <> '*' AND a.source_key = '*'
  )
  INSERT INTO webhook_logs (provider, endpoint, method, status_code, signature_valid, source_ip, duration_ms,
    payload, error, request_id, idempotency_token, raw_request_encrypted)
  SELECT $1, $2, $3, $4, $5, $6, $7,
    CASE WHEN within THEN $8::jsonb
      WHEN marker THEN jsonb_build_object('budgetExhausted', true, 'perSourcePerHour', $14::int,
        'allSourcesPerHour', $15::int)
      ELSE '{"overBudget":true}'::jsonb END,
    CASE WHEN within THEN $9 WHEN marker THEN '${EXHAUSTED}' ELSE left($9, 80) END,
    $10, $11, decode($12, 'hex')
  FROM kept
  ON CONFLICT (request_id) DO NOTHING
  RETURNING (SELECT marker FROM kept) AS exhausted`;

export function refusedInsertParams(row: WebhookLogRow, budget = REFUSAL_BUDGET): unknown[] {
  return [
    ...insertParams({ ...row, raw_request_encrypted: null }),
    budgetKey(row.source_ip),
    budget.perSourcePerHour,
    budget.allSourcesPerHour,
  ];
}
