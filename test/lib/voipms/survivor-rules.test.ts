// Rules of the VoIP.ms side that no other test stated: which practice settings a DID reads, what a poll
// reports, what each refusal names, and the edges of reading caller ids, dates, media and parts.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Queryable } from '../../../lib/db/index.js';
import { BadRequestError } from '../../../lib/http/errors.js';
import { decodeRequest } from '../../../lib/http/request.js';
import { logger } from '../../../lib/observability.js';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { localQueues } from '../../../lib/queue/index.js';
import {
  normalizeCdrRecords,
  parseVoipmsCdr,
  storeVoipmsCdr,
  upsertVoipmsCalls,
} from '../../../lib/voipms/calls.js';
import { normalizeCdrRecord, parseCallerId } from '../../../lib/voipms/cdr.js';
import { decodeBase64File } from '../../../lib/voipms/client.js';
import {
  createVoipmsClient,
  maskNumber,
  VoipmsAccountMissingError,
  VoipmsApiError,
  type VoipmsClient,
  VoipmsInputError,
} from '../../../lib/voipms/index.js';
import { pollVoipmsCdr, pollVoipmsRecordings } from '../../../lib/voipms/pollers.js';
import { insertVoipmsRecordings } from '../../../lib/voipms/recordings.js';
import { findSentVoipmsSms } from '../../../lib/voipms/sent-sms.js';
import { normalizeVoipmsSms, parseMedia, VoipmsSmsPayloadError } from '../../../lib/voipms/sms.js';
import { splitText } from '../../../lib/voipms/split.js';
import type { FakeVoipms } from '../../fakes/voipms-api.js';
import { useConfig } from '../../support/config.js';
import { useTestDb } from '../../support/db.js';
import { httpEvent } from '../../support/events.js';
import { metricsPublished } from '../../support/metrics.js';
import { useFakeVoipms } from '../../support/voipms.js';

const testDb = useTestDb();
let fake: FakeVoipms;
let client: VoipmsClient;
useFakeVoipms((started) => ({ fake, client } = started));

beforeEach(() => {
  useConfig();
  clearPracticeSettingsCache();
  localQueues.reset();
  fake.calls.length = 0;
});

const DID = '5145550000';
/** A DID with its own VoIP.ms settings row, in a zone other than the practice-wide row's (New York). */
const withOwnZone = () =>
  testDb.db.query(`INSERT INTO voip_settings (provider, phone_number, timezone) VALUES ('voipms', $1, $2)`, [
    `+1${DID}`,
    'America/Los_Angeles',
  ]);

/** A database that fails any statement: what must not reach it. */
const noStatement: Queryable = {
  query: async () => {
    throw new Error('no statement expected');
  },
} as unknown as Queryable;

const record = (overrides: Record<string, unknown> = {}) => ({
  uniqueid: '1700000000.1',
  date: '2024-01-15 10:00:00',
  callerid: '"Jane Roe" <5145550123>',
  destination: DID,
  description: 'Inbound DID',
  disposition: 'ANSWERED',
  duration: '00:01:05',
  seconds: '65',
  ...overrides,
});

describe("a DID's own VoIP.ms settings", () => {
  it('decide the zone pushed call records are read in', async () => {
    await withOwnZone();
    await storeVoipmsCdr.run(testDb.db, { did: DID, records: [record()] });
    const { rows } = await testDb.db.query<{ started_at: Date }>('SELECT started_at FROM calls');
    // 10:00 in Los Angeles, not in New York (15:00Z).
    expect(rows.map((row) => new Date(row.started_at).toISOString())).toEqual(['2024-01-15T18:00:00.000Z']);
  });

  it('decide the offset the CDR poll asks at, and the poll logs what it fetched and stored', async () => {
    await withOwnZone();
    const info = vi.spyOn(logger, 'info');
    await pollVoipmsCdr({ db: testDb.db, client, did: DID, now: new Date('2024-01-15T04:00:00Z') });
    expect(fake.callsTo('getCDR')[0]?.params).toMatchObject({ timezone: '-8' });
    expect(info).toHaveBeenCalledWith('VoIP.ms CDR poll', { fetched: 0, stored: 0, offset: -8 });
    info.mockRestore();
  });

  it('decide the calendar dates the recording poll asks for, and the poll reports its window', async () => {
    await withOwnZone();
    const info = vi.spyOn(logger, 'info');
    // 05:00–06:00Z on 1 October is still 30 September in Los Angeles (already 1 October in New York).
    const now = new Date('2024-10-01T06:00:00Z');
    const result = await pollVoipmsRecordings(
      { db: testDb.db, client, did: DID, account: '100000', now },
      { firstRunLookbackMs: 3_600_000 },
    );
    expect(fake.callsTo('getCallRecordings').map((c) => [c.params.date_from, c.params.date_to])).toEqual([
      ['2024-09-30', '2024-09-30'],
    ]);
    expect(result).toEqual({ from: new Date('2024-10-01T05:00:00Z'), to: now, fetched: 0, stored: 0 });
    expect(info).toHaveBeenCalledWith('VoIP.ms recordings poll', { fetched: 0, queued: 0 });
    info.mockRestore();
  });
});

