// What the VoIP.ms routes read from a request, and what they refuse with a 400 naming the problem.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../lib/http/errors.js';
import { decodeRequest } from '../../../lib/http/request.js';
import { parseVoipmsCdr } from '../../../lib/voipms/calls.js';
import { parseVoipmsSms, voipmsSmsParams } from '../../../lib/voipms/inbound.js';
import {
  asArray,
  setSmsParamsFromDidInfo,
  VoipmsApiError,
  VoipmsInputError,
  withSmsCallback,
} from '../../../lib/voipms/index.js';
import { parseRecordingReady } from '../../../lib/voipms/recordings.js';
import { describeChanges } from '../../../lib/voipms/sms-settings.js';
import { httpEvent } from '../../support/events.js';

const jsonRequest = (body: unknown) =>
  decodeRequest(
    httpEvent({
      path: '/webhooks/voipms/call/cdr',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    }),
    ['POST'],
  );

const refusal = (act: () => unknown): string => {
  try {
    act();
  } catch (error) {
    if (error instanceof BadRequestError) return error.message;
    throw error;
  }
  throw new Error('expected a 400');
};

describe('pushed call records', () => {
  it('need a JSON object with cdr: an array, null, a bare list or nothing else is a 400 saying so', () => {
    for (const body of [[{ uniqueid: '1' }], null, 'text', 5]) {
      expect(refusal(() => parseVoipmsCdr(jsonRequest(body)))).toBe(
        'body must be a JSON object {"cdr": [...]}',
      );
    }
    expect(refusal(() => parseVoipmsCdr(jsonRequest({})))).toBe('cdr is required');
    expect(refusal(() => parseVoipmsCdr(jsonRequest({ cdr: null })))).toBe('cdr is required');
  });

  it('name the first bad record by its index and each bad field', () => {
    const good = { uniqueid: '1715000000.1', date: '2024-05-06 10:00:00' };
    expect(refusal(() => parseVoipmsCdr(jsonRequest({ cdr: [good, { date: '2024-05-06 10:00:00' }] })))).toBe(
      'cdr.1: uniqueid is required',
    );
    expect(refusal(() => parseVoipmsCdr(jsonRequest({ cdr: [{ uniqueid: '', date: {} }] })))).toBe(
      'cdr.0: uniqueid must not be empty; date must be a string or a number',
    );
    expect(refusal(() => parseVoipmsCdr(jsonRequest({ cdr: [good, { ...good, date: 'yesterday' }] })))).toBe(
      'cdr.1: date must look like YYYY-MM-DD HH:MM:SS, got "yesterday"',
    );
    expect(refusal(() => parseVoipmsCdr(jsonRequest({ cdr: [5] })))).toMatch(/^cdr\.0: record /);
  });

  it('explain a cdr that is neither a list nor a record', () => {
    expect(refusal(() => parseVoipmsCdr(jsonRequest({ cdr: 'x' })))).toMatch(/^cdr\.0: record |^cdr: /);
  });

  it('name the record at fault whatever the cdr holds: a shape refused as a whole always has one bad record', () => {
    // The array-or-record check and the record check agree, so the refusal that names no record (the last
    // resort after the record loop) is never reached: this holds for any JSON value as `cdr`.
    fc.assert(
      fc.property(fc.jsonValue(), (cdr) => {
        let message: string | undefined;
        try {
          parseVoipmsCdr(jsonRequest({ cdr }));
        } catch (error) {
          if (!(error instanceof BadRequestError)) throw error;
          message = error.message;
        }
        expect(message === undefined || message === 'cdr is required' || /^cdr\.\d+: /.test(message)).toBe(
          true,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('read a record or a list of them, dates in any zone being checked later', () => {
    const record = { uniqueid: '1715000000.1', date: '2024-05-06 10:00:00' };
    expect(parseVoipmsCdr(jsonRequest({ cdr: record }))).toEqual([record]);
    expect(parseVoipmsCdr(jsonRequest({ cdr: [record, record] }))).toHaveLength(2);
  });
});

describe('inbound text callbacks', () => {
  const event = (options: { method: 'GET' | 'POST'; rawQuery: string; body?: string; json?: boolean }) =>
    decodeRequest(
      httpEvent({
        path: '/webhooks/voipms/sms/incoming',
        method: options.method,
        rawQuery: options.rawQuery,
        body: options.body,
        headers: options.body
          ? { 'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded' }
          : {},
      }),
      ['GET', 'POST'],
    );

  it('never count our token as part of the message, whatever the method', () => {
    const get = voipmsSmsParams(event({ method: 'GET', rawQuery: 'token=t&id=1&message=hi' }));
    expect(get).toEqual({ id: ['1'], message: ['hi'] });
    const post = voipmsSmsParams(event({ method: 'POST', rawQuery: 'token=t', body: 'token=x&id=2' }));
    expect(post).toEqual({ id: ['2'] });
  });

  it('read the body only on POST, where its fields win over the query', () => {
    const post = voipmsSmsParams(event({ method: 'POST', rawQuery: 'id=1&to=5551234567', body: 'id=2' }));
    expect(post).toEqual({ id: ['2'], to: ['5551234567'] });
  });

  it('keep a JSON media list whole, and ignore a media field that is not a list', () => {
    const list = voipmsSmsParams(
      event({
        method: 'POST',
        rawQuery: '',
        body: JSON.stringify({ id: 1, media: ['https://m/1', 'https://m/2'] }),
        json: true,
      }),
    );
    expect(list.media).toBe('["https://m/1","https://m/2"]');
    const text = voipmsSmsParams(
      event({
        method: 'POST',
        rawQuery: '',
        body: JSON.stringify({ id: 1, media: 'https://m/1' }),
        json: true,
      }),
    );
    expect(text.media).toEqual(['https://m/1']);
  });

  it('read only the query on GET, whatever body comes with it', () => {
    const form = voipmsSmsParams(
      event({ method: 'GET', rawQuery: 'id=1&message=hi', body: 'id=2&message=bye&media=https://m/1' }),
    );
    expect(form).toEqual({ id: ['1'], message: ['hi'] });
    const json = voipmsSmsParams(
      event({
        method: 'GET',
        rawQuery: 'id=1',
        body: JSON.stringify({ id: 2, media: ['https://m/1'] }),
        json: true,
      }),
    );
    expect(json).toEqual({ id: ['1'] });
  });

  it('read a form field holding a JSON list of media as that list', () => {
    const request = event({
      method: 'POST',
      rawQuery: '',
      body: new URLSearchParams({
        id: '7',
        from: '5559876543',
        to: '5551234567',
        media: '["https://m/1.jpg","https://m/2.png"]',
      }).toString(),
    });
    expect(voipmsSmsParams(request).media).toEqual(['["https://m/1.jpg","https://m/2.png"]']);
    expect(parseVoipmsSms(request, { voipms: {} } as never).mediaUrls).toEqual([
      'https://m/1.jpg',
      'https://m/2.png',
    ]);
  });

  it('keep the query media of a JSON body that has none, and never read media that is an object', () => {
    const none = voipmsSmsParams(
      event({
        method: 'POST',
        rawQuery: 'media=https://m/q.jpg',
        body: JSON.stringify({ id: 1 }),
        json: true,
      }),
    );
    expect(none).toEqual({ id: ['1'], media: ['https://m/q.jpg'] });
    const object = event({
      method: 'POST',
      rawQuery: '',
      body: JSON.stringify({ id: 1, from: '5559876543', to: '5551234567', media: { 0: 'https://m/1' } }),
      json: true,
    });
    expect('media' in voipmsSmsParams(object)).toBe(false);
    expect(parseVoipmsSms(object, { voipms: {} } as never).mediaUrls).toEqual([]);
  });

  it('refuse a JSON body that is null or not an object as a callback without its fields', () => {
    for (const body of ['null', '"hi"', '5', '[]']) {
      const request = event({ method: 'POST', rawQuery: '', body, json: true });
      expect(refusal(() => parseVoipmsSms(request, { voipms: {} } as never))).toBe(
        'id is required; from is required; to is required',
      );
    }
  });

  it('carry the configured DID as a fallback only when there is one', () => {
    const request = event({ method: 'GET', rawQuery: 'id=1&from=5559876543&to=5551234567' });
    expect(parseVoipmsSms(request, { voipms: { did: '5551234567' } } as never).fallbackDid).toBe(
      '+15551234567',
    );
    expect('fallbackDid' in parseVoipmsSms(request, { voipms: { did: undefined } } as never)).toBe(false);
  });

  it('refuse a callback without id, from or to with a 400 naming each', () => {
    const request = event({ method: 'GET', rawQuery: 'message=hi' });
    expect(refusal(() => parseVoipmsSms(request, { voipms: {} } as never))).toBe(
      'id is required; from is required; to is required',
    );
  });
});

describe('pushed recording references', () => {
  const request = (rawQuery: string, body?: string) =>
    decodeRequest(
      httpEvent({
        path: '/webhooks/voipms/recording/ready',
        rawQuery,
        body,
        headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      }),
      ['POST'],
    );

  it('take the recording id, account and call id under any of their names, body before query, trimmed', () => {
    expect(parseRecordingReady(request('recording_id=R1&subaccount=100000_A&callid=C1'))).toEqual({
      providerRecordingId: 'R1',
      account: '100000_A',
      providerCallId: 'C1',
    });
    expect(parseRecordingReady(request('id=R2&call_id=C2'))).toEqual({
      providerRecordingId: 'R2',
      account: null,
      providerCallId: 'C2',
    });
    expect(
      parseRecordingReady(request('callrecording=Q', 'callrecording=+B1+&uniqueid=U1&account=100000')),
    ).toEqual({
      providerRecordingId: 'B1',
      account: '100000',
      providerCallId: 'U1',
    });
  });

  it('refuse a reference without a recording id, blank included', () => {
    expect(refusal(() => parseRecordingReady(request('callrecording=++&account=1')))).toBe(
      'callrecording is required',
    );
  });
});

describe('DID settings sent back to VoIP.ms', () => {
  it('carry every setting the DID reports, and none it does not', () => {
    expect(
      setSmsParamsFromDidInfo({ sms_enabled: 1, sms_email: null, sms_forward: undefined, other: 'x' }),
    ).toEqual({
      enable: '1',
    });
  });

  it('turn the callback off without touching SMS itself, and keep SMS off if it was', () => {
    expect(withSmsCallback({ enable: '1' }, { url: 'https://h/x', enabled: false })).toMatchObject({
      enable: '1',
      url_callback_enable: '0',
    });
    expect(withSmsCallback({}, { url: 'https://h/x', enabled: false })).toMatchObject({ enable: '0' });
  });

  it('describe each change, masking secrets on both sides', () => {
    expect(
      describeChanges(
        { smpp_pass: 'a', url_callback: 'x' },
        { smpp_pass: 'b', url_callback: 'y', enable: '1' },
      ),
    ).toEqual({
      smpp_pass: { from: '[secret]', to: '[secret]' },
      url_callback: { from: 'x', to: 'y' },
      enable: { from: undefined, to: '1' },
    });
  });
});

describe('errors', () => {
  it('name themselves, and describe only statuses they know', () => {
    expect(new VoipmsApiError({ method: 'getCDR', status: 'no_such_status' }).message).toBe(
      'VoIP.ms getCDR failed: no_such_status',
    );
    expect(new VoipmsApiError({ method: 'getCDR', status: 'x' }).name).toBe('VoipmsApiError');
    expect(new VoipmsInputError('x').name).toBe('VoipmsInputError');
  });

  it('asArray reads null as an empty list', () => {
    expect(asArray(null)).toEqual([]);
  });
});
