import { asArray } from './as-array.js';
import type { VoipmsCdrRecord } from './cdr.js';
import { TRANSPORT_STATUSES, VoipmsApiError, VoipmsInputError } from './errors.js';
import { toVoipmsNumber } from './phone.js';
import {
  describeChanges,
  type SetSmsParams,
  type SmsCallbackChange,
  setSmsParamsFromDidInfo,
  withSmsCallback,
} from './sms-settings.js';
import { codePoints, MAX_SMS_PARTS, MMS_MAX_CHARS, splitSms, splitText } from './split.js';
import { dateAtOffset } from './time.js';

export const DEFAULT_VOIPMS_API_URL = 'https://voip.ms/api/v1/rest.php';

export interface VoipmsClientOptions {
  /** `rest.php` URL; default VoIP.ms's own. */
  apiUrl?: string;
  username: string | undefined;
  /** The API password (set in the VoIP.ms portal under API), not the portal password. */
  password: string | undefined;
  /**
   * The account or sub-account (`100000`, `100000_VoIP`) the recording methods use when a call gives none:
   * VoIP.ms requires `account` on getCallRecordings, getCallRecording and delCallRecording (VOIPMS_ACCOUNT).
   */
  account?: string;
  /** Bound on each HTTP request (default 10 s). */
  timeoutMs?: number;
  /** Extra attempts after `api_limit_exceeded` (and transport failures of read-only calls). Default 2. */
  maxRetries?: number;
  /** First back-off wait; doubles each attempt. Default 1000 ms. */
  retryDelayMs?: number;
  /** GET (parameters in the query string, VoIP.ms's documented form) or POST (form body). Default GET. */
  httpMethod?: 'GET' | 'POST';
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
}

export type VoipmsParams = Record<string, string | number | boolean | null | undefined>;

export interface VoipmsResponse {
  status: string;
  [field: string]: unknown;
}

export interface CallApiOptions {
  /**
   * The call changes nothing (a read), so a transport failure may be retried safely. Sends are not:
   * a timeout after VoIP.ms accepted an SMS would send it twice.
   */
  idempotent?: boolean;
}

export interface SendSmsInput {
  /** The practice's DID, any common format. */
  did: string;
  dst: string;
  message: string;
  /** Public media URLs (at most 3); forces MMS. */
  mediaUrls?: string[];
}

export interface SendSmsResult {
  method: 'sendSMS' | 'sendMMS';
  /** VoIP.ms message ids, one per part, in order. */
  ids: string[];
  parts: string[];
}

/** One `getCallRecordings` entry as VoIP.ms returns it. */
export interface VoipmsRecordingRecord {
  /** Opaque recording id (`MTA5Nzk5LTUy...`), the key for getCallRecording. */
  callrecording: string;
  datetime: string;
  destination: string;
  type: string;
  subaccount: string;
  duration: string;
}

export interface GetCdrInput {
  /** First day (`YYYY-MM-DD`) or an instant, turned into its date at `timezone`. */
  from: Date | string;
  to: Date | string;
  /** Whole hours from UTC (-12..13): VoIP.ms writes every `date` at this offset. 0 keeps them UTC. */
  timezone: number;
  account?: string;
}

export interface GetCallRecordingsInput {
  /** Account or sub-account (`100000` or `100000_VoIP`); default the client's `account`. */
  account?: string;
  dateFrom: Date | string;
  dateTo: Date | string;
  callType?: 'all' | 'incoming' | 'outgoing';
  /** Rows per request while paging (default 200). */
  pageSize?: number;
}

export interface ConfigureSmsCallbackInput extends SmsCallbackChange {
  did: string;
}

export interface ConfigureSmsCallbackResult {
  did: string;
  /** setSMS parameters that changed, old → new (secrets masked). */
  changed: Record<string, { from: string | undefined; to: string }>;
  /** setSMS parameters sent back unchanged, names only. */
  kept: string[];
}

/**
 * A recording method was called with no account and the client has none configured. VoIP.ms would answer
 * `missing_account` to every call: a configuration problem, raised before any request. Deliberately not a
 * VoipmsInputError (a bad request, failed for good): a recording job that meets it is retried and ends in the
 * dead-letter queue, to be redriven once VOIPMS_ACCOUNT is set, instead of being lost.
 */
