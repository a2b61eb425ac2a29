import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { eventTooLarge, serializeEventRecord } from '../events/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { encodeRecords, type WalWriter } from '../wal/index.ts';
import type { Enricher } from './enrich/index.ts';
import type { RequestMeta } from './incoming.ts';
import type { ParsedIntake, Refused } from './protocols/types.ts';
import { createRateLimiter } from './rate-limit.ts';
import { createSiteKeys, type Site, siteKeyIn } from './site-keys.ts';

/** A request's events as WAL records, ready to append: the part of intake that is pure CPU. */
export interface PreparedWrite {
  site: Pick<Site, 'id' | 'write_key'>;
  count: number;
  records: Buffer;
  /** Messages of the batch left out as invalid; the request is answered 400 once the rest is written. */
  refused?: Refused;
}

/**
 * Resolves a request's site from its write key and origin (401/403 errors naming the problem),
 * enriches its events and encodes them as WAL records. It holds no shared state beyond caches, so
 * intake workers run it too (see intake-workers.ts).
 */
export function createRecordEncoder(options: { config: InletConfig; enrich: Enricher }) {
  const { config, enrich } = options;
  const siteOfKey = createSiteKeys(config, 'as the HTTP Basic user name, as writeKey in the body, or as k');
  const maxEvent = config.limits.event_bytes;

  const siteFor = (writeKey: string | undefined, origin: string | undefined, keyHint?: string): Site => {
    const site = siteOfKey(writeKey, keyHint);
    if (origin && site.origins && !site.origins.includes('*') && !site.origins.includes(origin)) {
      const origins = siteKeyIn('sites[].origins', config);
      throw new InletError(
        'ORIGIN_NOT_ALLOWED',
        origin === 'null'
          ? // YAML reads null bare as no value, which inlet.yaml refuses at start.
            `Origin null (a page opened from file:// or a sandboxed iframe) is not allowed for site ${site.id}; add "null", in quotes (YAML reads null bare as no value), to ${origins}.`
          : `Origin ${origin} is not allowed for site ${site.id}; add it to ${origins}.`,
      );
    }
    return site;
  };

  /** The events as WAL records; an event too large is left out of a batch with other events. */
  const encode = (site: Site, parsed: ParsedIntake, meta: RequestMeta): PreparedWrite => {
    // Answered as if written, so that the browser neither retries nor learns more than a stored event.
    if (site.honor_dnt && meta.doNotTrack) return { site, count: 0, records: Buffer.alloc(0) };
    const count = parsed.events.length;
    const bodies: string[] = [];
    let refused = parsed.refused;
    for (let i = 0; i < count; i++) {
      const record = enrich(site.id, parsed.events[i] as (typeof parsed.events)[number], meta);
      const body = serializeEventRecord(record);
      if (eventTooLarge(record, body, maxEvent)) {
        const at = parsed.positions?.[i] ?? i;
        const field = parsed.eventField(at);
        const error = new InletError(
          'EVENT_TOO_LARGE',
          `${field}: the event is larger than limits.event_bytes (${maxEvent} bytes); send less in properties or context.`,
          { details: { field } },
        );
        if (count === 1 && !refused) throw error;
        // The answer names the batch's first invalid message, whichever check found it.
        refused =
          refused && (refused.index ?? 0) < at
            ? { ...refused, count: refused.count + 1 }
            : { error, count: (refused?.count ?? 0) + 1, index: at };
        continue;
      }
      bodies.push(body);
    }
    if (bodies.length === 0 && refused) throw refused.error;
    const prepared = { site, count: bodies.length, records: encodeRecords(bodies) };
    return refused ? { ...prepared, refused } : prepared;
  };

  return {
    siteFor,
    encode,
    /** The records for the site the request's write key names (headerWriteKey, else the payload's). */
    prepare(parsed: ParsedIntake, meta: RequestMeta, headerWriteKey: string | undefined): PreparedWrite {
      return encode(siteFor(headerWriteKey || parsed.writeKey, meta.origin, parsed.keyHint), parsed, meta);
    },
  };
}

export type RecordEncoder = ReturnType<typeof createRecordEncoder>;

/**
 * The answer to a batch whose invalid messages were left out once the others were written: the
 * first one's error, saying the rest were kept, so a client that sends the batch again (a 400 is
 * not retried by Segment's SDKs) knows its messages are deduplicated by their ids.
 */
function partly(refused: Refused, accepted: number): InletError {
  const { error, count } = refused;
  const others = count > 1 ? ` (and ${count - 1} more invalid message${count > 2 ? 's' : ''})` : '';
  // EVENT_TOO_LARGE's message is a sentence of its own, INVALID_FIELD's not: "context.; the batch's".
  const first = error.message.endsWith('.') ? error.message.slice(0, -1) : error.message;
  return new InletError(
    error.code,
    `${first}${others}; the batch's ${accepted} other message${accepted === 1 ? ' was' : 's were'} accepted. Fix the message named and send it again; sending the whole batch again counts nothing twice when its messages carry their ids (messageId).`,
    { details: { ...error.details, accepted, refused: count } },
  );
}

