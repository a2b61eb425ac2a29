import { readFileSync } from 'node:fs';
import { type DuckDBConnection, DuckDBInstance, type DuckDBResult, type Json } from '@duckdb/node-api';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { DataLayout } from '../lake/index.ts';
import { sqlString } from '../lake/index.ts';
import { prepareReadOnly } from './sandbox.ts';
import { applyViews, discoverViews, viewStatements } from './views.ts';

export interface QueryColumn {
  name: string;
  type: string;
}

export interface QueryStats {
  elapsed_ms: number;
  rows: number;
  bytes_scanned: number;
  truncated: boolean;
}

export interface QueryResult {
  columns: QueryColumn[];
  rows: Json[][];
  stats: QueryStats;
}

export interface QueryOptions {
  /** Lets a caller cancel the query later with cancel(id). */
  id?: string;
  maxRows?: number;
  signal?: AbortSignal;
}

export interface QueryStream {
  columns: QueryColumn[];
  chunks: AsyncIterable<Json[][]>;
}

// Bytes the process read through read(2), used as the query's bytes scanned; DuckDB's own profiling
// metrics are not reachable from the Node bindings. Approximate when queries overlap.
function bytesRead(): number {
  try {
    return Number(/rchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const FILE_RACE = /No files found|Cannot open file|No such file/;

/**
 * The sandboxed engine for people's SQL: an in-memory DuckDB that reads only the lake and the WAL,
 * cannot write, attach, install, load or change settings, with memory, thread and time limits.
 */
export async function createQueryEngine(options: { config: InletConfig; layout: DataLayout }) {
  const { config, layout } = options;
  const instance = await DuckDBInstance.create(':memory:', {
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    threads: String(config.query.threads),
    memory_limit: config.query.memory_limit,
  });
  const admin = await instance.connect();
  // TimeZone belongs to the icu extension, so it can only be set once the instance is up.
  await admin.run(`SET TimeZone = ${sqlString(config.timezone)}`);
  await admin.run(
    `SET allowed_directories = [${[`${layout.lake}/`, `${layout.walEvents}/`].map(sqlString).join(', ')}]`,
  );
  await admin.run("SET temp_directory = ''");
  await admin.run('SET enable_external_access = false');
  await admin.run('SET lock_configuration = true');

  // View name → shape of the definition it was created from; rebuilt when files appear or change.
  let views = new Map<string, string>();
  let refreshing: Promise<void> | undefined;
  const refreshViews = async () => {
    while (refreshing) await refreshing;
    const wanted = discoverViews(layout);
    if (viewStatements(views, wanted).length === 0) return;
    refreshing = (async () => {
      views = await applyViews((sql) => admin.run(sql), views, wanted);
    })();
    try {
      await refreshing;
    } finally {
      refreshing = undefined;
    }
  };

  const running = new Map<string, () => void>();
  let active = 0;
  const waiting: Array<() => void> = [];
  const acquire = async () => {
    if (active >= config.query.max_concurrent) {
      if (waiting.length >= config.query.max_concurrent * 4) {
        throw new InletError('QUERY_BUSY', 'Too many queries are running; retry in a moment.', {
          retryAfterSeconds: 2,
        });
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    active++;
  };
  const release = () => {
    active--;
    waiting.shift()?.();
  };

  /** Runs fn with a fresh connection that a timeout, an abort signal or cancel(id) interrupts. */
  const withConnection = async <T>(
    opts: QueryOptions,
    fn: (connection: DuckDBConnection, stopped: () => InletError | undefined) => Promise<T>,
  ): Promise<T> => {
    await acquire();
    const connection = await instance.connect();
    let reason: InletError | undefined;
    const interrupt = (error: InletError) => {
      reason ??= error;
      connection.interrupt();
    };
    const timer = setTimeout(
      () =>
        interrupt(
          new InletError(
            'QUERY_TIMEOUT',
            `The query ran longer than ${config.query.timeout_ms} ms and was stopped; narrow it (a date filter on dt helps) or query a mart.`,
          ),
        ),
      config.query.timeout_ms,
    );
    const onAbort = () => interrupt(new InletError('QUERY_CANCELLED', 'The query was cancelled.'));
    opts.signal?.addEventListener('abort', onAbort);
    if (opts.id) running.set(opts.id, onAbort);
    try {
      return await fn(connection, () => reason);
    } catch (error) {
      if (reason) throw reason;
      throw error;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.id) running.delete(opts.id);
      connection.closeSync();
      release();
    }
  };

  /**
   * Prepares and starts a statement. A cancel or timeout that lands while it is still being planned
   * would interrupt nothing, so stopped() is asked again once it runs, and interrupts it then.
   */
  const start = async (
    connection: DuckDBConnection,
    sql: string,
    stopped: () => InletError | undefined,
  ): Promise<DuckDBResult> => {
    for (let attempt = 0; ; attempt++) {
      await refreshViews();
      const prepared = await prepareReadOnly(connection, sql);
      const early = stopped();
      if (early) throw early;
      try {
        const result = await prepared.stream();
        if (stopped()) connection.interrupt();
        return result;
      } catch (error) {
        const message = (error as Error).message;
        // The loader removed a WAL segment between planning and reading: the rows are in the lake now.
        if (attempt === 0 && FILE_RACE.test(message)) {
          views = new Map();
          continue;
        }
        if (message.includes('INTERRUPT')) throw error;
        throw new InletError('QUERY_INVALID', message);
      }
    }
  };

  const columnsOf = (result: DuckDBResult): QueryColumn[] =>
    result.columnNames().map((name, i) => ({ name, type: result.columnType(i).toString() }));

  return {
    /** Runs one read-only statement and returns up to maxRows rows. */
    query(sql: string, opts: QueryOptions = {}): Promise<QueryResult> {
      const maxRows = opts.maxRows ?? config.query.max_rows;
      return withConnection(opts, async (connection, stopped) => {
        const started = performance.now();
        const readBefore = bytesRead();
        const result = await start(connection, sql, stopped);
        const rows: Json[][] = [];
        let truncated = false;
        for await (const chunk of result.yieldRowsJson()) {
          for (const row of chunk) {
            if (rows.length >= maxRows) {
              truncated = true;
              break;
            }
            rows.push(row);
          }
          if (truncated) break;
        }
        return {
          columns: columnsOf(result),
          rows,
          stats: {
            elapsed_ms: Math.round(performance.now() - started),
            rows: rows.length,
            bytes_scanned: bytesRead() - readBefore,
            truncated,
          },
        };
      });
    },
    /** Runs one read-only statement and hands its rows over chunk by chunk, for CSV export. */
    async stream<T>(
      sql: string,
      opts: QueryOptions,
      consume: (stream: QueryStream) => Promise<T>,
    ): Promise<T> {
      return withConnection(opts, async (connection, stopped) => {
        const result = await start(connection, sql, stopped);
        return consume({ columns: columnsOf(result), chunks: result.yieldRowsJson() });
      });
    },
    /** Interrupts a running query by the id it was started with; false when no such query runs. */
    cancel(id: string): boolean {
      const cancel = running.get(id);
      cancel?.();
      return cancel !== undefined;
    },
    close() {
      admin.closeSync();
      instance.closeSync();
    },
  };
}

export type QueryEngine = Awaited<ReturnType<typeof createQueryEngine>>;
