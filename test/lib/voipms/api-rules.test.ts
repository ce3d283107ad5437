// The VoIP.ms API client's rules, each stated against a stub `fetch` so the answer VoIP.ms gives is exact:
// which failures are worth retrying, how parameters travel, which DIDs the practice owns, and what is refused
// before any request. Statuses as listed in VoIP.ms's reference (../shared/reference/voipms). A failed
// connection and the client built from the configuration are stated against local servers instead.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.js';
import {
  createVoipmsClient,
  decodeBase64File,
  VoipmsAccountMissingError,
  VoipmsApiError,
  type VoipmsClientOptions,
  VoipmsInputError,
} from '../../../lib/voipms/index.js';
import { voipmsClientFromConfig } from '../../../lib/voipms/outbound.js';
import { type FakeVoipms, startFakeVoipms } from '../../fakes/voipms-api.js';
import { testEnv } from '../../support/config.js';

interface Seen {
  url: URL;
  method: string;
  body: string;
}

/** A fetch that answers each call with the next of `answers` (the last one repeats) and records the calls. */
function stubFetch(answers: (() => Response | Promise<Response>)[]) {
  const seen: Seen[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    seen.push({
      url: new URL(String(input)),
      method: init?.method ?? 'GET',
      body: init?.body === undefined ? '' : String(init.body),
    });
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
    return answer();
  };
  return { fetch, seen };
}

const ok = (body: Record<string, unknown>) => () =>
  new Response(JSON.stringify({ status: 'success', ...body }));
const status = (code: string) => () => new Response(JSON.stringify({ status: code }));
const http =
  (code: number, text = 'nope') =>
  () =>
    new Response(text, { status: code });

function clientWith(
  answers: (() => Response | Promise<Response>)[],
  options: Partial<VoipmsClientOptions> = {},
) {
  const stub = stubFetch(answers);
  const waits: number[] = [];
  const client = createVoipmsClient({
    apiUrl: 'https://voip.example.test/api/v1/rest.php',
    username: 'user@example.com',
    password: 'pw',
    maxRetries: 2,
    retryDelayMs: 10,
    sleep: async (ms) => {
      waits.push(ms);
    },
    fetch: stub.fetch,
    ...options,
  });
  return { client, seen: stub.seen, waits };
}

async function failure(promise: Promise<unknown>): Promise<VoipmsApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof VoipmsApiError)) throw new Error(`expected a VoipmsApiError, got ${String(error)}`);
  return error;
}

