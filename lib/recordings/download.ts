import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Config } from '../config.js';
import { createVoipmsClient, VoipmsApiError, VoipmsInputError } from '../voipms/index.js';
import { PermanentRecordingError, RecordingTooLargeError, TransientRecordingError } from './errors.js';
import type { TwilioRecordingJob, VoipmsRecordingJob } from './job.js';
import type { RecordingSettings } from './settings.js';

export interface Download {
  body: Readable | Buffer;
  contentType: string;
}

type Fetch = typeof globalThis.fetch;

/** The recording's REST resource URL without a media extension, only if it is on Twilio's API origin. */
export function twilioRecordingResource(recordingUrl: string, apiBaseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(recordingUrl);
  } catch {
    throw new PermanentRecordingError('untrusted_url', 'recording URL is not a URL');
  }
  // Our credentials go only to the API origin we are configured for, never to a URL a payload names.
  if (url.origin !== new URL(apiBaseUrl).origin) {
    throw new PermanentRecordingError(
      'untrusted_url',
      `recording URL is not on ${new URL(apiBaseUrl).origin}`,
    );
  }
  url.pathname = url.pathname.replace(/\.(mp3|wav|json)$/i, '');
  url.search = '';
  return url;
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
  const url = twilioRecordingResource(job.recordingUrl, config.twilio.apiBaseUrl);
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
  return {
    body: Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
    contentType: response.headers.get('content-type')?.split(';')[0]?.trim() || 'audio/mpeg',
  };
}

/** DELETE the recording at Twilio (HIPAA: keep only our encrypted copy). A 404 means already gone. */
export async function deleteTwilioRecording(
  job: TwilioRecordingJob,
  config: Config,
  settings: RecordingSettings,
  fetchImpl: Fetch = globalThis.fetch,
): Promise<void> {
  const url = twilioRecordingResource(job.recordingUrl, config.twilio.apiBaseUrl);
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
    return { body: bytes, contentType: 'audio/mpeg' };
  } catch (error) {
    throw voipmsFailure(error);
  }
}

export async function deleteVoipmsRecording(job: VoipmsRecordingJob, config: Config): Promise<void> {
  await voipmsClient(config).callApi('delCallRecording', {
    callrecording: job.providerRecordingId,
    account: job.account,
  });
}
