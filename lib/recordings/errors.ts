/** Why a recording can never be archived; the job is not retried. */
export type PermanentFailureReason =
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'too_large'
  | 'untrusted_url'
  | 'http_error'
  | 'empty'
  | 'provider_error';

/** A download that will fail the same way on every retry: recorded on the row, the message is dropped. */
export class PermanentRecordingError extends Error {
  constructor(
    readonly reason: PermanentFailureReason,
    detail: string,
  ) {
    super(`recording cannot be archived: ${reason} (${detail})`);
    this.name = 'PermanentRecordingError';
  }
}

/** A recording body went past the size limit while streaming. */
export class RecordingTooLargeError extends PermanentRecordingError {
  constructor(readonly maxBytes: number) {
    super('too_large', `more than ${maxBytes} bytes`);
    this.name = 'RecordingTooLargeError';
  }
}

/** A failure worth retrying (5xx, 429, network): the SQS message comes back after its visibility timeout. */
export class TransientRecordingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientRecordingError';
  }
}
