import {
  createDatabaseSource,
  cursorCondition,
  type DatabaseTable,
  type DriverFailure,
  databaseTableJob,
  type TableDocs,
  type TableJob,
  tableDocs,
  tableQuery,
} from '../extractor/index.ts';
import type { Source } from '../types.ts';
import { connectMysql, type MysqlConnection } from './mysql-client.ts';
import type { MysqlOptions } from './mysql-config.ts';
import { createCsvEncoder, type MysqlColumn, planMysqlColumns } from './mysql-type-mapping.ts';

const quoteIdent = (name: string) => `\`${name.replaceAll('`', '``')}\``;
const NUMBER = /^-?\d+(\.\d+)?$/;
const CHUNK_CHARS = 1 << 20;

const baseQuery = (table: DatabaseTable) => tableQuery(table, quoteIdent);

/**
 * The query's rows past the saved cursor, each column read as its plan says (all as they are when
 * columns is absent). Numbers are compared as numbers: MySQL compares an integer with a string as
 * doubles, which would lose large ids.
 */
function rowsQuery(
  table: DatabaseTable,
  position: unknown,
  connection: MysqlConnection,
  columns?: MysqlColumn[],
): string {
  const where = cursorCondition(table, position, {
    column: (name) => `q.${quoteIdent(name)}`,
    // The lake keeps a TIMESTAMP cursor with its UTC offset; the session is UTC, MySQL wants none.
    literal: (value) => (NUMBER.test(value) ? value : connection.escape(value.replace(/\+00(:00)?$/, ''))),
  });
  const list = columns?.some((c) => c.select)
    ? columns
        .map(({ plan, select }) => {
          const ref = `q.${quoteIdent(plan.name)}`;
          return select ? `${select.replaceAll('{}', ref)} AS ${quoteIdent(plan.name)}` : ref;
        })
        .join(', ')
    : '*';
  return `SELECT ${list} FROM (${baseQuery(table)}) AS q${where}`;
}

/** The rows as CSV text in chunks of about a megabyte. */
async function* csvChunks(
  batches: AsyncIterable<Array<Array<string | null>>>,
  encode: (row: ReadonlyArray<string | null>) => string,
): AsyncIterable<Buffer> {
  let text = '';
  for await (const rows of batches) {
    for (const row of rows) {
      text += encode(row);
      // Checked per row: a batch of wide rows made a text of many megabytes before it went.
      if (text.length >= CHUNK_CHARS) {
        yield Buffer.from(text);
        text = '';
      }
    }
  }
  if (text) yield Buffer.from(text);
}

/**
 * The comments of a table: (database.table or a table of the URL's database). MySQL shows a view's
 * TABLE_COMMENT as VIEW, which is no description. A query's columns name no table once wrapped in
 * SELECT * FROM (…) AS q, so a query: has none.
 */
async function mysqlComments(connection: MysqlConnection, table: DatabaseTable): Promise<TableDocs> {
  if (!table.table) return tableDocs(undefined, []);
  const parts = table.table.split('.');
  const where = [parts.length > 1 ? parts[0] : null, parts.at(-1)];
  const rows = await connection.query<{ column_name: string | null; comment: string | null }>(
    "SELECT NULL AS column_name, IF(TABLE_TYPE = 'VIEW', '', TABLE_COMMENT) AS comment FROM information_schema.TABLES " +
      'WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ' +
      'UNION ALL SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS ' +
      'WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
    [...where, ...where],
  );
  return tableDocs(
    rows.find((row) => row.column_name === null)?.comment,
    rows.flatMap((row) => (row.column_name === null ? [] : [[row.column_name, row.comment] as const])),
  );
}

/** MySQL errors carry a SQLSTATE or an ER_/PROTOCOL_ code; anything else came from DuckDB or the disk. */
function classifyMysqlFailure(error: unknown): DriverFailure {
  const code = String((error as { code?: unknown })?.code ?? '');
  if (
    code === 'ER_STATEMENT_TIMEOUT' ||
    /max_statement_time|max_execution_time/i.test(String((error as Error)?.message))
  ) {
    return 'timeout';
  }
  if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') return 'no-table';
  if (
    code === 'ER_TABLEACCESS_DENIED_ERROR' ||
    code === 'ER_COLUMNACCESS_DENIED_ERROR' ||
    code === 'ER_DBACCESS_DENIED_ERROR'
  )
    return 'no-privilege';
  // fatal: the connection is gone (mysql2 refuses every later query on it, with no code).
  if (
    typeof (error as { sqlState?: unknown })?.sqlState === 'string' ||
    /^(ER_|PROTOCOL_|ECONNRESET)/.test(code) ||
    (error as { fatal?: unknown })?.fatal === true
  )
    return 'server';
  return undefined;
}

function mysqlJob(
  source: string,
  table: DatabaseTable,
  connection: MysqlConnection,
  options: MysqlOptions,
): TableJob {
  return databaseTableJob(source, table, options, {
    server: 'MySQL',
    quoteIdent,
    classify: classifyMysqlFailure,
    async estimate(position) {
      const plan = await connection.query<{ rows?: number | string }>(
        `EXPLAIN ${rowsQuery(table, position, connection)}`,
      );
      return plan.length === 1 ? Number(plan[0]?.rows ?? 0) || undefined : undefined;
    },
    columns: async () => planMysqlColumns(await connection.describe(baseQuery(table))),
    comments: () => mysqlComments(connection, table),
    rows: (run, columns) => ({
      chunks: csvChunks(
        connection.rows(
          rowsQuery(table, run.position, connection, columns),
          new Map(columns.map((c) => [c.plan.name, c.read])),
        ),
        createCsvEncoder(columns),
      ),
    }),
  });
}

/** A `type: mysql` source (MySQL or MariaDB): streams tables and query results into the lake. */
export const createMysqlSource = (name: string, options: MysqlOptions): Source =>
  createDatabaseSource(name, 'mysql', options, connectMysql, (table, connection) =>
    mysqlJob(name, table, connection, options),
  );
