import { isIP, isIPv4 } from 'node:net';
import { parseJson } from '../../collect/index.ts';
import { type JsonFault, jsonFault, MAX_JSON_DEPTH } from '../../events/index.ts';
import type { ParseResult } from './access-log-parser.ts';
import { parseLogTime, timeFieldReason } from './log-timestamp.ts';

/** An application log record taken apart; `tsMs` is undefined when the record carries no time. */
export interface AppFields {
  tsMs: number | undefined;
  level: string | null;
  message: string | null;
  logger: string | null;
  service: string | null;
  host: string | null;
  traceId: string | null;
  spanId: string | null;
  fields: Record<string, unknown> | null;
}

type Json = Record<string, unknown>;

// Which keys fill which column, first match wins. `date` is where Fluent Bit puts the record time
// (json_date_key); a record's own time key is preferred over it.
const TIME_KEYS = ['ts', 'timestamp', 'time', '@timestamp'];
const DATE_KEY = ['date'];
const KEYS = {
  level: ['level', 'severity', 'lvl', 'loglevel', 'severity_text', 'log.level'],
  message: ['msg', 'message', 'log'],
  logger: ['logger', 'logger_name', 'log.logger'],
  service: ['service', 'service.name', 'app', 'application'],
  host: ['host.name', 'host.hostname', 'host', 'hostname'],
  traceId: ['trace_id', 'traceId', 'trace.id'],
  spanId: ['span_id', 'spanId', 'span.id'],
} as const;

// Client addresses are never stored (see visitor_hash in access_logs): keys that hold one are
// dropped wherever they are in a record (pino-http's req.remoteAddress, a request's x-forwarded-for
// header, ECS client.ip, a regex group `client` holding Apache's `[client 192.0.2.1:51234]`), compared
// without case, '-', '_' or '.'. A nested key is also read with its parent's name before it, so
// ECS's {"client": {"address": …}} goes as "client.address" does.
const ADDRESS_KEYS = new Set([
  'ip',
  'remoteaddr',
  'remoteip',
  'remoteaddress',
  'remotehost',
  'clientip',
  'clientaddr',
  'clientaddress',
  'sourceip',
  'sourceaddress',
  'forwarded',
  'xforwardedfor',
  'xoriginalforwardedfor',
  'xrealip',
  'xclientip',
  'trueclientip',
  'cfconnectingip',
  'fastlyclientip',
]);
const normalised = (key: string) => key.toLowerCase().replace(/[-_.]/g, '');

/** An IP address, with a port or not: 192.0.2.1, 192.0.2.1:51234, 2001:db8::1, [2001:db8::1]:443. */
const isAddress = (value: unknown): boolean => {
  if (typeof value !== 'string') return false;
  const text = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return isIP(bracketed[1] as string) !== 0;
  return isIP(text) !== 0 || isIPv4(text.replace(/:\d+$/, ''));
};

// pino's numeric levels.
const PINO_LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

