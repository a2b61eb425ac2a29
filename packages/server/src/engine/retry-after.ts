/** A wait in ms as a Retry-After says it: whole seconds, 1 at least. */
export const retrySeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/**
 * How much longer work under way may take, in ms, at its pace so far: done of total in elapsedMs,
 * or as long again as so far while none is done (or nothing is counted); never past boundMs, by
 * when something ends it anyway (a time limit). A client told so comes back when it likely is done,
 * and one told again after a long wait waits longer, rather than asking every moment.
 */
export function leftAtPace(
  elapsedMs: number,
  progress?: { done: number; total: number },
  boundMs = Number.POSITIVE_INFINITY,
): number {
  const left =
    progress !== undefined && progress.done > 0
      ? (elapsedMs * (progress.total - progress.done)) / progress.done
      : elapsedMs;
  return Math.max(0, Math.min(left, boundMs));
}
