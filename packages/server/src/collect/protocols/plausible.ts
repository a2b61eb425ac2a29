import { randomUUID } from 'node:crypto';
import { jsonFault, MAX_JSON_DEPTH } from '../../events/index.ts';
import {
  fail,
  HUGE_NUMBER,
  isObject,
  type Json,
  optionalCutString,
  optionalId,
  optionalString,
  requiredProblem,
} from '../fields.ts';
import { parseJson } from '../json-body.ts';
import type { ParsedIntake } from './types.ts';

// Plausible's Events API, POST /api/event, as sent by its script and documented for servers:
// { n|name, u|url, d|domain, r|referrer, p|props|m|meta, h|hashMode, $|revenue, i|interactive }.
// Sites are named by domain, not by write key, so the domain goes to context.domain for the route to map.

const MAX_PROPS = 30;

/**
 * A field the body may give under either of its names (Plausible's script sends the short one), with
 * the name it came under, which a refusal names: the client wrote d, not domain.
 */
function pick(body: Json, ...names: string[]): { key: string; value: unknown } {
  for (const key of names) {
    const value = body[key];
    if (value !== undefined && value !== null) return { key, value };
  }
  return { key: names[names.length - 1] as string, value: undefined };
}

/**
 * A text field: a string, as Plausible's script and API send it. optionalString reads a number as
 * its digits, so "d": 5 was looked up as the domain 5 and answered "No site has domain 5", and
 * "n": 5 stored an event named "5".
 */
function text({ key, value }: { key: string; value: unknown }, what: string): string | null {
  if (value !== undefined && typeof value !== 'string')
    fail(key, `must be a string (${what}), not ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}`);
  return value ?? null;
}

/** Plausible keeps only scalar props, given as an object or as a JSON string; the rest it drops, and so do we. */
function parseProps({ key: field, value: raw }: { key: string; value: unknown }): Json {
  if (raw === undefined || raw === null || raw === '') return {};
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = parseJson(raw);
    } catch {
      fail(field, 'must be a JSON object or a string holding one');
    }
  }
  // A number or a list was told "must be a JSON object", as if a string holding one were refused.
  if (!isObject(value)) fail(field, 'must be a JSON object or a string holding one');
  // Defined, not assigned: a prop named __proto__ is a prop like any other, not the object's prototype.
  const props: Json = {};
  for (const [key, prop] of Object.entries(value)) {
    if (prop === '' || prop === null || typeof prop === 'object') continue;
    if (typeof prop === 'number' && !Number.isFinite(prop)) fail(`${field}.${key}`, HUGE_NUMBER);
    if (Object.keys(props).length === MAX_PROPS) fail(field, `has more than ${MAX_PROPS} properties`);
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
function parseDomains(field: { key: string; value: unknown }, url: string): string[] {
  const given = text(field, "the site's domain, as listed in sites[].domains of the configuration");
  const domains = (optionalString(given, field.key, 2000) ?? new URL(url).hostname)
    .split(',')
    // Host names are case-insensitive, and inlet.yaml lists them in lower case.
    .map((domain) =>
      domain
        .trim()
        .toLowerCase()
        .replace(/^www\./, ''),
    )
    .filter(Boolean);
  if (domains.length === 0)
    fail(field.key, 'is empty; send the site domain registered in sites[].domains of the configuration');
  return domains;
}

/** Parses a Plausible event; writeKey is undefined because Plausible names the site by domain. */
export function parsePlausible(body: unknown): ParsedIntake {
  if (!isObject(body)) fail('body', 'must be a JSON object such as {"n":"pageview","u":"https://…","d":"…"}');
  const nameField = pick(body, 'n', 'name');
  const rawName = optionalId(
    text(nameField, '"pageview" for a page view, or a custom event name'),
    nameField.key,
    200,
  );
  if (!rawName)
    fail(
      nameField.key,
      requiredProblem('is required; "pageview" for a page view, or a custom event name', nameField.value),
    );
  // A page's url and referrer as the script has them, cut rather than refused (optionalCutString).
  const urlField = pick(body, 'u', 'url');
  const url = optionalCutString(text(urlField, "the page's full URL"), urlField.key);
  if (!url) fail(urlField.key, 'is required; send the full page URL');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    fail(urlField.key, 'must be an absolute http(s) URL');
  }
  const domains = parseDomains(pick(body, 'd', 'domain'), url);
  const properties = parseProps(pick(body, 'p', 'props', 'm', 'meta'));
  const referrer = pick(body, 'r', 'referrer');
  const { key: revenueKey, value: revenue } = pick(body, '$', 'revenue');
  if (revenue !== undefined) {
    if (!isObject(revenue))
      fail(revenueKey, 'must be a JSON object such as {"amount": 9.5, "currency": "EUR"}');
    const kept = { amount: revenue.amount, currency: revenue.currency };
    // Checked as properties are: an amount nested thousands deep overflowed JSON.stringify when the
    // event was written (a 500), and 1e400 inside it was stored as null. properties holds it, so one level less.
    const fault = jsonFault(kept, MAX_JSON_DEPTH - 1);
    if (fault?.kind === 'deep')
      fail(
        revenueKey,
        `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep, counted from the props; send an amount and a currency such as {"amount": 9.5, "currency": "EUR"}`,
      );
    if (fault) fail(`${revenueKey}${fault.path}`, HUGE_NUMBER);
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
        referrer: optionalCutString(text(referrer, "the referring page's URL, or null"), referrer.key, 2000),
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
