import { InletError } from '../../errors/index.ts';
import {
  createDatabaseSource,
  cursorCondition,
  type DatabaseTable,
  type DriverFailure,
  databaseTableJob,
  quotedTableName,
  type TableJob,
  tableDocs,
  tableQuery,
} from '../extractor/index.ts';
import type { Source } from '../types.ts';
import { connectPostgres, type PostgresConnection } from './postgres-client.ts';
import type { PostgresOptions } from './postgres-config.ts';
import { type PostgresColumn, type PostgresType, planPostgresColumns } from './postgres-type-mapping.ts';

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The rows of one configured table as a query: the table itself, or the user's query. */
const baseQuery = (table: DatabaseTable) => tableQuery(table, quoteIdent);

/**
 * The query's rows past the saved cursor (all rows on the first run; see cursorCondition), the
 * cursor compared as the copy keeps it where the columns are known (PostgresColumn's compared).
 */
function rowsQuery(table: DatabaseTable, position: unknown, columns?: PostgresColumn[]): string {
  const where = cursorCondition(table, position, {
    column: (name) =>
      columns?.find((column) => column.plan.name === name)?.compared ?? `q.${quoteIdent(name)}`,
    literal: quoteLiteral,
  });
  return `SELECT * FROM (${baseQuery(table)}) AS q${where}`;
}

async function planColumns(connection: PostgresConnection, sql: string): Promise<PostgresColumn[]> {
  const fields = await connection.describe(sql);
  const types = new Map<number, PostgresType>();
  // Domains and arrays point at further types (a domain over an array of an enum needs three lookups).
  let wanted = [...new Set(fields.map((f) => f.typeOid))];
  for (let round = 0; round < 4 && wanted.length > 0; round++) {
    for (const type of await connection.types(wanted)) types.set(type.oid, type);
    wanted = [...types.values()].flatMap((t) => [t.elem, t.base]).filter((oid) => oid > 0 && !types.has(oid));
  }
  return planPostgresColumns(fields, types);
}

/**
 * A PostgreSQL error carries a SQLSTATE (57014: statement timeout, 42P01: no such table, 3F000: no
 * such schema, 42501: no privilege); anything else came from DuckDB or the disk.
 */
function classifyPostgresFailure(error: unknown): DriverFailure {
  const code = (error as { code?: unknown })?.code;
  if (code === '57014') return 'timeout';
  if (code === '42P01' || code === '3F000') return 'no-table';
  // insufficient_privilege: no SELECT on the table, or no USAGE on its schema.
  if (code === '42501') return 'no-privilege';
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return 'server';
  // pg's own errors, without a code, for a connection that is gone (each later query gets one).
  if (/^Connection terminated|is not queryable$/.test(String((error as Error)?.message))) return 'server';
  return code === 'ECONNRESET' ? 'server' : undefined;
}

function postgresJob(
  source: string,
  table: DatabaseTable,
  connection: PostgresConnection,
  options: PostgresOptions,
): TableJob {
  return databaseTableJob(source, table, options, {
    server: 'PostgreSQL',
    quoteIdent,
    classify: classifyPostgresFailure,
    async estimate(position) {
      const plan = await connection.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(
        `EXPLAIN (FORMAT JSON) ${rowsQuery(table, position)}`,
      );
      return plan[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'];
    },
    columns: () => planColumns(connection, baseQuery(table)),
    // A query's rows are not one table's, so only its columns have comments (those it reads as they are).
    async comments(columns) {
      const [row] = table.table
        ? await connection.query<{ comment: string | null }>(
            "SELECT obj_description(to_regclass($1), 'pg_class') AS comment",
            [quotedTableName(table.table, quoteIdent)],
          )
        : [];
      return tableDocs(
        row?.comment,
        columns.map((c) => [c.plan.name, c.comment] as const),
      );
    },
    rows(run, columns) {
      const select = columns.map((c) => `${c.select} AS ${quoteIdent(c.plan.name)}`).join(', ');
      const copy = connection.copyOut(
        `COPY (SELECT ${select} FROM (${rowsQuery(table, run.position, columns)}) AS q) TO STDOUT WITH (FORMAT csv)`,
      );
      return {
        chunks: copy.chunks,
        async check(rows) {
          const sent = await copy.rowCount();
          if (sent !== rows)
            throw new InletError(
              'SOURCE_QUERY_FAILED',
              `${source}.${table.name}: PostgreSQL sent ${sent} rows but ${rows} arrived; nothing was kept, run the sync again.`,
            );
        },
      };
    },
  });
}

/** A `type: postgres` source: copies tables and query results into the lake with COPY … TO STDOUT. */
export const createPostgresSource = (name: string, options: PostgresOptions): Source =>
  createDatabaseSource(name, 'postgres', options, connectPostgres, (table, connection) =>
    postgresJob(name, table, connection, options),
  );
