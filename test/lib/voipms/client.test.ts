import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  asArray,
  buildSmsCallbackUrl,
  createVoipmsClient,
  fixedOffsetZone,
  normalizeCdrRecord,
  normalizeRecording,
  normalizeVoipmsSms,
  parseCallerId,
  splitSms,
  VoipmsAccountMissingError,
  VoipmsApiError,
  VoipmsCdrError,
  type VoipmsCdrInput,
  type VoipmsClient,
  type VoipmsClientOptions,
  VoipmsInputError,
  VoipmsSmsPayloadError,
  voipmsCdrPayloadSchema,
} from '../../../lib/voipms/index.js';
import {
  type FakeCdrSeed,
  type FakeVoipms,
  startFakeVoipms,
  VOIPMS_STATUSES,
} from '../../fakes/voipms-api.js';

// ---- factories ----

const DID = '5551234567';
const PATIENT = '5559876543';

function voipmsClient(fake: FakeVoipms, overrides: Partial<VoipmsClientOptions> = {}): VoipmsClient {
  return createVoipmsClient({
    apiUrl: fake.url,
    username: fake.username,
    password: fake.password,
    timeoutMs: 2000,
    retryDelayMs: 1,
    ...overrides,
  });
}

function cdrSeed(overrides: Partial<FakeCdrSeed> = {}): FakeCdrSeed {
  return {
    startedAt: new Date('2024-07-01T16:00:00Z'),
    callerid: '"John Doe" <5551112222>',
    destination: DID,
    description: 'Inbound - Local Caller',
    disposition: 'ANSWERED',
    seconds: 65,
    uniqueid: '128238059',
    total: '0.01230000',
    rate: '0.00950000',
    ...overrides,
  };
}

function cdrRecord(overrides: Partial<VoipmsCdrInput> = {}): VoipmsCdrInput {
  return {
    date: '2010-11-30 10:40:16',
    callerid: '"John Doe" <5551112222>',
    destination: '5551234567',
    description: 'Inbound - Local Caller',
    account: '100000_VoIP',
    disposition: 'ANSWERED',
    duration: '00:00:11',
    seconds: '11',
    rate: '0.00000000',
    total: '0.00000000',
    uniqueid: '128238059',
    ...overrides,
  };
}

function smsCallback(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    to: DID,
    from: PATIENT,
    message: 'Can I book a cleaning?',
    id: '111120',
    date: '2024-07-01 09:15:00',
    media: '',
    ...overrides,
  };
}

async function caught(promise: Promise<unknown>): Promise<VoipmsApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VoipmsApiError) return error;
    throw error;
  }
  throw new Error('expected a VoipmsApiError');
}

const TWO_PART_TEXT =
  'Hi! This is a reminder of your appointment at the dental office tomorrow at 10:30. ' +
  'Please arrive 10 minutes early and bring your insurance card. Reply C to confirm or R to reschedule.';

let fake: FakeVoipms;
let client: VoipmsClient;

beforeEach(async () => {
  fake = await startFakeVoipms();
  client = voipmsClient(fake);
});

afterEach(async () => {
  await fake.close();
});