describe('the recording poll without an account', () => {
  it('takes an account of spaces as none: skipped, with the log naming what to set and the skip counted', async () => {
    const published = metricsPublished();
    const error = vi.spyOn(logger, 'error');
    const result = await pollVoipmsRecordings({ db: testDb.db, client, account: '   ', now: new Date() });
    expect(result).toMatchObject({ fetched: 0, stored: 0, skipped: 'no_account' });
    expect(fake.callsTo('getCallRecordings')).toEqual([]);
    expect(error).toHaveBeenCalledWith(expect.stringContaining('set VOIPMS_ACCOUNT'));
    expect(published()).toContainEqual({
      name: 'VoipmsRecordingPollSkipped',
      dimensions: expect.objectContaining({ reason: 'no_account' }),
    });
    error.mockRestore();
  });
});

describe('call records', () => {
  it('an empty batch stores nothing and sends no statement', async () => {
    await expect(upsertVoipmsCalls(noStatement, [])).resolves.toBe(0);
    await expect(insertVoipmsRecordings(noStatement, [])).resolves.toEqual([]);
  });

  it('a record that cannot be read is skipped with a warning saying why; the others are kept', () => {
    const warn = vi.spyOn(logger, 'warn');
    const calls = normalizeCdrRecords([5 as never, record()], 'UTC');
    expect(calls.map((call) => call.providerCallId)).toEqual(['1700000000.1']);
    expect(warn).toHaveBeenCalledWith('VoIP.ms CDR record skipped', {
      error: expect.stringMatching(/^record \S/),
    });
    warn.mockRestore();
  });

  it('a pushed record that is not an object is refused as the record at fault', () => {
    const request = decodeRequest(
      httpEvent({
        path: '/webhooks/voipms/call/cdr',
        body: JSON.stringify({ cdr: [record(), 5] }),
        headers: { 'content-type': 'application/json' },
      }),
      ['POST'],
    );
    let message = '';
    try {
      parseVoipmsCdr(request);
    } catch (error) {
      if (error instanceof BadRequestError) message = error.message;
    }
    expect(message).toMatch(/^cdr\.1: record \S/);
  });

  it('an empty seconds, rate or total is no value: the duration comes from the clock, the cost is unknown', () => {
    const call = normalizeCdrRecord(record({ seconds: '', rate: '', total: '' }), { timeZone: 'UTC' });
    expect(call).toMatchObject({ durationSeconds: 65, rate: null, cost: null });
  });

  it('a caller id is split into name and number only when it is exactly `name <number>`', () => {
    expect(parseCallerId('Jane <5145550123>x')).toEqual({ name: null, number: 'Jane <5145550123>x' });
    // Only quotes around the whole name are removed.
    expect(parseCallerId('Dr "Bob" <5145550123>').name).toBe('Dr "Bob"');
    // The number repeated as the name, written the same way, is no name.
    expect(parseCallerId('514-555-0123 <514-555-0123>')).toEqual({ name: null, number: '514-555-0123' });
  });
});

