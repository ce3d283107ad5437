// How VoIP.ms's values are read: numbers, caller ids, durations, dispositions, timestamps, media, time zones,
// and how a send's failure is judged (sent, maybe sent, or not). Each rule is written out, not read from the code.
import { describe, expect, it } from 'vitest';
import { SendFailure } from '../../../lib/messages/send.js';
import {
  clockToSeconds,
  dispositionToStatus,
  fixedOffsetZone,
  maskNumber,
  normalizeCdrRecord,
  normalizeRecording,
  normalizeVoipmsSms,
  parseCallerId,
  parseMedia,
  toE164,
  toVoipmsNumber,
  VoipmsApiError,
  VoipmsInputError,
  wallClockToInstant,
} from '../../../lib/voipms/index.js';
import { voipmsOffsetHours } from '../../../lib/voipms/pollers.js';
import { findSentVoipmsSms } from '../../../lib/voipms/sent-sms.js';
import { voipmsTextSender } from '../../../lib/voipms/text-sender.js';
import { dateAtOffset } from '../../../lib/voipms/time.js';

describe('phone numbers', () => {
  it.each([
    ['5551234567', '+15551234567'],
    [' (555) 123-4567 ', '+15551234567'],
    ['1 555 123 4567', '+15551234567'],
    ['15551234567', '+15551234567'],
    ['+442071234567', '+442071234567'],
    ['011442071234567', '+442071234567'],
    ['+1234567', '+1234567'],
    ['12345', '12345'],
    ['555123456', '555123456'],
    ['25551234567', '25551234567'],
    ['100000_VoIP', '100000_VoIP'],
  ])(
    'toE164(%j) is %j: NANP gets +1, international keeps its prefix, anything else stays as given',
    (given, e164) => {
      expect(toE164(given)).toBe(e164);
    },
  );

  it('gives VoIP.ms 10 digits for a NANP number and the digits of anything else', () => {
    expect(toVoipmsNumber('+1 (555) 123-4567')).toBe('5551234567');
    expect(toVoipmsNumber('15551234567')).toBe('5551234567');
    expect(toVoipmsNumber('25551234567')).toBe('25551234567');
    expect(toVoipmsNumber('+442071234567')).toBe('442071234567');
  });

  it('masks a number to its last four digits, and a short one entirely', () => {
    expect(maskNumber('+1 555 123 4567')).toBe('***4567');
    expect(maskNumber('12345')).toBe('***2345');
    expect(maskNumber('1234')).toBe('****');
  });
});

