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

/** A message as the Messages API lists it (the fields the send check reads). */
export interface ListedTwilioMessage {
  sid: string;
  to: string;
  from: string;
  body: string;
  status: string;
  dateCreated: Date | null;
}

/**
 * GET …/Messages.json filtered by To and From, sent on or after a day (Twilio filters whole UTC days): how a
 * worker learns whether a send whose answer it never read went out, before it sends again.
 */
export async function listTwilioMessages(
  config: Config,
  filter: { to: string; from: string; sentOnOrAfter: Date },
  timeoutMs = 10_000,
): Promise<ListedTwilioMessage[]> {
  const { accountSid, authToken, apiBaseUrl } = config.twilio;
  if (!accountSid || !authToken)
    throw new TwilioApiError(0, undefined, 'Twilio account SID or auth token missing');
  const query = new URLSearchParams({
    To: filter.to,
    From: filter.from,
    'DateSent>': filter.sentOnOrAfter.toISOString().slice(0, 10),
    PageSize: '100',
  });
  let response: Response;
  try {
    response = await fetch(`${apiBaseUrl}/2010-04-01/Accounts/${accountSid}/Messages.json?${query}`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
        accept: 'application/json',
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new TwilioApiError(0, undefined, `Messages API unreachable: ${(error as Error).message}`);
  }
  if (!response.ok)
    throw new TwilioApiError(response.status, undefined, `Messages API answered ${response.status}`);
  const answer = (await response.json().catch(() => ({}))) as { messages?: Record<string, unknown>[] };
  return (answer.messages ?? []).map((m) => ({
    sid: String(m.sid ?? ''),
    to: String(m.to ?? ''),
    from: String(m.from ?? ''),
    body: String(m.body ?? ''),
    status: String(m.status ?? ''),
    dateCreated: m.date_created ? new Date(String(m.date_created)) : null,
  }));
}
