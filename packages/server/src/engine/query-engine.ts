import { readFileSync } from 'node:fs';
import type { DuckDBConnection, DuckDBPreparedStatement, DuckDBResultReader, Json } from '@duckdb/node-api';
import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import {
  type DataLayout,
  damagedInside,
  type MovedFile,
  moveDamagedFile,
  moveDamagedInside,
  type ReadLeases,
  sqlString,
} from '../lake/index.ts';
import { closeDuckDB, openDuckDB } from './allocator.ts';
import { createSizeLimit, plannedOnlyNote, type RowLimit, truncationNote } from './answer-limits.ts';
import { connectionRefused } from './connection-refusal.ts';
import {
  createQueryFailures,
  namesMissingFile,
  OUT_OF_MEMORY,
  ofMemoryLimit,
  sharedMemory,
} from './query-failures.ts';
import { createQuerySlots } from './query-slots.ts';
import type { QueryOptions, QueryResult, QueryStream } from './query-types.ts';
import {
  columnsOf,
  NO_CHUNKS,
  planOnly,
  readRows,
  StreamFailed,
  stream,
  streamedRows,
} from './result-rows.ts';
import { createValueConverter } from './result-values.ts';
import { prepareReadOnly } from './sandbox.ts';
import { stillSettingUp } from './set-up-wait.ts';
import { FILE_RACE } from './view-apply.ts';
import { createViewRefresh, Healed } from './view-refresh.ts';

