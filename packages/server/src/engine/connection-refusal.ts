import { InletError } from '../errors/index.ts';
import type { FirstEnd } from './query-slots.ts';

/** The Node bindings' words when the instance was closed before the connection was asked for. */
const INSTANCE_CLOSED = /instance closed/;

/**
 * What a query gets when DuckDB would not open its connection (DuckDBInstance.connect() rejected),
 * which it does only when the engine has been closed (inlet stopping) or when it cannot get the
 * memory for one; its C API drops the reason ("Failed to connect"). Nothing of the query ran, so it
 * is QUERY_BUSY with when to retry (firstEnd: when the first other query running may end and free
 * what it holds); it reached clients as an error inlet did not foresee, a 500 and inlet query's exit 5.
 */
export function connectionRefused(error: unknown, firstEnd: FirstEnd | undefined): InletError {
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  if (INSTANCE_CLOSED.test(detail))
    return new InletError(
      'QUERY_BUSY',
      `The query engine was closed before the query could start (${detail}), so nothing of it ran: inlet is stopping. Retry in a moment, once it has started again.`,
      { retryAfterSeconds: 1, cause: error },
    );
  const when = firstEnd
    ? `${firstEnd.why}: retry in about ${firstEnd.seconds} s, when it may have given its memory back`
    : 'retry in a moment';
  return new InletError(
    'QUERY_BUSY',
    `DuckDB could not open a connection for the query (${detail}), which it refuses only when it cannot get the memory for one, so nothing of the query ran; ${when}. Queries running at the same time share query.memory_limit and the memory of the query engine's process.`,
    { retryAfterSeconds: firstEnd?.seconds ?? 1, cause: error },
  );
}
