import { type DuckDBConnection, type DuckDBPreparedStatement, StatementType } from '@duckdb/node-api';
import { InletError } from '../errors/index.ts';
import { sqlCode } from '../sql/index.ts';
import { parseSqlTree, sqlCalls } from './sql-calls.ts';
import { unquotedSchemas, withQueryHint, withQuotedSchemaHint } from './sql-hints.ts';
import { writeKeyword } from './statement-kind.ts';

// People's SQL is judged by DuckDB's own parser and binder, never by a regex over the text:
// one statement, of type SELECT or EXPLAIN, whose parse tree reads no files directly. The engine's
// configuration (no external access, allowed directories, locked settings) is the second wall.

const BLOCKED_FUNCTION =
  /^(read_|parquet_|sniff_|glob$|query$|query_table$|iceberg_|delta_|sqlite_|postgres_|mysql_|pragma_|duckdb_secrets$|which_secret$|getenv$|checkpoint$|force_checkpoint$|load_|install_)/;
const ALLOWED_HINT = 'Only SELECT, WITH, EXPLAIN, DESCRIBE, SHOW and SUMMARIZE are allowed.';
const USE_VIEWS =
  "query the tables and views instead (SHOW ALL TABLES lists them, with their schemas: a source's tables are crm.customers and the like, which SHOW TABLES leaves out).";

/**
 * The table functions a query may call: those that make rows and DuckDB's own listings. A list of
 * what is allowed, not of what is not: DuckDB keeps adding table functions that read files, run
 * SQL given as text or change the instance for every later query (enable_logging, which the
 * block-list let through, logged everyone's SQL, or aborted the process given a file to log to).
 */
const TABLE_FUNCTIONS = new Set([
  'range',
  'generate_series',
  'unnest',
  'json_each',
  'json_tree',
  'repeat',
  'repeat_row',
  'histogram',
  'histogram_values',
  'summary',
  'test_all_types',
  'pg_timezone_names',
  'icu_calendar_names',
  'sql_auto_complete',
  'duckdb_approx_database_count',
  'duckdb_columns',
  'duckdb_connection_count',
  'duckdb_constraints',
  'duckdb_coordinate_systems',
  'duckdb_databases',
  'duckdb_dependencies',
  'duckdb_extensions',
  'duckdb_functions',
  'duckdb_indexes',
  'duckdb_keywords',
  'duckdb_memory',
  'duckdb_optimizers',
  'duckdb_schemas',
  'duckdb_secret_types',
  'duckdb_sequences',
  'duckdb_settings',
  'duckdb_tables',
  'duckdb_temporary_files',
  'duckdb_types',
  'duckdb_variables',
  'duckdb_views',
]);

/** DuckDB's advice for an expression nested too deep is a setting queries may not change. */
const DEPTH_ADVICE = /Use "SET max_expression_depth TO x" to increase the maximum expression depth\./;
const LESS_NESTING =
  'Write it with less nesting: a CTE for a part of it, or a list function (list_sum, list_reduce) for a long chain of + or of nested calls; settings cannot be changed here.';
/**
 * DuckDB's parser says only "memory exhausted" when text nests deeper than its stack (some
 * thousands of parentheses or CASEs), which reads as if the server were short of memory.
 */
const PARSER_STACK = /Parser Error: memory exhausted/;
const withoutSettingAdvice = (message: string) =>
  PARSER_STACK.test(message)
    ? `${message}\nThe query nests too deep for DuckDB's parser (parentheses, CASE or subqueries within each other, thousands deep). ${LESS_NESTING}`
    : message.replace(DEPTH_ADVICE, LESS_NESTING);

/**
 * Whitespace and comments before a statement (an editor's header), read as DuckDB reads them: only
 * comments whose end no reading can dispute, a line comment without a carriage return and a block
 * comment without another opening inside (DuckDB nests them); any other text is left whole, and an
 * EXPLAIN after it is refused.
 */
const LEADING_COMMENTS = /^(?:\s|--[^\r\n]*\n|\/\*(?:(?!\/\*|\*\/)[\s\S])*\*\/)*/;

/** DuckDB's words for what the engine's configuration refuses (a file outside the lake, a setting). */
const REFUSED = /Permission Error|disabled by configuration|locked/;
const refused = (message: string) =>
  new InletError(
    'QUERY_NOT_ALLOWED',
    `${message.split('\n')[0]}. Queries read only the lake's tables and views and cannot write, attach or change settings.`,
  );