// Bytes the process read through read(2), used as the query's bytes scanned; DuckDB's own profiling
// metrics are not reachable from the Node bindings. Approximate when queries overlap.
function bytesRead(): number {
  try {
    return Number(/rchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Waits for work of the engine's own (building the views) outside the query's time limit, within a bound of its own. */
type SetUp = <T>(work: Promise<T>) => Promise<T>;

/**
 * How long a query stopped by its time limit or a cancel may go on before it is taken for one DuckDB
 * cannot interrupt (a statement with expressions nested hundreds deep plans for tens of seconds, and
 * an interrupt reaches it only after): DuckDB lets go of a running query within milliseconds.
 */
export const STUCK_MS = 5_000;

/**
 * How long a query to run once more alone waits for the queries running to end. No query starts
 * while it waits, so a query that runs long beside it (an export whose client reads slowly holds its
 * slot up to query.timeout_ms) held every other up: past this it gives up, and the line goes on.
 */
export const ALONE_WAIT_MS = 5_000;

/**
 * How long a query waits for the engine's own set-up, the building of the views of the lake's tables
 * (which query.timeout_ms does not count: a lake of many files took longer to bind than a short time
 * limit, and a fresh engine's first query timed out before it began).
 */
export const SET_UP_MS = 60_000;

/**
 * What a query past query.timeout_ms fails with (inlet query puts --timeout-ms in its place);
 * configFile is the file that sets it (configFileName).
 */
export const timeoutMessage = (timeoutMs: number, configFile: string) =>
  `The query ran longer than query.timeout_ms (${timeoutMs} ms) and was stopped; narrow it (a date filter on dt helps), query a mart, or raise query.timeout_ms in ${configFile}.`;

/**
 * What a time-out (an error, or a note of rows cut at it) adds when the query waited waitedMs of its
 * limit, before it started, for queries run again after a crash (query-process.ts).
 */
export const waitedNote = (waitedMs: number) =>
  ` It waited ${Math.round(waitedMs)} ms of that, before it started, for queries run again after the query engine's process ended.`;

/** A query under its id, across its runs (withMemory): cancel(id) reaches the run going on, or the next. */
interface Cancellable {
  /** cancel(id) was called. */
  cancelled: boolean;
  /** Stops the run going on, when one is. */
  stop?: () => void;
}

/** One run of a query in withConnection. */
interface Attempt {
  /**
   * It runs alone: the queries running end first, and none starts until it is done; still running
   * after ALONE_WAIT_MS, they leave it this error instead.
   */
  alone?: InletError;
  /** Set when it failed out of query.memory_limit while another query ran. */
  beside?: boolean;
}

const FILE_RACE_RETRIES = 3;

/** Damaged files a query may move out of the lake before it gives up (each is one more attempt). */
const DAMAGED_FILES_PER_QUERY = 10;

/**
 * The sandboxed engine for people's SQL: an in-memory DuckDB that reads only the lake and the WAL,
 * cannot write, attach, install, load or change settings, with memory, thread and time limits.
 */
export async function createQueryEngine(options: {
  config: InletConfig;
  layout: DataLayout;
  /**
   * Shared with this process's loader, so a segment a query may read is not deleted under it; in the
   * query engine's own process, the server's leases as each query's message carries them.
   */
  leases?: Pick<ReadLeases, 'begin' | 'retiring'>;
  /** Told of each damaged Parquet file a query found and moved out of the lake (see lake/damaged.ts). */
  onDamagedFile?: (moved: MovedFile, detail: string) => void;
  /** Told each time a query is planned again because a file it listed went away meanwhile. */
  onFileRace?: (detail: string) => void;
  /** Told when a query (its id, when it has one) that ran out of query.memory_limit beside other queries is to run once more, alone. */
  onRunAlone?: (error: InletError, id: string | undefined) => void;
  /** Told when a table's or view's view cannot be built and is left out (once until its error changes). */
  onViewFailed?: (name: string, detail: string) => void;
  /** What set the time limit, as a note names it: query.timeout_ms unless a caller's own (--timeout-ms). */
  timeoutName?: string;
  /** The row limit as a note names it, unless a query names its own (the API: which of max_rows set it): max_rows, or a caller's own (--max-rows). */
  rowLimit?: RowLimit;
  /** What limits the memory of this process, as a message names it, when something does (query-process.ts). */
  processLimit?: string;
  /** How long a stopped query may go on before its onStuck is told: STUCK_MS, unless a test says otherwise. */
  stuckMs?: number;
  /** How long a query to run once more alone waits for the others to end: ALONE_WAIT_MS, unless a test says otherwise. */
  aloneWaitMs?: number;
  /** How long a query waits for the views to be built: SET_UP_MS, unless a test says otherwise. */
  setUpMs?: number;
}) {
  const { config, layout } = options;
  // A database or CSV source's tables are the views <source>.<table>; a file source's rows go to the log tables.
  const schemaSources = config.sources
    .filter((source) => source.type !== 'file')
    .map((source) => source.name);
  const rowLimit = options.rowLimit ?? ((rows: number) => `max_rows (${rows} rows)`);
  const instance = await openDuckDB({
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    threads: String(config.query.threads),
    memory_limit: config.query.memory_limit,
  });
  const admin = await instance.connect();
  // TimeZone belongs to the icu extension, so it can only be set once the instance is up; GLOBAL,
  // or only this connection would have it, not the one each query gets.
  await admin.run(`SET GLOBAL TimeZone = ${sqlString(config.timezone)}`);
  const convert = createValueConverter(config.timezone);
  await admin.run(
    `SET allowed_directories = [${[`${layout.lake}/`, `${layout.walEvents}/`].map(sqlString).join(', ')}]`,
  );
  await admin.run("SET temp_directory = ''");
  await admin.run('SET enable_external_access = false');
  await admin.run('SET lock_configuration = true');

  /** Files of the lake read without fault when looking for one damaged inside (lake/damaged.ts). */
  const goodFiles = new Map<string, 'footer' | 'whole'>();
  const lakeViews = createViewRefresh({ ...options, admin });

  const { unreadable, filesChanged, failed, failedHolding, leftOut } = createQueryFailures({
    config,
    processLimit: options.processLimit,
    unavailable: lakeViews.unavailable,
  });

  /**
   * Waits for work up to setUpMs; stopped (a cancel, a client gone), the query waits no more. The
   * work goes on either way, for the next query.
   */
  const boundSetUp = <T>(work: Promise<T>, signal: AbortSignal) =>
    new Promise<T>((resolve, reject) => {
      const ms = options.setUpMs ?? SET_UP_MS;
      const bound = setTimeout(() => reject(stillSettingUp(ms, lakeViews.building())), ms);
      const stopped = () => reject(signal.reason);
      signal.addEventListener('abort', stopped, { once: true });
      if (signal.aborted) stopped();
      work.then(resolve, reject).finally(() => {
        clearTimeout(bound);
        signal.removeEventListener('abort', stopped);
      });
    });

  const running = new Map<string, () => void>();
  const slots = createQuerySlots(config.query.max_concurrent, configFileName(config));
  /** Queries that took a slot so far: one that began after a query did ran beside it. */
  let begun = 0;

  /** Runs fn with a fresh connection that a timeout, an abort signal or cancel(id) interrupts. */
  const withConnection = async <T>(
    opts: QueryOptions,
    fn: (
      connection: DuckDBConnection,
      stopped: () => InletError | undefined,
      stoppedSignal: AbortSignal,
      setUp: SetUp,
      ownMs: () => number,
    ) => Promise<T>,
    attempt: Attempt,
    cancellable: Cancellable,
  ): Promise<T> => {
    let reason: InletError | undefined;
    const place: { leave?: () => void } = {};
    // Cancelled while it waits for a slot: it leaves the line at once.
    cancellable.stop = () => {
      reason ??= new InletError('QUERY_CANCELLED', 'The query was cancelled.');
      place.leave?.();
    };
    if (cancellable.cancelled) cancellable.stop();
    // A client that went away while its query waited for a slot: it leaves the line too.
    const gone = () => {
      reason ??= new InletError('QUERY_CANCELLED', 'The query was cancelled.');
      place.leave?.();
    };
    opts.signal?.addEventListener('abort', gone);
    let waitedAlone: NodeJS.Timeout | undefined;
    const limitMs = opts.timeoutMs ?? config.query.timeout_ms;
    try {
      if (opts.signal?.aborted) gone();
      if (reason) throw reason;
      const { alone } = attempt;
      if (alone !== undefined)
        waitedAlone = setTimeout(() => {
          // Not in line (its turn came, and it resumes next): the slot is its own.
          if (place.leave === undefined) return;
          reason ??= alone;
          place.leave();
        }, options.aloneWaitMs ?? ALONE_WAIT_MS);
      await slots.acquire(place, {
        alone: alone !== undefined,
        limitMs,
      });
    } catch (error) {
      cancellable.stop = undefined;
      throw reason ?? error;
    } finally {
      clearTimeout(waitedAlone);
      opts.signal?.removeEventListener('abort', gone);
    }
    const endLease = options.leases?.begin();
    let connection: DuckDBConnection;
    try {
      connection = await instance.connect();
    } catch (error) {
      // The slot and the lease are given back here, as the finally below does once connected: kept,
      // a query.max_concurrent of 1 left every later query waiting in line for good.
      cancellable.stop = undefined;
      endLease?.();
      const refused = connectionRefused(error, slots.firstEnd(place));
      slots.release(place);
      throw refused;
    }
    const stop = new AbortController();
    let stuck: NodeJS.Timeout | undefined;
    const interrupt = (error: InletError) => {
      reason ??= error;
      connection.interrupt();
      stop.abort(reason);
      const told = reason;
      if (opts.onStuck && stuck === undefined)
        stuck = setTimeout(() => opts.onStuck?.(told), options.stuckMs ?? STUCK_MS);
    };
    // The time limit is the query's: it stands still while the query waits for the engine's set-up.
    let timeLeft = limitMs;
    let timer: NodeJS.Timeout | undefined;
    let since = 0;
    let settingUp = false;
    /** The query's own time so far, as its time limit counts it: its elapsed_ms. */
    const ownMs = () => limitMs - timeLeft + (settingUp ? 0 : performance.now() - since);
    const runClock = () => {
      since = performance.now();
      timer = setTimeout(
        () =>
          interrupt(
            new InletError('QUERY_TIMEOUT', timeoutMessage(config.query.timeout_ms, configFileName(config))),
          ),
        Math.max(0, timeLeft),
      );
    };
    runClock();
    const setUp: SetUp = async (work) => {
      clearTimeout(timer);
      timeLeft -= performance.now() - since;
      settingUp = true;
      try {
        return await boundSetUp(work, stop.signal);
      } finally {
        settingUp = false;
        runClock();
      }
    };
    const onAbort = () => interrupt(new InletError('QUERY_CANCELLED', 'The query was cancelled.'));
    opts.signal?.addEventListener('abort', onAbort);
    // Gone while this connection opened: the listener came too late to hear it.
    if (opts.signal?.aborted) reason ??= new InletError('QUERY_CANCELLED', 'The query was cancelled.');
    cancellable.stop = onAbort;
    const besideAtStart = slots.taken > 1;
    const mark = ++begun;
    try {
      if (reason) throw reason;
      return await fn(connection, () => reason, stop.signal, setUp, ownMs);
    } catch (error) {
      if (reason) throw reason;
      attempt.beside =
        error instanceof InletError &&
        sharedMemory.has(error) &&
        (besideAtStart || begun !== mark || slots.taken > 1);
      throw error;
    } finally {
      clearTimeout(timer);
      clearTimeout(stuck);
      opts.signal?.removeEventListener('abort', onAbort);
      cancellable.stop = undefined;
      // A streamed result left before its end (max_rows reached, a client gone) is still being
      // produced: closing the connection alone does not stop it, since the result, which DuckDB's
      // bindings leave to the garbage collector, keeps its context alive. The scan went on, a core
      // busy, and whenever the result was collected the main thread waited for the scan to end.
      connection.interrupt();
      // Nor does it free what that result holds against query.memory_limit (a GROUP BY's table):
      // held until the garbage collector came to the result, which V8 may put off for as long as
      // JavaScript allocates little, it failed the next queries with QUERY_OUT_OF_MEMORY though
      // nothing else ran. A statement on the connection ends the result at once.
      await connection.run('SELECT 1').catch(() => undefined);
      connection.closeSync();
      endLease?.();
      slots.release(place);
    }
  };

  /**
   * Runs fn as withConnection does. A query that ran out of query.memory_limit while other queries
   * ran, which share it, may have needed little: it is run once more, alone (those running end
   * first, and none starts until it is done), unless again() says it went too far for that (an
   * export that began to send its rows). Failing alone too, it needs more than the limit by itself.
   */
  const withMemory = async <T>(
    opts: QueryOptions,
    fn: Parameters<typeof withConnection<T>>[1],
    again: () => boolean = () => true,
  ): Promise<T> => {
    const { id } = opts;
    // Two queries under one id: the second took the first's entry, and on ending removed it, so
    // the first could no longer be cancelled.
    if (id !== undefined && running.has(id))
      throw new InletError(
        'INVALID_FIELD',
        `query_id: "${id}" is already running; give each query an id of its own (a UUID, say).`,
        { details: { field: 'query_id' } },
      );
    // The id is the query's until its last run ends: between its runs, a cancel found no query under
    // it (and another query could take it), and the query ran once more.
    const cancellable: Cancellable = { cancelled: false };
    let ranOut: InletError | undefined;
    if (id !== undefined)
      running.set(id, () => {
        cancellable.cancelled = true;
        cancellable.stop?.();
      });
    try {
      const first: Attempt = {};
      try {
        return await withConnection(opts, fn, first, cancellable);
      } catch (error) {
        if (!first.beside || !again()) throw error;
        ranOut = error as InletError;
        options.onRunAlone?.(ranOut, id);
        opts.onRunAlone?.(ranOut);
      }
      const seconds = (options.aloneWaitMs ?? ALONE_WAIT_MS) / 1000;
      const crowded = new InletError(
        ranOut.code,
        `${ranOut.message} It ran out beside other queries, which were still running ${seconds} s later, so it was not run once more alone (no query starts while one waits to); retry it in a moment, when fewer queries run.`,
        { cause: ranOut },
      );
      try {
        return await withConnection(opts, fn, { alone: crowded }, cancellable);
      } catch (error) {
        if (!(error instanceof InletError) || !sharedMemory.has(error)) throw error;
        throw new InletError(
          error.code,
          `${error.message} It ran out beside other queries first, and again when it was run once more alone, so it needs more than query.memory_limit by itself.`,
          { cause: error },
        );
      }
    } finally {
      if (id !== undefined) running.delete(id);
    }
  };

  /**
   * Prepares a statement and starts it with run (streamed, or not at all when no rows are wanted).
   * A cancel or timeout that lands while it is still being planned would interrupt nothing, so
   * stopped() is asked again once it runs, and interrupts it then.
   */
  const start = async <T>(
    connection: DuckDBConnection,
    sql: string,
    stopped: () => InletError | undefined,
    setUp: SetUp,
    run: (prepared: DuckDBPreparedStatement) => Promise<T>,
  ): Promise<{ prepared: DuckDBPreparedStatement; result: T }> => {
    let moved = 0;
    // Errors of damage inside a file that were looked into: each is looked into once a query.
    const searched = new Set<string>();
    const movedOut = (file: MovedFile, message: string) => {
      moved++;
      options.onDamagedFile?.(file, message);
      lakeViews.rebuild();
      return true;
    };
    for (let attempt = 0; ; attempt++) {
      // A Parquet file of the lake that is not one (empty, cut short) fails every query of its
      // table, and the building of the views: it is moved aside and the query planned again.
      const healed = (message: string) => {
        if (moved >= DAMAGED_FILES_PER_QUERY) return false;
        const file = moveDamagedFile(layout, message);
        return file !== undefined && movedOut(file, message);
      };
      // One damaged inside (its metadata or pages) too, once reading it alone shows which it is.
      const toSearch = (message: string) =>
        moved < DAMAGED_FILES_PER_QUERY && damagedInside(message) && !searched.has(message);
      const healedInside = async (message: string) => {
        if (!toSearch(message)) return false;
        searched.add(message);
        const file = await moveDamagedInside(layout, message, (sql) => connection.run(sql), goodFiles);
        // Not found, the view that failed is built again and left out with the reason.
        lakeViews.rebuild();
        return file !== undefined && movedOut(file, message);
      };
      // A file went between listing and reading: a WAL segment the loader of another process
      // loaded and deleted (the rows are in the lake now), or Parquet files compaction merged.
      // DuckDB finds out when it binds the views or the query, or when its scan opens the file;
      // planned again a moment later, the query sees the files that replaced them.
      const raced = async (message: string) => {
        if (attempt >= FILE_RACE_RETRIES || !FILE_RACE.test(message)) return false;
        options.onFileRace?.(message);
        lakeViews.rebuild();
        // A deletion still under way in the other process would be listed again at once.
        await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
        return true;
      };
      try {
        await setUp(lakeViews.refresh((message) => healed(message) || toSearch(message)));
      } catch (error) {
        const message = (error as Error).message;
        if (error instanceof Healed) {
          await healedInside(message);
          continue;
        }
        if (healed(message) || (await raced(message))) continue;
        // Already says what is wrong, and what to do (a file where lake/_rejects/damaged should be).
        if (error instanceof InletError) throw error;
        throw FILE_RACE.test(message) ? filesChanged(message) : unreadable(error);
      }
      const prepared = await prepareReadOnly(connection, sql, schemaSources).catch(async (error: Error) => {
        if (await namesMissingFile(connection, sql, error.message)) throw error;
        if (healed(error.message) || (await raced(error.message))) return undefined;
        if (FILE_RACE.test(error.message)) throw filesChanged(error.message);
        // DuckDB works out a constant value while planning: array_to_string(range(300000000), ',').
        if (OUT_OF_MEMORY.test(error.message)) throw failed(error.message, sql);
        throw leftOut(error, sql) ?? error;
      });
      if (!prepared) continue;
      const early = stopped();
      if (early) throw early;
      try {
        const result = await run(prepared);
        if (stopped()) connection.interrupt();
        return { prepared, result };
      } catch (error) {
        const message = (error as Error).message;
        if (healed(message) || (await raced(message))) continue;
        if (message.includes('INTERRUPT')) throw error;
        if (toSearch(message) && (await healedInside(message))) continue;
        if (damagedInside(message)) throw unreadable(error);
        throw failed(message, sql);
      }
    }
  };

  return {
    /** Runs one read-only statement and returns up to maxRows rows. */
    query(sql: string, opts: QueryOptions = {}): Promise<QueryResult> {
      const maxRows = opts.maxRows ?? config.query.max_rows;
      const limitName = opts.rowLimit ?? rowLimit;
      return withMemory(opts, async (connection, stopped, _signal, setUp, ownMs) => {
        const readBefore = bytesRead();
        // No rows wanted: the columns, known once it is prepared, are the answer, as for an export
        // (stream()). A JSON answer of max_rows 0 waited on DuckDB's first chunk until it timed out.
        if (maxRows === 0) {
          const { prepared } = await start(connection, sql, stopped, setUp, planOnly);
          return {
            columns: columnsOf(prepared),
            rows: [],
            stats: {
              elapsed_ms: Math.round(ownMs()),
              rows: 0,
              bytes_scanned: bytesRead() - readBefore,
              truncated: true,
              note: plannedOnlyNote(limitName),
            },
          };
        }
        // Nothing is sent before the whole result is in hand, so a query whose files went away
        // part-way through its rows is planned and run again from the start, as one whose files
        // went before its first rows is (start()); a read-only statement runs again harmlessly.
        for (let replanned = 0; ; replanned++) {
          const { prepared, result } = await start(connection, sql, stopped, setUp, stream);
          const answer = (rows: Json[][], truncated: boolean, note: string | undefined): QueryResult => ({
            columns: columnsOf(result),
            rows,
            stats: {
              elapsed_ms: Math.round(ownMs()),
              rows: rows.length,
              bytes_scanned: bytesRead() - readBefore,
              truncated,
              ...(note !== undefined && { note }),
            },
          });
          let rows: Json[][] = [];
          let truncated = false;
          let limit = createSizeLimit(opts.maxBytes);
          try {
            for await (const chunk of streamedRows(result, convert, opts.jsonText)) {
              for (const row of chunk) {
                if (rows.length >= maxRows || !limit.fits(row)) {
                  truncated = true;
                  break;
                }
                rows.push(row);
              }
              if (truncated) break;
            }
          } catch (error) {
            const reason = stopped();
            // Every row asked for was in hand, and the query timed out finding whether one more
            // follows (DuckDB may hold it back until its scan is done): the rows are the answer.
            if (reason?.code === 'QUERY_TIMEOUT' && rows.length >= maxRows)
              return answer(
                rows,
                true,
                `The answer stops at ${limitName(maxRows)}; the query reached ${options.timeoutName ?? 'query.timeout_ms'} (${config.query.timeout_ms} ms) looking for more, so there may be none.${opts.timeoutMs === undefined ? '' : waitedNote(config.query.timeout_ms - opts.timeoutMs)}`,
              );
            if (!(error instanceof StreamFailed)) throw error;
            if (reason) throw reason;
            // Run once more whole: a materialized result reports DuckDB's error, or holds the rows
            // when the failure was passing.
            let whole: DuckDBResultReader;
            try {
              whole = await prepared.runAndReadAll();
            } catch (rerun) {
              const message = (rerun as Error).message;
              if (message.includes('INTERRUPT')) throw rerun;
              if (FILE_RACE.test(message) && replanned < FILE_RACE_RETRIES) {
                options.onFileRace?.(message);
                lakeViews.rebuild();
                await new Promise((resolve) => setTimeout(resolve, 20 * (replanned + 1)));
                continue;
              }
              throw rows.length > 0 ? failedHolding(message, sql, rows.length) : failed(message, sql);
            }
            const all = readRows(whole, convert, opts.jsonText);
            limit = createSizeLimit(opts.maxBytes);
            const fitting = all.slice(0, maxRows).findIndex((row) => !limit.fits(row));
            rows = all.slice(0, fitting === -1 ? maxRows : fitting);
            truncated = rows.length < all.length;
          }
          return answer(
            rows,
            truncated,
            truncated
              ? truncationNote(rows.length, maxRows, limitName, limit, opts.maxBytes, opts.everyRow)
              : undefined,
          );
        }
      });
    },
    /**
     * Runs one read-only statement and hands its rows over chunk by chunk, for CSV export; none at
     * all with maxRows 0 (a larger maxRows is the consumer's to keep to).
     */
    async stream<T>(
      sql: string,
      opts: QueryOptions,
      consume: (stream: QueryStream) => Promise<T>,
    ): Promise<T> {
      // Its columns go out as it is consumed, its rows after them: only before then may it run again.
      let consumed = false;
      const consumeOnce = (stream: QueryStream) => {
        consumed = true;
        return consume(stream);
      };
      return withMemory(
        opts,
        async (connection, stopped, stoppedSignal, setUp) => {
          // No rows wanted: the columns, known once it is prepared, are all there is to send. DuckDB
          // starts a streamed result only once its first chunk is full or its scan is done, and an
          // export of no rows waited for that until it timed out.
          if (opts.maxRows === 0) {
            const { prepared } = await start(connection, sql, stopped, setUp, planOnly);
            return consumeOnce({ columns: columnsOf(prepared), chunks: NO_CHUNKS, stopped: stoppedSignal });
          }
          const { prepared, result } = await start(connection, sql, stopped, setUp, stream);
          const rows = streamedRows(result, convert, opts.jsonText);
          // The first chunk before anything is sent, so a query that fails early (most do) gets a
          // 400; one that fails later throws from the chunks, and the export is cut off, not ended.
          // A failed stream says nothing of why (DuckDB's Node bindings drop a streamed result's
          // error): a cancel or a time-out is reported as such; for the rest, DuckDB's reason is found
          // by running the statement once more, materialized, which fails as the stream did (its
          // result, should the failure have been passing, is dropped unread).
          const why = async (error: unknown, cut: string, unknown: string): Promise<unknown> => {
            if (!(error instanceof StreamFailed)) return error;
            const reason = stopped();
            if (reason) return reason;
            try {
              await prepared.run();
            } catch (rerun) {
              const message = (rerun as Error).message;
              const stop = stopped();
              if (stop) return stop;
              if (!message.includes('INTERRUPT')) {
                const found = failed(message, sql);
                const error = new InletError(found.code, `${cut}${found.message}`, { cause: rerun });
                return sharedMemory.has(found) ? ofMemoryLimit(error) : error;
              }
            }
            return new InletError('QUERY_INVALID', unknown);
          };
          let first: IteratorResult<Json[][]>;
          try {
            first = await rows.next();
          } catch (error) {
            // Before any row went out: DuckDB's message alone, as a JSON query gets it.
            throw await why(
              error,
              '',
              'DuckDB stopped the query before its first rows without saying why, and again when it was run once more; run it again to see whether it fails the same way.',
            );
          }
          async function* chunks() {
            if (first.done) return;
            yield first.value;
            try {
              yield* rows;
            } catch (error) {
              const cut = 'The query failed part-way through its rows, so the export is incomplete';
              throw await why(
                error,
                `${cut}: `,
                `${cut}; run it again to see whether it fails the same way.`,
              );
            }
          }
          return consumeOnce({ columns: columnsOf(result), chunks: chunks(), stopped: stoppedSignal });
        },
        () => !consumed,
      );
    },
    /** Interrupts a running query by the id it was started with; false when no such query runs. */
    cancel(id: string): boolean {
      const cancel = running.get(id);
      cancel?.();
      return cancel !== undefined;
    },
    close() {
      admin.closeSync();
      closeDuckDB(instance);
    },
  };
}

export type QueryEngine = Awaited<ReturnType<typeof createQueryEngine>>;
