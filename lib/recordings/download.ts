import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Config } from '../config.js';
import { recordingResource } from '../twilio/recording.js';
import { createVoipmsClient, VoipmsApiError, VoipmsInputError } from '../voipms/index.js';
import { PermanentRecordingError, RecordingTooLargeError, TransientRecordingError } from './errors.js';
import type { TwilioRecordingJob, VoipmsRecordingJob } from './job.js';
import type { RecordingSettings } from './settings.js';

export interface Download {
  body: Readable | Buffer;
  contentType: string;
}

type Fetch = typeof globalThis.fetch;

/**
 * The recording's REST resource URL, only if the job's URL is exactly this account's resource for this
 * recording on a Twilio API origin (lib/twilio/recording.ts): our credentials go nowhere else, and the
 * GET and DELETE can only touch the recording the callback named.
 */
export function twilioRecordingResource(job: TwilioRecordingJob, config: Config): URL {
  const resource = recordingResource(job.recordingUrl, {
    apiBaseUrl: config.twilio.apiBaseUrl,
    accountSid: config.twilio.accountSid,
    recordingSid: job.providerRecordingId,
  });
  if (!resource) {
    throw new PermanentRecordingError(
      'untrusted_url',
      `recording URL is not /2010-04-01/Accounts/<this account>/Recordings/${job.providerRecordingId.slice(0, 40)} on a Twilio API origin`,
    );
  }
  return new URL(resource);
}

/** Recording formats Twilio and VoIP.ms serve, by their first bytes: ID3 tag or MPEG frame sync, RIFF/WAVE. */
export function looksLikeAudio(head: Uint8Array): boolean {
  const text = (start: number, end: number) => Buffer.from(head.subarray(start, end)).toString('latin1');
  if (text(0, 3) === 'ID3') return true;
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) return true;
  return text(0, 4) === 'RIFF' && text(8, 12) === 'WAVE';
}

const AUDIO_TYPE = /^audio\/[a-z0-9.+-]+$/i;

/**
 * The download, if it is audio: declared as audio/* and starting like an audio file. A server answering
 * HTML or JSON with a 200 (an error page, a captive proxy) is refused rather than archived as a recording.
 */
async function audioOnly(body: WebReadableStream<Uint8Array>, contentType: string): Promise<Readable> {
  if (!AUDIO_TYPE.test(contentType)) {
    await body.cancel().catch(() => undefined);
    throw new PermanentRecordingError(
      'provider_error',
      `content type ${contentType.slice(0, 60)} is not audio`,
    );
  }
  const reader = body.getReader();
  const first = await reader.read();
  if (!first.done && first.value.length > 0 && !looksLikeAudio(first.value)) {
    await reader.cancel().catch(() => undefined);
    throw new PermanentRecordingError(
      'provider_error',
      'downloaded content does not start like an audio file',
    );
  }
  async function* chunks() {
    if (!first.done) yield first.value;
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

function twilioAuth(config: Config): string {
  const { accountSid, authToken } = config.twilio;
  // Missing credentials are an operator error: retry (and end in the DLQ, alarmed) rather than give up.
  if (!accountSid || !authToken)
    throw new TransientRecordingError('TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN not set');
  return `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
}

/** Maps an HTTP status of a provider download to permanent (recorded, dropped) or transient (retried). */
export function failureForStatus(status: number): PermanentRecordingError | TransientRecordingError {
  if (status === 404 || status === 410) return new PermanentRecordingError('not_found', `HTTP ${status}`);
  if (status === 401) return new PermanentRecordingError('unauthorized', 'HTTP 401');
  if (status === 403) return new PermanentRecordingError('forbidden', 'HTTP 403');
  if (status === 429 || status >= 500 || status === 408) return new TransientRecordingError(`HTTP ${status}`);
  return new PermanentRecordingError('http_error', `HTTP ${status}`);
}

/** GET `<RecordingUrl>.mp3` with Basic auth; the body is streamed, never held whole. */
export async function downloadTwilioRecording(
  job: TwilioRecordingJob,
  config: Config,
  settings: RecordingSettings,
  fetchImpl: Fetch = globalThis.fetch,
): Promise<Download> {
  const url = twilioRecordingResource(job, config);
  url.pathname += '.mp3';
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { authorization: twilioAuth(config), accept: 'audio/mpeg' },
      signal: AbortSignal.timeout(settings.downloadTimeoutMs),
    });
  } catch (error) {
    throw new TransientRecordingError(`recording download failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw failureForStatus(response.status);
  }
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > settings.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new RecordingTooLargeError(settings.maxBytes);
  }
  if (!response.body) throw new PermanentRecordingError('empty', 'no body');
  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim() || 'audio/mpeg';
  return {
    body: await audioOnly(response.body as unknown as WebReadableStream<Uint8Array>, contentType),
    contentType,
  };
}

/** DELETE the recording at Twilio (HIPAA: keep only our encrypted copy). A 404 means already gone. */
export async function deleteTwilioRecording(
  job: TwilioRecordingJob,
  config: Config,
  settings: RecordingSettings,
  fetchImpl: Fetch = globalThis.fetch,
): Promise<void> {
  const url = twilioRecordingResource(job, config);
  url.pathname += '.json';
  const response = await fetchImpl(url, {
    method: 'DELETE',
    headers: { authorization: twilioAuth(config) },
    signal: AbortSignal.timeout(settings.downloadTimeoutMs),
  });
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok && response.status !== 404)
    throw new Error(`Twilio recording delete: HTTP ${response.status}`);
}

const voipmsClient = (config: Config) =>
  createVoipmsClient({
    apiUrl: config.voipms.apiUrl,
    username: config.voipms.username,
    password: config.voipms.password,
    ...(config.voipms.account ? { account: config.voipms.account } : {}),
    timeoutMs: 30_000,
  });

const voipmsFailure = (error: unknown): Error => {
  if (error instanceof VoipmsApiError) {
    if (error.retryable) return new TransientRecordingError(error.message, { cause: error });
    if (error.httpStatus) return failureForStatus(error.httpStatus);
    return new PermanentRecordingError(
      error.status === 'no_base64file' ? 'empty' : 'provider_error',
      error.status,
    );
  }
  if (error instanceof VoipmsInputError) return new PermanentRecordingError('provider_error', error.message);
  return new TransientRecordingError((error as Error).message, { cause: error });
};

/** getCallRecording: VoIP.ms answers the whole mp3 base64-encoded in JSON, so it arrives as one buffer. */
export async function downloadVoipmsRecording(job: VoipmsRecordingJob, config: Config): Promise<Download> {
  try {
    const bytes = await voipmsClient(config).getCallRecording(job.providerRecordingId, {
      account: job.account,
    });
    if (bytes.length > 0 && !looksLikeAudio(bytes)) {
      throw new PermanentRecordingError('provider_error', 'getCallRecording did not return an audio file');
    }
    return { body: bytes, contentType: 'audio/mpeg' };
  } catch (error) {
    if (error instanceof PermanentRecordingError) throw error;
    throw voipmsFailure(error);
  }
}

export async function deleteVoipmsRecording(job: VoipmsRecordingJob, config: Config): Promise<void> {
  await voipmsClient(config).callApi('delCallRecording', {
    callrecording: job.providerRecordingId,
    account: job.account ?? config.voipms.account,
  });
}
