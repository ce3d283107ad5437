/** A refusal of something the caller sent: always a 4xx, never a 5xx. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class BadRequestError extends HttpError {
  constructor(message: string) {
    super(400, message);
    this.name = 'BadRequestError';
  }
}

export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, message);
    this.name = 'ForbiddenError';
  }
}

export class MethodNotAllowedError extends HttpError {
  constructor(
    method: string,
    readonly allowed: readonly string[],
  ) {
    super(405, `method ${method} not allowed`);
    this.name = 'MethodNotAllowedError';
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(limit: number) {
    super(413, `body larger than ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

/** Neither Postgres nor the ingest queue took the event: the provider should retry. */
export class ServiceUnavailableError extends HttpError {
  constructor(message: string) {
    super(503, message);
    this.name = 'ServiceUnavailableError';
  }
}
