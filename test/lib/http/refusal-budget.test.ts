import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { budgetKey, REFUSAL_BUDGET } from '../../../lib/http/refusal-log.js';
import { existingRoutes } from '../../resilience/routes.js';
import { TEST_VOIPMS_TOKEN, useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { httpEvent, invoke } from '../../support/events.js';

/**
 * Refused requests cost a bounded amount of storage: a flood of forged 64 KB requests leaves at most the
 * per-source and all-sources budgets' worth of small rows per hour, and no raw request.
 */
const testDb = useTestDb();
const FLOOD = Number(process.env.REFUSAL_FLOOD ?? 10_000);
type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
let smsIncoming: Handler;
let voipmsSms: Handler;

const storageBytes = async () =>
  (
    await testDb.db.query<{ bytes: string }>(
      `SELECT (pg_total_relation_size('webhook_logs') + pg_total_relation_size('refusal_budget'))::text AS bytes`,
    )
  ).rows[0]!.bytes;

const logRows = async () =>
  (await testDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_logs')).rows[0]!.n;

/** A forged Twilio text of `bytes` bytes from `sourceIp` (HTTP API base64-encodes form bodies). */
function forged(bytes: number, sourceIp: string) {
  const body = `MessageSid=SM${'0'.repeat(32)}&From=%2B14155550123&Body=${'x'.repeat(bytes - 70)}`;
  return httpEvent({
    path: '/webhooks/twilio/sms/incoming',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'Zm9yZ2VkIQ==' },
    sourceIp,
  });
}

beforeAll(async () => {
  const routes = await existingRoutes();
  smsIncoming = routes.find((route) => route.name === 'twilio/sms/incoming')!.handler as Handler;
  voipmsSms = routes.find((route) => route.name === 'voipms/sms/incoming')!.handler as Handler;
});

beforeEach(() => {
  useConfig({ REPLAY_KEY: Buffer.alloc(32, 9).toString('base64') });
});

describe('the refusal budget', () => {
  it("logs a source's first refusals in full, then one marker row, then bare rows (one per request)", async () => {
    for (let i = 0; i < REFUSAL_BUDGET.perSourcePerHour + 30; i++) {
      expect((await invoke(smsIncoming, forged(2_000, '192.0.2.44'))).statusCode).toBe(403);
    }
    const { rows } = await testDb.db.query<{
      status_code: number;
      payload: { refused?: boolean; budgetExhausted?: boolean; overBudget?: boolean };
    }>('SELECT status_code, payload FROM webhook_logs ORDER BY id');
    const budget = REFUSAL_BUDGET.perSourcePerHour;
    expect(rows).toHaveLength(budget + 30);
    expect(rows.every((row) => row.status_code === 403)).toBe(true);
    expect(rows.slice(0, budget).every((row) => row.payload.refused === true)).toBe(true);
    expect(rows[budget]!.payload.budgetExhausted).toBe(true);
    expect(rows.slice(budget + 1).map((row) => row.payload)).toEqual(Array(29).fill({ overBudget: true }));
    const counted = await testDb.db.query<{ refused: number }>(
      `SELECT refused FROM refusal_budget WHERE source_key = '192.0.2.44'`,
    );
    expect(counted.rows[0]!.refused).toBe(REFUSAL_BUDGET.perSourcePerHour + 30);
    // Another source still has its own budget, and a recognised caller is never budgeted.
    expect((await invoke(smsIncoming, forged(2_000, '192.0.2.45'))).statusCode).toBe(403);
    expect(await logRows()).toBe(REFUSAL_BUDGET.perSourcePerHour + 31);
    const other = await testDb.db.query<{ payload: { refused?: boolean } }>(
      'SELECT payload FROM webhook_logs ORDER BY id DESC LIMIT 1',
    );
    expect(other.rows[0]!.payload.refused).toBe(true);
  });

  it('starts a new budget each hour', async () => {
    for (let i = 0; i < REFUSAL_BUDGET.perSourcePerHour + 5; i++)
      await invoke(smsIncoming, forged(500, '192.0.2.46'));
    await testDb.db.query(`UPDATE refusal_budget SET window_start = window_start - interval '1 hour'`);
    await invoke(smsIncoming, forged(500, '192.0.2.46'));
    const last = await testDb.db.query<{ payload: { refused?: boolean } }>(
      'SELECT payload FROM webhook_logs ORDER BY id DESC LIMIT 1',
    );
    expect(last.rows[0]!.payload.refused).toBe(true);
  });

  it('counts an IPv6 source by its /64 and an IPv4-mapped one as IPv4', () => {
    expect(budgetKey('2001:db8:1:2:aaaa::1')).toBe(budgetKey('2001:db8:1:2:bbbb::9'));
    expect(budgetKey('2001:db8:1:2::1')).not.toBe(budgetKey('2001:db8:1:3::1'));
    expect(budgetKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(budgetKey('')).toBe('unknown');
  });

  it('spends the budget on every kind of refusal (VoIP.ms token, too large, wrong method)', async () => {
    const wrongToken = () =>
      httpEvent({
        method: 'GET',
        path: '/webhooks/voipms/sms/incoming',
        rawQuery: 'token=nope',
        sourceIp: '192.0.2.50',
      });
    for (let i = 0; i < REFUSAL_BUDGET.perSourcePerHour + 10; i++) await invoke(voipmsSms, wrongToken());
    expect(await logRows()).toBe(REFUSAL_BUDGET.perSourcePerHour + 10);
    const kept = await testDb.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_logs WHERE payload ? 'refused'`,
    );
    expect(kept.rows[0]!.n).toBe(REFUSAL_BUDGET.perSourcePerHour);
    const valid = httpEvent({
      method: 'GET',
      path: '/webhooks/voipms/sms/incoming',
      rawQuery: `token=${TEST_VOIPMS_TOKEN}&id=77001&from=5145550123&to=5145550000&message=hi&date=2024-05-06+10:15:00`,
      sourceIp: '203.0.113.10',
    });
    expect((await invoke(voipmsSms, valid)).statusCode).toBe(200);
    expect(await logRows()).toBe(REFUSAL_BUDGET.perSourcePerHour + 11);
  });

  it(`${FLOOD} forged 64 KB requests from many sources grow the database by less than 10 MB`, async () => {
    const before = Number(await storageBytes());
    const sources = 200;
    for (let i = 0; i < FLOOD; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, FLOOD - i) }, (_, j) =>
          invoke(smsIncoming, forged(64 * 1024, `198.18.${((i + j) % sources) >> 8}.${(i + j) % sources}`)),
        ),
      );
    }
    const grown = Number(await storageBytes()) - before;
    const rows = await logRows();
    console.log(
      `refusal flood: ${FLOOD} forged 64 KB requests -> ${rows} log rows, +${(grown / 1e6).toFixed(2)} MB`,
    );
    expect(grown).toBeLessThan(10 * 1024 * 1024);
    expect(rows).toBe(FLOOD); // one row per request, as the contract says; most of them bare
    const sealed = await testDb.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM webhook_logs WHERE raw_request_encrypted IS NOT NULL',
    );
    expect(sealed.rows[0]!.n).toBe(0);
  }, 1_800_000);
});
