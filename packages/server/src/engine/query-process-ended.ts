import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { fromWire, INVALIDATED, type WireError } from './query-messages.ts';
import { megabytes } from './query-process-limit.ts';
import type { Job, Running } from './query-process-state.ts';

/** A process that ends by a signal with its data past this share of its limit ran out of it. */
const NEAR_LIMIT = 0.75;

/**
 * What the queries of an engine's process that ended are told, and the log: why it ended (its memory,
 * its data limit, its silence, a query DuckDB did not let go of, a fault in DuckDB, a crash).
 */
export function createEndings({
  config,
  options,
  logger,
  jobs,
  capNamed,
  dataBytes,
}: {
  config: InletConfig;
  options: { oneQuery?: boolean };
  logger: Logger;
  /** The jobs in flight, by id. */
  jobs: Map<number, Job>;
  /** How a message names the process's memory cap (queryProcessCap). */
  capNamed: string;
  dataBytes: number;
}) {
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

  /** Why a process ended, as the log says it and onExit is told. */
  const exitReason = (running: Running, code: number | null, signal: NodeJS.Signals | null) =>
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

  return { endedError, reachedLimit, endStuck, endFault, exitReason };
}
