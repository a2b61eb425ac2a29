import { isIP } from 'node:net';
// Not config/index.ts, which intake workers need not load.
import { MAX_WRITE_KEY_LENGTH } from '../../config/write-key.ts';
import { EVENT_TYPES, type EventType, MAX_JSON_DEPTH } from '../../events/index.ts';
import {
  checkJson,
  fail,
  isObject,
  type Json,
  optionalCutString,
  optionalId,
  optionalJsonObject,
  optionalObject,
  optionalString,
  optionalTime,
  requiredProblem,
} from '../fields.ts';
import type { IncomingEvent } from '../incoming.ts';
import { indexedField, type ParsedIntake, parseEach } from './types.ts';

// Segment's HTTP tracking API (also what RudderStack SDKs send): /v1/batch and one route per type.

const MAX_BATCH = 2500;
const eventField = indexedField('batch', MAX_BATCH);
const EMPTY: Json = {};

/** RudderStack's browser SDK sends "$direct" as the referrer of a visit that has none. */
const noDirect = (referrer: string | null): string | null => (referrer === '$direct' ? null : referrer);

/**
 * A page's location when it gives no url, from the path and search of Segment's page spec (a server
 * SDK's page call often has only these): /pricing?utm_source=news, read as a relative URL. Without
 * it the page had no path, and the marts by path counted it under none.
 */
function pagePath(properties: Json, page: Json): string | null {
  const path = properties.path ?? page.path;
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 8192) return null;
  const search = properties.search ?? page.search;
  return typeof search === 'string' && search.startsWith('?') && path.length + search.length <= 8192
    ? `${path}${search}`
    : path;
}

const TYPES: readonly string[] = EVENT_TYPES;

/**
 * A page or screen call's properties with its category, which Segment's spec puts beside its name:
 * analytics.js copies a page call's into properties, but a screen call's (analytics-node, the mobile
 * SDKs) came in no column and was dropped. A category the properties hold already wins.
 */
function withCategory(properties: Json, category: unknown, field: string): Json {
  if (category === undefined || category === null || category === '' || properties.category !== undefined)
    return properties;
  // A level of properties, as it is stored in them.
  checkJson(category, field, MAX_JSON_DEPTH - 1, '.category');
  return { ...properties, category };
}

/**
 * A message's type in any case: RudderStack's warehouse files "Track" as a track call (it reads the
 * type lower-cased), and a hand-written client that capitalised it had every message refused.
 */
function messageType(value: unknown, field: string): EventType {
  if (typeof value === 'string') {
    const type = TYPES.includes(value) ? value : value.toLowerCase();
    if (TYPES.includes(type)) return type as EventType;
  }
  const got =
    value === undefined ? 'none was given' : `got ${JSON.stringify(value)?.slice(0, 50) ?? String(value)}`;
  return fail(`${field}.type`, `must be one of ${EVENT_TYPES.join(', ')} (in any case); ${got}`);
}

/** The page's fields a message's location is read from, and their names under it, in properties or context.page. */
type Located = 'url' | 'referrer' | 'title';
const PROPERTIES: Record<Located, string> = {
  url: '.properties.url',
  referrer: '.properties.referrer',
  title: '.properties.title',
};
const PAGE: Record<Located, string> = {
  url: '.context.page.url',
  referrer: '.context.page.referrer',
  title: '.context.page.title',
};

