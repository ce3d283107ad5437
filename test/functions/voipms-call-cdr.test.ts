import { beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/voipms-call-cdr.js';
import { clearPracticeSettingsCache } from '../../lib/practice/settings.js';
import { TEST_VOIPMS_TOKEN, useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';
import { httpEvent, invoke } from '../support/events.js';

const testDb = useTestDb();
const path = '/webhooks/voipms/call/cdr';

let counter = 0;
/** A getCDR record as VoIP.ms writes it (every value a string). */
function cdrRecord(overrides: Record<string, string> = {}): Record<string, string> {
  counter += 1;
  return {
    date: '2024-05-06 10:00:00',
    callerid: '"Jane Roe" <5145550123>',
    destination: '5145550000',
    description: 'Inbound DID',
    account: '100000_VoIP',
    disposition: 'ANSWERED',
    duration: '00:01:05',
    seconds: '65',
    rate: '0.00900000',
    total: '0.01950000',
    uniqueid: `1714990000.${counter}`,
    ...overrides,
  };
}

const cdrEvent = (body: unknown, options: { token?: string; sourceIp?: string } = {}) =>
  httpEvent({
    path,
    rawQuery: `token=${options.token ?? TEST_VOIPMS_TOKEN}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    ...(options.sourceIp ? { sourceIp: options.sourceIp } : {}),
  });

const calls = async () =>
  (
    await testDb.db.query<Record<string, unknown>>(
      `SELECT provider_call_id, direction, from_number, to_number, caller_name, status, duration_seconds,
         cost::text AS cost, started_at, ended_at FROM calls ORDER BY id`,
    )
  ).rows;

describe('POST /webhooks/voipms/call/cdr', () => {
  beforeEach(() => {
    useConfig();
    clearPracticeSettingsCache();
  });

  it('upserts each record and answers {"accepted": N}', async () => {
    // Prepare
    const records = [
      cdrRecord(),
      cdrRecord({ disposition: 'NO ANSWER', seconds: '0', callerid: '5145550199' }),
    ];

    // Act
    const response = await invoke(handler, cdrEvent({ cdr: records }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual({ accepted: 2 });
    const [answered, missed] = await calls();
    expect(answered).toMatchObject({
      provider_call_id: records[0]!.uniqueid,
      direction: 'inbound',
      from_number: '+15145550123',
      to_number: '+15145550000',
      caller_name: 'Jane Roe',
      status: 'completed',
      duration_seconds: 65,
      cost: '0.01950',
    });
    // Dates are in the practice timezone (default America/New_York, EDT in May).
    expect(new Date(answered!.started_at as string).toISOString()).toBe('2024-05-06T14:00:00.000Z');
    expect(new Date(answered!.ended_at as string).toISOString()).toBe('2024-05-06T14:01:05.000Z');
    expect(missed).toMatchObject({ status: 'no-answer', caller_name: null, from_number: '+15145550199' });
  });

  it('accepts cdr as a single object (VoIP.ms one-row quirk)', async () => {
    const response = await invoke(handler, cdrEvent({ cdr: cdrRecord() }));
    expect(JSON.parse(response.body)).toEqual({ accepted: 1 });
    expect(await calls()).toHaveLength(1);
  });

  it('uses the practice timezone from voip_settings', async () => {
    await testDb.db.query(`UPDATE voip_settings SET timezone = 'America/Vancouver' WHERE phone_number = '*'`);
    await invoke(handler, cdrEvent({ cdr: [cdrRecord()] }));
    expect(new Date((await calls())[0]!.started_at as string).toISOString()).toBe('2024-05-06T17:00:00.000Z');
  });

  it('stores a redelivered record once and never moves its status backwards', async () => {
    const record = cdrRecord({ disposition: 'ANSWERED' });
    await invoke(handler, cdrEvent({ cdr: [record] }));
    await invoke(handler, cdrEvent({ cdr: [{ ...record, disposition: 'FAILED', seconds: '65' }, record] }));
    const rows = await calls();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe('completed');
  });

  it.each([
    ['not JSON', 'cdr=1', /JSON/],
    ['no cdr', {}, /cdr/],
    ['record without uniqueid', { cdr: [{ date: '2024-05-06 10:00:00' }] }, /uniqueid/],
    ['unreadable date', { cdr: [cdrRecord({ date: 'yesterday' })] }, /date/],
  ])('answers 400 for %s', async (_, body, message) => {
    const response = await invoke(handler, cdrEvent(body));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(message);
    expect(await calls()).toEqual([]);
  });

  it('refuses a wrong token or IP with 403', async () => {
    expect((await invoke(handler, cdrEvent({ cdr: [cdrRecord()] }, { token: 'x' }))).statusCode).toBe(403);
    expect((await invoke(handler, cdrEvent({ cdr: [cdrRecord()] }, { sourceIp: '::1' }))).statusCode).toBe(
      403,
    );
    expect(await calls()).toEqual([]);
  });
});
