import { InletError } from '../../errors/index.ts';
import {
  checkTableColumns,
  copyCsvStream,
  cursorCondition,
  cursorOrder,
  type DatabaseTable,
  type DriverFailure,
  positionAfter,
  syncDatabase,
  type TableJob,
  tableSyncError,
} from '../extractor/index.ts';
import type { Source } from '../types.ts';
import { connectPostgres, type PostgresConnection } from './postgres-client.ts';
import type { PostgresOptions } from './postgres-config.ts';
import { type PostgresColumn, type PostgresType, planPostgresColumns } from './postgres-type-mapping.ts';

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The rows of one configured table as a query: the table itself, or the user's query. */
const baseQuery = (table: DatabaseTable) =>
  table.query ?? `SELECT * FROM ${(table.table ?? '').split('.').map(quoteIdent).join('.')}`;

/** The query's rows past the saved cursor (all rows on the first run; see cursorCondition). */
function rowsQuery(table: DatabaseTable, position: unknown): string {
  const where = cursorCondition(table, position, {
    column: (name) => `q.${quoteIdent(name)}`,
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

/** A PostgreSQL error carries a SQLSTATE (57014: statement timeout); anything else came from DuckDB or the disk. */
function classifyPostgresFailure(error: unknown): DriverFailure {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code === '57014' ? 'timeout' : 'server';
  return code === 'ECONNRESET' ? 'server' : undefined;
}

function postgresJob(
  source: string,
  table: DatabaseTable,
  connection: PostgresConnection,
  options: PostgresOptions,
): TableJob {
  return {
    target: table,
    async estimate(position) {
      const plan = await connection.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(
        `EXPLAIN (FORMAT JSON) ${rowsQuery(table, position)}`,
      );
      return plan[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'];
    },
    async extract(run) {
      try {
        const columns = await planColumns(connection, baseQuery(table));
        checkTableColumns(
          source,
          table,
          columns.map((c) => c.plan),
        );
        const select = columns.map((c) => `${c.select} AS ${quoteIdent(c.plan.name)}`).join(', ');
        const copy = connection.copyOut(
          `COPY (SELECT ${select} FROM (${rowsQuery(table, run.position)}) AS q) TO STDOUT WITH (FORMAT csv)`,
        );
        const rows = await copyCsvStream(
          run,
          columns.map((c) => c.plan),
          copy.chunks,
          options.part_size_mb * 1024 * 1024,
        );
        if (run.signal.aborted) throw new Error('cancelled');
        const sent = await copy.rowCount();
        if (sent !== rows)
          throw new InletError(
            'SOURCE_QUERY_FAILED',
            `${source}.${table.name}: PostgreSQL sent ${sent} rows but ${rows} arrived; nothing was kept, run the sync again.`,
          );
        return {
          rows,
          position: await positionAfter(run, table.cursor, columns, rows),
          cursorOrder: cursorOrder(table.cursor, columns),
        };
      } catch (error) {
        throw tableSyncError(error, {
          source,
          table,
          url: options.url,
          statementTimeoutMs: options.statement_timeout_ms,
          server: 'PostgreSQL',
          classify: classifyPostgresFailure,
        });
      }
    },
  };
}

/** A `type: postgres` source: copies tables and query results into the lake with COPY … TO STDOUT. */
export function createPostgresSource(name: string, options: PostgresOptions): Source {
  return {
    name,
    type: 'postgres',
    sync: (context) =>
      syncDatabase({
        source: name,
        url: options.url,
        context,
        memoryLimit: options.memory_limit,
        connect: () =>
          connectPostgres({ url: options.url, statementTimeoutMs: options.statement_timeout_ms }),
        jobs: (connection) => options.tables.map((table) => postgresJob(name, table, connection, options)),
      }),
  };
}
