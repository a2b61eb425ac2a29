import { join } from 'node:path';
// The module itself, not config/index.ts: that one loads the sources, which load this file.
import { configFileName } from '../../config/config-file-name.ts';
import { InletError, isInletError } from '../../errors/index.ts';
import { errorFields } from '../../log/index.ts';
import { acquireSourceLock } from '../source-lock.ts';
import type { SourceContext, SyncResult } from '../types.ts';
import { createParquetWriter } from './parquet-writer.ts';
import { describeUrl, safeMessage, urlSyntaxHint } from './redact.ts';
import { checkpointScope, syncTable, type TableJob } from './table-sync.ts';

/** The error for a sync stopped by Ctrl-C or shutdown. */
export const syncCancelled = (source: string) =>
  new InletError(
    'SYNC_CANCELLED',
    `Sync of "${source}" was stopped; tables finished before it are kept, the rest is copied next time.`,
  );

/**
 * Runs the tables of one source in order under the source's sync lock, with one Parquet writer,
 * reporting progress over all of them. A table that fails does not hold back the others, as a
 * failing dbt model does not hold back the models that do not need it: every table is tried, each
 * one copied is committed, and then the run fails naming every table that did not copy.
 */
export async function syncTables(options: {
  source: string;
  context: SourceContext;
  jobs: TableJob[];
  /** The Parquet writer's DuckDB memory (the source's memory_limit). */
  memoryLimit?: string;
}): Promise<SyncResult> {
  const { source, context, jobs } = options;
  const memoryLimit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  const { layout, logger, signal, metrics } = context;
  const rowsCopied = metrics.counter(
    'inlet_source_rows_total',
    'Rows copied from database and file sources into the lake, by source and table',
    ['source', 'table'],
  );
  const tableFailures = metrics.counter(
    'inlet_source_table_failures_total',
    'Source tables whose copy failed (nothing of that table committed), by source and table',
    ['source', 'table'],
  );
  const lock = acquireSourceLock(join(layout.lake, 'sources', source, '.sync.lock'), source, 'synced');
  const writer = await createParquetWriter({ tmpDir: join(layout.tmp, 'duckdb', source), memoryLimit });
  // A stopped sync (a workflow's timeout, Ctrl-C) went on reading a large file to its end, and kept it.
  const interrupt = () => writer.interrupt();
  signal.addEventListener('abort', interrupt, { once: true });
  try {
    let total = 0;
    for (const job of jobs) {
      const position = context.state.getCheckpoint<{ position?: unknown }>(
        checkpointScope(source),
        job.target.name,
      )?.position;
      total += (await job.estimate?.(position).catch(() => undefined)) ?? 0;
    }
    const result: SyncResult = { source, rows: 0, tables: [] };
    const failures: InletError[] = [];
    for (const job of jobs) {
      if (signal.aborted) throw syncCancelled(source);
      const started = performance.now();
      const done = result.rows;
      try {
        const table = await syncTable({
          source,
          job,
          context,
          writer,
          onRows: (rows) => context.onProgress?.(done + rows, Math.max(total, done + rows)),
        });
        result.tables.push(table);
        result.rows += table.rows;
        rowsCopied.inc({ source, table: table.table }, table.rows);
        context.onProgress?.(result.rows, Math.max(total, result.rows));
        logger.info(
          { source, table: table.table, rows: table.rows, ms: Math.round(performance.now() - started) },
          'table synced',
        );
      } catch (error) {
        if (signal.aborted) throw syncCancelled(source);
        const failure = withMemoryAdvice(
          isInletError(error)
            ? error
            : new InletError(
                'SOURCE_DATA_INVALID',
                `${source}.${job.target.name}: ${(error as Error).message}`,
              ),
          source,
          memoryLimit,
          configFileName(context.config),
        );
        // An unforeseen error keeps its stack (err) beside the code the run fails with; an expected
        // one is logged with the memory advice its message may have gained.
        logger[context.showsFailures ? 'debug' : 'error'](
          {
            source,
            table: job.target.name,
            code: failure.code,
            ...errorFields(isInletError(error) ? failure : error),
          },
          'table not synced',
        );
        failures.push(failure);
        tableFailures.inc({ source, table: job.target.name });
      }
    }
    // The estimate was only an estimate; the last report is exact.
    context.onProgress?.(result.rows, result.rows);
    const [first] = failures;
    if (!first) return result;
    if (failures.length === 1 && result.tables.length === 0) throw first;
    const copied =
      result.tables.map((t) => `${t.table} (${t.rows} ${t.rows === 1 ? 'row' : 'rows'})`).join(', ') ||
      'none';
    throw new InletError(
      first.code,
      `${failures.length} of ${jobs.length} tables of "${source}" were not copied: ${failures.map((f) => sentence(f.message)).join(' ')} Copied: ${copied}.`,
      { details: { copied: result.tables } },
    );
  } finally {
    signal.removeEventListener('abort', interrupt);
    writer.close();
    lock.release();
  }
}

