export interface UrlParts {
  path: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
}

const EMPTY: UrlParts = {
  path: null,
  utm_source: null,
  utm_medium: null,
  utm_campaign: null,
  utm_term: null,
  utm_content: null,
};

/**
 * Splits the path and UTM parameters out of a page URL; a relative or unparsable URL yields what it
 * can. With hash routing the route lives in the fragment, so it becomes part of the path.
 */
export function splitUrl(url: string | null, hashRouting = false): UrlParts {
  if (!url) return EMPTY;
  // Pages repeat: heartbeats and batches send the same URL many times in a row, and visitors the
  // same pages. URL's parser is a fifth of enrichment, so recent URLs' parts are kept.
  const cache = hashRouting ? hashCache : plainCache;
  const hit = cache.get(url);
  if (hit !== undefined) return hit;
  const parts = parse(url, hashRouting);
  if (url.length <= CACHED_URL_CHARS) {
    // The oldest entry goes first (a Map iterates in insertion order).
    if (cache.size >= CACHED_URLS) cache.delete(cache.keys().next().value as string);
    cache.set(url, parts);
  }
  return parts;
}

/** URLs whose parts are kept, and the longest kept: at most ~2 MB of keys. */
const CACHED_URLS = 1024;
const CACHED_URL_CHARS = 2048;
const plainCache = new Map<string, UrlParts>();
const hashCache = new Map<string, UrlParts>();

function parse(url: string, hashRouting: boolean): UrlParts {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://relative.invalid');
  } catch {
    return EMPTY;
  }
  const path =
    hashRouting && parsed.hash.length > 1
      ? `${parsed.pathname}${parsed.hash.split('?')[0]}`
      : parsed.pathname;
  if (!parsed.search.includes('utm_')) return { ...EMPTY, path };
  const q = parsed.searchParams;
  return {
    path,
    utm_source: q.get('utm_source'),
    utm_medium: q.get('utm_medium'),
    utm_campaign: q.get('utm_campaign'),
    utm_term: q.get('utm_term'),
    utm_content: q.get('utm_content'),
  };
}
