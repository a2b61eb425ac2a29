import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { waitedNote } from './query-engine.ts';
import type { Job, Running } from './query-process-state.ts';
import { retrySeconds } from './retry-after.ts';

/**
 * The line of queries run again after the engine's process ended under them (runAgain), and the wait
 * of queries that come meanwhile (waitForRunAgain).
 */
export function createRunAgain({
  config,
  options,
  ensure,
  fail,
  closing,
}: {
  config: InletConfig;
  options: { timeoutName?: string };
  /** The process queries go to, started if need be. */
  ensure: () => Promise<Running>;
  /** Fails a job with error, wherever its caller waits. */
  fail: (id: number, job: Job, error: Error) => void;
  /** The engine is closed. */
  closing: () => boolean;
}) {
  /** Queries a process ended under, being run again one at a time (runAgain): new ones wait for them. */
  let retrying: Promise<void> | undefined;
  /** The queries runAgain has yet to send, and since when the one it sent last has run (until it is under way). */
  const line = { waiting: new Set<Job>(), turnSince: undefined as number | undefined };

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
        if (!job.settled && (closing() || job.cancelled || job.signal?.aborted))
          fail(
            job.id,
            job,
            closing()
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

  return {
    runAgain,
    leaveLine,
    waitForRunAgain,
    waitedToo,
    /** Queries a process ended under are being run again: a new one waits for them (waitForRunAgain). */
    runningAgain: () => retrying !== undefined,
  };
}
