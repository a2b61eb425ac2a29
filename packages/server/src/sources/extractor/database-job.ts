import type { Source } from '../types.ts';
import type { ColumnPlan } from './column-plan.ts';
import type { DatabaseOptions, DatabaseTable } from './database-options.ts';
import { syncDatabase } from './source-sync.ts';
import { copyCsvStream } from './spool-copy.ts';
import { checkTableColumns } from './table-columns.ts';
import type { TableDocs } from './table-docs.ts';
import { type DriverFailure, tableSyncError } from './table-errors.ts';
import { cursorOrder, positionAfter, type TableJob, type TableRun } from './table-sync.ts';

/** A table: name as SQL, each part of it (schema, table) quoted. */
export const quotedTableName = (name: string, quoteIdent: (name: string) => string) =>
  name.split('.').map(quoteIdent).join('.');

/** The rows of one configured table as a query: the table itself, or the user's query. */
export const tableQuery = (table: DatabaseTable, quoteIdent: (name: string) => string) =>
  table.query ?? `SELECT * FROM ${quotedTableName(table.table ?? '', quoteIdent)}`;

/** What a database driver does for one table; databaseTableJob does the rest, the same for every database. */
export interface DatabaseTableDriver<Column extends { plan: ColumnPlan }> {
  /** The database's name in messages, e.g. PostgreSQL. */
  server: string;
  /** Quotes one name as the database's SQL does ("Orders" in PostgreSQL, `Orders` in MySQL). */
  quoteIdent: (name: string) => string;
  classify: (error: unknown) => DriverFailure;
  estimate: (position: unknown) => Promise<number | undefined>;
  /** The columns of the table's rows, each with its plan for the lake. */
  columns: () => Promise<Column[]>;
  /**
   * The database's comments on the table and these columns (keyed by the column's name in the
   * lake); none for what does not clearly come from one table's column.
   */
  comments: (columns: Column[]) => Promise<TableDocs>;
  /** The run's rows as CSV; check, when given, is called with the rows that arrived once all are written. */
  rows: (
    run: TableRun,
    columns: Column[],
  ) => { chunks: AsyncIterable<Buffer>; check?: (rows: number) => Promise<void> };
}

/**
 * One table of a database source: checks its columns against the configuration, streams its rows
 * into Parquet parts and saves where the next run starts; a failure is worded by tableSyncError.
 */
export function databaseTableJob<Column extends { plan: ColumnPlan }>(
  source: string,
  table: DatabaseTable,
  options: DatabaseOptions,
  driver: DatabaseTableDriver<Column>,
): TableJob {
  return {
    target: table,
    estimate: driver.estimate,
    async extract(run) {
      try {
        const columns = await driver.columns();
        const plans = columns.map((c) => c.plan);
        checkTableColumns(source, table, plans);
        const docs = await readComments(driver, columns, run, `${source}.${table.name}`);
        const stream = driver.rows(run, columns);
        const rows = await copyCsvStream(run, plans, stream.chunks, options.part_size_mb * 1024 * 1024);
        if (run.signal.aborted) throw new Error('cancelled');
        await stream.check?.(rows);
        return {
          rows,
          position: await positionAfter(run, table.cursor, columns, rows),
          cursorOrder: cursorOrder(table.cursor, columns),
          docs,
        };
      } catch (error) {
        throw tableSyncError(error, {
          source,
          table,
          url: options.url,
          statementTimeoutMs: options.statement_timeout_ms,
          server: driver.server,
          quoteIdent: driver.quoteIdent,
          classify: driver.classify,
          configFile: run.configFile,
        });
      }
    },
  };
}

/**
 * The table's comments, or undefined when they could not be read: they only describe the rows, so
 * the rows are copied all the same and the manifest keeps the comments it had.
 */
async function readComments<Column extends { plan: ColumnPlan }>(
  driver: DatabaseTableDriver<Column>,
  columns: Column[],
  run: TableRun,
  where: string,
): Promise<TableDocs | undefined> {
  try {
    const docs = await driver.comments(columns);
    // Only the columns copied: a MariaDB INVISIBLE column has a comment but is no column of SELECT *.
    const names = new Set(columns.map((c) => c.plan.name));
    return {
      ...docs,
      columns: Object.fromEntries(Object.entries(docs.columns).filter(([name]) => names.has(name))),
    };
  } catch (error) {
    if (run.signal.aborted) throw error;
    run.logger.warn(
      { table: where, err: error },
      `could not read the ${driver.server} comments of ${where}; its rows are copied and its descriptions stay as they were`,
    );
    return undefined;
  }
}

/** A database source: one connection per sync, one job per configured table over it. */
export function createDatabaseSource<Connection extends { close(): Promise<void>; lost(): boolean }>(
  name: string,
  type: string,
  options: DatabaseOptions,
  connect: (options: { url: string; statementTimeoutMs: number }) => Promise<Connection>,
  job: (table: DatabaseTable, connection: Connection) => TableJob,
): Source {
  return {
    name,
    type,
    sync: (context) =>
      syncDatabase({
        source: name,
        url: options.url,
        context,
        memoryLimit: options.memory_limit,
        connect: () => connect({ url: options.url, statementTimeoutMs: options.statement_timeout_ms }),
        jobs: (connection) => options.tables.map((table) => job(table, connection)),
      }),
  };
}
