import type { Config } from '../config.js';

/** The Messages API refused or failed a send; `code` is Twilio's error code when it gave one. */
export class TwilioApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TwilioApiError';
  }

  /** Worth trying again later: Twilio or the network failed, or we were rate limited. */
  get retryable(): boolean {
    return this.httpStatus === 0 || this.httpStatus === 429 || this.httpStatus >= 500;
  }
}

/** 21610: the recipient replied STOP; Twilio refuses every message to them until they reply START. */
export const TWILIO_OPTED_OUT = 21610;

export interface TwilioSend {
  to: string;
  from: string;
  body: string;
  statusCallback?: string;
}

/**
 * POST /2010-04-01/Accounts/{sid}/Messages.json with Basic auth, by plain fetch: the SDK root would cost the
 * worker megabytes and cold-start time for one form POST.
 */
export async function sendTwilioMessage(
  config: Config,
  send: TwilioSend,
  timeoutMs = 10_000,
): Promise<{ sid: string; status: string }> {
  const { accountSid, authToken, apiBaseUrl } = config.twilio;
  if (!accountSid || !authToken)
    throw new TwilioApiError(0, undefined, 'Twilio account SID or auth token missing');
  const form = new URLSearchParams({ To: send.to, From: send.from, Body: send.body });
  if (send.statusCallback) form.set('StatusCallback', send.statusCallback);
  let response: Response;
  try {
    response = await fetch(`${apiBaseUrl}/2010-04-01/Accounts/${accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new TwilioApiError(0, undefined, `Messages API unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  let answer: { sid?: string; status?: string; code?: number; message?: string } = {};
  try {
    answer = JSON.parse(text);
  } catch {
    // Not JSON (a proxy error page): the HTTP status decides.
  }
  if (!response.ok || !answer.sid) {
    throw new TwilioApiError(
      response.status,
      typeof answer.code === 'number' ? answer.code : undefined,
      `Messages API answered ${response.status}${answer.code ? ` (error ${answer.code})` : ''}`,
    );
  }
  return { sid: answer.sid, status: answer.status ?? 'queued' };
}