function parseMessage(
  raw: unknown,
  field: string,
  fixedType: EventType | undefined,
  shared: Json,
  sentAt: number | undefined,
): IncomingEvent {
  if (!isObject(raw)) fail(field, 'must be a JSON object');
  // Each check takes the message's field and the key under it apart (see named), so a message that
  // passes builds none of its fields' names.
  const type = fixedType ?? messageType(raw.type, field);
  const own = optionalJsonObject(raw.context, field, '.context');
  // A batch-wide context is rare; without one the message's own object is used as it is (nothing
  // downstream changes it).
  const context = shared === EMPTY ? own : { ...shared, ...own };
  const page = optionalObject(context.page, field, '.context.page');
  const properties = optionalJsonObject(raw.properties, field, '.properties');
  const traits = optionalJsonObject(raw.traits, field, '.traits');
  const anonymousId = optionalId(raw.anonymousId, field, 200, '.anonymousId');
  const userId = optionalId(raw.userId, field, 200, '.userId');
  if (!anonymousId && !userId)
    fail(
      `${field}.userId`,
      requiredProblem('userId or anonymousId is required', raw.userId, raw.anonymousId),
    );

  let name: string | null;
  let props: Json;
  if (type === 'track') {
    name = optionalId(raw.event, field, 200, '.event');
    if (!name) fail(`${field}.event`, requiredProblem('is required for a track call', raw.event));
    props = properties;
  } else if (type === 'page' || type === 'screen') {
    name = optionalId(raw.name, field, 200, '.name');
    props = withCategory(properties, raw.category, field);
  } else if (type === 'group') {
    // Segment's spec requires the id of the group or of the user's previous identity: without it
    // the call says nothing, and it was stored with group_id or previous_id null, answered 200.
    const groupId = optionalId(raw.groupId, field, 200, '.groupId');
    if (!groupId) fail(`${field}.groupId`, requiredProblem('is required for a group call', raw.groupId));
    name = null;
    props = { ...traits, group_id: groupId };
  } else if (type === 'alias') {
    const previousId = optionalId(raw.previousId, field, 200, '.previousId');
    if (!previousId)
      fail(`${field}.previousId`, requiredProblem('is required for an alias call', raw.previousId));
    name = null;
    props = { previous_id: previousId };
  } else {
    name = null;
    // RudderStack's SDKs send an identify call's traits in context.traits.
    props = raw.traits === undefined ? optionalJsonObject(context.traits, field, '.context.traits') : traits;
  }
  // Each named where it came from, in a refusal: properties.session_id was named context.sessionId,
  // and originalTimestamp timestamp, which the message had not sent.
  const fromContext = context.sessionId !== undefined && context.sessionId !== null;
  const sessionId = fromContext ? context.sessionId : properties.session_id;
  const fromTimestamp = raw.timestamp !== undefined && raw.timestamp !== null;
  // Where the event happened: a page call's properties describe the page (analytics.js copies
  // context.page into them), but another call's are its own, and context.page is the page it
  // happened on. A Product Clicked's url (the product's link, in Segment's e-commerce spec) was
  // stored as the event's url and path, so clicks counted under the pages they led to.
  const [first, firstKeys, second, secondKeys] =
    type === 'page' ? [properties, PROPERTIES, page, PAGE] : [page, PAGE, properties, PROPERTIES];
  // Cut to the column's length rather than refused: the whole text stays in properties or
  // context.page, and Segment's SDKs (which, unlike inlet's tracker, send a page's title and URL
  // as they are) drop a message answered 400, so a page with a title past 2,000 characters, or an
  // app whose URLs carry state past 8,192, lost every view.
  const located = (key: Located, max?: number): string | null =>
    first[key] !== undefined && first[key] !== null && first[key] !== ''
      ? optionalCutString(first[key], field, max, firstKeys[key])
      : optionalCutString(second[key], field, max, secondKeys[key]);
  const url = located('url');
  return {
    eventId: optionalId(raw.messageId, field, 200, '.messageId'),
    type,
    name,
    timestamp: fromTimestamp
      ? optionalTime(raw.timestamp, field, '.timestamp')
      : optionalTime(raw.originalTimestamp, field, '.originalTimestamp'),
    sentAt: optionalTime(raw.sentAt, field, '.sentAt') ?? sentAt,
    anonymousId,
    userId,
    sessionId: optionalId(
      sessionId,
      field,
      200,
      fromContext ? '.context.sessionId' : '.properties.session_id',
    ),
    url: url ?? pagePath(type === 'page' ? properties : EMPTY, page),
    referrer: noDirect(located('referrer')),
    title: located('title', 2000),
    campaign: optionalObject(context.campaign, field, '.context.campaign'),
    properties: props,
    context,
    userAgent: optionalString(context.userAgent, field, 2000, '.context.userAgent'),
    ip: contextIp(context.ip, field),
  };
}

