import { createHash } from 'node:crypto';
import type { EventRecord } from '../../events/index.ts';
import type { Json } from '../fields.ts';
import type { IncomingEvent, RequestMeta } from '../incoming.ts';
import { campaignUtm } from './campaign.ts';
import { createIsoFormatter } from './iso-time.ts';
import { createTimeBounds } from './time-bounds.ts';
import { splitUrl, withScheme } from './url.ts';
import { createUserAgentParser } from './user-agent.ts';
import { createVisitorHasher } from './visitor-hash.ts';

export { createTimeBounds } from './time-bounds.ts';
export { splitUrl } from './url.ts';
export { createUserAgentParser } from './user-agent.ts';
export { createVisitorHasher, startSaltExpiry } from './visitor-hash.ts';

const some = (value: string | null | undefined): string | undefined => value ?? undefined;
const nonEmpty = (value: Json): Json | undefined => {
  for (const _ in value) return value;
  return undefined;
};

/** A context with a key other than ip (which enrich sets to undefined, and JSON leaves out). */
const contextOf = (context: Json): Json | undefined => {
  for (const key in context) if (key !== 'ip') return context;
  return undefined;
};

/**
 * An id for a message that came without one. An exact retry (same client timestamp) still gets the
 * same id; without a client timestamp either, the receive time makes each hit its own event.
 */
function fallbackId(site: string, event: IncomingEvent, receivedAt: number, visitorKey: string): string {
  const identity = [
    event.type,
    event.name,
    event.timestamp ?? receivedAt,
    event.anonymousId,
    event.userId,
    event.sessionId,
    event.url,
    visitorKey,
    event.properties,
  ];
  return `h-${createHash('sha256')
    .update(`${site}\0${JSON.stringify(identity)}`)
    .digest('hex')
    .slice(0, 32)}`;
}

/**
 * How much of received_at − sentAt is taken for the request's time in transit rather than a clock
 * behind, and not added to the client's timestamps. Added whole (Segment's rule), it gave each request
 * of a page a correction of its own: a page's first request pays for the connection (DNS, TCP, TLS) and
 * its next do not, so the events of the first were put after those of the next, recorded a moment
 * later. Within it, a synced clock's times are kept as they are, in their order; past it, the part
 * beyond is added, which never changes from one request to the next by more than their transit times do.
 */
const TRANSIT_MS = 1000;

/**
 * Builds enrich(): received_at, skew-corrected ts, user agent and bot flags, visitor hash, UTM split.
 * It runs once per event on the hot path, so what a whole request shares is computed once per request.
 */
export function createEnricher(options: {
  saltDir: string;
  now?: () => number;
  /** limits.max_event_age_days: older event times are replaced by the arrival; 0 or absent keeps any. */
  maxEventAgeDays?: number;
  /** Sites with a max_event_age_days of their own, which wins over the global one. */
  sites?: ReadonlyArray<{ id: string; max_event_age_days?: number | undefined }>;
}) {
  const bounded = createTimeBounds(options);
  const parseUserAgent = createUserAgentParser();
  const visitorHash = createVisitorHasher({ dir: options.saltDir, now: options.now });
  const isoTime = createIsoFormatter();
  // Requests arrive many to a millisecond, and from the same visitor many in a row: the last values
  // are kept, so most events format no date and hash nothing.
  let receivedAt = Number.NaN;
  let receivedIso = '';
  let lastSite = '';
  let lastIp: string | undefined;
  let lastUserAgent: string | undefined;
  let lastVisitor: string | null = null;

  return (site: string, event: IncomingEvent, meta: RequestMeta): EventRecord => {
    if (meta.receivedAt !== receivedAt) {
      receivedAt = meta.receivedAt;
      const iso = isoTime(receivedAt);
      // A new day brings a new salt, so yesterday's hash is not reused.
      if (iso.slice(0, 10) !== receivedIso.slice(0, 10)) lastVisitor = null;
      receivedIso = iso;
    }
    let ts = event.timestamp ?? meta.receivedAt;
    if (event.timestamp !== undefined && event.sentAt !== undefined) {
      const skew = meta.receivedAt - event.sentAt;
      // A clock behind is told from the time in transit only past TRANSIT_MS; one ahead, in full.
      ts += skew < 0 ? skew : Math.max(0, skew - TRANSIT_MS);
      // Stamped after it was sent: the two clocks disagree, and the event cannot be later than its arrival.
      if (ts > meta.receivedAt) ts = meta.receivedAt;
    }
    // More than a day ahead of its arrival, even after the skew correction, or further back than
    // max_event_age_days: filed at its arrival (createTimeBounds). Before 1970 is no event time even
    // where any past is kept: only a sentAt far ahead of the client's timestamp moves one there (to
    // year 1797 from 1971 with a sentAt in 2199).
    ts = bounded(site, ts, meta.receivedAt);
    // A Segment message says whose user agent it is in context.userAgent (every browser SDK sets
    // it); without one, the request's is a browser's only when a browser sent it, with an Origin.
    // Segment's server and mobile SDKs send none, and their HTTP clients' (analytics-node, okhttp)
    // are on the isbot list: taken, every server-side event was a bot.
    const userAgent =
      event.userAgent ?? (event.userAgent === null && meta.origin === undefined ? undefined : meta.userAgent);
    const ip = event.ip ?? meta.ip;
    if (site !== lastSite || ip !== lastIp || userAgent !== lastUserAgent || lastVisitor === null) {
      lastSite = site;
      lastIp = ip;
      lastUserAgent = userAgent;
      lastVisitor = visitorHash(site, ip, userAgent);
    }
    const ua = parseUserAgent(userAgent);
    const pageUrl = withScheme(event.url);
    const url = splitUrl(pageUrl, event.context.hash_routing === true);
    // One event's campaign comes from one place: Segment's context.campaign when it names any, else the URL.
    const utm = campaignUtm(event.campaign) ?? url;
    // The raw IP never reaches the disk: it only feeds the visitor hash. It is set to undefined,
    // which the record's JSON leaves out, rather than copied away with the rest of context for
    // every message a server SDK forwards: the context is the request's parsed body, which nothing
    // reads once it is enriched, and enriching it again gives the same record.
    const context = event.context;
    if (context.ip !== undefined) context.ip = undefined;
    const tsIso = ts === meta.receivedAt ? receivedIso : isoTime(ts);
    return {
      event_id: event.eventId ?? fallbackId(site, event, meta.receivedAt, `${site}\0${ip}\0${userAgent}`),
      site,
      type: event.type,
      name: some(event.name),
      ts: tsIso,
      received_at: receivedIso,
      anonymous_id: some(event.anonymousId),
      user_id: some(event.userId),
      session_id: some(event.sessionId),
      url: some(pageUrl),
      path: some(url.path),
      // As the page's URL: www.google.com/ stored as it came was no URL, whose host no one could read.
      referrer: some(withScheme(event.referrer)),
      title: some(event.title),
      utm_source: some(utm.utm_source),
      utm_medium: some(utm.utm_medium),
      utm_campaign: some(utm.utm_campaign),
      utm_term: some(utm.utm_term),
      utm_content: some(utm.utm_content),
      browser: some(ua.browser),
      os: some(ua.os),
      device_type: ua.device_type,
      is_bot: ua.is_bot,
      visitor_hash: some(lastVisitor),
      properties: nonEmpty(event.properties),
      context: contextOf(context),
      dt: tsIso.slice(0, 10),
    };
  };
}

export type Enricher = ReturnType<typeof createEnricher>;
