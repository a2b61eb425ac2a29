import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Json } from '@duckdb/node-api';
import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { DataLayout, MovedFile, ReadLeases } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { ALONE_WAIT_MS, type QueryEngine, waitedNote } from './query-engine.ts';
import {
  type FromEngine,
  fromWire,
  INVALIDATED,
  type ToEngine,
  type WireError,
  type WireQueryOptions,
} from './query-messages.ts';
import {
  limitData,
  megabytes,
  QUERY_PROCESS_ALLOWANCE_BYTES,
  queryProcessCap,
} from './query-process-limit.ts';
import type { QueryOptions, QueryResult, QueryStream } from './query-types.ts';
import { retrySeconds } from './retry-after.ts';

export { QUERY_PROCESS_ALLOWANCE_BYTES };

/** A process that ends by a signal with its data past this share of its limit ran out of it. */
const NEAR_LIMIT = 0.75;
/** How often the engine's process's memory is read while a query runs. */
const WATCH_MS = 50;
/** A process that dies sooner than this after it started is started again ever more slowly. */
const YOUNG_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;
/** While queries run, the engine's process is asked this often to answer, from its event loop. */
const PING_MS = 1_000;
/**
 * A process with queries in flight that has answered nothing for this long is ended, and its queries
 * fail: stopped (SIGSTOP, a debugger) or starved, it would otherwise leave each of them waiting for good.
 * DuckDB plans and runs off the event loop, so a slow query alone never gets here.
 */
export const UNRESPONSIVE_MS = 30_000;
/** Chunks of an export the engine's process may send ahead of the consumer. */
const STREAM_WINDOW = 2;
/**
 * An idle process whose resident memory stays this far above what it held at rest, for this long,
 * is replaced by a fresh one (docs/query.md says why these figures).
 */
export const RECYCLE = { aboveBytes: 256 * 2 ** 20, forMs: 60_000, everyMs: 5_000 };

