import { isIP } from 'node:net';
import { createTimeBounds } from '../../collect/enrich/index.ts';
import { parseJson } from '../../collect/index.ts';
import { InletError } from '../../errors/index.ts';
import { jsonFault, stringifyShallow } from '../../events/index.ts';
import {
  type AccessFields,
  accessResult,
  createAccessLogParser,
  type ParseResult,
  responseTimeMs,
  splitRequestLine,
  writtenNumber,
} from './access-log-parser.ts';
import { appFieldsOf, jsonFaultReason } from './app-record.ts';
import type { LogRowBuilder } from './log-rows.ts';
import { rowJson } from './log-rows.ts';
import type { LogKind } from './log-tables.ts';
import { parseLogTime, timeFieldReason } from './log-timestamp.ts';

/** Records bigger than this (as JSON) are refused one by one, like over-long file lines. */
export const MAX_RECORD_BYTES = 64 * 1024;

type Json = Record<string, unknown>;
/** A record's row, and whether it carried its own time (else it is filed at its arrival); or a reject. */
export type MappedRecord = { kind: LogKind; row: string; timed: boolean } | { reason: string; raw: string };

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One record of a request body, or a line of it that was not JSON. */
export type IntakeItem = { record: unknown } | { reason: string; raw: string };

/**
 * The records of a Fluent Bit `http` output body with `format json`: a JSON array (an object is
 * taken as one record).
 */
export function recordsOf(body: unknown): IntakeItem[] {
  if (Array.isArray(body)) return body.map((record) => ({ record }));
  if (isObject(body)) return [{ record: body }];
  const what = typeof body === 'string' ? 'a JSON string' : body === null ? 'null' : `a JSON ${typeof body}`;
  throw new InletError(
    'INVALID_FIELD',
    `body: is ${what}; send a JSON array of log records (objects), or JSON lines, one object a line`,
    { details: { field: 'body' } },
  );
}

/**
 * The records of a `format json_lines` body, one JSON value a line. A line that is not JSON is
 * kept as a reject, so one bad record does not make Fluent Bit retry the whole chunk forever.
 * Past `max` records it stops, with one more than `max`, so a body with too many is not all parsed.
 */
export function parseJsonLines(text: string, max = Number.POSITIVE_INFINITY): IntakeItem[] {
  const out: IntakeItem[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (out.length === max) {
      out.push({ reason: 'past the most records a request takes', raw: '' });
      break;
    }
    try {
      out.push({ record: parseJson(trimmed) });
    } catch (error) {
      out.push({
        reason: `not valid JSON: ${(error as Error).message}`,
        raw: trimmed.slice(0, MAX_RECORD_BYTES),
      });
    }
  }
  return out;
}

const first = (record: Json, keys: string[], absent: readonly unknown[] = ['']): unknown => {
  for (const key of keys) {
    const value = record[key];
    if (value !== undefined && value !== null && !absent.includes(value)) return value;
  }
  return undefined;
};
/**
 * As `first`, with `-` taken as absent too: the fields of Fluent Bit's nginx and apache parsers
 * hold a line's `-` as written (the ident its nginx parser calls `host`, an empty referrer), which
 * an access line read from a file stores as NULL.
 */
const logged = (record: Json, keys: string[]): unknown => first(record, keys, ['', '-']);
const text = (value: unknown): string | null =>
  value === undefined ? null : typeof value === 'string' ? value : JSON.stringify(value);

const TIMING_KEYS = [
  ['request_time', 's'],
  ['response_time_ms', 'ms'],
  ['duration_ms', 'ms'],
] as const;
const TIME_KEYS = ['ts', 'timestamp', 'time', '@timestamp'];
// Fluent Bit's json_date_key, written in UTC (java_sql_timestamp without saying so).
const DATE_KEY = ['date'];

/**
 * A record's own time (else Fluent Bit's date), or why it is refused: one that cannot be read
 * (`13:55:36 CST`, an epoch number past 2199) filed an access record at its arrival without a word,
 * where an app record with it was refused naming the field.
 */
function recordTime(record: Json, timeZone: string): { tsMs: number | undefined } | { reason: string } {
  for (const [keys, zone] of [
    [TIME_KEYS, timeZone],
    [DATE_KEY, 'UTC'],
  ] as const) {
    const key = keys.find((k) => first(record, [k]) !== undefined);
    if (key === undefined) continue;
    const tsMs = parseLogTime(record[key], zone);
    return tsMs === undefined ? { reason: timeFieldReason(key, record[key]) } : { tsMs };
  }
  return { tsMs: undefined };
}

