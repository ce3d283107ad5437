/**
 * VoIP.ms statuses that mean "the request was refused before anything happened, ask again later".
 * Everything else VoIP.ms answers (invalid_dst, sms_toolong, invalid_credentials, ip_not_enabled,
 * missing_*, invalid_*, ...) will fail the same way on every retry.
 */
export const RETRYABLE_STATUSES: ReadonlySet<string> = new Set(['api_limit_exceeded']);

/** Statuses this client produces itself when VoIP.ms never answered with a status. */
export const TRANSPORT_STATUSES = {
  network: 'network_error',
  timeout: 'timeout',
  http: 'http_error',
  invalidResponse: 'invalid_response',
} as const;

/** Short human descriptions for the statuses the practice is most likely to meet (from VoIP.ms's list). */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  api_limit_exceeded: 'API requests limit per minute has been reached',
  api_not_enabled: 'API has not been enabled or has been disabled',
  invalid_credentials: 'Username or Password is incorrect',
  missing_credentials: 'Username or Password was not provided',
  ip_not_enabled: 'This IP is not enabled for API use',
  invalid_dst: 'This is not a valid Destination Number',
  invalid_did: 'This is not a valid DID',
  sms_toolong: 'The SMS message exceeds 160 characters',
  limit_reached: 'The maximum number of messages allowed per day has been reached',
  invalid_method: 'This is not a valid Method',
  invalid_timezone: 'This is not a valid Timezone',
  invalid_daterange: 'Date Range should be 92 days or less',
  network_error: 'the VoIP.ms API could not be reached',
  timeout: 'the VoIP.ms API did not answer in time',
  http_error: 'the VoIP.ms API answered with an HTTP error',
  invalid_response: 'the VoIP.ms API answered something that is not its JSON',
};

export interface VoipmsApiErrorOptions {
  /** The VoIP.ms API method that failed, e.g. `sendSMS`. */
  method: string;
  /** The VoIP.ms status (`invalid_dst`) or one of TRANSPORT_STATUSES. */
  status: string;
  retryable?: boolean;
  httpStatus?: number;
  /** Extra words for the message; must already be free of secrets. */
  detail?: string;
  /** Provider ids of the parts of a multi-part send that went out before the failure. */
  sentIds?: string[];
}

/**
 * A VoIP.ms API call failed. Carries no URL, parameters or underlying error object:
 * the API password travels in the request, so nothing from the request is kept here.
 */
export class VoipmsApiError extends Error {
  readonly method: string;
  readonly status: string;
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  readonly detail: string | undefined;
  readonly sentIds: string[];

  constructor(options: VoipmsApiErrorOptions) {
    const description = DESCRIPTIONS[options.status];
    const parts = [`VoIP.ms ${options.method} failed: ${options.status}`];
    if (description) parts.push(`(${description})`);
    if (options.detail) parts.push(`- ${options.detail}`);
    super(parts.join(' '));
    this.name = 'VoipmsApiError';
    this.method = options.method;
    this.status = options.status;
    this.retryable = options.retryable ?? isRetryableStatus(options.status);
    this.httpStatus = options.httpStatus;
    this.detail = options.detail;
    this.sentIds = options.sentIds ?? [];
  }

  /** A copy that also records which parts of a multi-part send had already gone out. */
  withSentIds(sentIds: string[]): VoipmsApiError {
    return new VoipmsApiError({
      method: this.method,
      status: this.status,
      retryable: this.retryable,
      httpStatus: this.httpStatus,
      detail: this.detail,
      sentIds,
    });
  }
}

/** Bad arguments given to the client (caught before any request is made). */
export class VoipmsInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VoipmsInputError';
  }
}

export function isRetryableStatus(status: string): boolean {
  return RETRYABLE_STATUSES.has(status);
}
