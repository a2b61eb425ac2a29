import {
  cutText,
  fail,
  optionalCutString,
  optionalId,
  optionalJsonObject,
  optionalTime,
  requiredProblem,
} from '../fields.ts';
import { parseJson } from '../json-body.ts';
import type { ParsedIntake } from './types.ts';

// GET /p.gif?k=<write key>&t=page|track&n=<name>&url=…&ref=…&ti=…&a=…&u=…&id=…&ts=…&p=<JSON properties>
// For pages without JavaScript (url falls back to the Referer header) and for e-mail opens.

/**
 * ts as the number it reads as, else as it came (an ISO date): ts=0 is epoch 0 as timestamp: 0 is
 * in a JSON body, where `Number(ts) || ts` passed the text "0" on and it was refused.
 */
const pixelTime = (ts: string | undefined): number | string | undefined => {
  if (ts === undefined || ts.trim() === '') return ts;
  const number = Number(ts);
  return Number.isFinite(number) ? number : ts.replace(PLUS_READ_AS_SPACE, '$1+$2');
};

/**
 * A time whose offset's + came unencoded (ts=2026-12-05T10:00:00+09:00 in an e-mail template): a
 * query string reads + as a space, and the view was refused, a 400 nobody sees behind an image. A
 * space between a time and hh:mm can only have been that +.
 */
const PLUS_READ_AS_SPACE = /^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d(?::?\d\d)?)$/;

/** The parameters parsePixel reads; a bad escape elsewhere (a mail service's own) is not the view's. */
const READ = new Set(['k', 't', 'n', 'url', 'ref', 'ti', 'a', 'u', 's', 'id', 'ts', 'p']);

/** A percent-escape of a byte past ASCII: only such a byte can make a text that is no UTF-8. */
const HIGH_ESCAPE = /%[89a-f][0-9a-f]/i;

/** A run of percent-escapes: one character's bytes, or several characters'. */
const ESCAPES = /(?:%[0-9a-f]{2})+/gi;

/** The first run of escapes in value that is no UTF-8, or undefined. */
function badEscapes(value: string): string | undefined {
  for (const [run] of value.matchAll(ESCAPES)) {
    try {
      decodeURIComponent(run);
    } catch {
      return run;
    }
  }
  return undefined;
}

/**
 * Refuses a parameter the pixel reads whose percent-escapes are no UTF-8 (%E9, é in Latin-1, or
 * %E0%A4, a character cut short), naming it and them: URLSearchParams reads them as U+FFFD, and the
 * view was stored as "caf\ufffd", where a JSON body with such bytes is refused. search is the query
 * as sent (URL's search); only a parameter's first value is read, as pixelQuery takes it.
 */
export function checkPixelEscapes(search: string): void {
  if (!HIGH_ESCAPE.test(search)) return;
  const seen = new Set<string>();
  for (const pair of search.slice(1).split('&')) {
    const equals = pair.indexOf('=');
    let rawKey = equals === -1 ? pair : pair.slice(0, equals);
    // A key written escaped (%6E for n) is the key it decodes to, as URLSearchParams reads it.
    if (rawKey.includes('%')) rawKey = badEscapes(rawKey) ? rawKey : decodeURIComponent(rawKey);
    const key = rawKey.startsWith('amp;') ? rawKey.slice(4) : rawKey;
    if (!READ.has(key) || seen.has(key)) continue;
    seen.add(key);
    const bad = equals === -1 ? undefined : badEscapes(pair.slice(equals + 1));
    if (bad)
      fail(
        key,
        `holds ${bad.toUpperCase()}, which is not text in UTF-8 (the page or template encoded it in another character set, or cut a character short); percent-encode the text as UTF-8, as encodeURIComponent does.`,
      );
  }
}

export function parsePixel(
  query: Record<string, string | undefined>,
  referer: string | undefined,
): ParsedIntake {
  const type = query.t ?? (query.n ? 'track' : 'page');
  if (type !== 'page' && type !== 'track') fail('t', 'must be "page" or "track"');
  let properties: Record<string, unknown> = {};
  if (query.p) {
    let parsed: unknown;
    try {
      parsed = parseJson(query.p);
    } catch {
      fail('p', 'must be a JSON object, URL-encoded');
    }
    if (parsed === null) fail('p', 'must be a JSON object');
    properties = optionalJsonObject(parsed, 'p');
  }
  const name = optionalId(query.n, 'n', 200);
  if (type === 'track' && !name) fail('n', requiredProblem('is required when t=track', query.n));
  return {
    writeKey: query.k,
    keyHint: 'as k in the query (/p.gif?k=<write key>)',
    events: [
      {
        eventId: optionalId(query.id, 'id', 200),
        type,
        name,
        timestamp: optionalTime(pixelTime(query.ts), 'ts'),
        sentAt: undefined,
        anonymousId: optionalId(query.a, 'a', 200),
        userId: optionalId(query.u, 'u', 200),
        sessionId: optionalId(query.s, 's', 200),
        // Cut to the columns' lengths, as the other protocols' are, rather than refused: a view refused
        // behind an image is lost unseen (a url past 8,192 characters), and the Referer, which a url
        // left out falls back to, was stored whole whatever its length.
        url: optionalCutString(query.url, 'url') ?? cutText(referer ?? null, 8192),
        referrer: optionalCutString(query.ref, 'ref'),
        title: optionalCutString(query.ti, 'ti', 2000),
        campaign: {},
        properties,
        context: { protocol: 'pixel' },
        userAgent: undefined,
        ip: undefined,
      },
    ],
    // The pixel's event is its query string; its fields (t, n, p…) are named on their own.
    eventField: () => 'query',
  };
}