/** A record with the fields of Fluent Bit's nginx/apache parsers (method, path, code…) as access fields. */
function accessFieldsOf(record: Json, timeZone: string): ParseResult<AccessFields> | undefined {
  const method = first(record, ['method']);
  const target = first(record, ['path', 'uri', 'request_uri']);
  const status = first(record, ['code', 'status']);
  const request = first(record, ['request']);
  if ((typeof method !== 'string' || typeof target !== 'string') && typeof request !== 'string')
    return undefined;
  if (status === undefined) return undefined;
  const time = recordTime(record, timeZone);
  if ('reason' in time) return { ok: false, reason: time.reason };
  const { targetHost, ...split } =
    typeof request === 'string' && typeof target !== 'string'
      ? splitRequestLine(request)
      : splitRequestLine(`${String(method)} ${String(target)}`);
  // The first timing field the record has wins; one that is no number (`"abc"`) is refused, naming it.
  // A `-` is no time, as in a line: nginx writes it for a time it has not ($upstream_response_time).
  const timing = TIMING_KEYS.find(([key]) => logged(record, [key]) !== undefined);
  const took = timing
    ? responseTimeMs(
        timing[0],
        record[timing[0]],
        timing[1],
        (what) => `send ${what}, or leave the field out`,
      )
    : { ok: true as const, value: null };
  if (!took.ok) return took;
  // Fluent Bit's apache and apache2 parsers name the client's address (%h) `host`, with no
  // `remote`: it was stored in the host column, the IP kept and left out of visitor_hash.
  let remote = logged(record, ['remote', 'remote_addr', 'client_ip', 'ip']);
  let host = logged(record, ['host', 'server_name', 'vhost']);
  if (remote === undefined && typeof host === 'string' && isIP(host) !== 0)
    [remote, host] = [host, undefined];
  const size = first(record, ['size', 'bytes', 'body_bytes_sent']);
  return accessResult(
    {
      tsMs: time.tsMs,
      remoteAddr: text(remote),
      host: text(host) ?? targetHost,
      ...split,
      protocol: text(first(record, ['protocol'])) ?? split.protocol,
      // A line's `-` is no status, as the line parsers read it; anything else must be a number.
      status: status === '-' ? null : writtenNumber(status),
      // Apache's %b writes a response without a body as `-`, which a line's parser reads as 0 too.
      bytes: size === undefined ? null : size === '-' ? 0 : writtenNumber(size),
      referrer: text(logged(record, ['referer', 'referrer', 'http_referer'])),
      userAgent: text(logged(record, ['agent', 'user_agent', 'http_user_agent'])),
      responseTimeMs: took.value,
    },
    { status, bytes: size },
  );
}

/**
 * Decides where each intake record goes, keeping it simple: a record whose `log` is an nginx/Apache
 * combined or common line (Docker's json-file `log` included), or that has method, path and code/status (Fluent Bit's nginx and apache parsers),
 * is an access log; everything else is an application log.
 */
export function createHttpRecordMapper(
  rows: LogRowBuilder,
  timeZone = 'UTC',
  bounds: Parameters<typeof createTimeBounds>[0] = {},
) {
  // A time without an offset in the line's brackets is read as the record's own time is. A line
  // without referrer and user agent is Apache's common format, which the httpd image writes to its
  // container's stdout (`CustomLog /proc/self/fd/1 common`): it went to app_logs as a message.
  const combined = createAccessLogParser('nginx_combined', timeZone);
  const common = createAccessLogParser('apache_common', timeZone);
  const accessLine = (log: string) => {
    const line = combined(log);
    return line.ok || !line.unmatched ? line : common(log);
  };
  // As for events: a record more than a day ahead or further back than max_event_age_days (the
  // site's own, else limits') is filed at its arrival, so that no sender's clock files it under a day
  // not yet come (a year 2199 one did) or spreads a few requests over thousands of daily partitions.
  const bounded = createTimeBounds(bounds);
  const recent = <T extends { tsMs: number | undefined }>(fields: T, site: string, nowMs: number): T => {
    if (fields.tsMs !== undefined) fields.tsMs = bounded(site, fields.tsMs, nowMs);
    return fields;
  };
  const mapRecord = (item: IntakeItem, source: string, site: string, nowMs: number): MappedRecord => {
    if ('reason' in item) return item;
    const { record } = item;
    // Checked before access or app fields are taken, so an access record is refused alike.
    const fault = jsonFault(record);
    if (fault)
      return { reason: jsonFaultReason(fault), raw: stringifyShallow(record).slice(0, MAX_RECORD_BYTES) };
    if (!isObject(record)) return { reason: 'record is not a JSON object', raw: text(record) ?? 'null' };
    const raw = JSON.stringify(record);
    if (raw.length > MAX_RECORD_BYTES)
      return {
        reason: `record is ${raw.length} bytes of JSON, more than ${MAX_RECORD_BYTES}`,
        raw: raw.slice(0, MAX_RECORD_BYTES),
      };
    if (typeof record.log === 'string') {
      const line = accessLine(record.log.trimEnd());
      if (line.ok) {
        const fields = line.value;
        if (fields.host === null) fields.host = text(first(record, ['host', 'hostname']));
        return {
          kind: 'access',
          row: rowJson(rows.access(recent(fields, site, nowMs), source, site, null, nowMs)),
          timed: fields.tsMs !== undefined,
        };
      }
      // An access line whose time cannot be read (`[10/Oct/2026:13:55:36 CST]`), or whose size
      // access_logs cannot hold, is refused as a file's line is: it went to app_logs as a message,
      // filed at its arrival.
      if (!line.unmatched) return { reason: `log: ${line.reason}`, raw };
    }
    const access = accessFieldsOf(record, timeZone);
    if (access && !access.ok) return { reason: access.reason, raw };
    if (access)
      return {
        kind: 'access',
        row: rowJson(rows.access(recent(access.value, site, nowMs), source, site, null, nowMs)),
        timed: access.value.tsMs !== undefined,
      };
    const app = appFieldsOf(record, timeZone, 'UTC');
    if (!app.ok) return { reason: app.reason, raw };
    return {
      kind: 'app',
      row: rowJson(rows.app(recent(app.value, site, nowMs), source, nowMs)),
      timed: app.value.tsMs !== undefined,
    };
  };
  return (item: IntakeItem, source: string, site: string, nowMs: number): MappedRecord => {
    try {
      return mapRecord(item, source, site, nowMs);
    } catch (error) {
      // inlet's own failure on a record: kept as a reject rather than fail the request, which the
      // sender would retry with the same record forever.
      const reason = `inlet failed on this record (${(error as Error).message}); please report it`;
      return {
        reason,
        raw: 'record' in item ? stringifyShallow(item.record).slice(0, MAX_RECORD_BYTES) : '',
      };
    }
  };
}
