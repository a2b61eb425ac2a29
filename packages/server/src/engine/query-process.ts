import type { Json } from '@duckdb/node-api';
import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { DataLayout, MovedFile, ReadLeases } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { ALONE_WAIT_MS, type QueryEngine } from './query-engine.ts';
import { type FromEngine, fromWire, type ToEngine, type WireQueryOptions } from './query-messages.ts';
import { createRunAgain } from './query-process-again.ts';
import { createEndings } from './query-process-ended.ts';
import {
  createDataLimit,
  megabytes,
  memoryOf,
  QUERY_PROCESS_ALLOWANCE_BYTES,
  queryProcessCap,
} from './query-process-limit.ts';
import { spawnProcess } from './query-process-spawn.ts';
import type { Job, Outcome, Running } from './query-process-state.ts';
import { createWatch } from './query-process-watch.ts';
import type { QueryOptions, QueryResult, QueryStream } from './query-types.ts';

export { QUERY_PROCESS_ALLOWANCE_BYTES };

/** A process that dies sooner than this after it started is started again ever more slowly. */
const YOUNG_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;
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
  const jobs = new Map<number, Job & { id: number }>();
  const byQueryId = new Map<string, Job & { id: number }>();
  let nextJob = 0;
  let current: Running | undefined;
  let starting: Promise<Running> | undefined;
  let backoffMs = 0;
  let restartAt = 0;
  let closing = false;
  const recycleRule = options.recycle ?? RECYCLE;
  const unresponsiveMs = options.unresponsiveMs ?? UNRESPONSIVE_MS;

  const send = (running: Running, message: ToEngine) => {
    if (running.child.connected) running.child.send(message);
  };

  const endings = createEndings({ config, options, logger, jobs, capNamed, dataBytes });
  const { endedError, reachedLimit, endStuck, endFault, exitReason } = endings;
  const { startWatch, idle, stopWatch } = createWatch({
    jobs,
    logger,
    unresponsiveMs,
    capBytes,
    send,
    current: () => current,
  });

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

  const { runAgain, leaveLine, waitForRunAgain, waitedToo, runningAgain } = createRunAgain({
    config,
    options,
    ensure: () => ensure(),
    fail,
    closing: () => closing,
  });

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
    const why = exitReason(running, code, signal);
    logger.warn(
      { code, signal, restart_in_ms: backoffMs },
      `the query engine's process ended (${why}); starting another`,
    );
    options.onExit?.(why);
    setTimeout(() => {
      if (!closing && !current && !options.oneQuery) ensure().catch(() => undefined);
    }, backoffMs).unref();
  };

  const spawn = () =>
    spawnProcess({ script, config, layout, logger, options, limit, endStuck, endFault, onMessage, onExit });

  const limit = createDataLimit({ dataBytes, logger, options });

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
      if (runningAgain()) job.timeLeft = await waitForRunAgain(opts.signal, job, cancelled);
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
      jsonText: opts.jsonText,
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
      stopWatch();
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