describe('VoIP.ms answers that are not success', () => {
  it.each([
    [500, true],
    [599, true],
    [499, false],
    [428, false],
    [430, false],
  ])(
    'an HTTP %i is an http_error, retryable=%s (a server error or a throttle may pass, a 4xx will not)',
    async (code, retryable) => {
      // Prepare
      const { client } = clientWith([http(code)], { maxRetries: 0 });

      // Act
      const error = await failure(client.callApi('getDIDsInfo', {}, { idempotent: true }));

      // Assess
      expect(error).toMatchObject({ status: 'http_error', httpStatus: code, retryable });
      expect(error.message).toContain(`HTTP ${code}`);
    },
  );

  it.each([
    ['a body that is not JSON', '<html>maintenance</html>'],
    ['JSON without a status', '{"sms": "1"}'],
    ['a status that is not text', '{"status": 1}'],
    ['JSON null', 'null'],
  ])('%s is invalid_response and never retried, even on a read', async (_label, text) => {
    // Prepare
    const { client, seen } = clientWith([() => new Response(text)]);

    // Act
    const error = await failure(client.callApi('getDIDsInfo', {}, { idempotent: true }));

    // Assess
    expect(error).toMatchObject({ status: 'invalid_response', retryable: false });
    expect(seen).toHaveLength(1);
  });

  it('passes a documented refusal through by its own status, and does not retry it', async () => {
    // Prepare
    const { client, seen } = clientWith([status('invalid_did')]);

    // Act
    const error = await failure(client.callApi('getDIDsInfo', { did: '5551234567' }, { idempotent: true }));

    // Assess
    expect(error).toMatchObject({ status: 'invalid_did', retryable: false, method: 'getDIDsInfo' });
    expect(error.message).toBe('VoIP.ms getDIDsInfo failed: invalid_did (This is not a valid DID)');
    expect(seen).toHaveLength(1);
  });

  it('retries a server error on a read, with doubling waits, and succeeds', async () => {
    // Prepare
    const { client, seen, waits } = clientWith([http(503), http(502), ok({ dids: [] })]);

    // Act
    const body = await client.callApi('getDIDsInfo', {}, { idempotent: true });

    // Assess
    expect(body.status).toBe('success');
    expect(seen).toHaveLength(3);
    expect(waits).toEqual([10, 20]);
  });

  it('never retries a server error on a send: VoIP.ms may have taken the text', async () => {
    // Prepare
    const { client, seen, waits } = clientWith([http(503), ok({ sms: 1 })]);

    // Act
    const error = await failure(client.sendSms({ did: '5551234567', dst: '5559876543', message: 'hi' }));

    // Assess
    expect(error).toMatchObject({ status: 'http_error', retryable: true });
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('tries a throttled call exactly maxRetries + 1 times, even a send', async () => {
    // Prepare
    const { client, seen } = clientWith([status('api_limit_exceeded')], { maxRetries: 1 });

    // Act
    const error = await failure(client.sendSms({ did: '5551234567', dst: '5559876543', message: 'hi' }));

    // Assess
    expect(error.status).toBe('api_limit_exceeded');
    expect(seen).toHaveLength(2);
  });

  it('names a dropped connection network_error with its cause, and a timeout after the bound', async () => {
    // Prepare
    const dropped = clientWith(
      [
        () => {
          throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
        },
      ],
      { maxRetries: 0 },
    );
    const slow = clientWith(
      [
        () => {
          throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
        },
      ],
      { maxRetries: 0, timeoutMs: 1234 },
    );
    const aborted = clientWith(
      [
        () => {
          throw new DOMException('aborted', 'AbortError');
        },
      ],
      { maxRetries: 0 },
    );
    const odd = clientWith(
      [
        () => {
          throw 'not an error';
        },
      ],
      { maxRetries: 0 },
    );

    // Act
    const errors = await Promise.all([
      failure(dropped.client.callApi('getCDR')),
      failure(slow.client.callApi('getCDR')),
      failure(aborted.client.callApi('getCDR')),
      failure(odd.client.callApi('getCDR')),
    ]);

    // Assess
    expect(errors.map((e) => [e.status, e.retryable, e.detail])).toEqual([
      ['network_error', true, 'fetch failed (ECONNRESET)'],
      ['timeout', true, 'no answer within 1234 ms'],
      ['timeout', true, 'no answer within 10000 ms'],
      ['network_error', true, 'request failed'],
    ]);
  });
});

describe('how a call travels', () => {
  it('sends booleans as 1 and 0, numbers as text, and leaves out absent parameters', async () => {
    // Prepare
    const { client, seen } = clientWith([ok({})]);

    // Act
    await client.callApi('setSMS', {
      did: 5551234567,
      enable: true,
      url_callback_retry: false,
      a: null,
      b: undefined,
    });

    // Assess
    const params = Object.fromEntries(seen[0]!.url.searchParams);
    expect(params).toEqual({
      api_username: 'user@example.com',
      api_password: 'pw',
      method: 'setSMS',
      did: '5551234567',
      enable: '1',
      url_callback_retry: '0',
    });
    expect(seen[0]!.method).toBe('GET');
  });

  it('as POST puts every parameter in the body and nothing in the URL', async () => {
    // Prepare
    const { client, seen } = clientWith([ok({})], { httpMethod: 'POST' });

    // Act
    await client.callApi('getDIDsInfo', { did: '5551234567' });

    // Assess
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url.search).toBe('');
    expect(Object.fromEntries(new URLSearchParams(seen[0]!.body))).toEqual({
      api_username: 'user@example.com',
      api_password: 'pw',
      method: 'getDIDsInfo',
      did: '5551234567',
    });
  });

  it('refuses options it cannot work with, naming each', () => {
    const base = { username: 'u', password: 'p' };
    expect(() => createVoipmsClient({ ...base, apiUrl: 'ftp://voip.ms/api' })).toThrow(/apiUrl/);
    expect(() => createVoipmsClient({ ...base, apiUrl: 'not a url' })).toThrow(/apiUrl/);
    expect(() => createVoipmsClient({ ...base, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createVoipmsClient({ ...base, timeoutMs: 1.5 })).toThrow(/timeoutMs/);
    expect(() => createVoipmsClient({ ...base, maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => createVoipmsClient({ ...base, maxRetries: 0.5 })).toThrow(/maxRetries/);
    expect(() => createVoipmsClient({ username: 'u', password: undefined })).toThrow(
      'VoIP.ms client: password (VOIPMS_PASSWORD) is required',
    );
    expect(() => createVoipmsClient({ username: '', password: 'p' })).toThrow(
      'VoIP.ms client: username (VOIPMS_USERNAME) is required',
    );
    expect(() =>
      createVoipmsClient({ ...base, apiUrl: 'http://127.0.0.1:9/rest.php', maxRetries: 0 }),
    ).not.toThrow();
  });

  it('takes the account from the options, trimmed, and treats a blank one as none', () => {
    expect(createVoipmsClient({ username: 'u', password: 'p', account: ' 100000 ' }).account).toBe('100000');
    expect(createVoipmsClient({ username: 'u', password: 'p', account: '   ' }).account).toBeUndefined();
  });
});

describe('DID ownership', () => {
  it('finds the DID among those getDIDsInfo lists, whatever format it was given in', async () => {
    // Prepare
    const { client, seen } = clientWith([
      ok({ dids: [{ did: '5550000001' }, { did: '5551234567', sms_enabled: '1' }] }),
    ]);

    // Act
    const info = await client.getDidInfo('+1 (555) 123-4567');

    // Assess
    expect(info).toEqual({ did: '5551234567', sms_enabled: '1' });
    expect(seen[0]!.url.searchParams.get('did')).toBe('5551234567');
  });

  it('answers no_did when the account lists only other DIDs, or none', async () => {
    // Prepare
    const others = clientWith([ok({ dids: [{ did: '5550000001' }] })]);
    const none = clientWith([ok({})]);

    // Act
    const errors = [
      await failure(others.client.getDidInfo('5551234567')),
      await failure(none.client.getDidInfo('5551234567')),
    ];

    // Assess
    for (const error of errors) {
      expect(error).toMatchObject({ status: 'no_did', method: 'getDIDsInfo', retryable: false });
      expect(error.message).toContain('DID not on this account');
    }
  });

  it('refuses a missing DID before asking', async () => {
    const { client, seen } = clientWith([ok({})]);
    await expect(client.getDidInfo('')).rejects.toThrow(VoipmsInputError);
    expect(seen).toHaveLength(0);
  });

  it('never points a DID without SMS at our callback, and writes nothing', async () => {
    // Prepare
    const { client, seen } = clientWith([ok({ dids: [{ did: '5551234567', sms_available: '0' }] }), ok({})]);

    // Act
    const result = client.configureSmsCallback({ did: '5551234567', url: 'https://hooks.example.com/x' });

    // Assess
    await expect(result).rejects.toThrow('configureSmsCallback: SMS is not available on DID 5551234567');
    expect(seen.map((call) => call.url.searchParams.get('method'))).toEqual(['getDIDsInfo']);
  });

  it('takes a DID that does not say whether SMS is available as available', async () => {
    // Prepare
    const { client, seen } = clientWith([ok({ dids: [{ did: '5551234567' }] }), ok({})]);

    // Act
    const result = await client.configureSmsCallback({
      did: '5551234567',
      url: 'https://hooks.example.com/x',
      enabled: false,
    });

    // Assess
    expect(seen.map((call) => call.url.searchParams.get('method'))).toEqual(['getDIDsInfo', 'setSMS']);
    const set = Object.fromEntries(seen[1]!.url.searchParams);
    expect(set).toMatchObject({
      did: '5551234567',
      enable: '0',
      url_callback_enable: '0',
      url_callback_retry: '1',
    });
    expect(result.changed).toMatchObject({ enable: { from: undefined, to: '0' } });
  });

  it.each(['mailto:front@example.com', 'not a url'])(
    'refuses a callback URL that is not http(s): %s',
    async (url) => {
      const { client, seen } = clientWith([ok({})]);
      await expect(client.configureSmsCallback({ did: '5551234567', url })).rejects.toThrow(
        'configureSmsCallback: url must be an absolute http(s) URL',
      );
      expect(seen).toHaveLength(0);
    },
  );
});

describe('requests refused before they are made', () => {
  it('getCdr: a timezone from -12 to 13 and a range of at most 92 days are allowed, no more', async () => {
    // Prepare
    const { client, seen } = clientWith([status('no_cdr')]);

    // Act / Assess
    expect(await client.getCdr({ from: '2024-01-01', to: '2024-04-02', timezone: -12 })).toEqual([]);
    expect(await client.getCdr({ from: '2024-01-01', to: '2024-01-01', timezone: 13 })).toEqual([]);
    await expect(client.getCdr({ from: '2024-01-01', to: '2024-04-03', timezone: 0 })).rejects.toThrow(
      'getCdr: VoIP.ms allows at most 92 days per call',
    );
    await expect(client.getCdr({ from: '2024-01-02', to: '2024-01-01', timezone: 0 })).rejects.toThrow(
      'getCdr: from is after to',
    );
    await expect(client.getCdr({ from: '2024-01-01', to: '2024-01-01', timezone: -13 })).rejects.toThrow(
      /-12 to 13/,
    );
    await expect(
      client.getCdr({ from: '2024-01-01', to: '2024-01-01', timezone: Number.NaN }),
    ).rejects.toThrow(/-12 to 13/);
    await expect(client.getCdr({ from: '01/01/2024', to: '2024-01-01', timezone: 0 })).rejects.toThrow(
      'from must be a Date or YYYY-MM-DD',
    );
    await expect(client.getCdr({ from: '2024-01-01', to: '2024-13-45', timezone: 0 })).rejects.toThrow(
      'to must be a Date or YYYY-MM-DD',
    );
    await expect(
      client.getCdr({ from: new Date(Number.NaN), to: '2024-01-01', timezone: 0 }),
    ).rejects.toThrow('from is not a valid date');
    expect(seen).toHaveLength(2);
  });

  it('getCdr: any other refusal than no_cdr is an error, not an empty list', async () => {
    const { client } = clientWith([status('invalid_daterange')]);
    const error = await failure(client.getCdr({ from: '2024-01-01', to: '2024-01-01', timezone: 0 }));
    expect(error.status).toBe('invalid_daterange');
  });

  it('sendSms: a DID, a destination, some text or media, at most three media', async () => {
    const { client, seen } = clientWith([ok({ sms: 1 })]);
    await expect(client.sendSms({ did: '', dst: '5559876543', message: 'hi' })).rejects.toThrow(
      'sendSms: did is required',
    );
    await expect(client.sendSms({ did: '5551234567', dst: 'abc', message: 'hi' })).rejects.toThrow(
      'sendSms: dst is required',
    );
    await expect(client.sendSms({ did: '5551234567', dst: '5559876543', message: '   ' })).rejects.toThrow(
      'sendSms: message is empty',
    );
    const media = [
      'https://m.example/1',
      'https://m.example/2',
      'https://m.example/3',
      'https://m.example/4',
    ];
    await expect(
      client.sendSms({ did: '5551234567', dst: '5559876543', message: 'hi', mediaUrls: media }),
    ).rejects.toThrow('sendSms: VoIP.ms MMS takes at most 3 media');
    expect(seen).toHaveLength(0);
  });

  it('sendSms: media alone goes as one MMS with an empty message and the media on it', async () => {
    // Prepare
    const { client, seen } = clientWith([ok({ mms: 77 })]);

    // Act
    const result = await client.sendSms({
      did: '15551234567',
      dst: '+1 555 987 6543',
      message: '',
      mediaUrls: ['https://m.example/1', 'https://m.example/2'],
    });

    // Assess
    expect(result).toEqual({ method: 'sendMMS', ids: ['77'], parts: [''] });
    expect(Object.fromEntries(seen[0]!.url.searchParams)).toMatchObject({
      method: 'sendMMS',
      did: '5551234567',
      dst: '5559876543',
      message: '',
      media1: 'https://m.example/1',
      media2: 'https://m.example/2',
    });
  });

  it('getCallRecording: an id is required, and an answer without audio is no_base64file', async () => {
    const { client, seen } = clientWith([ok({ base64file: '' })], { account: '100000' });
    await expect(client.getCallRecording('')).rejects.toThrow('getCallRecording: id is required');
    expect(seen).toHaveLength(0);
    const error = await failure(client.getCallRecording('REC1'));
    expect(error).toMatchObject({ status: 'no_base64file', retryable: false });
  });

  it('getCallRecordings: pages until a short page, reading each page once', async () => {
    // Prepare
    const row = (id: string) => ({ callrecording: id });
    const { client, seen } = clientWith(
      [ok({ recordings: [row('a'), row('b')] }), ok({ recordings: [row('c')] })],
      {
        account: '100000',
      },
    );

    // Act
    const rows = await client.getCallRecordings({
      dateFrom: new Date('2024-07-01T23:30:00Z'),
      dateTo: '2024-07-02',
      pageSize: 2,
      callType: 'incoming',
    });

    // Assess
    expect(rows.map((r) => r.callrecording)).toEqual(['a', 'b', 'c']);
    expect(seen.map((call) => Object.fromEntries(call.url.searchParams))).toEqual([
      expect.objectContaining({ start: '0', length: '2', call_type: 'incoming', date_from: '2024-07-01' }),
      expect.objectContaining({ start: '2', length: '2', date_to: '2024-07-02', account: '100000' }),
    ]);
  });
});

describe('recording bytes', () => {
  it('decodes plain, quoted, escaped, spaced and data: URI base64 alike, and nothing from a non-string', () => {
    const bytes = Buffer.from('ID3\u0000\u00ff/+?', 'latin1');
    const b64 = bytes.toString('base64');
    expect(decodeBase64File(b64).equals(bytes)).toBe(true);
    expect(decodeBase64File(`"${b64.replaceAll('/', '\\/')}"`).equals(bytes)).toBe(true);
    expect(decodeBase64File(` ${b64.slice(0, 4)} \n${b64.slice(4)} `).equals(bytes)).toBe(true);
    expect(decodeBase64File(`data:audio/mpeg;base64,${b64}`).equals(bytes)).toBe(true);
    expect(decodeBase64File(`"data:audio/mpeg;base64,${b64.replaceAll('/', '\\/')}"`).equals(bytes)).toBe(
      true,
    );
    expect(decodeBase64File(` " data:audio/mpeg;base64,${b64}" `).equals(bytes)).toBe(true);
    expect(decodeBase64File(undefined).length).toBe(0);
    expect(decodeBase64File(42).length).toBe(0);
  });
});

describe('more of how calls travel', () => {
  it('asks for JSON', async () => {
    const seenHeaders: unknown[] = [];
    const client = createVoipmsClient({
      username: 'u',
      password: 'p',
      fetch: async (_url, init) => {
        seenHeaders.push(init?.headers);
        return new Response('{"status":"success"}');
      },
    });
    await client.callApi('getDIDsInfo');
    expect(seenHeaders).toEqual([{ accept: 'application/json' }]);
  });

  it('redacts the password from a failure however it was encoded', async () => {
    const password = 'p w+&=';
    const form = new URLSearchParams({ p: password }).toString().slice(2);
    const { client } = clientWith(
      [
        () => {
          throw new Error(
            `failed at ?api_password=${form} (or ${encodeURIComponent(password)} or ${password})`,
          );
        },
      ],
      { password, maxRetries: 0 },
    );
    const error = await failure(client.callApi('getCDR'));
    expect(error.detail).toBe('failed at ?api_password=[redacted] (or [redacted] or [redacted])');
  });

  it('retries a server error when reading a recording or a DID (reads are safe to repeat)', async () => {
    const recording = clientWith([http(503), ok({ base64file: Buffer.from('ID3').toString('base64') })], {
      account: '100000',
    });
    const did = clientWith([http(503), ok({ dids: [{ did: '5551234567' }] })]);
    expect((await recording.client.getCallRecording('R1')).toString()).toBe('ID3');
    expect(await did.client.getDidInfo('5551234567')).toEqual({ did: '5551234567' });
    expect([recording.seen.length, did.seen.length]).toEqual([2, 2]);
  });

  it('names the method and the setting when no recording account is known, and trims a given one', async () => {
    const { client, seen } = clientWith([ok({ base64file: 'SUQz' })]);
    const missing = (await client.getCallRecording('R1').catch((e: unknown) => e)) as Error;
    expect(missing.name).toBe('VoipmsAccountMissingError');
    expect(missing.message).toBe(
      'getCallRecording: VoIP.ms requires the account (or sub-account, e.g. 100000 or 100000_VoIP) that holds the ' +
        'recordings; set VOIPMS_ACCOUNT (param voipmsAccount)',
    );
    await client.getCallRecording('R1', { account: ' 100000_A ' });
    expect(seen[0]!.url.searchParams.get('account')).toBe('100000_A');
  });

  it('asks for every call type unless told, and stops after 100 full pages', async () => {
    const { client, seen } = clientWith([ok({ recordings: [{ callrecording: 'x' }] })], { account: '1' });
    const rows = await client.getCallRecordings({
      dateFrom: '2024-07-01',
      dateTo: '2024-07-01',
      pageSize: 1,
    });
    expect(rows).toHaveLength(100);
    expect(seen).toHaveLength(100);
    expect(seen[0]!.url.searchParams.get('call_type')).toBe('all');
  });

  it('puts the media on the first part of a long MMS only, and reports the parts sent before a failure', async () => {
    const { client, seen } = clientWith([ok({ mms: 1 }), status('invalid_dst')]);
    const error = await failure(
      client.sendSms({
        did: '5551234567',
        dst: '5559876543',
        message: 'word '.repeat(500),
        mediaUrls: ['https://m/1'],
      }),
    );
    expect(seen.map((call) => call.url.searchParams.get('media1'))).toEqual(['https://m/1', null]);
    expect(error.sentIds).toEqual(['1']);
    const first = clientWith([status('invalid_dst')]);
    const none = await failure(first.client.sendSms({ did: '5551234567', dst: '5559876543', message: 'hi' }));
    expect(none.sentIds).toEqual([]);
  });

  it('accepts exactly three media', async () => {
    const { client } = clientWith([ok({ mms: 5 })]);
    const media = ['https://m/1', 'https://m/2', 'https://m/3'];
    expect(
      (await client.sendSms({ did: '5551234567', dst: '5559876543', message: 'x', mediaUrls: media })).ids,
    ).toEqual(['5']);
  });
});

describe('pointing a DID at our callback', () => {
  const URL_CALLBACK = 'https://hooks.example.com/webhooks/voipms/sms/incoming?token=t&to={TO}';

  it('reports as changed only what it changed, and as kept only what it sent back as it was', async () => {
    // Prepare: SMS on, mail copies on, a callback switched off that already retried.
    const { client } = clientWith([
      ok({
        dids: [
          {
            did: '5551234567',
            sms_enabled: '1',
            sms_email_enabled: '1',
            sms_email: 'front@example.com',
            sms_url_callback_enabled: '0',
            sms_url_callback: '',
            sms_url_callback_retry: '1',
          },
        ],
      }),
      ok({}),
    ]);

    // Act
    const result = await client.configureSmsCallback({ did: '5551234567', url: URL_CALLBACK });

    // Assess
    expect(result.changed).toEqual({
      url_callback_enable: { from: '0', to: '1' },
      url_callback: { from: '', to: URL_CALLBACK },
    });
    expect([...result.kept].sort()).toEqual([
      'email_address',
      'email_enabled',
      'enable',
      'url_callback_retry',
    ]);
    expect(result.kept).not.toContain('url_callback');
    expect(result.kept).not.toContain('url_callback_enable');
  });

  it('leaves out a setting the DID reports as null: sent as nothing, never as the text "null"', async () => {
    // Prepare: VoIP.ms reports an unset mail address and forward number as JSON null.
    const { client, seen } = clientWith([
      ok({ dids: [{ did: '5551234567', sms_enabled: '1', sms_email: null, sms_forward: null }] }),
      ok({}),
    ]);

    // Act
    const result = await client.configureSmsCallback({ did: '5551234567', url: URL_CALLBACK });

    // Assess
    const set = Object.fromEntries(seen[1]!.url.searchParams);
    expect(set).toEqual({
      api_username: 'user@example.com',
      api_password: 'pw',
      method: 'setSMS',
      did: '5551234567',
      enable: '1',
      url_callback_enable: '1',
      url_callback: URL_CALLBACK,
      url_callback_retry: '1',
    });
    expect(result.kept).toEqual(['enable']);
  });
});

describe('dates given as text', () => {
  it.each([
    '2024-01-01T00:00',
    '2024-01-01 10:00:00',
    '2024-01-01 ',
    '2024-01-011',
    ' 2024-01-01',
    'On 2024-01-01',
    '12024-01-01',
  ])(
    '%j is refused before any request: a date is exactly YYYY-MM-DD, nothing before or after',
    async (text) => {
      // Prepare
      const { client, seen } = clientWith([status('no_cdr')], { account: '100000' });

      // Act
      const cdr = client.getCdr({ from: text, to: '2024-01-02', timezone: 0 });
      const recordings = client.getCallRecordings({ dateFrom: '2024-01-01', dateTo: text });

      // Assess
      await expect(cdr).rejects.toThrow(VoipmsInputError);
      await expect(cdr).rejects.toThrow('from must be a Date or YYYY-MM-DD');
      await expect(recordings).rejects.toThrow(VoipmsInputError);
      await expect(recordings).rejects.toThrow('dateTo must be a Date or YYYY-MM-DD');
      expect(seen).toHaveLength(0);
    },
  );
});

describe('what a failed connection is called', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** A server on 127.0.0.1 that answers every request with `answer`; its rest.php URL. */
  async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
    const server = createServer(answer);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/rest.php`;
  }

  const realClient = (apiUrl: string) =>
    createVoipmsClient({ apiUrl, username: 'user@example.com', password: 'pw', maxRetries: 0 });

  it('a server that drops the connection: the message with the socket error code in brackets', async () => {
    // Prepare
    const apiUrl = await serve((req) => req.socket.destroy());

    // Act
    const error = await failure(realClient(apiUrl).callApi('getCDR'));

    // Assess
    expect(error).toMatchObject({
      status: 'network_error',
      retryable: true,
      detail: 'fetch failed (UND_ERR_SOCKET)',
    });
  });

  it('a server that redirects forever: the bare message, its cause having no code', async () => {
    // Prepare
    const apiUrl = await serve((req, res) => {
      res.writeHead(302, { location: req.url ?? '/' });
      res.end();
    });

    // Act
    const error = await failure(realClient(apiUrl).callApi('getCDR'));

    // Assess
    expect(error).toMatchObject({ status: 'network_error', retryable: true, detail: 'fetch failed' });
  });

  it.each([
    ['no cause', new Error('socket hang up'), 'socket hang up'],
    ['a cause without a code', new Error('socket hang up', { cause: new Error('closed') }), 'socket hang up'],
    ['a cause that is text', new Error('socket hang up', { cause: 'ECONNRESET' }), 'socket hang up'],
    ['a null cause', new Error('socket hang up', { cause: null }), 'socket hang up'],
    [
      'a cause with a code',
      new Error('socket hang up', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }),
      'socket hang up (ECONNRESET)',
    ],
  ])('a fetch failing with %s: %j', async (_label, thrown, detail) => {
    // Prepare
    const { client } = clientWith(
      [
        () => {
          throw thrown;
        },
      ],
      { maxRetries: 0 },
    );

    // Act
    const error = await failure(client.callApi('getCDR'));

    // Assess
    expect(error).toMatchObject({ status: 'network_error', retryable: true, detail });
  });
});

describe('the client built from the configuration', () => {
  let fake: FakeVoipms | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  const configFor = (api: FakeVoipms, account?: string) =>
    loadConfig({
      ...testEnv(),
      VOIPMS_API_URL: api.url,
      VOIPMS_USERNAME: api.username,
      VOIPMS_PASSWORD: api.password,
      ...(account === undefined ? {} : { VOIPMS_ACCOUNT: account }),
    });

  it('calls the configured API with the configured credentials, and reads recordings of VOIPMS_ACCOUNT', async () => {
    // Prepare
    fake = await startFakeVoipms({ account: '100000' });
    fake.seedRecording({
      id: 'REC-CFG',
      datetime: '2024-08-01 10:00:00',
      mp3: Buffer.from('a'),
      account: '100000_A',
    });
    const client = voipmsClientFromConfig(configFor(fake, '100000_A'));

    // Act
    const rows = await client.getCallRecordings({ dateFrom: '2024-08-01', dateTo: '2024-08-01' });

    // Assess
    expect(client.account).toBe('100000_A');
    expect(rows.map((row) => row.callrecording)).toEqual(['REC-CFG']);
    expect(fake.callsTo('getCallRecordings').map((call) => call.params.account)).toEqual(['100000_A']);
  });

  it('has no recording account when VOIPMS_ACCOUNT is not set, and asks nothing without one', async () => {
    // Prepare
    fake = await startFakeVoipms();
    const client = voipmsClientFromConfig(configFor(fake));

    // Act
    const missing = await client
      .getCallRecordings({ dateFrom: '2024-08-01', dateTo: '2024-08-01' })
      .catch((error: unknown) => error);

    // Assess
    expect(client.account).toBeUndefined();
    expect(missing).toBeInstanceOf(VoipmsAccountMissingError);
    expect(fake.calls).toEqual([]);
  });
});