describe('callApi', () => {
  it('sends credentials, method and parameters as VoIP.ms expects', async () => {
    // Prepare
    // Act
    const body = await client.callApi('getDIDsInfo', { did: DID });

    // Assess
    expect(body.status).toBe('success');
    expect(fake.calls).toEqual([
      { method: 'getDIDsInfo', params: { did: DID }, httpMethod: 'GET', passwordInUrl: true },
    ]);
  });

  it('can send parameters as a POST form so the password stays out of the URL', async () => {
    // Prepare
    const postClient = voipmsClient(fake, { httpMethod: 'POST' });

    // Act
    await postClient.sendSms({ did: DID, dst: PATIENT, message: 'hello' });

    // Assess
    expect(fake.calls[0]).toMatchObject({ method: 'sendSMS', httpMethod: 'POST', passwordInUrl: false });
  });

  it('refuses to build a client without credentials, naming what is missing', () => {
    // Act / Assess
    expect(() => createVoipmsClient({ username: undefined, password: '' })).toThrow(VoipmsInputError);
    expect(() => createVoipmsClient({ username: undefined, password: '' })).toThrow(/username.*password/);
  });

  it('classifies every documented VoIP.ms status: only api_limit_exceeded is worth retrying', async () => {
    // Prepare
    const noRetry = voipmsClient(fake, { maxRetries: 0 });
    expect(VOIPMS_STATUSES.length).toBeGreaterThan(400);
    for (const status of VOIPMS_STATUSES) fake.failWith('getDIDsInfo', status);

    // Act
    const results: Array<[string, boolean]> = [];
    for (const status of VOIPMS_STATUSES) {
      const error = await caught(noRetry.callApi('getDIDsInfo', { did: DID }));
      expect(error.status).toBe(status);
      results.push([status, error.retryable]);
    }

    // Assess
    expect(results.filter(([, retryable]) => retryable).map(([status]) => status)).toEqual([
      'api_limit_exceeded',
    ]);
    const permanent = new Map(results);
    for (const status of [
      'invalid_dst',
      'sms_toolong',
      'invalid_credentials',
      'ip_not_enabled',
      'missing_did',
    ]) {
      expect(permanent.get(status)).toBe(false);
    }
  });

  it('names the status and its meaning in the message', async () => {
    // Prepare
    fake.failWith('sendSMS', 'ip_not_enabled');

    // Act
    const error = await caught(client.sendSms({ did: DID, dst: PATIENT, message: 'hi' }));

    // Assess
    expect(error.message).toBe('VoIP.ms sendSMS failed: ip_not_enabled (This IP is not enabled for API use)');
    expect(error.method).toBe('sendSMS');
  });

  it('waits and retries api_limit_exceeded, then succeeds', async () => {
    // Prepare
    const waits: number[] = [];
    const patient = voipmsClient(fake, {
      retryDelayMs: 100,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    fake.limitExceeded('sendSMS', 2);

    // Act
    const result = await patient.sendSms({ did: DID, dst: PATIENT, message: 'hi' });

    // Assess
    expect(result.ids).toHaveLength(1);
    expect(fake.callsTo('sendSMS')).toHaveLength(3);
    expect(waits).toEqual([100, 200]);
    expect(fake.sent).toHaveLength(1);
  });

  it('gives up after maxRetries with a retryable error for the queue to redeliver', async () => {
    // Prepare
    fake.limitExceeded('sendSMS', 5);

    // Act
    const error = await caught(client.sendSms({ did: DID, dst: PATIENT, message: 'hi' }));

    // Assess
    expect(error).toMatchObject({ status: 'api_limit_exceeded', retryable: true });
    expect(fake.callsTo('sendSMS')).toHaveLength(3);
  });

  it('reports a dropped connection as a retryable network_error and does not resend a message itself', async () => {
    // Prepare
    fake.dropConnection('sendSMS');

    // Act
    const error = await caught(client.sendSms({ did: DID, dst: PATIENT, message: 'hi' }));

    // Assess
    expect(error).toMatchObject({ status: 'network_error', retryable: true });
    expect(fake.callsTo('sendSMS')).toHaveLength(1);
  });

  it('retries a dropped connection on read-only calls', async () => {
    // Prepare
    fake.seedCdr(cdrSeed());
    fake.dropConnection('getCDR');

    // Act
    const rows = await client.getCdr({ from: '2024-07-01', to: '2024-07-01', timezone: 0 });

    // Assess
    expect(rows).toHaveLength(1);
    expect(fake.callsTo('getCDR')).toHaveLength(2);
  });

  it('times out a slow answer with a retryable timeout error', async () => {
    // Prepare
    const impatient = voipmsClient(fake, { timeoutMs: 50 });
    fake.delay('sendSMS', 500);

    // Act
    const error = await caught(impatient.sendSms({ did: DID, dst: PATIENT, message: 'hi' }));

    // Assess
    expect(error).toMatchObject({ status: 'timeout', retryable: true });
    expect(error.message).toContain('50 ms');
  });

  it.each([
    [503, true],
    [502, true],
    [429, true],
    [404, false],
  ])('treats HTTP %i as retryable=%s', async (code, retryable) => {
    // Prepare
    fake.httpError('sendSMS', code);

    // Act
    const error = await caught(client.sendSms({ did: DID, dst: PATIENT, message: 'hi' }));

    // Assess
    expect(error).toMatchObject({ status: 'http_error', httpStatus: code, retryable });
  });

  it('never lets the API password into errors, whatever failed', async () => {
    // Prepare
    const secrets = [
      fake.password,
      encodeURIComponent(fake.password),
      new URLSearchParams({ p: fake.password }).toString().slice(2),
    ];
    const wrong = createVoipmsClient({
      apiUrl: fake.url,
      username: fake.username,
      password: 'Wr0ng&P=ss',
      maxRetries: 0,
    });
    const leakyFetch: typeof fetch = async (url) => {
      throw new TypeError(`fetch failed for ${String(url)}`, { cause: { code: 'ECONNREFUSED' } });
    };
    const leaky = voipmsClient(fake, { fetch: leakyFetch, maxRetries: 0 });
    const slow = voipmsClient(fake, { timeoutMs: 30 });
    fake.dropConnection('sendSMS');
    fake.httpError('getDIDsInfo', 500, 3);
    fake.delay('getCDR', 300, 3);

    // Act
    const errors = [
      await caught(client.sendSms({ did: DID, dst: PATIENT, message: 'hi' })),
      await caught(client.callApi('getDIDsInfo', {}, { idempotent: true })),
      await caught(slow.getCdr({ from: '2024-07-01', to: '2024-07-01', timezone: 0 })),
      await caught(leaky.sendSms({ did: DID, dst: PATIENT, message: 'hi' })),
      await caught(wrong.sendSms({ did: DID, dst: PATIENT, message: 'hi' })),
    ];

    // Assess
    expect(errors.map((e) => e.status)).toEqual([
      'network_error',
      'http_error',
      'timeout',
      'network_error',
      'invalid_credentials',
    ]);
    expect(errors[3]?.message).toContain('[redacted]');
    for (const error of errors) {
      const views = [
        error.message,
        String(error.stack),
        JSON.stringify(error),
        inspect(error, { depth: 10 }),
      ];
      for (const view of views) {
        for (const secret of [...secrets, 'Wr0ng&P=ss', 'Wr0ng%26P%3Dss']) expect(view).not.toContain(secret);
      }
    }
    expect(inspect(client, { depth: 10 })).not.toContain(fake.password);
  });
});

describe('sendSms', () => {
  it('sends a short text as one sendSMS with 10-digit numbers', async () => {
    // Act
    const result = await client.sendSms({ did: `+1${DID}`, dst: `+1${PATIENT}`, message: 'See you at 3pm.' });

    // Assess
    expect(result).toEqual({ method: 'sendSMS', ids: ['23434'], parts: ['See you at 3pm.'] });
    expect(fake.callsTo('sendSMS').map((c) => c.params)).toEqual([
      { did: DID, dst: PATIENT, message: 'See you at 3pm.' },
    ]);
  });

  it('splits a longer text at 160 characters on a word boundary, one sendSMS per part', async () => {
    // Act
    const result = await client.sendSms({ did: DID, dst: PATIENT, message: TWO_PART_TEXT });

    // Assess
    const sentTexts = fake.callsTo('sendSMS').map((c) => c.params.message);
    expect(sentTexts).toEqual([
      'Hi! This is a reminder of your appointment at the dental office tomorrow at 10:30. Please arrive 10 ' +
        'minutes early and bring your insurance card. Reply C to',
      'confirm or R to reschedule.',
    ]);
    expect(result.ids).toEqual(['23434', '23435']);
    expect(sentTexts.join(' ')).toBe(TWO_PART_TEXT);
  });

  // 160 characters (code points) of Spanish with accents and two emoji: 173 bytes of UTF-8, 162 UTF-16 units.
  const SPANISH_160 =
    'Hola María: su cita en la clínica está confirmada para mañana miércoles a las 10:30. ' +
    'Responda SÍ para confirmar o NO para cambiarla. ¡Gracias, les esperamos! 😀🦷';

  it('counts characters as VoIP.ms does: 160 accented characters and emoji are one SMS', async () => {
    // Act
    const result = await client.sendSms({ did: DID, dst: PATIENT, message: SPANISH_160 });

    // Assess
    expect(result).toEqual({ method: 'sendSMS', ids: ['23434'], parts: [SPANISH_160] });
    expect(fake.sent.map((sent) => [sent.kind, sent.message])).toEqual([['sms', SPANISH_160]]);
  });

  it('cuts at the 161st character, never inside an emoji', async () => {
    // Act
    const result = await client.sendSms({ did: DID, dst: PATIENT, message: `${SPANISH_160} 🙂` });

    // Assess
    expect(result.parts).toEqual([SPANISH_160, '🙂']);
    expect(fake.callsTo('sendSMS')).toHaveLength(2);
  });

  it('keeps three parts of accented text as SMS instead of switching to MMS early', async () => {
    // Prepare: 482 characters, 519 bytes.
    const message = [SPANISH_160, SPANISH_160, SPANISH_160].join(' ');

    // Act
    const result = await client.sendSms({ did: DID, dst: PATIENT, message });

    // Assess
    expect(result).toMatchObject({ method: 'sendSMS', parts: [SPANISH_160, SPANISH_160, SPANISH_160] });
    expect(fake.callsTo('sendMMS')).toHaveLength(0);
  });

  it('is refused by VoIP.ms from a DID that is not on the account, or has SMS off', async () => {
    // Prepare
    fake.seedDid('5550001111', { sms_enabled: '0' });

    // Act
    const notOurs = await caught(client.sendSms({ did: '5559990000', dst: PATIENT, message: 'hi' }));
    const smsOff = await caught(client.sendSms({ did: '5550001111', dst: PATIENT, message: 'hi' }));

    // Assess
    expect([notOurs.status, smsOff.status]).toEqual(['invalid_did', 'sms_failed']);
    expect([notOurs.retryable, smsOff.retryable]).toEqual([false, false]);
    expect(fake.sent).toEqual([]);
  });

  it('sends text needing more than 3 SMS parts as a single sendMMS', async () => {
    // Prepare
    const long = 'Our office policy: '.concat('please arrive early for paperwork. '.repeat(20)).trim();

    // Act
    const result = await client.sendSms({ did: DID, dst: PATIENT, message: long });

    // Assess
    expect(result).toMatchObject({ method: 'sendMMS', ids: ['23434'] });
    expect(fake.callsTo('sendSMS')).toHaveLength(0);
    expect(fake.callsTo('sendMMS').map((c) => c.params)).toEqual([{ did: DID, dst: PATIENT, message: long }]);
  });

  it('sends media as MMS with media1..n', async () => {
    // Act
    await client.sendSms({
      did: DID,
      dst: PATIENT,
      message: 'Map',
      mediaUrls: ['https://example.com/map.png'],
    });

    // Assess
    expect(fake.sent).toMatchObject([
      { kind: 'mms', message: 'Map', media: ['https://example.com/map.png'] },
    ]);
  });

  it('fails permanently on invalid_dst and reports the parts already sent', async () => {
    // Prepare
    fake.failWith('sendSMS', 'invalid_dst', 1, 1);

    // Act
    const error = await caught(client.sendSms({ did: DID, dst: PATIENT, message: TWO_PART_TEXT }));

    // Assess
    expect(error).toMatchObject({ status: 'invalid_dst', retryable: false, sentIds: ['23434'] });
  });

  it('refuses an empty message before calling VoIP.ms', async () => {
    // Act / Assess
    await expect(client.sendSms({ did: DID, dst: PATIENT, message: '   ' })).rejects.toThrow(
      VoipmsInputError,
    );
    expect(fake.calls).toHaveLength(0);
  });

  it('always yields parts within 160 characters that rebuild the text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 600 }), (text) => {
        const parts = splitSms(text);
        for (const part of parts) {
          expect([...part].length).toBeLessThanOrEqual(160);
          expect(part.length).toBeGreaterThan(0);
        }
        expect(parts.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
      }),
      { numRuns: 300 },
    );
  });
});