describe('the client', () => {
  const stub = (...bodies: (Record<string, unknown> | number)[]) => {
    const seen: URL[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      seen.push(new URL(String(input)));
      const body = bodies[Math.min(seen.length - 1, bodies.length - 1)]!;
      return typeof body === 'number'
        ? new Response('busy', { status: body })
        : new Response(JSON.stringify({ status: 'success', ...body }));
    };
    return { seen, fetch };
  };
  const make = (fetch: typeof globalThis.fetch, options: { retryDelayMs?: number; account?: string } = {}) =>
    createVoipmsClient({
      apiUrl: 'https://voip.example.test/api/v1/rest.php',
      username: 'user@example.com',
      password: 'pw',
      fetch,
      ...options,
    });

  it('refuses a configuration naming each problem apart', () => {
    expect(() => createVoipmsClient({ username: '', password: '' })).toThrow(
      'VoIP.ms client: username (VOIPMS_USERNAME) is required; password (VOIPMS_PASSWORD) is required',
    );
  });

  it('waits the retry delay before repeating a read', async () => {
    const { fetch, seen } = stub(503, {});
    const started = performance.now();
    await make(fetch, { retryDelayMs: 150 }).callApi('getBalance', {}, { idempotent: true });
    expect(seen).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('names the call and the field each refusal is about', async () => {
    const { fetch, seen } = stub({ base64file: '' });
    const voipms = make(fetch);
    const missing = voipms.getCallRecordings({ dateFrom: '2024-01-01', dateTo: '2024-01-02' });
    await expect(missing).rejects.toThrow(VoipmsAccountMissingError);
    await expect(missing).rejects.toThrow(/^getCallRecordings: /);
    await expect(
      voipms.getCallRecordings({ account: '100000', dateFrom: '01/01/2024', dateTo: '2024-01-02' }),
    ).rejects.toThrow(new VoipmsInputError('dateFrom must be a Date or YYYY-MM-DD'));
    await expect(voipms.getDidInfo('')).rejects.toThrow('getDidInfo: did is required');
    expect(seen).toHaveLength(0);
    const empty = voipms.getCallRecording('42', { account: '100000' });
    await expect(empty).rejects.toBeInstanceOf(VoipmsApiError);
    await expect(empty).rejects.toMatchObject({ method: 'getCallRecording', status: 'no_base64file' });
  });

  it('points a DID at an http callback as well as an https one', async () => {
    for (const url of ['http://hooks.example.com/x', 'https://hooks.example.com/x']) {
      const { fetch, seen } = stub({ dids: [{ did: '5551234567' }] }, {});
      const result = await make(fetch).configureSmsCallback({ did: '5551234567', url });
      expect(result.did).toBe('5551234567');
      expect(seen[1]?.searchParams.get('url_callback')).toBe(url);
    }
  });

  it('reads a recording sent as a data: URI with stray spaces around it', () => {
    expect(decodeBase64File('  data:audio/mpeg;base64,QUJD \n').toString()).toBe('ABC');
  });
});

describe('texts', () => {
  const base = { id: '1', from: '5145550123', to: DID, message: 'hi' };
  const arrival = new Date('2024-05-06T12:00:00Z');

  it('names a field of the wrong kind with its path', () => {
    let problems: string[] = [];
    try {
      normalizeVoipmsSms({ ...base, message: {} });
    } catch (error) {
      if (error instanceof VoipmsSmsPayloadError) problems = error.problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^message: \S/)]);
  });

  it.each(['01/15/2024 10:00:00', 'Mon, 15 Jan 2024 10:00:00', '2024-01-15 10:00:00 -0500 (EST)'])(
    'takes a {TIMESTAMP} in none of the forms it reads (%s) as the time the text arrived',
    (date) => {
      expect(normalizeVoipmsSms({ ...base, date }, { now: () => arrival }).receivedAt).toEqual(arrival);
    },
  );

  it('keeps only media URLs given as text, not lists nested in the JSON list', () => {
    expect(parseMedia('[["https://example.com/a.jpg"]]')).toEqual([]);
  });

  it('finds no sent text in an answer that lists none, even for a text without words', async () => {
    const lister = { callApi: async () => ({ status: 'success' }) } as unknown as Pick<
      VoipmsClient,
      'callApi'
    >;
    await expect(
      findSentVoipmsSms(lister, { did: DID, dst: '5145550123', message: '', since: arrival }),
    ).resolves.toEqual([]);
  });

  it('masks a caller id with no digits (anonymous) whole', () => {
    expect(maskNumber('anonymous')).toBe('****');
  });

  it('takes a space carrying a mark as text, not as a place to cut', () => {
    // A space with a combining accent on it (a spacing accent), and a prefix mark fused with the space after it.
    expect(splitText('aaaa \u0301bbbb cccc', 8)).toEqual(['aaaa \u0301bb', 'bb cccc']);
    expect(splitText('aaaa bbb \u0301cc', 8)).toEqual(['aaaa', 'bbb \u0301cc']);
    expect(splitText('aaa bbbb\u0600 ccc', 8)).toEqual(['aaa', 'bbbb\u0600 cc', 'c']);
    expect(splitText('aaaa bbb\u0600 cc', 8)).toEqual(['aaaa', 'bbb\u0600 cc']);
  });
});