const empty = () =>
  new InletError(
    'QUERY_INVALID',
    'The query is empty (only comments or semicolons); send one SELECT statement.',
  );

/**
 * A statement's kind as its author wrote it (USE, RESET, FORCE INSTALL, a DELETE behind a WITH
 * clause), read from its code: it is named before DuckDB binds it, so DuckDB's type is not known.
 */
function writtenKind(sql: string): string | undefined {
  const code = sqlCode(sql);
  // Not the UPDATE of a table's rows.
  if (/^\s*update\s+extensions\b/i.test(code)) return 'UPDATE EXTENSIONS';
  const write = writeKeyword(sql);
  if (write) return write;
  const word = /^\s*((?:force\s+)?install|[a-z]+)\b/i.exec(code)?.[1];
  return word?.toUpperCase().replace(/\s+/, ' ');
}

/**
 * The statement an EXPLAIN [ANALYZE] explains, where DuckDB starts it (after any options), or
 * undefined when sql is no EXPLAIN.
 */
function explainedStatement(sql: string): string | undefined {
  const text = sql.replace(LEADING_COMMENTS, '');
  const explain = /^explain(\s+analy[sz]e)?\b/i.exec(text);
  if (!explain) return undefined;
  const inner = text.slice(explain[0].length);
  // EXPLAIN (FORMAT JSON) and EXPLAIN (ANALYZE, FORMAT JSON): options before the statement.
  // Read only as words, never strings or comments, so that where the statement starts is where
  // DuckDB starts it (DuckDB ignores an ANALYZE option's value, and a string there could hide
  // a ")" that ends the list for a regex but not for DuckDB).
  if (!/^\s*\(\s*(?:analy[sz]e|format)\b/i.test(inner)) return inner;
  const options = /^\s*\((?:[\s,]|\w|'\w*')*\)/.exec(inner);
  if (!options)
    throw new InletError(
      'QUERY_INVALID',
      "EXPLAIN's options are read here as words only, such as EXPLAIN (FORMAT JSON) SELECT … or EXPLAIN (ANALYZE, FORMAT JSON) SELECT …; write them so (no comments or other strings in the list).",
    );
  return inner.slice(options[0].length);
}

async function checkSelectTree(connection: DuckDBConnection, sql: string): Promise<void> {
  const reader = await connection.runAndReadAll(`SELECT json_serialize_sql('${sql.replaceAll("'", "''")}')`);
  const tree = parseSqlTree(String(reader.getRows()[0]?.[0])) as {
    error: boolean;
    error_message?: string;
    statements?: unknown;
  };
  if (tree.error) {
    // Named only when the parser says it is no SELECT; another failure keeps the plain words.
    const kind = /Only SELECT statements/.test(tree.error_message ?? '') ? writtenKind(sql) : undefined;
    // An EXPLAIN gets here only when explainedStatement could not find it behind its header.
    if (kind === 'EXPLAIN')
      throw new InletError(
        'QUERY_INVALID',
        'EXPLAIN is found here after line comments (--) and block comments that hold no other /*; write the header comment with -- or without the inner /*, or put it after the statement.',
      );
    throw new InletError(
      'QUERY_NOT_ALLOWED',
      `${kind ? `${kind} statements are` : 'This statement is'} not allowed. ${ALLOWED_HINT}`,
    );
  }
  for (const { name, table } of sqlCalls(tree.statements)) {
    if (BLOCKED_FUNCTION.test(name))
      throw new InletError(
        'QUERY_NOT_ALLOWED',
        `${name}() reads files or settings directly and is not allowed; ${USE_VIEWS}`,
      );
    if (table && !TABLE_FUNCTIONS.has(name))
      throw new InletError(
        'QUERY_NOT_ALLOWED',
        `${name}() is not among the table functions a query may call (those that make rows, such as range, generate_series, unnest and json_each, and DuckDB's listings, such as duckdb_tables() and duckdb_columns()); ${USE_VIEWS}`,
      );
  }
}

/**
 * The sources, among these names, that sql writes unquoted before a dot and that DuckDB's parser
 * does not take as a schema unless quoted (left, order): what withQuotedSchemaHint names.
 */
export async function keywordSources(
  connection: DuckDBConnection,
  sql: string,
  sources: readonly string[],
): Promise<string[]> {
  const reserved: string[] = [];
  for (const name of unquotedSchemas(sql, sources)) {
    try {
      await connection.extractStatements(`SELECT * FROM ${name}.t`);
    } catch {
      reserved.push(name);
    }
  }
  return reserved;
}

/**
 * Checks that sql is one read-only statement and returns it prepared. Parse and bind errors become
 * QUERY_INVALID with DuckDB's message; anything that is not a read becomes QUERY_NOT_ALLOWED.
 */
export async function prepareReadOnly(
  connection: DuckDBConnection,
  sql: string,
  sources: readonly string[] = [],
): Promise<DuckDBPreparedStatement> {
  const nul = sql.indexOf('\0');
  // DuckDB reads SQL as a C string: the text would end at the NUL, or its parser fail on it.
  if (nul !== -1)
    throw new InletError(
      'QUERY_INVALID',
      `The query holds a NUL character (U+0000) at offset ${nul}; remove it (a string that needs one can write chr(0)).`,
    );
  // IMPORT DATABASE is run in part while its text is split into statements (DuckDB reads its
  // directory's schema.sql), so it is refused by its word first: one naming a directory of the lake,
  // which DuckDB may read, found no schema.sql there and was answered 503 QUERY_BUSY, "retry".
  if (writtenKind(sql) === 'IMPORT')
    throw new InletError('QUERY_NOT_ALLOWED', `IMPORT statements are not allowed. ${ALLOWED_HINT}`);
  let extracted: Awaited<ReturnType<DuckDBConnection['extractStatements']>>;
  try {
    extracted = await connection.extractStatements(sql);
  } catch (error) {
    const message = (error as Error).message;
    // What the bindings say for text with no statement in it (only comments or semicolons).
    if (message === 'Error in native callback') throw empty();
    // IMPORT DATABASE is read while its text is split into statements: DuckDB reads its schema.sql.
    if (REFUSED.test(message)) throw refused(message.replace(/^Failed to extract statements: /, ''));
    const keywords = /Parser Error/.test(message) ? await keywordSources(connection, sql, sources) : [];
    throw new InletError('QUERY_INVALID', withQuotedSchemaHint(withoutSettingAdvice(message), sql, keywords));
  }
  if (extracted.count === 0) throw empty();
  if (extracted.count > 1) {
    // DuckDB runs a PIVOT without an IN list as two statements: one creates a type of the values.
    // It may stand anywhere (FROM (PIVOT …), a CTE, after a header comment), so it is named when the
    // code holds one and fewer statements than DuckDB counts; a string may say PIVOT (.
    const code = sqlCode(sql);
    const written = code
      .replace(/"(?:[^"]|"")*"/g, '""')
      .split(';')
      .filter((statement) => statement.trim() !== '').length;
    const pivot = /\bPIVOT\b/i.test(code) && written < extracted.count;
    throw new InletError(
      'QUERY_NOT_ALLOWED',
      pivot
        ? "A PIVOT without an IN list runs as two statements here (DuckDB first creates a type of the pivoted values); name the values: PIVOT … ON col IN ('a', 'b') USING …."
        : `Send one statement at a time; this text holds ${extracted.count}.`,
    );
  }
  // Judged before DuckDB binds it: binding runs part of some statements (EXPORT DATABASE made its
  // directory, in the lake too, before it was refused), so only a read is ever bound. EXPLAIN ANALYZE
  // runs its statement, so the statement inside must pass the same check.
  const inner = explainedStatement(sql);
  if (inner === undefined) await checkSelectTree(connection, sql);
  else await prepareReadOnly(connection, inner);
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await extracted.prepare(0);
  } catch (error) {
    const message = (error as Error).message;
    if (REFUSED.test(message)) throw refused(message);
    throw new InletError('QUERY_INVALID', withQueryHint(withoutSettingAdvice(message), sql));
  }
  // What DuckDB made of the text is what the checks above read it as.
  if (prepared.statementType !== (inner === undefined ? StatementType.SELECT : StatementType.EXPLAIN))
    throw new InletError('QUERY_NOT_ALLOWED', `This statement is not allowed. ${ALLOWED_HINT}`);
  return prepared;
}
