import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../lib/config.js';
import {
  deleteTwilioRecording,
  downloadTwilioRecording,
  looksLikeAudio,
} from '../../../lib/recordings/download.js';
import type { TwilioRecordingJob } from '../../../lib/recordings/job.js';
import { recordingResource, recordingStatusSchema } from '../../../lib/twilio/recording.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, useConfig } from '../../support/config.js';
import { fakeSid } from '../../support/twilio.js';

/**
 * The recording worker sends the account's credentials with a GET and a DELETE: only ever to this account's
 * resource for the recording the callback named, on a Twilio API origin, and what it keeps must be audio.
 */
const OTHER_ACCOUNT = `AC${'f'.repeat(32)}`;
const settings = { downloadTimeoutMs: 5_000, maxBytes: 10_000_000 } as never;
const mp3 = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(500, 1)]);

function config(apiBaseUrl = 'https://api.twilio.com'): Config {
  return useConfig({ TWILIO_API_BASE_URL: apiBaseUrl });
}

const job = (recordingUrl: string, providerRecordingId: string): TwilioRecordingJob => ({
  provider: 'twilio',
  recordingId: 1,
  providerRecordingId,
  recordingUrl,
  callSid: fakeSid('CA'),
});

/** A fetch that records where it was sent and answers `body` with `type`. */
function recordingFetch(body: Buffer | string, type = 'audio/mpeg') {
  const calls: { url: string; method: string; authorization: string | null }[] = [];
  const fetchImpl = (async (url: URL | string, init?: RequestInit) => {
    calls.push({
      url: String(url),
      method: init?.method ?? 'GET',
      authorization: new Headers(init?.headers).get('authorization'),
    });
    return new Response(body, { status: 200, headers: { 'content-type': type } });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

const resourceOf = (origin: string, account: string, sid: string) =>
  `${origin}/2010-04-01/Accounts/${account}/Recordings/${sid}`;

describe('recording URLs are bound to the recording', () => {
  it('downloads and deletes exactly the named recording of this account, on the API host', async () => {
    const sid = fakeSid('RE');
    const { calls, fetchImpl } = recordingFetch(mp3);
    await downloadTwilioRecording(
      job(resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid), sid),
      config(),
      settings,
      fetchImpl,
    );
    await deleteTwilioRecording(
      job(resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid), sid),
      config(),
      settings,
      fetchImpl,
    );
    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ['GET', `${resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid)}.mp3`],
      ['DELETE', `${resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid)}.json`],
    ]);
    expect(calls[0]!.authorization).toBe(
      `Basic ${Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64')}`,
    );
  });

  it.each([['api.dublin.ie1.twilio.com'], ['api.sydney.au1.twilio.com']])(
    'accepts a regional account recording on %s (IE1, AU1)',
    async (host) => {
      const sid = fakeSid('RE');
      const url = resourceOf(`https://${host}`, TEST_ACCOUNT_SID, sid);
      const { calls, fetchImpl } = recordingFetch(mp3);
      await downloadTwilioRecording(job(url, sid), config(), settings, fetchImpl);
      expect(calls[0]!.url).toBe(`${url}.mp3`);
      expect(
        recordingStatusSchema.safeParse({
          AccountSid: TEST_ACCOUNT_SID,
          RecordingSid: sid,
          RecordingStatus: 'completed',
          RecordingUrl: url,
        }).success,
      ).toBe(true);
    },
  );

  it('refuses every other URL without sending anything (examples)', async () => {
    const sid = fakeSid('RE');
    const other = fakeSid('RE');
    const base = resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid);
    for (const url of [
      resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, other),
      resourceOf('https://api.twilio.com', OTHER_ACCOUNT, sid),
      `https://api.twilio.com/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages/../Recordings/${sid}`,
      `https://api.twilio.com/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Recordings/${other}/../${sid}`,
      `https://api.twilio.com/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Recordings/%2e%2e/${sid}`,
      `${base}.mp3`,
      `${base}?x=1`,
      `${base}#f`,
      `${base}/`,
      base.replace('https://', 'http://'),
      base.replace('https://', 'https://user:pw@'),
      base.replace('api.twilio.com', 'api.twilio.com:8443'),
      base.replace('api.twilio.com', 'api.twilio.com.evil.example'),
      base.replace('api.twilio.com', 'api.evil.ie1.twilio.com'),
      base.replace('api.twilio.com', 'media.twilio.com'),
      base.replace('2010-04-01', '2008-08-01'),
    ]) {
      const { calls, fetchImpl } = recordingFetch(mp3);
      await expect(
        downloadTwilioRecording(job(url, sid), config(), settings, fetchImpl),
        url,
      ).rejects.toThrow(/untrusted_url/);
      await expect(deleteTwilioRecording(job(url, sid), config(), settings, fetchImpl), url).rejects.toThrow(
        /untrusted_url/,
      );
      expect(calls, url).toEqual([]);
    }
  });

  it('accepts nothing but the exact resource (property: any single-character change is refused)', () => {
    const sid = fakeSid('RE');
    const exact = resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid);
    const owner = { apiBaseUrl: 'https://api.twilio.com', accountSid: TEST_ACCOUNT_SID, recordingSid: sid };
    expect(recordingResource(exact, owner)).toBe(exact);
    fc.assert(
      fc.property(
        fc.nat(exact.length),
        fc.constantFrom('.', '/', '\\', '%', 'a', 'A', '0', '?', '#', '@', ':', ''),
        (at, char) => {
          const changed = exact.slice(0, at) + char + exact.slice(at + 1);
          fc.pre(changed !== exact);
          expect(recordingResource(changed, owner)).toBeUndefined();
        },
      ),
    );
  });

  it("the callback's RecordingUrl must name its own RecordingSid and account", () => {
    const sid = fakeSid('RE');
    const parse = (url: string, account = TEST_ACCOUNT_SID) =>
      recordingStatusSchema.safeParse({
        AccountSid: account,
        RecordingSid: sid,
        RecordingStatus: 'completed',
        RecordingUrl: url,
      }).success;
    expect(parse(resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid))).toBe(true);
    expect(parse(resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, fakeSid('RE')))).toBe(false);
    expect(parse(resourceOf('https://api.twilio.com', OTHER_ACCOUNT, sid))).toBe(false);
  });
});

