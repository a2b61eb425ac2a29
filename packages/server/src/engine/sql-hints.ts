// Hints for DuckDB's messages that do not say what went wrong in people's SQL.

import { sqlCode } from '../sql/index.ts';

const ARROW_HINT =
  "DuckDB binds -> and ->> more loosely than AND, OR, NOT and comparisons, and :: to the key beside them: put each extraction in parentheses, as in (properties->>'plan') = 'pro' or (properties->>'n')::INT, or write json_extract_string(properties, 'plan').";

const PARAMETER_HINT =
  "a query takes no parameters: write each value into the SQL (WHERE dt >= '2026-12-01', not ? or $1); a ? or $1 inside a string is only text.";

// The log tables have no view until a batch of log lines is in the lake; DuckDB then asks whether
// duckdb_logs was meant, as if the name were a typo.
const LOG_TABLE = /Table with name "?(access_logs|app_logs)"? does not exist/i;

/**
 * When a log table (access_logs, app_logs) appears, for a message about one not there yet; the
 * message ends it. Undefined for any other name.
 */
export function logTableHint(table: string): string | undefined {
  const name = table.toLowerCase();
  if (name !== 'access_logs' && name !== 'app_logs') return undefined;
  return `${name} appears once the first log lines are written to the lake: run inlet sync <source> for a source of type: file (or let inlet start tail it), or send logs to POST /logs (docs/logs.md)`;
}

/** text, matched as it is in a regular expression. */
export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * DuckDB's message, with a hint when it names a log table no log has made yet, or when the SQL fell into DuckDB's precedence of JSON arrows (fixed
 * only in DuckDB 2.0): `type = 'track' AND properties->>'plan' = 'pro'` runs as
 * `(type = 'track' AND properties) ->> ('plan' = 'pro')` and fails with "Failed to cast value to
 * numerical", and `properties->>'n'::INT` casts the key 'n'. properties and context are JSON, so
 * everyone who queries events meets this.
 */
export function withSqlHint(message: string, sql: string): string {
  // A client that sends parameters the way its database driver does (? or $1): they are prepared
  // as placeholders, and DuckDB's message says values are missing, not that none can be sent.
  if (/Values were not provided for the following prepared statement parameters/.test(message))
    return `${message}\nHint: ${PARAMETER_HINT}`;
  const logTable = LOG_TABLE.exec(message)?.[1];
  if (logTable) return `${message}\nHint: ${logTableHint(logTable)}.`;
  if (!sql.includes('->')) return message;
  const castKey = /Could not convert string '([^']*)' to/.exec(message)?.[1];
  const arrows =
    /Failed to cast value to numerical|json_extract(_string)?\([^)]*BOOLEAN/.test(message) ||
    (castKey !== undefined && new RegExp(`->>?\\s*'${escapeRegExp(castKey)}'\\s*::`).test(sql));
  return arrows ? `${message}\nHint: ${ARROW_HINT}` : message;
}

const MISSING_TABLE_HINT =
  "SHOW ALL TABLES lists the tables and views there are (so does inlet catalog); a mart is there once inlet run has built it, and a source's table once inlet sync has copied it.";

/**
 * DuckDB's guess at a missing table's name when it is one of DuckDB's own catalog views (pg_sequences
 * for sequences, information_schema.tables for tables, sqlite_master, duckdb_logs): none is a table
 * of the lake, and the guess sent people to them as if they were.
 */
const INTERNAL_GUESS =
  /^Did you mean "(?:(?:information_schema|pg_catalog)\.[^"]*|(?:pg|sqlite|duckdb)_[^".]*)"\?(?:\n|$)/m;

/** DuckDB's guess at the table a missing one's name was meant to be, unless it is one of its own catalog views. */
export function tableGuess(message: string): string | undefined {
  if (INTERNAL_GUESS.test(message)) return undefined;
  return /^Did you mean "([^"]+)"\?$/m.exec(message)?.[1];
}

/**
 * withSqlHint's message, and for a table that is not there, where the tables are listed and when
 * one appears: DuckDB says only that it does not exist, and offers sqlite_master. A model's
 * missing input has its own message, so this is for people's queries alone.
 */
export function withQueryHint(said: string, sql: string): string {
  const message = /^Catalog Error: Table with name /.test(said) ? said.replace(INTERNAL_GUESS, '') : said;
  const hinted = withSqlHint(message, sql);
  // A log table has its own hint (above), which says when it appears.
  return hinted === message && /^Catalog Error: Table with name .* does not exist/.test(message)
    ? `${hinted}\nHint: ${MISSING_TABLE_HINT}`
    : hinted;
}

/**
 * The table after name where sql's code writes it unquoted before a dot (crm.customers, not
 * "crm".customers or x.crm.y), '' when none follows the dot, or undefined. A "quoted identifier"
 * ("my crm.t") is matched first, so that no name is looked for inside one.
 */
function tableAfter(sql: string, name: string): string | undefined {
  const pattern = new RegExp(
    `"(?:[^"]|"")*"|(?<![\\w$.])${escapeRegExp(name)}\\s*\\.\\s*("(?:[^"]|"")*"|[\\w$]+)?`,
    'gi',
  );
  for (const match of sqlCode(sql).matchAll(pattern)) if (!match[0].startsWith('"')) return match[1] ?? '';
  return undefined;
}

/** The source names sql writes unquoted before a dot, outside its strings and comments. */
export function unquotedSchemas(sql: string, names: readonly string[]): string[] {
  return names.filter((name) => tableAfter(sql, name) !== undefined);
}

/**
 * A source whose name DuckDB's parser keeps for itself (left, full, semi, order, default): its
 * tables are left.t and the like, which parse only as "left".t, and DuckDB says no more than
 * "syntax error at or near". keywords are such sources' names that the SQL writes unquoted.
 */
export function withQuotedSchemaHint(message: string, sql: string, keywords: readonly string[]): string {
  if (keywords.length === 0) return message;
  const examples = keywords.map((name) => `"${name}".${tableAfter(sql, name) || '<table>'}`);
  const names = keywords.map((name) => `"${name}"`).join(', ');
  return `${message}\nHint: ${names} ${keywords.length === 1 ? 'is a word' : 'are words'} DuckDB's SQL keeps for itself, so a source of that name needs quotes in SQL: write ${examples.join(', ')}.`;
}
