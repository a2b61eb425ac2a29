import { createUserAgentParser, createVisitorHasher } from '../../collect/enrich/index.ts';
import { withoutLoneSurrogates } from '../../wal/index.ts';
import type { AccessFields } from './access-log-parser.ts';
import type { AppFields } from './app-record.ts';
import type { AccessRow, AppRow } from './log-tables.ts';
import { createIsoFormatter } from './log-timestamp.ts';

export interface LogRowBuilder {
  /** An access_logs row: user agent parsed, client IP replaced by the visitor hash. */
  access(fields: AccessFields, source: string, site: string, host: string | null, nowMs: number): AccessRow;
  /** An app_logs row; a record without a time gets the time it was read. */
  app(fields: AppFields, source: string, nowMs: number): AppRow;
}

const HASH_CACHE_SIZE = 50_000;

/** Turns parsed fields into lake rows with the collector's enrichment (user agent, visitor hash). */
export function createLogRowBuilder(options: { saltDir: string; now?: () => number }): LogRowBuilder {
  const parseUserAgent = createUserAgentParser();
  const visitorHash = createVisitorHasher({ dir: options.saltDir, now: options.now });
  const iso = createIsoFormatter();
  const now = options.now ?? Date.now;
  // A SHA-256 per line would be a third of the parsing cost, and visitors send many requests: hashes
  // are remembered for the day their salt is valid (the hasher rotates it at 00:00 UTC).
  const hashes = new Map<string, string | null>();
  let hashDay = -1;
  const hashOf = (site: string, ip: string | null, userAgent: string | null): string | null => {
    const day = Math.floor(now() / 86_400_000);
    if (day !== hashDay) {
      hashes.clear();
      hashDay = day;
    }
    const key = `${site}\0${ip}\0${userAgent}`;
    let hash = hashes.get(key);
    if (hash === undefined) {
      hash = visitorHash(site, ip ?? undefined, userAgent ?? undefined);
      if (hashes.size >= HASH_CACHE_SIZE) hashes.delete(hashes.keys().next().value as string);
      hashes.set(key, hash);
    }
    return hash;
  };
  return {
    access(fields, source, site, host, nowMs) {
      const ts = iso(fields.tsMs ?? nowMs);
      const ua = parseUserAgent(fields.userAgent ?? undefined);
      return {
        ts,
        host: fields.host ?? host,
        method: fields.method,
        path: fields.path,
        query: fields.query,
        protocol: fields.protocol,
        status: fields.status,
        bytes: fields.bytes,
        referrer: fields.referrer,
        user_agent: fields.userAgent,
        browser: ua.browser,
        os: ua.os,
        device_type: ua.device_type,
        is_bot: ua.is_bot,
        visitor_hash: hashOf(site, fields.remoteAddr, fields.userAgent),
        response_time_ms: fields.responseTimeMs,
        source,
        dt: ts.slice(0, 10),
      };
    },
    app(fields, source, nowMs) {
      const ts = iso(fields.tsMs ?? nowMs);
      return {
        ts,
        level: fields.level,
        message: fields.message,
        logger: fields.logger,
        service: fields.service,
        host: fields.host,
        trace_id: fields.traceId,
        span_id: fields.spanId,
        fields: fields.fields,
        source,
        dt: ts.slice(0, 10),
      };
    },
  };
}

/**
 * One NDJSON line for the lake writer. JSON input can carry lone surrogates ("\ud800"), in keys as
 * well as values, which DuckDB refuses, and one refused row would hold back its whole batch; they
 * become U+FFFD (wal/record.ts).
 */
export function rowJson(row: AccessRow | AppRow): string {
  const json = JSON.stringify(row);
  return json.includes('\\ud') ? withoutLoneSurrogates(json) : json;
}
