import { cutText } from '../fields.ts';

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
 * A page URL written without its scheme but starting with a host name (www.example.com/path,
 * docs.example.com:8080?utm_source=x), as a server or a hand-made client may send it, with https://
 * before it; anything else as it came. Read as a relative URL, the host became the start of the path
 * (/www.example.com/path), and a port was taken for a scheme (path 8080/path). A value starting with
 * / is a path, and stays one; so does a name of two labels that no / follows (index.html,
 * report.pdf?v=2), which is more often a relative file than a host.
 */
export function withScheme(url: string | null): string | null {
  const host = url === null ? undefined : HOST_FIRST.exec(url);
  if (!host) return url;
  const [, name = '', port, after] = host;
  const hostLike =
    after === '/' || port !== undefined || name.startsWith('www.') || name.split('.').length > 2;
  return hostLike ? cutText(`https://${url}`, MAX_URL_CHARS) : url;
}

/** A host name of two labels or more whose last starts with a letter, or an IPv4 address; a port; what ends the host. */
const HOST_FIRST =
  /^((?:[\p{L}\p{N}][\p{L}\p{N}-]*\.)+\p{L}[\p{L}\p{N}-]*|\d{1,3}(?:\.\d{1,3}){3})(:\d{1,5})?([/?#]|$)/u;

/** The url column's length, as the protocols cut it. */
const MAX_URL_CHARS = 8192;

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

type UtmKey = Exclude<keyof UrlParts, 'path'>;
const UTM_KEYS = new Set<string>(['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content']);
const isUtmKey = (key: string): key is UtmKey => UTM_KEYS.has(key);

function parse(url: string, hashRouting: boolean): UrlParts {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://relative.invalid');
  } catch {
    return EMPTY;
  }
  const [route = '', routeQuery = ''] = parsed.hash.split(/\?(.*)/s);
  const path = hashRouting && parsed.hash.length > 1 ? `${parsed.pathname}${route}` : parsed.pathname;
  // A hash-routed page carries its campaign in the route's query (/#/pricing?utm_source=…), which
  // URL leaves inside the fragment. Link builders and ad platforms write the keys in capitals too.
  if (!/utm_/i.test(parsed.search) && !/utm_/i.test(routeQuery)) return { ...EMPTY, path };
  const parts: UrlParts = { ...EMPTY, path };
  for (const query of [parsed.searchParams, new URLSearchParams(routeQuery)])
    for (const [key, value] of query) {
      const name = key.toLowerCase();
      // The first non-empty value counts: utm_source= says nothing, and the page's query comes first.
      if (isUtmKey(name) && parts[name] === null && value !== '') parts[name] = value;
    }
  return parts;
}