describe('bare-object quirk', () => {
  it('asArray accepts an array, a bare object or nothing', () => {
    expect(asArray([1, 2])).toEqual([1, 2]);
    expect(asArray({ a: 1 })).toEqual([{ a: 1 }]);
    expect(asArray(undefined)).toEqual([]);
  });

  it('getCdr returns a list when VoIP.ms answers one record as a bare object', async () => {
    // Prepare
    fake.seedCdr(cdrSeed());
    fake.bareObjects('getCDR');

    // Act
    const rows = await client.getCdr({ from: '2024-07-01', to: '2024-07-01', timezone: 0 });

    // Assess
    expect(rows).toHaveLength(1);
    expect(rows[0]?.uniqueid).toBe('128238059');
  });

  it('getCallRecordings returns a list when one recording comes back bare', async () => {
    // Prepare
    fake.seedRecording({ id: 'REC1', datetime: '2024-07-01 10:00:00', mp3: Buffer.from('ID3') });
    fake.bareObjects('getCallRecordings');

    // Act
    const rows = await client.getCallRecordings({
      account: '100000',
      dateFrom: '2024-07-01',
      dateTo: '2024-07-02',
    });

    // Assess
    expect(rows.map((r) => r.callrecording)).toEqual(['REC1']);
  });
});