describe('call records', () => {
  const record = (overrides: Record<string, unknown> = {}) => ({
    date: '2024-07-01 12:00:00',
    uniqueid: '1715000000.42',
    ...overrides,
  });

  it.each([
    ['ANSWERED', 'completed'],
    ['answered', 'completed'],
    ['NO ANSWER', 'no-answer'],
    ['NOANSWER', 'no-answer'],
    ['BUSY', 'busy'],
    ['FAILED', 'failed'],
    ['CONGESTION', 'failed'],
    ['', 'failed'],
    ['SOMETHING NEW', 'failed'],
  ])('disposition %j is %s: anything unknown counts as failed', (disposition, status) => {
    expect(dispositionToStatus(disposition)).toBe(status);
  });

  it('reads durations as hh:mm:ss or mm:ss, and anything else as zero', () => {
    expect(clockToSeconds('01:02:03')).toBe(3723);
    expect(clockToSeconds('01:05')).toBe(65);
    expect(clockToSeconds('7')).toBe(7);
    expect(clockToSeconds('')).toBe(0);
    expect(clockToSeconds(undefined)).toBe(0);
    expect(clockToSeconds('ab:cd')).toBe(0);
  });

  it('takes seconds when VoIP.ms gives them, rounded, and the clock duration when not or when negative', () => {
    const zone = { timeZone: 'UTC' };
    expect(normalizeCdrRecord(record({ seconds: '65.6', duration: '00:00:10' }), zone).durationSeconds).toBe(
      66,
    );
    expect(normalizeCdrRecord(record({ seconds: '0', duration: '00:00:10' }), zone).durationSeconds).toBe(0);
    expect(normalizeCdrRecord(record({ seconds: '', duration: '00:01:10' }), zone).durationSeconds).toBe(70);
    expect(normalizeCdrRecord(record({ seconds: '-1', duration: '00:00:10' }), zone).durationSeconds).toBe(
      10,
    );
    expect(normalizeCdrRecord(record({ seconds: 'n/a', duration: '00:00:09' }), zone).durationSeconds).toBe(
      9,
    );
  });

  it('keeps rate and cost as numbers, or null when absent or unreadable', () => {
    const zone = { timeZone: 'UTC' };
    expect(normalizeCdrRecord(record({ rate: '0.01', total: '0' }), zone)).toMatchObject({
      rate: 0.01,
      cost: 0,
    });
    expect(normalizeCdrRecord(record({ rate: '', total: 'free' }), zone)).toMatchObject({
      rate: null,
      cost: null,
    });
    expect(normalizeCdrRecord(record(), zone)).toMatchObject({
      rate: null,
      cost: null,
      account: null,
      callerName: null,
      fromNumber: '',
      toNumber: '',
      disposition: '',
      status: 'failed',
      direction: 'outbound',
    });
  });

  it('is inbound when the description starts with Inbound, whatever its case or leading spaces', () => {
    const zone = { timeZone: 'UTC' };
    expect(normalizeCdrRecord(record({ description: '  inbound call' }), zone).direction).toBe('inbound');
    expect(normalizeCdrRecord(record({ description: 'Outbound - Inbound DID' }), zone).direction).toBe(
      'outbound',
    );
  });

  it('takes a name only when it is not the number again', () => {
    expect(parseCallerId('"(555) 111-2222" <5551112222>')).toEqual({ name: null, number: '5551112222' });
    expect(parseCallerId('"Clinic 5551112222" <5551112222>')).toEqual({
      name: 'Clinic 5551112222',
      number: '5551112222',
    });
    expect(parseCallerId('"5551112223" <5551112222>')).toEqual({ name: '5551112223', number: '5551112222' });
    expect(parseCallerId('  Ana  < 5551112222 >  ')).toEqual({ name: 'Ana', number: '5551112222' });
  });

  it('reads a recording entry: id, account, direction by type, duration and start', () => {
    const zone = { timeZone: 'America/Toronto' };
    expect(
      normalizeRecording(
        {
          callrecording: 'REC',
          datetime: '2024-01-15 12:00:00',
          destination: '5551234567',
          type: 'Outgoing',
          subaccount: '',
          duration: '00:01:01',
        },
        zone,
      ),
    ).toEqual({
      providerRecordingId: 'REC',
      account: null,
      direction: 'outbound',
      destination: '5551234567',
      startedAt: new Date('2024-01-15T17:00:00Z'),
      durationSeconds: 61,
    });
    expect(normalizeRecording({ callrecording: 'R', type: 'incoming' } as never, zone)).toMatchObject({
      direction: 'inbound',
      startedAt: null,
      destination: '',
      durationSeconds: 0,
    });
  });
});

describe('time', () => {
  it('reads wall-clock text with or without seconds or a T, and nothing else', () => {
    expect(wallClockToInstant('2024-07-01 12:00', 'UTC')).toEqual(new Date('2024-07-01T12:00:00Z'));
    expect(wallClockToInstant(' 2024-07-01T12:00:05 ', 'UTC')).toEqual(new Date('2024-07-01T12:00:05Z'));
    expect(wallClockToInstant('2024-07-01 12:00:00Z', 'UTC')).toBeUndefined();
    expect(wallClockToInstant('2024-07-01', 'UTC')).toBeUndefined();
  });

  it('names fixed offsets the POSIX way round', () => {
    expect(fixedOffsetZone(0)).toBe('UTC');
    expect(fixedOffsetZone(-5)).toBe('Etc/GMT+5');
    expect(fixedOffsetZone(3)).toBe('Etc/GMT-3');
    expect(wallClockToInstant('2024-07-01 12:00:00', fixedOffsetZone(-5))).toEqual(
      new Date('2024-07-01T17:00:00Z'),
    );
  });

  it('gives the calendar date at a whole-hour offset', () => {
    expect(dateAtOffset(new Date('2024-07-01T03:00:00Z'), -4)).toBe('2024-06-30');
    expect(dateAtOffset(new Date('2024-07-01T03:00:00Z'), -3)).toBe('2024-07-01');
    expect(dateAtOffset(new Date('2024-07-01T21:00:00Z'), 3)).toBe('2024-07-02');
  });

  it('asks VoIP.ms for the practice offset in whole hours, rounded down, within -12..13', () => {
    const at = new Date('2024-07-01T12:00:00Z');
    expect(voipmsOffsetHours('America/Toronto', at)).toBe(-4);
    expect(voipmsOffsetHours('Asia/Kolkata', at)).toBe(5);
    expect(voipmsOffsetHours('America/St_Johns', at)).toBe(-3);
    expect(voipmsOffsetHours('Pacific/Kiritimati', at)).toBe(13);
    expect(voipmsOffsetHours('Etc/GMT+12', at)).toBe(-12);
    expect(voipmsOffsetHours('UTC', at)).toBe(0);
  });
});

