/**
 * @module errors: every error inlet reports on purpose, with a stable code and an HTTP status.
 * The registry below is the one place codes are defined; docs/errors.md documents each one.
 */

export const errorRegistry = {
  CONFIG_INVALID: 1,
  CONFIG_NOT_FOUND: 1,
  // Another process runs the same role on the data directory, or serves its API with another token (inlet start).
  DATA_DIR_IN_USE: 1,
  // data_dir cannot be created or written (inlet start).
  DATA_DIR_UNUSABLE: 1,
  // server.host / server.port cannot be listened on (inlet start).
  SERVER_CANNOT_LISTEN: 1,
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  INVALID_FIELD: 400,
  EVENT_TOO_LARGE: 400,
  MISSING_WRITE_KEY: 401,
  UNKNOWN_WRITE_KEY: 401,
  UNKNOWN_DOMAIN: 401,
  UNAUTHORIZED: 401,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  URL_TOO_LONG: 414,
  REQUEST_TIMEOUT: 408,
  // The client went away mid-request (nginx's 499): nobody reads the answer, but the request log does.
  REQUEST_ABORTED: 499,
  UNSUPPORTED_CONTENT_TYPE: 415,
  UNSUPPORTED_ENCODING: 415,
  // A Transfer-Encoding other than chunked (gzip, chunked): RFC 9112 §6.1's 501.
  UNSUPPORTED_TRANSFER_ENCODING: 501,
  RATE_LIMITED: 429,
  WAL_FULL: 503,
  WAL_UNAVAILABLE: 503,
  // The day's visitor-hash salt is there but cannot be read (a directory, a file of another user).
  SALT_UNREADABLE: 503,
  QUERY_INVALID: 400,
  QUERY_NOT_ALLOWED: 400,
  QUERY_TIMEOUT: 422,
  // The query needed more than query.memory_limit.
  QUERY_OUT_OF_MEMORY: 422,
  QUERY_CANCELLED: 499,
  QUERY_BUSY: 503,
  // The query engine's process ended while the query ran (not for its memory): a fault in DuckDB.
  QUERY_ENGINE_CRASHED: 503,
  // A file of the lake DuckDB cannot read and inlet cannot tell which (damage inside a file).
  LAKE_UNREADABLE: 503,
  // One table's or view's view cannot be built (its files or its manifest); the others still run.
  TABLE_UNAVAILABLE: 503,
  MODEL_INVALID: 400,
  MODEL_CYCLE: 400,
  MODEL_REF_MISSING: 400,
  MODEL_NOT_FOUND: 404,
  MODEL_BUILD_FAILED: 422,
  MODEL_BUSY: 409,
  DATA_TEST_FAILED: 422,
  WORKFLOW_INVALID: 400,
  WORKFLOW_TIMEOUT: 408,
  // A manual start of a workflow another process is running (runs of a workflow go one at a time).
  WORKFLOW_BUSY: 409,
  // Database and file sources (sources/postgres, sources/mysql, sources/csv).
  SOURCE_CONNECTION_FAILED: 502,
  SOURCE_QUERY_FAILED: 502,
  SOURCE_SCHEMA_INVALID: 400,
  SOURCE_DATA_INVALID: 422,
  SOURCE_FILE_NOT_FOUND: 404,
  // A log source's path leads only to files or directories inlet may not read.
  SOURCE_FILE_UNREADABLE: 403,
  SYNC_BUSY: 409,
  SYNC_CANCELLED: 499,
} as const;

export type ErrorCode = keyof typeof errorRegistry;

/** An error meant for the person who caused it: a stable code, a status, a message that says what to do. */
export class InletError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'InletError';
    this.code = code;
    this.status = errorRegistry[code];
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  toJSON(): Record<string, unknown> {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export function isInletError(error: unknown): error is InletError {
  return error instanceof InletError;
}