/** A process's resident memory and its data (what RLIMIT_DATA counts), from /proc; undefined where there is none (not Linux). */
function memoryOf(pid: number): { resident: number; data: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`${field}:\\s*(\\d+)\\s*kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
    const memory = { resident: kb('VmRSS'), data: kb('VmData') };
    return Number.isNaN(memory.resident) ? undefined : memory;
  } catch {
    return undefined;
  }
}

type Outcome =
  | { type: 'result'; result: QueryResult }
  | { type: 'columns'; columns: QueryStream['columns'] }
  | { type: 'failed'; error: Error };

interface Job {
  /** Settles with the answer, the stream's columns, or the error before either. */
  settle(outcome: Outcome): void;
  queryId: string | undefined;
  /** cancel(id) came before the job reached the engine's process. */
  cancelled?: boolean;
  /** A JSON answer's rows, as they come. */
  rows: Json[][];
  /** A stream's chunks, and the end or the error after them, as they come. */
  chunks: Array<IteratorResult<Json[][]> | Error>;
  wake?: () => void;
  stop?: AbortController;
  /** Ends the job's read lease, taken when it was sent to the engine's process. */
  endLease?: () => void;
  /** Its answer, its columns or its error went to the caller. */
  settled?: boolean;
  /** The process it was last sent to. */
  running?: Running;
  /** Sends it to a process (again, after a crash, with the WAL segments retiring then). */
  dispatch?: (running: Running) => void;
  /** Its caller's signal: its client gone. */
  signal?: AbortSignal;
  /** It was run once more after a process ended under it beside other queries (runAgain). */
  retried?: boolean;
  /** Told when it is forgotten, or a stream's columns came: runAgain's next query may go. */
  onSent?: () => void;
  /** It waits in runAgain's line, in no process: a cancel or its client gone fails it there and then. */
  inLine?: boolean;
  /** Ends its wait for queries run again after a crash, when it is cancelled or its client goes. */
  stopWaiting?: () => void;
  /** Stops listening to its caller's signal: a stream's, once its consumer is done. */
  unlisten?: () => void;
  /** What is left of its time limit, when it waited for queries run again after a crash (waitForRunAgain). */
  timeLeft?: number;
}

interface Running {
  child: ChildProcess;
  startedAt: number;
  /** Why the server stopped it (its memory), when it did. */
  killedFor?: string;
  /** Its data is limited (RLIMIT_DATA). */
  limited?: boolean;
  /** The data limit set on it: the cap's, plus the address space it held at rest but not in memory. */
  dataLimit?: number;
  /** Its data when the watch last read it. */
  dataSeen?: number;
  /** Its resident memory once its engine was up, before any query. */
  atRest?: number;
  /** Since when, idle, it has held more than RECYCLE.aboveBytes over atRest. */
  aboveSince?: number;
  /** The server ended it, idle, for the memory it kept: a fresh one took its place. */
  recycled?: boolean;
  /** When it last sent anything (an answer to a ping included), or was given its first query after idling. */
  heardAt: number;
  /** When it was last asked to answer. */
  pingedAt?: number;
  /** The server ended it for answering nothing, with queries in flight, for this long. */
  silentFor?: number;
  /** The server ended it for a query that was stopped and that DuckDB did not let go of: that job, and why it was stopped. */
  stuck?: { job: number; error: Error };
  /** The server ended it for an error of DuckDB's INTERNAL or FATAL kind: its first line. */
  fault?: string;
}

/**
 * The query engine in a process of its own, behind the same interface as createQueryEngine's: a
 * query that takes more memory than the engine's cap (one value a single function call makes is
 * allocated outside query.memory_limit) or crashes DuckDB ends that process, and its queries fail
 * with an error of their own, not the server. The process is started again for the next query.
 */
export async function createQueryProcess(options: {
  config: InletConfig;
  layout: DataLayout;
  logger: Logger;
  /**
   * Shared with this process's loader: each query holds a lease from before it is sent until it is
   * done, so a WAL segment it lists is not deleted under it, as in the engine's own process before.
   */
  leases?: ReadLeases;
  onDamagedFile?: (moved: MovedFile, detail: string) => void;
  onFileRace?: (detail: string) => void;
  onViewFailed?: (name: string, detail: string) => void;
  /** Told each time the engine's process ends without being asked to. */
  onExit?: (why: string) => void;
  /** Told each time an idle process is replaced for the memory it kept after its queries. */
  onRecycle?: () => void;
  /** How long a process with queries in flight may answer nothing before it is ended: UNRESPONSIVE_MS, unless a test says otherwise. */
  unresponsiveMs?: number;
  /** How long a stopped query may go on before its process is ended: the engine's STUCK_MS, unless a test says otherwise. */
  stuckMs?: number;
  /** How long a query to run once more alone waits for the others to end: the engine's ALONE_WAIT_MS, unless a test says otherwise. */
  aloneWaitMs?: number;
  /** What set the time limit, as a note names it (see createQueryEngine): query.timeout_ms unless a caller's own (--timeout-ms). */
  timeoutName?: string;
  /**
   * Runs one query and is closed (inlet query): a process that ended (a query DuckDB did not let go
   * of, a crash) is not started again, and its error does not say it is.
   */
  oneQuery?: boolean;
  /** When an idle process is replaced for the memory it kept: RECYCLE, unless a test says otherwise. */
  recycle?: typeof RECYCLE;
  /** The process's entry point; the bundle's own when running from it. */
  script?: URL;
  /** util-linux's prlimit, which limits the process's data; without it, the watch on its memory alone holds. */
  prlimit?: string;
}): Promise<QueryEngine & { residentBytes(): number | undefined }> {
  const { config, layout, logger } = options;
  const script = options.script ?? new URL('./query-process-boot.js', import.meta.url);
  const { capBytes, dataBytes, named: capNamed } = queryProcessCap(config);
  /** Why the process's data cannot be limited here, once found (then it is not tried again). */
  let unlimited: string | undefined;
  const jobs = new Map<number, Job & { id: number }>();
  const byQueryId = new Map<string, Job & { id: number }>();
  let nextJob = 0;
  let current: Running | undefined;
  let starting: Promise<Running> | undefined;
  let backoffMs = 0;
  let restartAt = 0;
  let closing = false;
  let watch: NodeJS.Timeout | undefined;
  /** Queries a process ended under, being run again one at a time (runAgain): new ones wait for them. */
  let retrying: Promise<void> | undefined;
  /** The queries runAgain has yet to send, and since when the one it sent last has run (until it is under way). */
  const line = { waiting: new Set<Job>(), turnSince: undefined as number | undefined };
  const recycleRule = options.recycle ?? RECYCLE;
  const unresponsiveMs = options.unresponsiveMs ?? UNRESPONSIVE_MS;

  const send = (running: Running, message: ToEngine) => {
    if (running.child.connected) running.child.send(message);
  };

  /** The error each query of a process that ended gets. */
  const endedError = (
    running: Running,
    code: number | null,
    signal: NodeJS.Signals | null,
    queries: number,
    retried = false,
  ) => {
    // inlet query's process of its one query is not started again, and what it printed went to the
    // terminal, where the server's goes to its log.
    const again = options.oneQuery ? '' : '; it is started again by itself';
    const details = options.oneQuery
      ? 'what that process printed, above, has the details'
      : "the server's log has the details";
    const others =
      queries > 1
        ? ` It ran beside ${queries === 2 ? 'another query, which was' : `${queries - 1} other queries, which were`} stopped with it, so any of them may have been the cause; run it alone to find out.`
        : '';
    if (running.stuck !== undefined)
      return new InletError(
        'QUERY_ENGINE_CRASHED',
        `The query engine's process was ended while this query ran: a query beside it was stopped (${running.stuck.error.message.split(';')[0]}) and DuckDB could not let go of it. It is started again by itself; retry.`,
        { retryAfterSeconds: 1 },
      );
    if (running.fault !== undefined)
      return new InletError(
        'QUERY_ENGINE_CRASHED',
        `The query engine's process was ended while this query ran: DuckDB failed with an internal error (${running.fault}), after which it may answer no query until it is started again${again}. Retry.`,
        { retryAfterSeconds: 1 },
      );
    if (running.silentFor !== undefined)
      return new InletError(
        'QUERY_ENGINE_CRASHED',
        `The query engine's process answered nothing for ${Math.round(running.silentFor / 1000)} s while this query ran (stopped by a signal or a debugger, or starved of CPU), and was ended${again}.${others} Retry; ${details}.`,
        { retryAfterSeconds: 1 },
      );
    if (running.killedFor !== undefined)
      return new InletError(
        'QUERY_OUT_OF_MEMORY',
        `The query engine's process held ${running.killedFor} while this query ran, more than ${capNamed}, and was stopped.${others} Outside query.memory_limit it holds the rows on their way to you and any one value a single function call makes (repeat, string_agg, array_to_string over a long list): ask for fewer rows (max_rows) or narrower columns, or export them as CSV (?format=csv, streamed a few thousand rows at a time); make such values smaller (less data per value); or raise query.memory_limit in ${configFileName(config)}.`,
      );
    if (reachedLimit(running, signal))
      return new InletError(
        'QUERY_OUT_OF_MEMORY',
        `The query engine's process reached the memory it may hold (${megabytes(running.dataSeen ?? 0)} of ${capNamed}) while this query ran, and ended (signal ${signal}): Node in it could not get memory for the rows it handed over.${others} Ask for fewer rows (max_rows) or narrower columns, or export them as CSV (?format=csv, streamed a few thousand rows at a time); or make large values smaller, or raise query.memory_limit in ${configFileName(config)}.`,
      );
    const how = signal
      ? `signal ${signal}${signal === 'SIGKILL' ? ', perhaps the system, out of memory' : ''}`
      : `exit code ${code}`;
    // Run again alone after a process ended under it beside others (runAgain), it ended this one too.
    if (retried && queries === 1)
      return new InletError(
        'QUERY_ENGINE_CRASHED',
        `The query engine's process ended while this query ran (${how}), and again when it was run once more on its own: this query ends it, which is a fault in DuckDB (${details}). Write it another way (another function, or the same one with other arguments); the process is started again by itself.`,
        { retryAfterSeconds: 1 },
      );
    return new InletError(
      'QUERY_ENGINE_CRASHED',
      `The query engine's process ended while this query ran (${how})${again}.${others} Retry; a query that ends it every time hits a fault in DuckDB: ${details}.`,
      { retryAfterSeconds: 1 },
    );
  };

  /**
   * Node ends its process (SIGABRT, "JavaScript heap out of memory") when the data limit refuses it
   * memory; the watch's last reading near that limit tells it from a fault in DuckDB.
   */
  const reachedLimit = (running: Running, signal: NodeJS.Signals | null) =>
    running.limited === true &&
    signal !== null &&
    signal !== 'SIGKILL' &&
    (running.dataSeen ?? 0) >= (running.dataLimit ?? dataBytes) * NEAR_LIMIT;

  /**
   * Ends a process whose query was stopped (its time limit, a cancel) and went on regardless: DuckDB
   * plans a statement with expressions nested hundreds deep for tens of seconds, and an interrupt
   * reaches it only after. That query fails with the reason it was stopped, saying so.
   */
  const endStuck = (running: Running, job: number, wire: WireError) => {
    if (!jobs.has(job) || running.stuck || running.silentFor !== undefined || running.killedFor !== undefined)
      return;
    const reason = fromWire(wire);
    running.stuck = {
      job,
      error: new InletError(
        reason instanceof InletError ? reason.code : 'QUERY_CANCELLED',
        `${reason.message} DuckDB went on planning it regardless (a statement with expressions nested hundreds deep, or very many of them, cannot be interrupted while it is planned), so the query engine's process was ended${options.oneQuery ? '' : '; it is started again by itself'}. Write the expression flatter (a CASE, an IN list or a join instead of deeply nested operators).`,
        reason instanceof InletError && reason.retryAfterSeconds !== undefined
          ? { retryAfterSeconds: reason.retryAfterSeconds }
          : {},
      ),
    };
    logger.error(
      { pid: running.child.pid, queries: jobs.size, reason: reason.message },
      "a query stopped in the query engine's process went on regardless, and the process is ended; its queries fail",
    );
    running.child.kill('SIGKILL');
  };

  /**
   * Ends a process whose DuckDB failed with an error of its INTERNAL or FATAL kind: a failed assertion
   * in it, after which it may refuse every later query ("database has been invalidated") until it is
   * started again. The query whose own error it was gets it, saying so; a query refused only because
   * of another's (the invalidated database) is run again in the fresh process (runAgain), as are
   * the others in flight.
   */
  const endFault = (running: Running, id: number, wire: WireError) => {
    const job = jobs.get(id);
    const error = fromWire(wire);
    if (job !== undefined && !INVALIDATED.test(error.message))
      job.settle({
        type: 'failed',
        error: new InletError(
          error instanceof InletError ? error.code : 'QUERY_INVALID',
          `${error.message}\nThat is a fault in DuckDB, not in the query as written, and DuckDB may answer no query after it: the query engine's process was ended${options.oneQuery ? '' : ' and is started again by itself'}. Writing the query another way (another function, or its parts in another order) may avoid it.`,
          error instanceof InletError && error.details ? { details: error.details } : {},
        ),
      });
    if (running.fault !== undefined) return;
    running.fault = error.message.split('\n')[0] ?? error.message;
    logger.error(
      { pid: running.child.pid, queries: jobs.size, error: running.fault },
      "DuckDB failed with an internal error in the query engine's process, which is ended and started again (DuckDB may answer no query after one); the queries beside it run again",
    );
    running.child.kill('SIGKILL');
  };

  /** Ends a process with queries in flight that has answered nothing for unresponsiveMs. */
  const checkHeard = (running: Running) => {
    const now = Date.now();
    const silent = now - running.heardAt;
    if (silent >= unresponsiveMs && running.silentFor === undefined && running.killedFor === undefined) {
      running.silentFor = silent;
      logger.error(
        { pid: running.child.pid, silent_ms: silent, queries: jobs.size },
        "the query engine's process answered nothing while queries ran in it, and is stopped; its queries fail with QUERY_ENGINE_CRASHED",
      );
      running.child.kill('SIGKILL');
      return;
    }
    if (now - (running.pingedAt ?? 0) >= Math.min(PING_MS, unresponsiveMs / 4)) {
      running.pingedAt = now;
      send(running, { type: 'ping' });
    }
  };

  const startWatch = () => {
    if (watch) return;
    watch = setInterval(() => {
      const running = current;
      const pid = running?.child.pid;
      if (!running || pid === undefined || running.killedFor !== undefined) return;
      checkHeard(running);
      if (running.silentFor !== undefined || process.platform !== 'linux') return;
      const memory = memoryOf(pid);
      if (memory === undefined) return;
      running.dataSeen = memory.data;
      const rss = memory.resident;
      if (rss <= capBytes) return;
      running.killedFor = megabytes(rss);
      logger.error(
        { pid, resident_bytes: rss, cap_bytes: capBytes, queries: jobs.size },
        "the query engine's process passed its memory cap and is stopped; its queries fail with QUERY_OUT_OF_MEMORY",
      );
      running.child.kill('SIGKILL');
    }, WATCH_MS);
  };

  const idle = () => {
    if (jobs.size > 0) return;
    clearInterval(watch);
    watch = undefined;
    current?.child.channel?.unref();
  };

  const onMessage = (message: FromEngine) => {
    if (message.type === 'damaged-file') return options.onDamagedFile?.(message.moved, message.detail);
    if (message.type === 'file-race') return options.onFileRace?.(message.detail);
    if (message.type === 'view-failed') return options.onViewFailed?.(message.name, message.detail);
    if (message.type === 'run-alone')
      return logger.warn(
        { query_id: jobs.get(message.job)?.queryId, error: message.error.message },
        `a query ran out of query.memory_limit beside other queries in the query engine's process, and runs once more, alone (the queries running end first, and none starts meanwhile; still running after ${(options.aloneWaitMs ?? ALONE_WAIT_MS) / 1000} s, it gives up); if this is frequent, raise query.memory_limit or lower query.max_concurrent in ${configFileName(config)}`,
      );
    if (message.type === 'ready' || message.type === 'init-failed' || message.type === 'pong') return;
    const job = jobs.get(message.job);
    if (!job) return;
    switch (message.type) {
      case 'rows':
        for (const row of message.rows) job.rows.push(row);
        return;
      case 'result':
        return job.settle({ type: 'result', result: { ...message.result, rows: job.rows } });
      case 'columns':
        return job.settle({ type: 'columns', columns: message.columns });
      case 'failed':
        return job.settle({ type: 'failed', error: fromWire(message.error) });
      case 'chunk':
        job.chunks.push({ done: false, value: message.rows });
        return job.wake?.();
      case 'end':
        job.chunks.push({ done: true, value: undefined });
        return job.wake?.();
      case 'chunk-failed':
        job.chunks.push(waitedToo(fromWire(message.error), job));
        return job.wake?.();
      case 'stopped':
        return job.stop?.abort(waitedToo(fromWire(message.error), job));
      case 'done':
        forget(message.job, job);
        return idle();
    }
  };

  /** Forgets a job that is over. */
  const forget = (id: number, job: Job) => {
    jobs.delete(id);
    job.endLease?.();
    job.endLease = undefined;
    freeQueryId(job);
    job.onSent?.();
  };

  /**
   * Its caller has its answer (a stream's consumer is done): its id may name the caller's next query,
   * though the engine's process has yet to say the job is over.
   */
  const freeQueryId = (job: Job) => {
    if (job.queryId !== undefined && byQueryId.get(job.queryId) === job) byQueryId.delete(job.queryId);
  };

  /** Fails a job with error, wherever its caller waits (its answer, a stream's next chunk). */
  const fail = (id: number, job: Job, error: Error) => {
    job.settle({ type: 'failed', error });
    job.chunks.push(error);
    job.wake?.();
    job.stop?.abort(error);
    forget(id, job);
  };

  /**
   * Runs again, one at a time and each alone in the process, the queries a process had in flight
   * when it ended beside others: people's SQL only reads, so running it twice is safe. The one that
   * ends the fresh process too is then known to be the cause, and fails (once retried, a query is
   * not run again); the others answer as if nothing had happened. Queries that come meanwhile wait.
   * Each is run again with the whole of its time limit, as its run was lost to no fault of its own: one
   * that had first waited for an earlier line (waitForRunAgain) was charged that wait once, in the run lost.
   */
  const runAgain = (queue: Array<Job & { id: number }>) => {
    const before = retrying;
    const run = (async () => {
      for (const job of queue) {
        job.inLine = true;
        line.waiting.add(job);
      }
      await before;
      for (const job of queue) {
        job.retried = true;
        if (!job.settled && (closing || job.cancelled || job.signal?.aborted))
          fail(
            job.id,
            job,
            closing
              ? new InletError('QUERY_CANCELLED', 'The server is stopping, and the query was cancelled.')
              : new InletError('QUERY_CANCELLED', 'The query was cancelled.'),
          );
        let running: Running | undefined;
        if (!job.settled)
          try {
            running = await ensure();
          } catch (error) {
            if (!job.settled) fail(job.id, job, error as Error);
          }
        job.inLine = false;
        line.waiting.delete(job);
        // Cancelled, or its client gone, while it waited or the fresh process started: failed then (leaveLine).
        if (job.settled || running === undefined) continue;
        job.rows = [];
        job.chunks = [];
        job.timeLeft = undefined;
        line.turnSince = performance.now();
        await new Promise<void>((resolve) => {
          job.onSent = resolve;
          job.dispatch?.(running);
        });
        line.turnSince = undefined;
        job.onSent = undefined;
      }
    })();
    const done: Promise<void> = run.finally(() => {
      if (retrying === done) retrying = undefined;
    });
    retrying = done;
  };

  /** A query cancelled, or its client gone, while it waits to be run again gets its answer now, not at its turn. */
  const leaveLine = (job: Job & { id: number }) => {
    if (!job.inLine || job.settled) return;
    job.inLine = false;
    line.waiting.delete(job);
    fail(job.id, job, new InletError('QUERY_CANCELLED', 'The query was cancelled.'));
  };

  const onExit = (running: Running, code: number | null, signal: NodeJS.Signals | null) => {
    if (current === running) current = undefined;
    // A recycled process had no queries: those in jobs now run in the one that replaced it.
    if (closing || running.recycled) return;
    const hadQueries =
      jobs.size > 0 ||
      running.killedFor !== undefined ||
      running.silentFor !== undefined ||
      running.stuck !== undefined ||
      running.fault !== undefined;
    const queries = jobs.size;
    // A crash beside other queries, or one query's own fault, leaves the others' answers to be had
    // from a fresh process; not one whose memory or silence ended it (the same would end the next).
    const mayRunAgain =
      !options.oneQuery &&
      running.silentFor === undefined &&
      running.killedFor === undefined &&
      !reachedLimit(running, signal) &&
      (queries > 1 || running.stuck !== undefined || running.fault !== undefined);
    const again: Array<Job & { id: number }> = [];
    for (const [id, job] of jobs) {
      if (mayRunAgain && running.stuck?.job !== id && !job.settled && !job.retried) {
        jobs.delete(id);
        again.push(job);
        continue;
      }
      fail(
        id,
        job,
        running.stuck?.job === id
          ? running.stuck.error
          : endedError(running, code, signal, queries, job.retried),
      );
    }
    if (again.length > 0) runAgain(again);
    idle();
    // A query that ended it is no reason to wait: the next one gets a fresh process at once. One
    // that ends by itself soon after it starts is started ever more slowly.
    const young = !hadQueries && Date.now() - running.startedAt < YOUNG_MS;
    backoffMs = young ? Math.min(MAX_BACKOFF_MS, Math.max(1000, backoffMs * 2)) : 0;
    restartAt = Date.now() + backoffMs;
    const why =
      running.stuck !== undefined
        ? 'a query stopped in it went on regardless'
        : running.fault !== undefined
          ? `DuckDB failed with an internal error (${running.fault})`
          : running.silentFor !== undefined
            ? `it answered nothing for ${Math.round(running.silentFor / 1000)} s with queries in flight`
            : running.killedFor !== undefined
              ? `its memory (${running.killedFor}) passed its cap`
              : reachedLimit(running, signal)
                ? `signal ${signal} as its data (${megabytes(running.dataSeen ?? 0)}) reached its limit`
                : signal
                  ? `signal ${signal}`
                  : `exit code ${code}`;
    logger.warn(
      { code, signal, restart_in_ms: backoffMs },
      `the query engine's process ended (${why}); starting another`,
    );
    options.onExit?.(why);
    setTimeout(() => {
      if (!closing && !current && !options.oneQuery) ensure().catch(() => undefined);
    }, backoffMs).unref();
  };

  /** Starts a process and waits until its engine is up; rejects with the engine's error if it failed. */
  const spawn = () =>
    new Promise<Running>((resolve, reject) => {
      const child = fork(script, [], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // Source maps for stack traces, as the server has them; nothing else of the server's flags.
        execArgv: process.execArgv.filter((arg) => arg === '--enable-source-maps'),
        // DuckDB's allocator (jemalloc) keeps the address space of what it freed by default, which
        // the data limit counts: after one large value, the process would have no room left.
        env: { ...process.env, DUCKDB_JE_MALLOC_CONF: 'retain:false' },
      });
      const running: Running = { child, startedAt: Date.now(), heardAt: Date.now() };
      let up = false;
      child.on('message', (message: FromEngine) => {
        running.heardAt = Date.now();
        if (up && message.type === 'stuck') return endStuck(running, message.job, message.error);
        if (up && message.type === 'fault') return endFault(running, message.job, message.error);
        // Ended for a fault: what it answers now may be DuckDB refusing for it; those queries run again.
        if (running.fault !== undefined) return;
        if (up) return onMessage(message);
        if (message.type === 'ready') {
          // An idle engine keeps no process alive (the HTTP server does); a query in flight does.
          child.unref();
          child.channel?.unref();
          // Up once its limit is set: one that ends meanwhile failed to start.
          limit(running).then((limited) => {
            running.limited = limited;
            running.atRest = child.pid === undefined ? undefined : memoryOf(child.pid)?.resident;
            up = true;
            resolve(running);
          });
        } else if (message.type === 'init-failed') {
          child.kill('SIGKILL');
          reject(fromWire(message.error));
        }
      });
      child.on('error', (error) => logger.error({ err: error }, "the query engine's process failed"));
      child.on('exit', (code, signal) => {
        if (up) return onExit(running, code, signal);
        reject(
          new InletError(
            'QUERY_ENGINE_CRASHED',
            `The query engine's process ended as it started (${signal ? `signal ${signal}` : `exit code ${code}`}); ${options.oneQuery ? 'what it printed, above, says why' : "the server's log has its output"}.`,
            { retryAfterSeconds: 1 },
          ),
        );
      });
      child.send({
        type: 'init',
        config,
        layout,
        stuckMs: options.stuckMs,
        aloneWaitMs: options.aloneWaitMs,
        timeoutName: options.timeoutName,
      } satisfies ToEngine);
    });

  /**
   * Limits the data of a process that is up, so that an allocation past it fails in the query that
   * made it (DuckDB's "Out of Memory Error") and the queries beside it run on; the watch on its
   * resident memory stays, for what the limit does not count. Where it cannot (no prlimit, not
   * Linux, not allowed), that watch alone holds, as it did before, and the log says so once.
   */
  const limit = async (running: Running): Promise<boolean> => {
    const { child } = running;
    if (unlimited !== undefined || child.pid === undefined) return false;
    if (process.platform !== 'linux') unlimited = 'not Linux';
    else {
      // Address space a process reserves writable at start without using it counts against the limit
      // as if it were memory: Node 24 reserves 512 MB for V8's code this way (Node 20: ~30 MB). Left
      // out, the limit was passed before the first query, which failed as the lake's tables being
      // unreadable. What it reserves is added to the limit, so the room left for queries is the same.
      const atRest = memoryOf(child.pid);
      running.dataLimit = dataBytes + (atRest ? Math.max(0, atRest.data - atRest.resident) : 0);
      unlimited = await limitData(options.prlimit ?? 'prlimit', child.pid, running.dataLimit);
    }
    if (unlimited !== undefined)
      logger.warn(
        { reason: unlimited },
        `the query engine's process's memory cannot be limited (${unlimited}): one query whose value passes the cap stops that process and every query running in it. Install util-linux (prlimit) to fail only that query`,
      );
    return unlimited === undefined;
  };

  const ensure = (): Promise<Running> => {
    if (current) return Promise.resolve(current);
    if (starting) return starting;
    const wait = restartAt - Date.now();
    if (wait > 0)
      return Promise.reject(
        new InletError(
          'QUERY_ENGINE_CRASHED',
          `The query engine's process keeps ending soon after it starts, and is started again in ${Math.ceil(wait / 1000)} s; the server's log says why. Retry then.`,
          { retryAfterSeconds: Math.ceil(wait / 1000) },
        ),
      );
    starting = spawn()
      .then(
        (running) => {
          // Closed while it started: nothing will stop it later.
          if (closing) {
            running.child.kill('SIGKILL');
            throw new InletError('QUERY_CANCELLED', 'The server is stopping, and the query was cancelled.');
          }
          current = running;
          return running;
        },
        (error: unknown) => {
          backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(1000, backoffMs * 2));
          restartAt = Date.now() + backoffMs;
          logger.error({ err: error, restart_in_ms: backoffMs }, "the query engine's process did not start");
          throw error;
        },
      )
      .finally(() => {
        starting = undefined;
      });
    return starting;
  };

  /** Sends a query or a stream to the engine's process; resolves with its answer or its columns. */
  const begin = async (
    type: 'query' | 'stream',
    sql: string,
    opts: QueryOptions,
    job: Job & { id: number },
  ) => {
    const { id } = opts;
    // Known here, not only in the engine's process, so that cancel(id) can answer at once.
    if (id !== undefined && byQueryId.has(id))
      throw new InletError(
        'INVALID_FIELD',
        `query_id: "${id}" is already running; give each query an id of its own (a UUID, say).`,
        { details: { field: 'query_id' } },
      );
    if (id !== undefined) byQueryId.set(id, job);
    const cancelled = () => job.cancelled || opts.signal?.aborted;
    let running: Running;
    try {
      if (cancelled()) throw new InletError('QUERY_CANCELLED', 'The query was cancelled.');
      if (retrying) job.timeLeft = await waitForRunAgain(opts.signal, job, cancelled);
      if (cancelled()) throw new InletError('QUERY_CANCELLED', 'The query was cancelled.');
      running = await ensure();
      // Cancelled, or its client gone, while the process started.
      if (cancelled()) throw new InletError('QUERY_CANCELLED', 'The query was cancelled.');
    } catch (error) {
      if (id !== undefined) byQueryId.delete(id);
      throw error;
    }
    const outcome = new Promise<Outcome>((resolve) => {
      job.settle = (value) => {
        if (job.settled) return;
        job.settled = true;
        resolve(value);
        // A stream run again (runAgain) is under way once its columns are here.
        if (value.type === 'columns') job.onSent?.();
      };
    });
    job.endLease = options.leases?.begin();
    job.signal = opts.signal;
    const maxRows = opts.maxRows ?? config.query.max_rows;
    const wire: WireQueryOptions = {
      maxRows: opts.maxRows,
      maxBytes: opts.maxBytes,
      everyRow: opts.everyRow,
      ...(opts.rowLimit && {
        rowLimitNames: [maxRows, 0].map((rows): [number, string] => [rows, opts.rowLimit?.(rows) ?? '']),
      }),
    };
    job.dispatch = (to) => {
      // Idle, it was asked nothing: its silence counts from now.
      if (jobs.size === 0) to.heardAt = Date.now();
      jobs.set(job.id, job);
      job.running = to;
      // What it holds while idle is measured again from the end of this query.
      to.aboveSince = undefined;
      to.child.channel?.ref();
      startWatch();
      const limit = job.timeLeft === undefined ? {} : { timeoutMs: job.timeLeft };
      send(to, {
        type,
        job: job.id,
        sql,
        opts: { ...wire, ...limit },
        retiring: options.leases?.retiringPaths() ?? [],
      });
    };
    const abort = () => {
      if (job.running && jobs.has(job.id)) send(job.running, { type: 'abort', job: job.id });
      leaveLine(job);
    };
    opts.signal?.addEventListener('abort', abort, { once: true });
    job.unlisten = () => opts.signal?.removeEventListener('abort', abort);
    job.dispatch(running);
    const result = await outcome;
    // A stream's client may still go away while it reads the rows: stream() stops listening after.
    if (type === 'query' || result.type === 'failed') {
      job.unlisten();
      freeQueryId(job);
    }
    if (result.type === 'failed') throw waitedToo(result.error, job);
    return result;
  };

  /**
   * Waits while queries a crash left are run again one at a time (runAgain), each up to its own time
   * limit: the wait counts against this query's, and it fails with QUERY_BUSY if that passes first
   * (it waited for a whole line, not its own time). A cancel or its client gone ends the wait too.
   * Resolves with what is left of its limit.
   */
  const waitForRunAgain = async (
    signal: AbortSignal | undefined,
    job: Job,
    cancelled: () => boolean | undefined,
  ): Promise<number> => {
    const arrived = performance.now();
    let outOfTime = false;
    let limit: NodeJS.Timeout | undefined;
    let gone: (() => void) | undefined;
    const stopWaiting = new Promise<void>((resolve) => {
      job.stopWaiting = resolve;
      gone = () => resolve();
      signal?.addEventListener('abort', gone, { once: true });
      limit = setTimeout(() => {
        outOfTime = true;
        resolve();
      }, config.query.timeout_ms);
    });
    try {
      while (retrying && !cancelled() && !outOfTime) await Promise.race([retrying, stopWaiting]);
    } finally {
      clearTimeout(limit);
      // A signal that outlives the query (a caller's, for many) kept one listener a query.
      if (gone) signal?.removeEventListener('abort', gone);
      job.stopWaiting = undefined;
    }
    if (outOfTime && !cancelled()) {
      const seconds = lineLeftSeconds();
      const left = line.waiting.size + (line.turnSince === undefined ? 0 : 1);
      throw new InletError(
        'QUERY_BUSY',
        `The query waited all of ${options.timeoutName ?? 'query.timeout_ms'} (${config.query.timeout_ms} ms) for queries that were running when the query engine's process ended, which are run again one at a time and each alone (no query starts meanwhile), and did not start; the ${left === 1 ? 'one' : left} still in line may take up to ${seconds} s more (each up to that limit): retry then.`,
        { retryAfterSeconds: seconds },
      );
    }
    return Math.max(0, config.query.timeout_ms - (performance.now() - arrived));
  };

  /**
   * How long the queries runAgain has yet to finish may still take, at most, in whole seconds (1 at
   * least): the one under way what is left of its limit, each one waiting the whole of it.
   */
  const lineLeftSeconds = () => {
    const limit = config.query.timeout_ms;
    const turn = line.turnSince === undefined ? 0 : Math.max(0, limit - (performance.now() - line.turnSince));
    return retrySeconds(line.waiting.size * limit + turn);
  };

  /**
   * A query's time-out, saying how much of its limit it waited for queries run again (waitForRunAgain):
   * its answer's, or an export's that comes with its chunks or its stop once its rows flow.
   */
  const waitedToo = (error: Error, { timeLeft }: Job) =>
    timeLeft !== undefined && error instanceof InletError && error.code === 'QUERY_TIMEOUT'
      ? new InletError(error.code, `${error.message}${waitedNote(config.query.timeout_ms - timeLeft)}`, {
          cause: error,
        })
      : error;

  const newJob = (queryId: string | undefined): Job & { id: number } => ({
    id: nextJob++,
    settle: () => undefined,
    queryId,
    rows: [],
    chunks: [],
  });

  /**
   * V8 and the allocators keep much of what a large answer took after it is sent, and the process's
   * data limit counts it against every later query: an idle process that keeps holding far more
   * than at rest is replaced by a fresh one, never while a query or an export runs in it.
   */
  const checkKept = () => {
    const running = current;
    const pid = running?.child.pid;
    if (!running || pid === undefined || running.atRest === undefined || closing) return;
    const resident = jobs.size === 0 ? memoryOf(pid)?.resident : undefined;
    if (resident === undefined || resident <= running.atRest + recycleRule.aboveBytes) {
      running.aboveSince = undefined;
      return;
    }
    running.aboveSince ??= Date.now();
    if (Date.now() - running.aboveSince < recycleRule.forMs) return;
    running.recycled = true;
    current = undefined;
    logger.info(
      { pid, resident_bytes: resident, at_rest_bytes: running.atRest },
      `the query engine's process kept ${megabytes(resident)} after its queries (${megabytes(running.atRest)} at rest), which its memory limit counts against the next ones; a fresh one replaces it`,
    );
    options.onRecycle?.();
    running.child.kill('SIGKILL');
    ensure().catch(() => undefined);
  };
  const recycling = process.platform === 'linux' ? setInterval(checkKept, recycleRule.everyMs) : undefined;
  recycling?.unref();

  const first = await ensure().catch((error: unknown) => {
    clearInterval(recycling);
    throw error;
  });
  logger.debug({ pid: first.child.pid, cap_bytes: capBytes }, "the query engine's process is up");

  return {
    async query(sql: string, opts: QueryOptions = {}): Promise<QueryResult> {
      const result = await begin('query', sql, opts, newJob(opts.id));
      if (result.type !== 'result') throw new Error('the query engine answered a query with columns');
      return result.result;
    },
    async stream<T>(
      sql: string,
      opts: QueryOptions,
      consume: (stream: QueryStream) => Promise<T>,
    ): Promise<T> {
      const job = newJob(opts.id);
      const stop = new AbortController();
      job.stop = stop;
      const result = await begin('stream', sql, opts, job);
      if (result.type !== 'columns') throw new Error('the query engine answered a stream with rows');
      // The process that answered its columns (the first, or the one it was run again in).
      const running = job.running as Running;
      const pull = () => send(running, { type: 'pull', job: job.id });
      for (let i = 0; i < STREAM_WINDOW; i++) pull();
      const chunks: AsyncIterable<Json[][]> = {
        [Symbol.asyncIterator]: () => ({
          async next() {
            while (job.chunks.length === 0)
              await new Promise<void>((resolve) => {
                job.wake = resolve;
              });
            const next = job.chunks.shift() as IteratorResult<Json[][]> | Error;
            if (next instanceof Error) throw next;
            if (!next.done) pull();
            return next;
          },
          async return() {
            return { done: true, value: undefined };
          },
        }),
      };
      try {
        return await consume({ columns: result.columns, chunks, stopped: stop.signal });
      } finally {
        job.unlisten?.();
        freeQueryId(job);
        send(running, { type: 'release', job: job.id });
      }
    },
    cancel(id: string): boolean {
      const job = byQueryId.get(id);
      if (job === undefined) return false;
      job.cancelled = true;
      if (current && jobs.has(job.id)) send(current, { type: 'abort', job: job.id });
      job.stopWaiting?.();
      leaveLine(job);
      return true;
    },
    close() {
      closing = true;
      clearInterval(watch);
      clearInterval(recycling);
      for (const [id, job] of jobs)
        fail(
          id,
          job,
          new InletError('QUERY_CANCELLED', 'The server is stopping, and the query was cancelled.'),
        );
      current?.child.kill('SIGKILL');
      current = undefined;
    },
    residentBytes: () =>
      current?.child.pid === undefined ? undefined : memoryOf(current.child.pid)?.resident,
  };
}