/** The path every protocol shares once its payload is parsed: key, origin, limits, enrichment, WAL. */
export function createIntake(options: {
  config: InletConfig;
  wal: WalWriter;
  enrich: Enricher;
  metrics: Metrics;
}) {
  const { config, wal, metrics } = options;
  const encoder = createRecordEncoder(options);
  const byDomain = new Map<string, Site>(
    config.sites.flatMap((site) => (site.domains ?? []).map((domain) => [domain, site] as const)),
  );
  const keyLimit = createRateLimiter(config.limits.per_write_key_per_second);
  const accepted = metrics.counter('inlet_events_accepted_total', 'Events durably written to the WAL', [
    'site',
  ]);
  const rejected = metrics.counter('inlet_events_rejected_total', 'Events refused, by reason', ['reason']);

  // Refusals already counted, so the HTTP layer counts each refused request once whatever refused it.
  const countedErrors = new WeakSet<object>();
  /** Counts a refusal's events under its code, once per error. */
  const countRefusal = (error: InletError, count: number) => {
    if (countedErrors.has(error)) return;
    countedErrors.add(error);
    if (count > 0) rejected.inc({ reason: error.code }, count);
  };
  const refuse = (error: InletError, count: number): never => {
    countRefusal(error, count);
    throw error;
  };

  /** Runs work, counting the events an InletError from it refused, by its code. */
  const counted = <T>(count: number, work: () => T): T => {
    try {
      return work();
    } catch (error) {
      if (error instanceof InletError) refuse(error, count);
      throw error;
    }
  };

  /**
   * Appends prepared records durably, several sites' in one write (a Plausible roll-up): a rate limit
   * or a full WAL refuses all of them, as the answer says. Resolves with their count once fsynced.
   */
  const commitAll = async (writes: PreparedWrite[]): Promise<number> => {
    const live = writes.filter((prepared) => prepared.count > 0 || prepared.refused);
    if (live.length === 0) return 0;
    // Refused whole (by the limit or the WAL), a batch's invalid messages are refused with the rest.
    const all = live.reduce((sum, { count, refused }) => sum + count + (refused?.count ?? 0), 0);
    for (const { site, count } of live) {
      if (!keyLimit(site.write_key, count)) {
        refuse(
          new InletError('RATE_LIMITED', `Too many events for site ${site.id}; slow down and retry.`, {
            retryAfterSeconds: keyLimit.retryAfter(site.write_key, count),
          }),
          all,
        );
      }
    }
    try {
      await wal.append(
        live.length === 1 ? (live[0] as PreparedWrite).records : Buffer.concat(live.map((p) => p.records)),
      );
    } catch (error) {
      if (error instanceof InletError) countRefusal(error, all);
      throw error;
    }
    let total = 0;
    for (const { site, count } of live) {
      accepted.inc({ site: site.id }, count);
      total += count;
    }
    const partial = live.find((prepared) => prepared.refused);
    if (partial?.refused) refuse(partly(partial.refused, total), partial.refused.count);
    return total;
  };
  /** Appends one request's prepared records durably; resolves with their count once they are fsynced. */
  const commit = (prepared: PreparedWrite): Promise<number> => commitAll([prepared]);

  return {
    commit,
    counted,
    /**
     * Counts the events of a refused request, unless the refusal was counted already (by counted,
     * commit or an earlier call): count is what the request held, as far as it could be read.
     */
    countRefusal,
    /** Counts a request that failed on inlet's own account (a 500): its events were refused too. */
    countFailure(count: number) {
      rejected.inc({ reason: 'INTERNAL' }, count);
    },
    /** Writes the events for the site their write key names; resolves with how many were accepted. */
    accept(parsed: ParsedIntake, meta: RequestMeta, headerWriteKey: string | undefined): Promise<number> {
      // A batch refused whole counts its messages left out as invalid too, as an intake worker does.
      const count = parsed.events.length + (parsed.refused?.count ?? 0);
      return commit(counted(count, () => encoder.prepare(parsed, meta, headerWriteKey)));
    },
    /**
     * Refuses what accept would refuse (the write key, the origin, an event too large) and writes
     * nothing: the answer to HEAD, which a link checker sends and a person checks a pixel URL with.
     */
    check(parsed: ParsedIntake, meta: RequestMeta, headerWriteKey: string | undefined): void {
      encoder.prepare(parsed, meta, headerWriteKey);
    },
    /**
     * Writes events that name their site by domain (Plausible). A roll-up names several domains;
     * each site gets its own copy, with an event id of its own so the copies are not taken for repeats.
     */
    async acceptByDomain(parsed: ParsedIntake, meta: RequestMeta, domains: string[]): Promise<number> {
      const count = parsed.events.length;
      const targets = [...new Set(domains.map((domain) => byDomain.get(domain)))].filter(
        (site): site is Site => site !== undefined,
      );
      if (targets.length === 0) {
        refuse(
          new InletError(
            'UNKNOWN_DOMAIN',
            `No site has domain ${domains.join(', ')}; add it to ${siteKeyIn('sites[].domains', config)}.`,
          ),
          count,
        );
      }
      // Every site's origins are checked before any site's copy is written: the copies for the sites
      // named before a refusing one were stored under a 403 that said nothing was, and again on a retry.
      for (const site of targets) counted(count, () => encoder.siteFor(site.write_key, meta.origin));
      const copies = targets.map((site, i) => {
        const events =
          i === 0
            ? parsed.events
            : parsed.events.map((e) => ({ ...e, eventId: e.eventId && `${e.eventId}:${site.id}` }));
        return counted(count, () => encoder.encode(site, { ...parsed, events }, meta));
      });
      // In one write: one site's rate limit or a full WAL stored the copies before it under a 429 or
      // 503, and again, with new ids, when the request was retried.
      return commitAll(copies);
    },
  };
}

export type Intake = ReturnType<typeof createIntake>;