describe('downloaded content must be audio', () => {
  it.each([
    ['text/html', Buffer.from('<html>login</html>')],
    ['application/json', Buffer.from('{"code":20404}')],
    ['audio/mpeg', Buffer.from('<html>an error page served as audio</html>')],
    ['audio/mpeg', Buffer.from('{"not":"audio"}')],
    ['application/octet-stream', mp3],
  ])('refuses %s content starting %s', async (type, body) => {
    const sid = fakeSid('RE');
    const { fetchImpl } = recordingFetch(body, type);
    await expect(
      downloadTwilioRecording(
        job(resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid), sid),
        config(),
        settings,
        fetchImpl,
      ),
    ).rejects.toThrow(/provider_error/);
  });

  it('keeps mp3 (ID3 or frame sync) and wav, byte for byte', async () => {
    const frames = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(300, 7)]);
    const wav = Buffer.concat([
      Buffer.from('RIFF'),
      Buffer.alloc(4),
      Buffer.from('WAVE'),
      Buffer.alloc(100, 3),
    ]);
    for (const [type, body] of [
      ['audio/mpeg', mp3],
      ['audio/mpeg', frames],
      ['audio/x-wav', wav],
    ] as const) {
      const sid = fakeSid('RE');
      const { fetchImpl } = recordingFetch(body, type);
      const download = await downloadTwilioRecording(
        job(resourceOf('https://api.twilio.com', TEST_ACCOUNT_SID, sid), sid),
        config(),
        settings,
        fetchImpl,
      );
      const chunks: Buffer[] = [];
      for await (const chunk of download.body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
      expect(Buffer.concat(chunks).equals(body)).toBe(true);
      expect(download.contentType).toBe(type);
    }
    expect(looksLikeAudio(Buffer.from('ID3'))).toBe(true);
    expect(looksLikeAudio(Buffer.from('<?xml'))).toBe(false);
  });
});
