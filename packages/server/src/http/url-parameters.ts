import { InletError } from '../errors/index.ts';

const CACHE_BUSTER = '_';

/**
 * Refuses a URL parameter a route does not take, as the query API refuses a field its body does
 * not take: a misspelt one (?fromat=csv, ?limt=10) was passed over, and the answer came as if it
 * had not been sent (JSON cut at query.max_rows in place of a CSV export, 50 runs in place of 10).
 * `_` is passed over still: the cache-buster jQuery's `cache: false` and other clients add (?_=<time>).
 * `route` (GET /api/lineage) is named, as "the URL" left its reader to match a hint to the request.
 */
export function refuseUnknownParameters(
  query: unknown,
  route: string,
  taken: readonly string[],
  which: string,
): void {
  for (const name of Object.keys((query ?? {}) as Record<string, unknown>))
    if (name !== CACHE_BUSTER && !taken.includes(name))
      throw new InletError('INVALID_FIELD', `${name}: is not a parameter of ${route}, which takes ${which}`, {
        details: { field: name },
      });
}

/** Refuses every URL parameter but `_`, for a route that takes none; `instead` says what does what was asked. */
export function refuseAnyParameter(query: unknown, route: string, instead?: string): void {
  refuseUnknownParameters(query, route, [], instead === undefined ? 'none' : `none; ${instead}`);
}