describe('inbound text callbacks', () => {
  const params = (overrides: Record<string, unknown>) => ({
    id: '1',
    from: '5559876543',
    to: '5551234567',
    ...overrides,
  });

  it('reads {TIMESTAMP} as epoch seconds, account wall clock, or ISO with an offset; else now', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const at = (date: unknown, timeZone = 'UTC') =>
      normalizeVoipmsSms(params({ date }), { timeZone, now: () => now }).receivedAt;
    expect(at('1719835200')).toEqual(new Date('2024-07-01T12:00:00Z'));
    expect(at('2024-07-01 08:00:00', 'America/Toronto')).toEqual(new Date('2024-07-01T12:00:00Z'));
    expect(at('2024-07-01T08:00:00-04:00')).toEqual(new Date('2024-07-01T12:00:00Z'));
    expect(at('2024-07-01T12:00:00Z')).toEqual(new Date('2024-07-01T12:00:00Z'));
    expect(at('2024-07-01T08:00:00-0400')).toEqual(new Date('2024-07-01T12:00:00Z'));
    expect(at('2024-99-01T08:00:00Z')).toEqual(now);
    expect(at('yesterday')).toEqual(now);
    expect(at('  ')).toEqual(now);
    expect(at('{TIMESTAMP}')).toEqual(now);
    expect(at('12345678')).toEqual(now);
  });

  it('names a field that is there but not text by its path', () => {
    expect(() => normalizeVoipmsSms(params({ message: { text: 'x' } }))).toThrow(/^message: /);
  });

  it('keeps http(s) media URLs only, from a list or a JSON array', () => {
    expect(parseMedia('https://a.example/1.jpg, http://b.example/2.png ftp://c.example/3')).toEqual([
      'https://a.example/1.jpg',
      'http://b.example/2.png',
    ]);
    expect(parseMedia('["https://a.example/1.jpg", 5, "javascript:alert(1)"]')).toEqual([
      'https://a.example/1.jpg',
    ]);
    expect(parseMedia('[not json https://a.example/1.jpg')).toEqual(['https://a.example/1.jpg']);
    expect(parseMedia('[]')).toEqual([]);
    expect(parseMedia('   ')).toEqual([]);
    expect(parseMedia(undefined)).toEqual([]);
  });
});