/**
 * context.ip, which a server SDK forwards for its visitor: an IPv4 or IPv6 address, or none. Its text
 * was hashed as the visitor's whatever it held, so a server that forwarded X-Forwarded-For whole
 * ("203.0.113.7, 10.0.0.1") made a visitor of each proxy chain, and "unknown" one of everyone. What
 * servers forward as they got it is read as proxies and analytics read it: a list's first entry
 * (the client's, as X-Forwarded-For puts it), an address without its port (203.0.113.7:50123,
 * [2001:db8::1]:443); text that holds no address is refused.
 */
function contextIp(value: unknown, field: string): string | undefined {
  const ip = optionalString(value, field, 100, '.context.ip');
  if (ip === null) return undefined;
  if (isIP(ip) !== 0) return ip;
  const address = withoutPort(ip.split(',', 1)[0]?.trim() ?? '');
  if (isIP(address) !== 0) return address;
  return fail(
    `${field}.context.ip`,
    `${JSON.stringify(ip.slice(0, 60))} is not an IP address; send the visitor's IPv4 or IPv6 address (203.0.113.7, 2001:db8::1), or leave context.ip out`,
  );
}

/** An address written with a port (203.0.113.7:50123, [2001:db8::1]:443) without it; else as it was. */
function withoutPort(text: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) return bracketed[1] as string;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  return v4 ? (v4[1] as string) : text;
}

const BATCH_FORM = '{"batch": [ … ]}';

/** What to send instead of a body that is no JSON object: an array of messages, most likely. */
function notAnObject(body: unknown, fixedType: EventType | undefined): string {
  if (!Array.isArray(body)) return 'must be a JSON object';
  return fixedType
    ? `must be a JSON object (one ${fixedType} message), not an array; send several to /v1/batch as ${BATCH_FORM}`
    : `must be a JSON object, ${BATCH_FORM}, not an array; send the messages as its batch`;
}

/** Where a body of one message sent to /v1/batch goes, said after the batch it lacks. */
function oneMessage(body: Json): string {
  const type = typeof body.type === 'string' ? body.type.toLowerCase() : undefined;
  return type !== undefined && TYPES.includes(type)
    ? `; this body is one ${type} message: send it to /v1/${type}, or inside a batch`
    : '';
}

const SEGMENT_KEY_HINT =
  'as the HTTP Basic user name (with an empty password), or as writeKey in the body (in the query for /beacon/v1/batch)';

/** Parses a Segment request body; type is fixed by the route except for /v1/batch. */
export function parseSegment(body: unknown, fixedType: EventType | undefined): ParsedIntake {
  if (!isObject(body)) fail('body', notAnObject(body, fixedType));
  const writeKey = optionalString(body.writeKey, 'writeKey', MAX_WRITE_KEY_LENGTH) ?? undefined;
  const sentAt = optionalTime(body.sentAt, 'sentAt');
  if (fixedType) {
    // A batch here was answered "body.userId: userId or anonymousId is required".
    if (Array.isArray(body.batch))
      fail('batch', `this route takes one ${fixedType} message, not a batch; send batches to /v1/batch`);
    return {
      writeKey,
      events: [parseMessage(body, 'body', fixedType, EMPTY, sentAt)],
      eventField: () => 'body',
      keyHint: SEGMENT_KEY_HINT,
    };
  }
  if (!Array.isArray(body.batch))
    fail('batch', `must be an array of messages (${BATCH_FORM})${oneMessage(body)}`);
  if (body.batch.length === 0) fail('batch', 'is empty; send at least one message');
  if (body.batch.length > MAX_BATCH) fail('batch', `has more than ${MAX_BATCH} messages; split it`);
  const shared =
    body.context === undefined || body.context === null ? EMPTY : optionalJsonObject(body.context, 'context');
  const { items, refused, positions } = parseEach(body.batch, (raw, i) =>
    parseMessage(raw, eventField(i), undefined, shared, sentAt),
  );
  return { writeKey, events: items, refused, positions, eventField, keyHint: SEGMENT_KEY_HINT };
}