const DEFAULT_MEMORY_LIMIT = '192MB';

/** A message ending in a full stop, so that the next one does not read as part of it. */
const sentence = (message: string) => (/[.!?]$/.test(message) ? message : `${message}.`);

/**
 * DuckDB's out-of-memory error in a source's terms. Its advice (SET threads, SET memory_limit) names
 * settings an inlet.yaml does not have; a table of thousands of columns (a survey export) is what
 * usually needs more than the default.
 */
function withMemoryAdvice(
  error: InletError,
  source: string,
  memoryLimit: string,
  configFile: string,
): InletError {
  const at = error.message.indexOf('Out of Memory Error');
  if (at < 0) return error;
  const detail = error.message.slice(0, at) + (error.message.slice(at).split('\n')[0] ?? '');
  return new InletError(
    error.code,
    `${detail}. The source's DuckDB ran out of its memory_limit of ${memoryLimit}; a table with thousands of columns needs more: set memory_limit (e.g. 1GB) on source "${source}" in ${configFile}, or copy fewer columns.`,
    { cause: error, ...(error.details ? { details: error.details } : {}) },
  );
}

/**
 * A database sync: connects once, runs every table job over that connection and closes it. A
 * connection lost during a table (a server restarted, a connection killed) fails that table only:
 * the next table connects again. Ctrl-C (the context's signal) closes the connection at once, so a
 * long query stops where it is.
 */
export async function syncDatabase<Connection extends { close(): Promise<void>; lost(): boolean }>(options: {
  source: string;
  url: string;
  context: SourceContext;
  connect: () => Promise<Connection>;
  jobs: (connection: Connection) => TableJob[];
  memoryLimit?: string;
}): Promise<SyncResult> {
  const { source, url, context } = options;
  const connect = async () => {
    try {
      return await options.connect();
    } catch (error) {
      const hint = urlSyntaxHint(error);
      if (hint)
        throw new InletError('SOURCE_CONNECTION_FAILED', `Source "${source}" could not connect: ${hint}.`);
      throw new InletError(
        'SOURCE_CONNECTION_FAILED',
        `Source "${source}" could not connect to ${describeUrl(url)}: ${safeMessage(error, url)}. Check the url and that the server accepts this machine.`,
      );
    }
  };
  let connection = await connect();
  let jobs = options.jobs(connection);
  // Once connecting again failed, the tables after it fail with that error rather than each wait for it.
  let reconnectFailure: InletError | undefined;
  const stop = () => void connection.close();
  context.signal.addEventListener('abort', stop, { once: true });
  try {
    return await syncTables({
      source,
      context,
      jobs: jobs.map((job, i) => ({
        target: job.target,
        estimate: (position) => (jobs[i] ?? job).estimate?.(position) ?? Promise.resolve(undefined),
        async extract(run) {
          if (connection.lost()) {
            if (reconnectFailure) throw reconnectFailure;
            await connection.close();
            try {
              connection = await connect();
            } catch (error) {
              reconnectFailure = error as InletError;
              throw error;
            }
            jobs = options.jobs(connection);
          }
          return (jobs[i] ?? job).extract(run);
        },
      })),
      memoryLimit: options.memoryLimit,
    });
  } finally {
    context.signal.removeEventListener('abort', stop);
    await connection.close();
  }
}
