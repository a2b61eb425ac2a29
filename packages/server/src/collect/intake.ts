import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { encodeRecords, type WalWriter } from '../wal/index.ts';
import type { Enricher } from './enrich/index.ts';
import type { RequestMeta } from './incoming.ts';
import type { ParsedIntake } from './protocols/types.ts';
import { createRateLimiter } from './rate-limit.ts';

type Site = InletConfig['sites'][number];

/** The path every protocol shares once its payload is parsed: key, origin, limits, enrichment, WAL. */
export function createIntake(options: {
  config: InletConfig;
  wal: WalWriter;
  enrich: Enricher;
  metrics: Metrics;
}) {
  const { config, wal, enrich, metrics } = options;
  const sites = new Map<string, Site>(config.sites.map((site) => [site.write_key, site]));
  const byDomain = new Map<string, Site>(
    config.sites.flatMap((site) => (site.domains ?? []).map((domain) => [domain, site] as const)),
  );
  const keyLimit = createRateLimiter(config.limits.per_write_key_per_second);
  const accepted = metrics.counter('inlet_events_accepted_total', 'Events durably written to the WAL');
  const rejected = metrics.counter('inlet_events_rejected_total', 'Events refused, by reason');
  const maxEvent = config.limits.event_bytes;

  const reject = (error: InletError, count: number): never => {
    rejected.inc({ reason: error.code }, count);
    throw error;
  };

  /** Resolves the site a request writes to; throws 401/403 errors naming the problem. */
  const siteFor = (writeKey: string | undefined, origin: string | undefined, count: number): Site => {
    if (!writeKey) {
      return reject(
        new InletError(
          'MISSING_WRITE_KEY',
          'No write key: send it as the HTTP Basic user name, as writeKey in the body, or as k.',
        ),
        count,
      );
    }
    const site = sites.get(writeKey);
    if (!site)
      return reject(
        new InletError(
          'UNKNOWN_WRITE_KEY',
          'Unknown write key; check the key against the sites in inlet.yaml.',
        ),
        count,
      );
    if (origin && site.origins && !site.origins.includes('*') && !site.origins.includes(origin)) {
      return reject(
        new InletError(
          'ORIGIN_NOT_ALLOWED',
          `Origin ${origin} is not allowed for site ${site.id}; add it to sites[].origins in inlet.yaml.`,
        ),
        count,
      );
    }
    return site;
  };

  /** Writes events for one site durably; resolves once they are fsynced. */
  const write = async (site: Site, parsed: ParsedIntake, meta: RequestMeta): Promise<number> => {
    const count = parsed.events.length;
    if (!keyLimit(site.write_key, count)) {
      reject(
        new InletError('RATE_LIMITED', `Too many events for site ${site.id}; slow down and retry.`, {
          retryAfterSeconds: 1,
        }),
        count,
      );
    }
    const bodies = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const body = JSON.stringify(enrich(site.id, parsed.events[i] as (typeof parsed.events)[number], meta));
      if (body.length > maxEvent / 3 && Buffer.byteLength(body) > maxEvent + 2048) {
        reject(
          new InletError(
            'EVENT_TOO_LARGE',
            `event ${i} is larger than ${maxEvent} bytes; send less in properties.`,
            { details: { field: `[${i}]` } },
          ),
          count,
        );
      }
      bodies[i] = body;
    }
    try {
      await wal.append(encodeRecords(bodies));
    } catch (error) {
      if (error instanceof InletError) reject(error, count);
      throw error;
    }
    accepted.inc({ site: site.id }, count);
    return count;
  };

  return {
    siteFor,
    /** Writes the events for the site their write key names; resolves with how many were accepted. */
    accept(parsed: ParsedIntake, meta: RequestMeta, headerWriteKey: string | undefined): Promise<number> {
      return write(
        siteFor(headerWriteKey || parsed.writeKey, meta.origin, parsed.events.length),
        parsed,
        meta,
      );
    },
    /**
     * Writes events that name their site by domain (Plausible). A roll-up names several domains;
     * each site gets its own copy, with an event id of its own so the copies are not taken for repeats.
     */
    async acceptByDomain(parsed: ParsedIntake, meta: RequestMeta, domains: string[]): Promise<number> {
      const targets = [...new Set(domains.map((domain) => byDomain.get(domain)))].filter(
        (site): site is Site => site !== undefined,
      );
      if (targets.length === 0) {
        return reject(
          new InletError(
            'UNKNOWN_DOMAIN',
            `No site has domain ${domains.join(', ')}; add it to sites[].domains in inlet.yaml.`,
          ),
          parsed.events.length,
        );
      }
      let count = 0;
      for (const [i, site] of targets.entries()) {
        siteFor(site.write_key, meta.origin, parsed.events.length);
        const events =
          i === 0
            ? parsed.events
            : parsed.events.map((e) => ({ ...e, eventId: e.eventId && `${e.eventId}:${site.id}` }));
        count += await write(site, { ...parsed, events }, meta);
      }
      return count;
    },
  };
}

export type Intake = ReturnType<typeof createIntake>;