describe('a text whose answer was lost', () => {
  const since = new Date('2024-07-01T12:00:00Z');
  const lister = (answer: () => Promise<unknown>) => {
    const calls: { method: string; params: unknown }[] = [];
    return {
      calls,
      client: {
        callApi: async (method: string, params: unknown) => {
          calls.push({ method, params });
          return answer();
        },
      } as never,
    };
  };

  it('counts as sent only the texts to that patient that begin with ours, from a minute before the send', async () => {
    // Prepare
    const message =
      'Thanks for texting our office! To book, change or cancel an appointment, reply with the day';
    const { client, calls } = lister(async () => ({
      status: 'success',
      sms: [
        { id: 1, date: '2024-07-01 12:00:05', message: message.slice(0, 160) },
        { id: 2, date: '2024-07-01 11:59:01', message: `${message.slice(0, 40)} and more` },
        { id: 3, date: '2024-07-01 11:58:59', message },
        { id: 4, date: '2024-07-01 12:00:05', message: `Other ${message}` },
        { id: 5, message },
      ],
    }));

    // Act
    const ids = await findSentVoipmsSms(client, { did: '+15551234567', dst: '+15559876543', message, since });

    // Assess
    expect(ids).toEqual(['1', '2', '5']);
    expect(calls[0]).toMatchObject({
      method: 'getSMS',
      params: {
        from: '2024-07-01',
        type: 0,
        did: '5551234567',
        contact: '5559876543',
        timezone: 0,
        limit: 100,
      },
    });
  });

  it('finds none when VoIP.ms lists none (no_sms), and passes other failures on', async () => {
    const none = lister(async () => {
      throw new VoipmsApiError({ method: 'getSMS', status: 'no_sms' });
    });
    const broken = lister(async () => {
      throw new VoipmsApiError({ method: 'getSMS', status: 'ip_not_enabled' });
    });
    const empty = lister(async () => ({ status: 'success' }));
    expect(await findSentVoipmsSms(none.client, { did: '1', dst: '2', message: 'x', since })).toEqual([]);
    expect(await findSentVoipmsSms(empty.client, { did: '1', dst: '2', message: 'x', since })).toEqual([]);
    await expect(
      findSentVoipmsSms(broken.client, { did: '1', dst: '2', message: 'x', since }),
    ).rejects.toThrow('ip_not_enabled');
  });
});

describe('judging a failed send', () => {
  const failing = (error: unknown) =>
    voipmsTextSender({
      sendSms: async () => {
        throw error;
      },
      callApi: async () => ({ status: 'success' }) as never,
    });
  const kindOf = async (error: unknown) => {
    const thrown = await failing(error)
      .send({ from: '+15551234567', to: '+15559876543', body: 'hi' } as never)
      .catch((e: unknown) => e);
    return thrown instanceof SendFailure ? [thrown.kind, thrown.code] : thrown;
  };
  const api = (status: string, extra: Record<string, unknown> = {}) =>
    new VoipmsApiError({ method: 'sendSMS', status, ...extra });

  it('no answer or a server error: maybe sent, to be checked before any resend', async () => {
    expect(await kindOf(api('timeout', { retryable: true }))).toEqual(['unknown', 'timeout']);
    expect(await kindOf(api('network_error', { retryable: true }))).toEqual(['unknown', 'network_error']);
    expect(await kindOf(api('http_error', { httpStatus: 502, retryable: true }))).toEqual([
      'unknown',
      'http_error',
    ]);
    expect(await kindOf(api('http_error', { httpStatus: 500, retryable: true }))).toEqual([
      'unknown',
      'http_error',
    ]);
  });

  it('a 4xx answer or a throttle: not sent; retried if retryable, else failed for good', async () => {
    expect(await kindOf(api('http_error', { httpStatus: 429, retryable: true }))).toEqual([
      'retry',
      'http_error',
    ]);
    expect(await kindOf(api('http_error', { httpStatus: 404, retryable: false }))).toEqual([
      'permanent',
      'http_error',
    ]);
    expect(await kindOf(api('http_error', { httpStatus: 499, retryable: false }))).toEqual([
      'permanent',
      'http_error',
    ]);
    expect(await kindOf(api('api_limit_exceeded'))).toEqual(['retry', 'api_limit_exceeded']);
    expect(await kindOf(api('invalid_dst'))).toEqual(['permanent', 'invalid_dst']);
    expect(await kindOf(new VoipmsInputError('sendSms: dst is required'))).toEqual([
      'permanent',
      'invalid_input',
    ]);
  });

  it('keeps the ids of the parts that went out, and passes unknown errors through unchanged', async () => {
    const partial = await failing(api('invalid_dst', { sentIds: ['11', '12'] }))
      .send({ from: '+15551234567', to: '+15559876543', body: 'hi' } as never)
      .catch((e: unknown) => e);
    expect((partial as SendFailure).sentIds).toEqual(['11', '12']);
    const odd = new RangeError('odd');
    expect(await kindOf(odd)).toBe(odd);
  });

  it('sends from the text row sender, else the configured DID', async () => {
    const seen: string[] = [];
    const sender = (did?: string) =>
      voipmsTextSender(
        {
          sendSms: async (input) => {
            seen.push(input.did);
            return { method: 'sendSMS', ids: ['1'], parts: ['hi'] };
          },
          callApi: async () => ({ status: 'success' }) as never,
        },
        did,
      );
    await sender('+15550000000').send({ from: '+15551234567', to: '+1', body: 'hi' } as never);
    await sender('+15550000000').send({ from: '', to: '+1', body: 'hi' } as never);
    await sender().send({ from: '', to: '+1', body: 'hi' } as never);
    expect(seen).toEqual(['+15551234567', '+15550000000', '']);
  });
});