describe('getCdr', () => {
  it('asks for every disposition over whole days at the given offset', async () => {
    // Act
    const rows = await client.getCdr({
      from: new Date('2024-07-01T02:00:00Z'),
      to: new Date('2024-07-02T02:00:00Z'),
      timezone: -5,
    });

    // Assess
    expect(rows).toEqual([]);
    expect(fake.callsTo('getCDR').map((c) => c.params)).toEqual([
      {
        date_from: '2024-06-30',
        date_to: '2024-07-01',
        answered: '1',
        noanswer: '1',
        busy: '1',
        failed: '1',
        timezone: '-5',
      },
    ]);
  });

  it('gets dates written at the offset, which normalise back to the true instant', async () => {
    // Prepare
    const startedAt = new Date('2024-03-10T04:30:00Z');
    fake.seedCdr(cdrSeed({ startedAt }));

    // Act
    const rows = await client.getCdr({ from: '2024-03-09', to: '2024-03-09', timezone: -5 });
    const call = normalizeCdrRecord(rows[0]!, { timeZone: fixedOffsetZone(-5) });

    // Assess
    expect(rows[0]?.date).toBe('2024-03-09 23:30:00');
    expect(call.startedAt).toEqual(startedAt);
  });

  it('refuses a bad timezone or a range VoIP.ms would reject', async () => {
    await expect(client.getCdr({ from: '2024-01-01', to: '2024-01-02', timezone: 14 })).rejects.toThrow(
      /-12 to 13/,
    );
    await expect(client.getCdr({ from: '2024-01-01', to: '2024-06-01', timezone: 0 })).rejects.toThrow(
      /92 days/,
    );
    expect(fake.calls).toHaveLength(0);
  });
});

