import { InletError, isInletError } from '../../errors/index.ts';
import { quotedTableName } from './database-job.ts';
import type { DatabaseTable } from './database-options.ts';
import { safeMessage } from './redact.ts';

/**
 * What a driver says a failure was: the server's statement timeout, a table the server does not
 * have, a privilege the source's user lacks, another failure on the server's side, or neither.
 */
export type DriverFailure = 'timeout' | 'no-table' | 'no-privilege' | 'server' | undefined;

/** The user a connection URL logs in as, for advice on what to grant; undefined when it names none. */
function urlUser(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).username) || undefined;
  } catch {
    return undefined;
  }
}

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
    /** Quotes one name as the database's SQL does, for the table a GRANT names. */
    quoteIdent: (name: string) => string;
    classify: (error: unknown) => DriverFailure;
    /** The configuration file to correct the table's entry in (configFileName). */
    configFile: string;
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
  // A table: entry the server does not know is a mistake in inlet.yaml more often than in the
  // database; a query: names its tables in its own SQL, which the server's message points at.
  if (failure === 'no-table' && options.table.table !== undefined) {
    return new InletError(
      'SOURCE_QUERY_FAILED',
      `${where}: ${options.server} has no table ${options.table.table} (${message}); check this table's table: in ${options.configFile}, schema.table spelled as the database has it (case counts).`,
    );
  }
  // The fix is a GRANT by the database's owner, not another run: say so, and to whom.
  if (failure === 'no-privilege') {
    const user = urlUser(options.url);
    const who = user ? `the user ${user} of this source's url` : "this source's user";
    // Quoted as the GRANT must name it: public.Orders unquoted is public.orders to PostgreSQL, and a
    // name with a space or a keyword (order) is no name at all unquoted.
    const what =
      options.table.table !== undefined
        ? `the table ${quotedTableName(options.table.table, options.quoteIdent)}`
        : 'the tables its query: reads';
    return new InletError(
      'SOURCE_QUERY_FAILED',
      `${where}: ${options.server} does not let ${who} read it (${message}); grant that user SELECT on ${what}, or leave this entry out of ${options.configFile}.`,
    );
  }
  if (failure === 'server' || failure === 'no-table') {
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