const text = (value: unknown): string | null => {
  if (value === undefined || value === null || value === '') return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
};

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Deletes the keys that hold a client address, at any depth (bounded by MAX_JSON_DEPTH). A `client`
 * object (ECS's {address, port, user…}) is no address: only its address keys go.
 */
function dropAddresses(value: unknown, parent = ''): void {
  if (Array.isArray(value)) for (const item of value) dropAddresses(item);
  else if (isObject(value))
    for (const key of Object.keys(value)) {
      const name = normalised(key);
      const child = value[key];
      // `client` is also what apps call a customer or the calling app: dropped when it is an address.
      const address =
        ADDRESS_KEYS.has(name) || ADDRESS_KEYS.has(parent + name) || (name === 'client' && isAddress(child));
      if (address) delete value[key];
      else dropAddresses(child, name);
    }
}

/**
 * Why a record is refused for what JSON cannot keep of it (see jsonFault): nested thousands deep,
 * which fails JSON.stringify, or a number such as 1e400, which JSON.parse reads as infinity and the
 * fields column would have kept as null.
 */
export function jsonFaultReason(fault: JsonFault): string {
  return fault.kind === 'deep'
    ? `record nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`
    : `record${fault.path} is a number beyond what a 64-bit float holds (1e400 reads as infinity, and would be stored as null); send it as a string`;
}

/**
 * A Docker json-file record (`{"log": "…\n", "stream": "stdout", "time": "…"}`) whose `log` is an
 * application's own JSON record, read as that record with `stream` beside it, as Fluent Bit's
 * `docker` parser and a `json` decoder on `log` read it: its level, message and fields were left as
 * text in the message. The application's time wins over Docker's, which is then dropped; Docker's
 * stands when the application logs none. Any other record is returned as it is.
 */
function dockerInner(record: Json): Json {
  const log = record.log;
  if (typeof log !== 'string' || !/^\s*\{[\s\S]*\}\s*$/.test(log)) return record;
  if (
    first(
      record,
      KEYS.message.filter((key) => key !== 'log'),
    ) !== undefined
  )
    return record;
  let inner: unknown;
  try {
    inner = parseJson(log);
  } catch {
    return record;
  }
  if (!isObject(inner)) return record;
  const { log: _, ...outer } = record;
  if (TIME_KEYS.some((key) => inner[key] !== undefined && inner[key] !== null && inner[key] !== ''))
    for (const key of TIME_KEYS) delete outer[key];
  return { ...outer, ...inner };
}

const first = (record: Json, keys: readonly string[]): unknown =>
  keys.map((key) => record[key]).find((value) => value !== undefined && value !== null && value !== '');

/**
 * Splits a parsed JSON record into the app_logs columns and the rest. A time without an offset is in
 * `timeZone`; one in `date` is in `dateZone` (UTC for Fluent Bit's json_date_key, which it writes in
 * UTC, as java_sql_timestamp without saying so).
 */
export function appFieldsOf(given: Json, timeZone = 'UTC', dateZone = timeZone): ParseResult<AppFields> {
  const record = dockerInner(given);
  // Written back out as JSON (the fields column), which cannot keep either fault as it came.
  const fault = jsonFault(record);
  if (fault) return { ok: false, reason: jsonFaultReason(fault) };
  const rest: Json = { ...record };
  // A known key holding null or "" is as good as absent: it fills no column and is no field either
  // ("time": null stayed in fields, "ts": "" refused the record as an unreadable time).
  // A dotted key (Elastic Common Schema's log.logger) is looked for as it is, then nested
  // ({"log": {"logger": …}}), as ECS libraries write either; a nested object left empty goes too.
  // With `objects: false` an object is no value for the column and stays a field.
  let taken = '';
  const take = (keys: readonly string[], objects = true): unknown => {
    for (const key of keys) {
      const dot = key.indexOf('.');
      const parent = dot === -1 || key in rest ? rest : rest[key.slice(0, dot)];
      const name = parent === rest ? key : key.slice(dot + 1);
      if (!isObject(parent)) continue;
      const value = parent[name];
      if (value === undefined || (!objects && isObject(value))) continue;
      delete parent[name];
      if (parent !== rest && Object.keys(parent).length === 0) delete rest[key.slice(0, dot)];
      if (value !== null && value !== '') {
        taken = key;
        return value;
      }
    }
    return undefined;
  };
  let tsMs: number | undefined;
  const own = take(TIME_KEYS);
  const timeValue = own ?? take(DATE_KEY);
  if (timeValue !== undefined) {
    tsMs = parseLogTime(timeValue, own === undefined ? dateZone : timeZone);
    if (tsMs === undefined) return { ok: false, reason: timeFieldReason(taken, timeValue) };
  }
  // The Fluent Bit date is only a fallback; once a record's own time was used it is noise.
  if (typeof rest.date === 'number') delete rest.date;
  dropAddresses(rest);
  const level = take(KEYS.level);
  let service = take(KEYS.service);
  if (isObject(service) && typeof service.name === 'string') {
    // OpenTelemetry's service object: its name is the column, the rest (version…) stays a field.
    const { name, ...others } = service;
    if (Object.keys(others).length > 0) rest.service = others;
    service = name;
  }
  // Docker's json-file log (and Fluent Bit reading one) ends every message with the line break its
  // process wrote: kept, no message equalled the text it shows.
  const message = take(KEYS.message);
  return {
    ok: true,
    value: {
      tsMs,
      level:
        typeof level === 'number'
          ? (PINO_LEVELS[level] ?? String(level))
          : (text(level)?.toLowerCase() ?? null),
      message: text(typeof message === 'string' ? message.replace(/\r?\n$/, '') : message),
      logger: text(take(KEYS.logger)),
      service: text(service),
      host: text(take(KEYS.host, false)),
      traceId: text(take(KEYS.traceId)),
      spanId: text(take(KEYS.spanId)),
      fields: Object.keys(rest).length > 0 ? rest : null,
    },
  };
}

/** One JSON object from a line, or why the line is none. */
function jsonObject(line: string): ParseResult<Json> {
  let parsed: unknown;
  try {
    // Integers beyond 2^53 (64-bit ids, numeric trace ids) keep their digits, as strings.
    parsed = parseJson(line);
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${(error as Error).message}` };
  }
  return isObject(parsed) ? { ok: true, value: parsed } : { ok: false, reason: 'JSON line is not an object' };
}

/** Parses one JSON line into app fields; a line that is not a JSON object is refused with the reason. */
export function parseJsonLine(line: string, timeZone = 'UTC'): ParseResult<AppFields> {
  const parsed = jsonObject(line);
  return parsed.ok ? appFieldsOf(parsed.value, timeZone) : parsed;
}

/**
 * Parses a json_lines record that `multiline` joined from lines: one JSON value over them all (a
 * pretty-printed object); else a JSON line with the lines of a trace after it, which go on its
 * message; else, when it is no JSON at all (a Go panic or a Python traceback written as text
 * between JSON lines), its text as the message, as Fluent Bit's multiline parsers pass it on in
 * `log`. A record that starts as JSON and is not is refused with the reason, as a line is.
 */
export function parseJsonRecord(record: string, timeZone = 'UTC'): ParseResult<AppFields> {
  const whole = jsonObject(record);
  if (whole.ok) return appFieldsOf(whole.value, timeZone);
  const cut = record.indexOf('\n');
  const head = cut < 0 ? whole : jsonObject(record.slice(0, cut));
  if (head.ok) {
    const parsed = appFieldsOf(head.value, timeZone);
    if (!parsed.ok) return parsed;
    const trace = record.slice(cut + 1);
    const { message } = parsed.value;
    return {
      ok: true,
      value: { ...parsed.value, message: message === null ? trace : `${message}\n${trace}` },
    };
  }
  if (/^\s*[[{]/.test(record)) return whole;
  return {
    ok: true,
    value: {
      tsMs: undefined,
      level: null,
      message: record,
      logger: null,
      service: null,
      host: null,
      traceId: null,
      spanId: null,
      fields: null,
    },
  };
}