describe('call recordings', () => {
  it('lists every recording across pages', async () => {
    // Prepare
    for (let i = 1; i <= 5; i++) {
      fake.seedRecording({ id: `REC${i}`, datetime: `2024-07-0${i} 10:00:00`, mp3: Buffer.from([i]) });
    }

    // Act
    const rows = await client.getCallRecordings({
      account: '100000',
      dateFrom: '2024-07-01',
      dateTo: '2024-07-31',
      pageSize: 2,
    });

    // Assess
    expect(rows.map((r) => r.callrecording)).toEqual(['REC1', 'REC2', 'REC3', 'REC4', 'REC5']);
    expect(fake.callsTo('getCallRecordings').map((c) => c.params.start)).toEqual(['0', '2', '4']);
    expect(normalizeRecording(rows[0]!, { timeZone: 'America/Toronto' })).toEqual({
      providerRecordingId: 'REC1',
      account: '100000',
      direction: 'inbound',
      destination: '5551234567',
      startedAt: new Date('2024-07-01T14:00:00Z'),
      durationSeconds: 26,
    });
  });

  it('uses the configured account when the call gives none (VoIP.ms requires one)', async () => {
    // Prepare
    const mp3 = Buffer.from('ID3 pushed recording');
    fake.seedRecording({ id: 'MTApushed', datetime: '2024-07-01 10:00:00', mp3, account: '100000_VoIP' });
    const configured = voipmsClient(fake, { account: '100000' });

    // Act
    const bytes = await configured.getCallRecording('MTApushed');
    const listed = await configured.getCallRecordings({ dateFrom: '2024-07-01', dateTo: '2024-07-01' });

    // Assess
    expect(bytes.equals(mp3)).toBe(true);
    expect(listed.map((row) => [row.callrecording, row.subaccount])).toEqual([['MTApushed', '100000_VoIP']]);
    expect(fake.callsTo('getCallRecording')[0]?.params).toEqual({
      account: '100000',
      callrecording: 'MTApushed',
    });
    expect(fake.callsTo('getCallRecordings')[0]?.params.account).toBe('100000');
  });

  it('names the missing account setting before asking VoIP.ms, which would answer missing_account', async () => {
    // Act
    const one = await client.getCallRecording('MTA5Nzk5LTUy').catch((error: unknown) => error);
    const list = await client
      .getCallRecordings({ dateFrom: '2024-07-01', dateTo: '2024-07-01' })
      .catch((error: unknown) => error);
    const direct = await caught(client.callApi('getCallRecording', { callrecording: 'MTA5Nzk5LTUy' }));

    // Assess
    for (const error of [one, list]) {
      expect(error).toBeInstanceOf(VoipmsAccountMissingError);
      expect((error as Error).message).toContain('VOIPMS_ACCOUNT');
    }
    expect(fake.callsTo('getCallRecordings')).toHaveLength(0);
    expect(direct.status).toBe('missing_account');
  });

  it('answers no_recording with an empty list', async () => {
    // Act / Assess
    expect(
      await client.getCallRecordings({ account: '100000', dateFrom: '2024-07-01', dateTo: '2024-07-01' }),
    ).toEqual([]);
  });

  it.each([false, true])('returns the exact mp3 bytes (VoIP.ms sample-style base64: %s)', async (quirky) => {
    // Prepare
    const mp3 = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256));
    fake.seedRecording({ id: 'MTA5Nzk5LTUy', datetime: '2024-07-01 10:00:00', mp3, account: '100000' });
    fake.quirkyBase64(quirky);

    // Act
    const bytes = await client.getCallRecording('MTA5Nzk5LTUy', { account: '100000' });

    // Assess
    expect(bytes.equals(mp3)).toBe(true);
    expect(fake.callsTo('getCallRecording')[0]?.params).toEqual({
      account: '100000',
      callrecording: 'MTA5Nzk5LTUy',
    });
  });
});

