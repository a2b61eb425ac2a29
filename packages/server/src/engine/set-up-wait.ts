import { InletError } from '../errors/index.ts';
import { leftAtPace, retrySeconds as seconds } from './retry-after.ts';

/** The building of the engine's views under way: since when (performance.now()), how many changes it makes, how many are made. */
export interface ViewBuild {
  since: number;
  total: number;
  done: number;
}

/**
 * What a query fails with when the views it waits for are still being built after its bound (ms).
 * Its Retry-After is how long the rest may take at the pace so far (as long again as so far while
 * none is built, or while the build has yet to begin), so a client that honours it comes back once
 * they likely are, rather than to wait, holding its slot, all over again.
 */
export function stillSettingUp(
  ms: number,
  build: ViewBuild | undefined,
  now = performance.now(),
): InletError {
  const elapsed = build === undefined ? ms : now - build.since;
  const retry = seconds(leftAtPace(elapsed, build));
  const progress =
    build === undefined
      ? `retry in about ${retry} s`
      : build.done === 0
        ? `none of its ${build.total} views is built yet after ${seconds(elapsed)} s, so retry in about ${retry} s`
        : `${build.done} of its ${build.total} views are built in ${seconds(elapsed)} s, and at that pace the rest take about ${retry} s more: retry then`;
  return new InletError(
    'QUERY_BUSY',
    `The query engine is still building its views of the lake's tables after ${ms / 1000} s (a lake of many files, or a slow disk), so the query did not start; they go on being built: ${progress}.`,
    { retryAfterSeconds: retry },
  );
}
