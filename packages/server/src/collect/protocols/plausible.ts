import { randomUUID } from 'node:crypto';
import { jsonFault, MAX_JSON_DEPTH } from '../../events/index.ts';
import { fail, HUGE_NUMBER, isObject, type Json, optionalCutString, optionalString } from '../fields.ts';
import { parseJson } from '../json-body.ts';
import type { ParsedIntake } from './types.ts';

// Plausible's Events API, POST /api/event, as sent by its script and documented for servers:
// { n|name, u|url, d|domain, r|referrer, p|props|m|meta, h|hashMode, $|revenue, i|interactive }.
// Sites are named by domain, not by write key, so the domain goes to context.domain for the route to map.

const MAX_PROPS = 30;

/** Plausible keeps only scalar props, given as an object or as a JSON string; the rest it drops, and so do we. */
function parseProps(raw: unknown): Json {
  if (raw === undefined || raw === null || raw === '') return {};
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = parseJson(raw);
    } catch {
      fail('props', 'must be a JSON object or a string holding one');
    }
  }
  if (!isObject(value)) fail('props', 'must be a JSON object');
  // Defined, not assigned: a prop named __proto__ is a prop like any other, not the object's prototype.
  const props: Json = {};
  for (const [key, prop] of Object.entries(value)) {
    if (prop === '' || prop === null || typeof prop === 'object') continue;
    if (typeof prop === 'number' && !Number.isFinite(prop)) fail(`props.${key}`, HUGE_NUMBER);
    if (Object.keys(props).length === MAX_PROPS) fail('props', `has more than ${MAX_PROPS} properties`);
    Object.defineProperty(props, key.slice(0, 300), {
      value: typeof prop === 'string' ? prop.slice(0, 2000) : prop,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return props;
}

/** The hosts named by `d` (comma-separated for roll-up sites), lower case, without "www."; the URL's host when absent. */
function parseDomains(raw: unknown, url: string): string[] {
  const text = optionalString(raw, 'domain', 2000) ?? new URL(url).hostname;
  const domains = text
    .split(',')
    // Host names are case-insensitive, and inlet.yaml lists them in lower case.
    .map((domain) =>
      domain
        .trim()
        .toLowerCase()
        .replace(/^www\./, ''),
    )
    .filter(Boolean);
  if (domains.length === 0) fail('domain', 'is empty; send the site domain registered in inlet.yaml');
  return domains;
}

/** Parses a Plausible event; writeKey is undefined because Plausible names the site by domain. */
export function parsePlausible(body: unknown): ParsedIntake {
  if (!isObject(body)) fail('body', 'must be a JSON object such as {"n":"pageview","u":"https://…","d":"…"}');
  const rawName = optionalString(body.n ?? body.name, 'name', 200);
  if (!rawName) fail('name', 'is required; "pageview" for a page view, or a custom event name');
  // A page's url and referrer as the script has them, cut rather than refused (optionalCutString).
  const url = optionalCutString(body.u ?? body.url, 'url');
  if (!url) fail('url', 'is required; send the full page URL');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    fail('url', 'must be an absolute http(s) URL');
  }
  const domains = parseDomains(body.d ?? body.domain, url);
  const properties = parseProps(body.p ?? body.props ?? body.m ?? body.meta);
  const revenue = body.$ ?? body.revenue;
  if (revenue !== undefined && revenue !== null) {
    if (!isObject(revenue))
      fail('revenue', 'must be a JSON object such as {"amount": 9.5, "currency": "EUR"}');
    const kept = { amount: revenue.amount, currency: revenue.currency };
    // Checked as properties are: an amount nested thousands deep overflowed JSON.stringify when the
    // event was written (a 500), and 1e400 inside it was stored as null. properties holds it, so one level less.
    const fault = jsonFault(kept, MAX_JSON_DEPTH - 1);
    if (fault?.kind === 'deep')
      fail(
        'revenue',
        `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep, counted from the props; send an amount and a currency such as {"amount": 9.5, "currency": "EUR"}`,
      );
    if (fault) fail(`revenue${fault.path}`, HUGE_NUMBER);
    properties.revenue = kept;
  }
  const name = rawName === 'pageview' ? null : rawName;
  // The newer Plausible script reports scroll depth and engaged time in "engagement" events.
  if (name === 'engagement') {
    if (typeof body.sd === 'number') properties.scroll_depth = body.sd;
    if (typeof body.e === 'number') properties.engagement_ms = body.e;
  }

  const context: Json = { protocol: 'plausible', domain: domains[0] };
  if (domains.length > 1) context.domains = domains;
  const hash = body.h ?? body.hashMode;
  if (hash === 1 || hash === true) context.hash_routing = true;
  const interactive = body.i ?? body.interactive;
  if (interactive === false) context.interactive = false;

  return {
    writeKey: undefined,
    events: [
      {
        // Plausible sends no event id and never retries, so every request is a distinct event.
        eventId: randomUUID(),
        type: name ? 'track' : 'page',
        name,
        timestamp: undefined,
        sentAt: undefined,
        anonymousId: null,
        userId: null,
        sessionId: null,
        url,
        referrer: optionalCutString(body.r ?? body.referrer, 'referrer', 2000),
        title: null,
        campaign: {},
        properties,
        context,
        userAgent: undefined,
        ip: undefined,
      },
    ],
    eventField: () => 'body',
  };
}