describe('configureSmsCallback', () => {
  const callbackUrl = buildSmsCallbackUrl('https://hooks.example.com/', 'tok en/1');

  it('builds the callback URL with our token and literal placeholders', () => {
    expect(callbackUrl).toBe(
      'https://hooks.example.com/webhooks/voipms/sms/incoming?token=tok%20en%2F1' +
        '&to={TO}&from={FROM}&message={MESSAGE}&id={ID}&date={TIMESTAMP}&media={MEDIA}',
    );
  });

  it('reads the DID first and sends every setting back, changing only the callback', async () => {
    // Prepare
    fake.seedDid(DID, {
      smpp_enabled: '1',
      smpp_url: 'smpp://pbx.example.com',
      smpp_user: 'u',
      smpp_pass: 'p4ss',
    });
    const before = { ...fake.did(DID) };

    // Act
    const result = await client.configureSmsCallback({ did: `+1${DID}`, url: callbackUrl });

    // Assess
    expect(fake.calls.map((c) => c.method)).toEqual(['getDIDsInfo', 'setSMS']);
    const after = fake.did(DID)!;
    expect(after).toEqual({
      ...before,
      sms_url_callback: callbackUrl,
      sms_url_callback_enabled: '1',
      sms_url_callback_retry: '1',
    });
    expect(after.sms_email).toBe('front-desk@example.com');
    expect(after.sms_forward).toBe(PATIENT);
    expect(result.changed).toEqual({
      url_callback_enable: { from: '0', to: '1' },
      url_callback: { from: '', to: callbackUrl },
      url_callback_retry: { from: '0', to: '1' },
    });
    expect(result.kept).toContain('smpp_pass');
    expect(JSON.stringify(result)).not.toContain('p4ss');
  });

  it('works when getDIDsInfo answers the one DID as a bare object', async () => {
    // Prepare
    fake.bareObjects('getDIDsInfo');

    // Act
    await client.configureSmsCallback({ did: DID, url: callbackUrl, retry: false });

    // Assess
    expect(fake.did(DID)).toMatchObject({
      sms_url_callback_retry: '0',
      sms_email_enabled: '1',
      sms_forward_enabled: '1',
    });
  });

  it('is needed: a bare setSMS clears what it is not given', async () => {
    // Act
    await client.callApi('setSMS', {
      did: DID,
      enable: 1,
      url_callback_enable: 1,
      url_callback: callbackUrl,
    });

    // Assess
    expect(fake.did(DID)).toMatchObject({ sms_email: '', sms_forward: '', sms_forward_enabled: '0' });
  });

  it('fails before writing when the DID is not on the account', async () => {
    // Act
    const error = await caught(client.configureSmsCallback({ did: '5550000000', url: callbackUrl }));

    // Assess
    expect(error.status).toBe('invalid_did');
    expect(fake.callsTo('setSMS')).toHaveLength(0);
  });
});