export class VoipmsAccountMissingError extends Error {
  constructor(method: string) {
    super(
      `${method}: VoIP.ms requires the account (or sub-account, e.g. 100000 or 100000_VoIP) that holds the ` +
        'recordings; set VOIPMS_ACCOUNT (param voipmsAccount)',
    );
    this.name = 'VoipmsAccountMissingError';
  }
}

/** Statuses that mean "nothing matched", answered instead of an empty list. */
const EMPTY_STATUSES = new Set(['no_cdr', 'no_recording', 'no_sms', 'no_did']);
const MAX_CDR_RANGE_DAYS = 92;
const MAX_RECORDING_PAGES = 100;

export class VoipmsClient {
  readonly #apiUrl: URL;
  readonly #username: string;
  readonly #password: string;
  readonly #account: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;
  readonly #httpMethod: 'GET' | 'POST';
  readonly #fetch: typeof globalThis.fetch;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: VoipmsClientOptions) {
    const problems: string[] = [];
    if (!options.username) problems.push('username (VOIPMS_USERNAME) is required');
    if (!options.password) problems.push('password (VOIPMS_PASSWORD) is required');
    let apiUrl: URL | undefined;
    try {
      apiUrl = new URL(options.apiUrl ?? DEFAULT_VOIPMS_API_URL);
      if (apiUrl.protocol !== 'https:' && apiUrl.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      problems.push('apiUrl (VOIPMS_API_URL) must be an absolute http(s) URL');
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) problems.push('timeoutMs must be a positive integer');
    const maxRetries = options.maxRetries ?? 2;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) problems.push('maxRetries must be an integer >= 0');
    if (problems.length > 0 || !apiUrl) throw new VoipmsInputError(`VoIP.ms client: ${problems.join('; ')}`);
    this.#apiUrl = apiUrl;
    this.#username = options.username!;
    this.#password = options.password!;
    this.#account = options.account?.trim() || undefined;
    this.#timeoutMs = timeoutMs;
    this.#maxRetries = maxRetries;
    this.#retryDelayMs = options.retryDelayMs ?? 1000;
    this.#httpMethod = options.httpMethod ?? 'GET';
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Calls one REST method; resolves with the body when VoIP.ms answers `status: success`. */
  async callApi<T extends VoipmsResponse = VoipmsResponse>(
    method: string,
    params: VoipmsParams = {},
    options: CallApiOptions = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.#request(method, params)) as T;
      } catch (error) {
        if (!(error instanceof VoipmsApiError) || attempt >= this.#maxRetries) throw error;
        const safeToRepeat =
          error.status === 'api_limit_exceeded' || (options.idempotent === true && error.retryable);
        if (!safeToRepeat) throw error;
        await this.#sleep(this.#retryDelayMs * 2 ** attempt);
      }
    }
  }

  async #request(method: string, params: VoipmsParams): Promise<VoipmsResponse> {
    const query = new URLSearchParams({ api_username: this.#username, api_password: this.#password, method });
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null) continue;
      query.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
    }
    const url = new URL(this.#apiUrl);
    const init: RequestInit = {
      signal: AbortSignal.timeout(this.#timeoutMs),
      headers: { accept: 'application/json' },
    };
    if (this.#httpMethod === 'POST') {
      init.method = 'POST';
      init.body = query;
    } else {
      init.method = 'GET';
      url.search = query.toString();
    }

    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, init);
      text = await response.text();
    } catch (error) {
      // The thrown error is rebuilt from scratch: the original may hold the request URL (with the password).
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new VoipmsApiError({
        method,
        status: timedOut ? TRANSPORT_STATUSES.timeout : TRANSPORT_STATUSES.network,
        retryable: true,
        detail: timedOut ? `no answer within ${this.#timeoutMs} ms` : this.#redact(describeCause(error)),
      });
    }

    if (!response.ok) {
      throw new VoipmsApiError({
        method,
        status: TRANSPORT_STATUSES.http,
        httpStatus: response.status,
        retryable: response.status >= 500 || response.status === 429,
        detail: `HTTP ${response.status}`,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!body || typeof body !== 'object' || typeof (body as VoipmsResponse).status !== 'string') {
      throw new VoipmsApiError({ method, status: TRANSPORT_STATUSES.invalidResponse, retryable: false });
    }
    const status = (body as VoipmsResponse).status;
    if (status !== 'success') throw new VoipmsApiError({ method, status: this.#redact(status) });
    return body as VoipmsResponse;
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of new Set([
      this.#password,
      encodeURIComponent(this.#password),
      new URLSearchParams({ p: this.#password }).toString().slice(2),
    ])) {
      // Never empty: the constructor refuses an empty password, and each form of a non-empty one is non-empty.
      out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  /** The account the recording methods use when given none (undefined: not configured). */
  get account(): string | undefined {
    return this.#account;
  }

  /** The call's account, else the configured one; neither is a configuration error, raised before any call. */
  #recordingAccount(method: string, account: string | null | undefined): string {
    const chosen = account?.trim() || this.#account;
    if (!chosen) throw new VoipmsAccountMissingError(method);
    return chosen;
  }

  /**
   * Sends a text: up to MAX_SMS_PARTS `sendSMS` calls of at most SMS_MAX_CHARS (160) characters each (code
   * points, as VoIP.ms counts: an accent or emoji is one), cut on word boundaries;
   * longer texts (or any with media) as `sendMMS` of up to 2048 characters. If a later part fails, the
   * thrown VoipmsApiError lists in `sentIds` the parts already delivered to VoIP.ms.
   */
  async sendSms(input: SendSmsInput): Promise<SendSmsResult> {
    const did = toVoipmsNumber(input.did ?? '');
    const dst = toVoipmsNumber(input.dst ?? '');
    const media = input.mediaUrls ?? [];
    if (!did) throw new VoipmsInputError('sendSms: did is required');
    if (!dst) throw new VoipmsInputError('sendSms: dst is required');
    if (media.length > 3) throw new VoipmsInputError('sendSms: VoIP.ms MMS takes at most 3 media');
    const message = (input.message ?? '').trim();
    if (!message && media.length === 0) throw new VoipmsInputError('sendSms: message is empty');

    const smsParts = splitSms(message);
    const useMms = media.length > 0 || smsParts.length > MAX_SMS_PARTS;
    const method = useMms ? 'sendMMS' : 'sendSMS';
    const parts = useMms ? splitText(message, MMS_MAX_CHARS, codePoints) : smsParts;
    if (parts.length === 0) parts.push('');

    const ids: string[] = [];
    for (const [index, part] of parts.entries()) {
      const params: VoipmsParams = { did, dst, message: part };
      if (index === 0) {
        for (const [i, url] of media.entries()) params[`media${i + 1}`] = url;
      }
      try {
        const body = await this.callApi(method, params);
        ids.push(String(useMms ? body.mms : body.sms));
      } catch (error) {
        if (error instanceof VoipmsApiError && ids.length > 0) throw error.withSentIds([...ids]);
        throw error;
      }
    }
    return { method, ids, parts };
  }

  /**
   * Call records for whole days: VoIP.ms filters by date only, at the given offset. Answered, unanswered,
   * busy and failed calls are all asked for. An empty result (`no_cdr`) is an empty list.
   */
  async getCdr(input: GetCdrInput): Promise<VoipmsCdrRecord[]> {
    const { timezone } = input;
    if (!Number.isFinite(timezone) || timezone < -12 || timezone > 13) {
      throw new VoipmsInputError('getCdr: timezone must be a number of hours from -12 to 13');
    }
    const dateFrom = toApiDate(input.from, timezone, 'from');
    const dateTo = toApiDate(input.to, timezone, 'to');
    const days = (Date.parse(dateTo) - Date.parse(dateFrom)) / 86_400_000;
    if (days < 0) throw new VoipmsInputError('getCdr: from is after to');
    if (days > MAX_CDR_RANGE_DAYS)
      throw new VoipmsInputError('getCdr: VoIP.ms allows at most 92 days per call');
    const body = await this.#list('getCDR', {
      date_from: dateFrom,
      date_to: dateTo,
      answered: 1,
      noanswer: 1,
      busy: 1,
      failed: 1,
      timezone,
      account: input.account,
    });
    return asArray(body?.cdr as VoipmsCdrRecord | VoipmsCdrRecord[] | undefined);
  }

  /** Every recording in the date range, following VoIP.ms's paging. */
  async getCallRecordings(input: GetCallRecordingsInput): Promise<VoipmsRecordingRecord[]> {
    const account = this.#recordingAccount('getCallRecordings', input.account);
    const pageSize = input.pageSize ?? 200;
    const all: VoipmsRecordingRecord[] = [];
    for (let page = 0; page < MAX_RECORDING_PAGES; page++) {
      const body = await this.#list('getCallRecordings', {
        account,
        date_from: toApiDate(input.dateFrom, 0, 'dateFrom'),
        date_to: toApiDate(input.dateTo, 0, 'dateTo'),
        call_type: input.callType ?? 'all',
        start: page * pageSize,
        length: pageSize,
      });
      const rows = asArray(body?.recordings as VoipmsRecordingRecord | VoipmsRecordingRecord[] | undefined);
      all.push(...rows);
      if (rows.length < pageSize) break;
    }
    return all;
  }

  /** The recording's mp3 bytes. */
  async getCallRecording(id: string, options: { account?: string | null } = {}): Promise<Buffer> {
    if (!id) throw new VoipmsInputError('getCallRecording: id is required');
    const account = this.#recordingAccount('getCallRecording', options.account);
    const body = await this.callApi('getCallRecording', { account, callrecording: id }, { idempotent: true });
    const bytes = decodeBase64File(body.base64file);
    if (bytes.length === 0) {
      throw new VoipmsApiError({ method: 'getCallRecording', status: 'no_base64file', retryable: false });
    }
    return bytes;
  }

  /** One DID's record from `getDIDsInfo`. */
  async getDidInfo(did: string): Promise<Record<string, unknown>> {
    const number = toVoipmsNumber(did);
    if (!number) throw new VoipmsInputError('getDidInfo: did is required');
    const body = await this.callApi('getDIDsInfo', { did: number }, { idempotent: true });
    const rows = asArray(body.dids as Record<string, unknown> | Record<string, unknown>[] | undefined);
    const info = rows.find((row) => String(row.did) === number);
    if (!info)
      throw new VoipmsApiError({
        method: 'getDIDsInfo',
        status: 'no_did',
        detail: 'DID not on this account',
      });
    return info;
  }

  /**
   * Points a DID's SMS URL callback at `url`, with retry on. `setSMS` clears every setting it is not
   * given, so the DID's current settings are read first and all sent back with only the callback changed.
   */
  async configureSmsCallback(input: ConfigureSmsCallbackInput): Promise<ConfigureSmsCallbackResult> {
    let parsed: URL;
    try {
      parsed = new URL(input.url);
    } catch {
      throw new VoipmsInputError('configureSmsCallback: url must be an absolute http(s) URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new VoipmsInputError('configureSmsCallback: url must be an absolute http(s) URL');
    }
    const did = toVoipmsNumber(input.did);
    const info = await this.getDidInfo(did);
    if (String(info.sms_available ?? '1') === '0') {
      throw new VoipmsInputError(`configureSmsCallback: SMS is not available on DID ${did}`);
    }
    const before: SetSmsParams = setSmsParamsFromDidInfo(info);
    const after = withSmsCallback(before, input);
    await this.callApi('setSMS', { did, ...after });
    const changed = describeChanges(before, after);
    return { did, changed, kept: Object.keys(after).filter((param) => !(param in changed)) };
  }

  async #list(method: string, params: VoipmsParams): Promise<VoipmsResponse | undefined> {
    try {
      return await this.callApi(method, params, { idempotent: true });
    } catch (error) {
      if (error instanceof VoipmsApiError && EMPTY_STATUSES.has(error.status)) return undefined;
      throw error;
    }
  }
}

export function createVoipmsClient(options: VoipmsClientOptions): VoipmsClient {
  return new VoipmsClient(options);
}

function toApiDate(value: Date | string, offsetHours: number, name: string): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new VoipmsInputError(`${name} is not a valid date`);
    return dateAtOffset(value, offsetHours);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new VoipmsInputError(`${name} must be a Date or YYYY-MM-DD`);
  }
  return value;
}

/**
 * Recording bytes from `base64file`. VoIP.ms's own samples show the text wrapped in quotes, with
 * JSON-escaped slashes and stray spaces; all of that is tolerated, as is a data: URI prefix.
 */
export function decodeBase64File(value: unknown): Buffer {
  if (typeof value !== 'string') return Buffer.alloc(0);
  // Quotes first: a quoted data: URI keeps its prefix out of the base64 (whose letters would decode as bytes).
  const cleaned = value
    .trim()
    .replace(/^"|"$/g, '')
    .trim()
    .replace(/^data:[^,]*,/, '')
    .replace(/\\\//g, '/')
    .replace(/\s+/g, '');
  return Buffer.from(cleaned, 'base64');
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return 'request failed';
  const cause = (error as Error & { cause?: unknown }).cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String(cause.code) : undefined;
  return code ? `${error.message} (${code})` : error.message;
}