describe('more reading rules', () => {
  it('keeps a number that only looks NANP or international inside longer text as given', () => {
    expect(toE164('215551234567')).toBe('215551234567');
    expect(toE164('155512345678')).toBe('155512345678');
    expect(toE164('+44 20 7123 4567')).toBe('+442071234567');
    expect(toE164('ab +1234 5678')).toBe('ab +1234 5678');
    expect(toE164('+1234 5678 9012 3456 78')).toBe('+1234 5678 9012 3456 78');
    expect(toE164('+1234 5678')).toBe('+12345678');
    expect(toE164('9011442071234567')).toBe('9011442071234567');
    expect(toE164(`011${'1'.repeat(16)}`)).toBe(`011${'1'.repeat(16)}`);
    expect(toE164(' abc ')).toBe('abc');
    expect(toVoipmsNumber('12345')).toBe('12345');
  });

  it('reads a caller id only in its whole form: name, then the number in brackets at the end', () => {
    expect(parseCallerId('Ana <5551112222> ext 5')).toEqual({ name: null, number: 'Ana <5551112222> ext 5' });
    expect(parseCallerId('" Ana " <5551112222>')).toEqual({ name: 'Ana', number: '5551112222' });
    expect(parseCallerId('"Ana" Smith <5551112222>')).toEqual({ name: '"Ana" Smith', number: '5551112222' });
  });

  it('reads a duration with any unreadable part as zero', () => {
    expect(clockToSeconds('ab:05')).toBe(0);
  });

  it('names every problem of a record, the record itself when it is not one', () => {
    expect(() => normalizeCdrRecord({} as never, { timeZone: 'UTC' })).toThrow(
      'uniqueid is required; date is required',
    );
    expect(() => normalizeCdrRecord(5 as never, { timeZone: 'UTC' })).toThrow(/^record /);
    const error = (() => {
      try {
        normalizeCdrRecord({} as never, { timeZone: 'UTC' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.name).toBe('VoipmsCdrError');
    expect(
      normalizeCdrRecord({ uniqueid: ' 17.1 ', date: '2024-07-01 12:00:00' }, { timeZone: 'UTC' })
        .providerCallId,
    ).toBe('17.1');
  });

  it('reads the instant of a time later on a day the clocks change', () => {
    expect(wallClockToInstant('2024-03-10 12:00:00', 'America/New_York')).toEqual(
      new Date('2024-03-10T16:00:00Z'),
    );
    expect(wallClockToInstant('2024-11-03 12:00:00', 'America/New_York')).toEqual(
      new Date('2024-11-03T17:00:00Z'),
    );
  });

  it('reads {TIMESTAMP} epoch seconds only as 9 or 10 digits alone', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const at = (date: string) =>
      normalizeVoipmsSms({ id: '1', from: '1', to: '2', date }, { now: () => now }).receivedAt;
    expect(at('17198352000')).toEqual(now);
    expect(at('x1719835200')).toEqual(now);
    expect(at(' 1719835200 ')).toEqual(new Date('2024-07-01T12:00:00Z'));
  });

  it('keeps a media URL only when the whole item is one', () => {
    expect(parseMedia(' ["https://a.example/1.jpg"] ')).toEqual(['https://a.example/1.jpg']);
    expect(parseMedia('["https://a.example/x y", "see:https://a.example/z"]')).toEqual([]);
  });
});

describe('cutting text into parts', () => {
  it('needs a whole part size of at least 8', async () => {
    const { splitText } = await import('../../../lib/voipms/split.js');
    expect(() => splitText('abc', 7)).toThrow('max must be an integer of at least 8');
    expect(() => splitText('abc', 8.5)).toThrow(RangeError);
    expect(splitText('abc', 8)).toEqual(['abc']);
  });

  it('trims the text, cuts a long word at the size, drops the spaces at a cut, and always moves on', async () => {
    const { splitText } = await import('../../../lib/voipms/split.js');
    expect(splitText('  hi  ', 8)).toEqual(['hi']);
    expect(splitText('abcdefghijkl', 8)).toEqual(['abcdefgh', 'ijkl']);
    expect(splitText('aaa   bbbbbbbb', 8)).toEqual(['aaa', 'bbbbbbbb']);
    expect(splitText('aaaa\r\nbbbbbb', 8)).toEqual(['aaaa', 'bbbbbb']);
    expect(splitText('aa aaaaa\r\nbb', 8)).toEqual(['aa aaaaa', 'bb']);
    const zalgo = `a${'\u0301'.repeat(10)}`;
    expect(splitText(`${zalgo} b`, 8)).toEqual([zalgo, 'b']);
  });

  it('never starts a part with a lone combining mark: a space carrying one is kept whole at a cut', async () => {
    const { splitText } = await import('../../../lib/voipms/split.js');
    expect(splitText('aaaaaaaa \u0301bc', 8)).toEqual(['aaaaaaaa', ' \u0301bc']);
    expect(splitText('aaaaaaaa  \u0301bc', 8)).toEqual(['aaaaaaaa', ' \u0301bc']);
    for (const part of splitText(`${'word '.repeat(40)}\u0301x ${'more '.repeat(40)}`, 160)) {
      expect(part).not.toMatch(/^\p{M}/u);
    }
  });
});

describe('checking whether a text went out', () => {
  it('asks VoIP.ms as a read (safe to repeat), from the row sender or the configured DID', async () => {
    const seen: unknown[] = [];
    const client = {
      sendSms: async () => ({ method: 'sendSMS' as const, ids: [], parts: [] }),
      callApi: async (_method: string, params: unknown, options: unknown) => {
        seen.push([params, options]);
        return { status: 'success', sms: [] } as never;
      },
    };
    const since = new Date('2024-07-01T12:00:00Z');
    await voipmsTextSender(client, '+15550000000').findSent?.(
      { from: '', to: '+15559876543', body: ' hi' } as never,
      since,
    );
    await voipmsTextSender(client).findSent?.(
      { from: '+15551234567', to: '+15559876543', body: 'hi' } as never,
      since,
    );
    expect(seen).toEqual([
      [expect.objectContaining({ did: '5550000000' }), { idempotent: true }],
      [expect.objectContaining({ did: '5551234567' }), { idempotent: true }],
    ]);
  });

  it('counts a text listed exactly a minute before the send, and matches our text less its leading spaces', async () => {
    const client = {
      callApi: async () =>
        ({ status: 'success', sms: [{ id: 9, date: '2024-07-01 11:59:00', message: 'hi there' }] }) as never,
    };
    const ids = await findSentVoipmsSms(client, {
      did: '1',
      dst: '2',
      message: '   hi there',
      since: new Date('2024-07-01T12:00:00Z'),
    });
    expect(ids).toEqual(['9']);
  });
});

describe('caller ids as VoIP.ms writes them', () => {
  it.each([
    ['  "John Doe" <5551112222>  ', 'John Doe', '5551112222'],
    ['John Doe<5551112222>', 'John Doe', '5551112222'],
    ['A <  5551112222  >', 'A', '5551112222'],
    [' 5551112222 ', null, '5551112222'],
    ['""Jane"" <1>', '"Jane"', '1'],
    ['"John" Doe <1>', '"John" Doe', '1'],
    ['555-111-2222 <5551112222>', null, '5551112222'],
    ['(555) 111 2222 <5551112222>', null, '5551112222'],
    ['JOHN 5551112222 <5551112222>', 'JOHN 5551112222', '5551112222'],
  ])('reads %j as name %j and number %j', (callerid, name, number) => {
    expect(parseCallerId(callerid)).toEqual({ name, number });
  });

  it('keeps text after the closing bracket as the number, whole: it is no caller id of the usual form', () => {
    expect(parseCallerId('"Dr. X" <5551112222> x')).toEqual({ name: null, number: '"Dr. X" <5551112222> x' });
  });
});