describe('normalizeCdrRecord', () => {
  const zone = { timeZone: 'America/Toronto' };

  it('maps a getCDR record to our call shape', () => {
    // Act
    const call = normalizeCdrRecord(
      cdrRecord({ date: '2024-07-01 12:00:00', seconds: '65', total: '0.01230000', rate: '0.00950000' }),
      zone,
    );

    // Assess
    expect(call).toEqual({
      providerCallId: '128238059',
      direction: 'inbound',
      fromNumber: '+15551112222',
      toNumber: '+15551234567',
      callerName: 'John Doe',
      status: 'completed',
      disposition: 'ANSWERED',
      durationSeconds: 65,
      rate: 0.0095,
      cost: 0.0123,
      startedAt: new Date('2024-07-01T16:00:00Z'),
      endedAt: new Date('2024-07-01T16:01:05Z'),
      account: '100000_VoIP',
    });
  });

  it.each([
    ['"John Doe" <5551112222>', 'John Doe', '5551112222'],
    ['John Doe <5551112222>', 'John Doe', '5551112222'],
    ['"" <5551112222>', null, '5551112222'],
    ['<5551112222>', null, '5551112222'],
    ['"5551112222" <5551112222>', null, '5551112222'],
    ['5551112222', null, '5551112222'],
    ['"O\'Brien, Ana" <15551112222>', "O'Brien, Ana", '15551112222'],
  ])('parses caller id %s', (callerid, name, number) => {
    expect(parseCallerId(callerid)).toEqual({ name, number });
  });

  it.each([
    ['ANSWERED', 'completed'],
    ['NO ANSWER', 'no-answer'],
    ['BUSY', 'busy'],
    ['FAILED', 'failed'],
    ['no answer', 'no-answer'],
  ])('maps disposition %s to %s', (disposition, status) => {
    expect(normalizeCdrRecord(cdrRecord({ disposition }), zone).status).toBe(status);
  });

  it('is outbound unless the description starts with Inbound, and keeps unusual numbers as given', () => {
    // Act
    const call = normalizeCdrRecord(
      cdrRecord({
        description: 'Outbound - USA',
        callerid: '"Front Desk" <15551234567>',
        destination: '011442071234567',
      }),
      zone,
    );
    const toVoicemail = normalizeCdrRecord(cdrRecord({ destination: '*97' }), zone);

    // Assess
    expect(call).toMatchObject({
      direction: 'outbound',
      fromNumber: '+15551234567',
      toNumber: '+442071234567',
    });
    expect(toVoicemail.toNumber).toBe('*97');
  });

  it.each([
    ['winter (EST)', '2024-01-15 12:00:00', '2024-01-15T17:00:00Z'],
    ['summer (EDT)', '2024-07-15 12:00:00', '2024-07-15T16:00:00Z'],
    ['repeated autumn hour: the first one', '2024-11-03 01:30:00', '2024-11-03T05:30:00Z'],
    ['skipped spring hour: moved forward', '2024-03-10 02:30:00', '2024-03-10T07:30:00Z'],
  ])('reads the date in the account zone, %s', (_label, date, iso) => {
    expect(normalizeCdrRecord(cdrRecord({ date }), zone).startedAt).toEqual(new Date(iso));
  });

  it('spans a clock change correctly from start to end', () => {
    // Prepare: 01:59:30 EDT on the autumn change, 60 s long
    const call = normalizeCdrRecord(cdrRecord({ date: '2024-11-03 01:59:30', seconds: '60' }), zone);

    // Assess
    expect(call.endedAt.getTime() - call.startedAt.getTime()).toBe(60_000);
    expect(call.endedAt).toEqual(new Date('2024-11-03T06:00:30Z'));
  });

  it('accepts numbers where VoIP.ms sends strings and a single-object cdr payload', () => {
    // Act
    const payload = voipmsCdrPayloadSchema.parse({
      cdr: { ...cdrRecord(), uniqueid: 42, seconds: 7, total: 0.5 },
    });
    const call = normalizeCdrRecord(payload.cdr[0]!, zone);

    // Assess
    expect(call).toMatchObject({ providerCallId: '42', durationSeconds: 7, cost: 0.5 });
  });

  it('explains what is wrong with a record', () => {
    expect(() => normalizeCdrRecord({ ...cdrRecord(), uniqueid: undefined } as never, zone)).toThrow(
      new VoipmsCdrError('uniqueid is required'),
    );
    expect(() => normalizeCdrRecord(cdrRecord({ date: 'yesterday' }), zone)).toThrow(/YYYY-MM-DD/);
    expect(() => normalizeCdrRecord(cdrRecord(), { timeZone: 'Mars/Olympus' })).toThrow(/Unknown time zone/);
  });
});

