import { InletError, isInletError } from '../../errors/index.ts';
import type { DatabaseTable } from './database-options.ts';
import { safeMessage } from './redact.ts';

/** What a driver says a failure was: the server's statement timeout, another failure on the server's side, or neither. */
export type DriverFailure = 'timeout' | 'server' | undefined;

/**
 * The error a user sees when copying one table failed. The driver only classifies its own errors;
 * the wording, and keeping the connection URL's password out of it, is the same for every database.
 */
export function tableSyncError(
  error: unknown,
  options: {
    source: string;
    table: DatabaseTable;
    url: string;
    statementTimeoutMs: number;
    /** The database's name in messages, e.g. PostgreSQL. */
    server: string;
    classify: (error: unknown) => DriverFailure;
  },
): InletError {
  if (isInletError(error)) return error;
  const where = `${options.source}.${options.table.name}`;
  const message = safeMessage(error, options.url);
  const failure = options.classify(error);
  if (failure === 'timeout') {
    return new InletError(
      'SOURCE_QUERY_FAILED',
      `${where}: ${options.server} stopped the query after statement_timeout_ms (${options.statementTimeoutMs} ms); raise it for this source or copy less (mode incremental).`,
    );
  }
  if (failure === 'server') {
    return new InletError(
      'SOURCE_QUERY_FAILED',
      `${where}: ${options.server} refused or broke off the query: ${message}`,
    );
  }
  return new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: a value could not be written to the lake: ${message}`,
  );
}