describe('normalizeVoipmsSms', () => {
  it('maps callback parameters to our message shape', () => {
    // Act
    const sms = normalizeVoipmsSms(
      smsCallback({ media: 'https://media.voip.ms/a.jpg,https://media.voip.ms/b.png' }),
      { timeZone: 'America/Toronto' },
    );

    // Assess
    expect(sms).toEqual({
      providerMessageId: '111120',
      fromNumber: '+15559876543',
      toNumber: '+15551234567',
      body: 'Can I book a cleaning?',
      receivedAt: new Date('2024-07-01T13:15:00Z'),
      mediaUrls: ['https://media.voip.ms/a.jpg', 'https://media.voip.ms/b.png'],
    });
  });

  it('names every missing required field', () => {
    // Act
    let error: unknown;
    try {
      normalizeVoipmsSms(smsCallback({ from: undefined, id: '' }));
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(VoipmsSmsPayloadError);
    expect((error as VoipmsSmsPayloadError).problems).toEqual(['id is required', 'from is required']);
    expect((error as Error).message).toBe('id is required; from is required');
  });

  it('takes the first of repeated keys, numeric JSON values, and falls back to now without a date', () => {
    // Prepare
    const now = new Date('2024-07-01T00:00:00Z');

    // Act
    const sms = normalizeVoipmsSms(
      smsCallback({ id: 987, from: ['5559876543', 'x'], date: '{TIMESTAMP}', message: undefined }),
      {
        now: () => now,
      },
    );

    // Assess
    expect(sms).toMatchObject({
      providerMessageId: '987',
      fromNumber: '+15559876543',
      body: '',
      receivedAt: now,
    });
    expect(sms.mediaUrls).toEqual([]);
  });
});
