import { isIP } from 'node:net';
import { parseClfTime, parseLogTime } from './log-timestamp.ts';
import { shownNumber } from './shown-value.ts';

/** The request and response as an access log line records them: access_logs keeps them as they are. */
export interface RequestFields {
  host: string | null;
  method: string | null;
  path: string | null;
  query: string | null;
  protocol: string | null;
  status: number | null;
  bytes: number | null;
  referrer: string | null;
}

/** An access log line taken apart, before enrichment; `remoteAddr` never leaves the process. */
export interface AccessFields extends RequestFields {
  /** Undefined when the line carries no time (a regex without a ts group); the read time is used. */
  tsMs: number | undefined;
  remoteAddr: string | null;
  userAgent: string | null;
  responseTimeMs: number | null;
}

/** `unmatched` marks a line not of the format at all, apart from one of it that cannot be stored. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string; unmatched?: true };

/**
 * Why access_logs cannot hold a line's status (INTEGER) or bytes (BIGINT, kept to whole numbers a
 * double holds exactly); undefined when it can. One such value failed the whole batch it was in
 * (DuckDB's "Failed to cast value to numerical"), again at every retry: the source stopped there.
 */
export function accessFieldsFault(
  fields: Pick<RequestFields, 'status' | 'bytes'>,
  written: { status?: unknown; bytes?: unknown } = {},
): string | undefined {
  const { status, bytes } = fields;
  // NaN is a value written as no number at all (`"code": "abc"`), shown as it was written.
  if (status !== null && !(Number.isInteger(status) && Math.abs(status) <= 2_147_483_647))
    return `status ${shownNumber(status, written.status)} is not an HTTP status code`;
  // A negative count (`"size": -5`, a regex group matching `-5`) was stored as it came.
  if (bytes !== null && !(Number.isSafeInteger(bytes) && bytes >= 0))
    return `bytes ${shownNumber(bytes, written.bytes)} is not a byte count (a whole number up to ${Number.MAX_SAFE_INTEGER})`;
  return undefined;
}

/**
 * A status or byte count as written, a number or its digits; NaN for anything else (`"abc"`, `true`),
 * which accessResult refuses: it was stored as NULL without a word.
 */
export const writtenNumber = (written: unknown): number =>
  typeof written === 'number'
    ? written
    : typeof written === 'string' && written.trim() !== ''
      ? Number(written)
      : Number.NaN;

const TIME_UNITS = {
  s: { per: 1000, what: 'a number of seconds (0.123)' },
  ms: { per: 1, what: 'a number of milliseconds (123)' },
  us: { per: 0.001, what: 'a number of microseconds (123000)' },
} as const;

/**
 * A response time written under `field` in `unit`, as milliseconds (null when absent); refused,
 * naming the field and `todo` with what it must be, when it is no number (`"request_time": "abc"`),
 * which was stored as NULL without a word, or negative (`-1`), which was stored as -1000 ms.
 */
export function responseTimeMs(
  field: string,
  written: unknown,
  unit: keyof typeof TIME_UNITS,
  todo: (what: string) => string,
): ParseResult<number | null> {
  if (written === undefined || written === null) return { ok: true, value: null };
  const n = writtenNumber(written);
  const { per, what } = TIME_UNITS[unit];
  if (Number.isFinite(n) && n >= 0) return { ok: true, value: n * per };
  // A negative number is shown as a number, as a negative byte count is (`bytes -5`).
  return { ok: false, reason: `${field} ${shownNumber(n, written)} is not a response time; ${todo(what)}` };
}

/**
 * The parse result for access fields, refused when the lake cannot hold their status or bytes;
 * `written` is the status and bytes as the input had them, to name one that is no number.
 */
export function accessResult(
  value: AccessFields,
  written?: { status?: unknown; bytes?: unknown },
): ParseResult<AccessFields> {
  const reason = accessFieldsFault(value, written);
  return reason === undefined ? { ok: true, value } : { ok: false, reason };
}

export type AccessFormat = 'nginx_combined' | 'apache_combined' | 'apache_common';

/** Parses one line; `observe` is shown the lines of a chunk before they are parsed (oneLayout). */
export type AccessLogParser = ((line: string) => ParseResult<AccessFields>) & {
  observe(lines: Iterable<{ text: string }>): void;
};

// A quoted field: anything but a quote or backslash, or a backslash and the character it escapes
// (Apache writes \" and \\, nginx writes \x22). The alternatives never overlap, so matching stays linear.
const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
// The first field may be a list of addresses, "client, proxy": a log_format that writes
// $http_x_forwarded_for (Apache: %{X-Forwarded-For}i) in its place, behind a load balancer.
// The user (%u, $remote_user) is logged as sent, spaces included ("john doe" from Basic auth):
// ident and user are taken as anything up to the bracketed time, and neither is kept.
// The time is $time_local, or what a log_format puts there instead ($time_iso8601, $msec).
const COMMON = `^([^\\s,]+(?:, ?[^\\s,]+)*) \\S+ .+? \\[([^\\]]+)\\] ${QUOTED} (\\d{3}|-) (\\d+|-)`;
const COMBINED = new RegExp(`${COMMON} ${QUOTED} ${QUOTED}(.*)$`);
const COMMON_ONLY = new RegExp(`${COMMON}(.*)$`);
// The fields a log_format adds after the user agent: quoted ones ("$http_x_forwarded_for") and
// unquoted ones, among them the response time, bare ($request_time) or named as nginx's own
// upstream-timing example names it (rt=$request_time).
const TRAILING_FIELD = /\s+(?:"(?:[^"\\]|\\.)*"|(\S+))/y;
const RESPONSE_TIME = /^(?:(?:rt|request_time)=)?(\d+(?:\.\d+)?)$/;

/**
 * The first unquoted number among the trailing fields, as written; undefined when there is none.
 * With `fraction`, the first with a fraction wins over whole numbers before it: nginx writes
 * $request_time with milliseconds (0.005) always, and ingress-nginx's default format puts
 * $request_length (389) before it.
 */
function trailingNumber(trailing: string, fraction: boolean): string | undefined {
  TRAILING_FIELD.lastIndex = 0;
  let whole: string | undefined;
  for (let m = TRAILING_FIELD.exec(trailing); m; m = TRAILING_FIELD.exec(trailing)) {
    const number = m[1] === undefined ? undefined : RESPONSE_TIME.exec(m[1])?.[1];
    if (number === undefined) continue;
    if (!fraction || number.includes('.')) return number;
    whole ??= number;
  }
  return whole;
}
// Debian's other_vhosts_access.log (Apache's vhost_combined) writes the virtual host and port, %v:%p,
// before the client. Read as the client, with the client as ident, it gave every visitor of a host one
// visitor_hash. No client address is a name, a colon and a port followed by a line of the format.
const VHOST = /^([^\s:,]+):\d{1,5} (?=\S)/;
// nginx has no $port in the usual '$host $remote_addr - $remote_user …' (nor Apache in '%v %h %l …'):
// a name followed by an address is the virtual host, as the ident there is never an address. Two
// addresses may be '$http_x_forwarded_for $remote_addr' as well, whose first is the client, or
// '$host $remote_addr' for a request to the server's bare address (Host: 10.0.0.1).
const BARE_VHOST = /^([^\s,]+) (?=(\S+) )/;
const EMPTY_VHOST = /^ (?=(\S+) )/;

/**
 * What a source's lines have shown of the field before the client's address: `host` once one had a
 * name there (the virtual host), `forwarded` once one had `-` (no X-Forwarded-For header) there.
 */
export type FirstField = 'host' | 'forwarded' | undefined;

/**
 * The virtual host written before the client (null for `-`), its length with the space after it,
 * and what the line shows of the layout; undefined when the first field is the client.
 */
function virtualHost(
  line: string,
  layout: FirstField,
): { host: string | null; length: number; shows: FirstField } | undefined {
  const withPort = VHOST.exec(line);
  if (withPort) return { host: withPort[1] as string, length: withPort[0].length, shows: undefined };
  // An HTTP/1.0 request without a Host header to a server with no server_name has an empty $host.
  const empty = EMPTY_VHOST.exec(line);
  if (empty && isIP(empty[1] as string) !== 0) return { host: null, length: 1, shows: 'host' };
  const bare = BARE_VHOST.exec(line);
  if (!bare || isIP(bare[2] as string) === 0) return undefined;
  const first = bare[1] as string;
  // '$http_x_forwarded_for $remote_addr' of a request that came straight in: the client is second.
  if (first === '-') return { host: null, length: bare[0].length, shows: 'forwarded' };
  if (isIP(first) === 0) return { host: first, length: bare[0].length, shows: 'host' };
  return layout === 'host' ? { host: first, length: bare[0].length, shows: undefined } : undefined;
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', r: '\r', t: '\t' };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** How many bytes the UTF-8 character at bytes[i] takes, or 0 where none starts there. */
function utf8Length(bytes: Uint8Array, i: number): number {
  const lead = bytes[i] as number;
  const length = lead < 0x80 ? 1 : lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
  if (length === 0 || i + length > bytes.length) return 0;
  try {
    // Overlong forms and surrogates are refused here too.
    strictUtf8.decode(bytes.subarray(i, i + length));
    return length;
  } catch {
    return 0;
  }
}

/**
 * The text of a run of escaped bytes: UTF-8 where they are, and %HH for each byte that is not, as a
 * URL carries such bytes. A URL or search typed in Latin-1 or Shift_JIS was stored as U+FFFD,
 * which nothing could read back; %HH keeps the bytes, which a query can decode with their charset.
 */
function escapedBytesText(run: number[]): string {
  const bytes = Uint8Array.from(run);
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let out = '';
    for (let i = 0; i < bytes.length; ) {
      const length = utf8Length(bytes, i);
      if (length > 0) {
        out += strictUtf8.decode(bytes.subarray(i, i + length));
        i += length;
      } else out += `%${(bytes[i++] as number).toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
  }
}

/**
 * Undoes the escaping both servers apply inside quoted fields: nginx's \xHH for bytes outside
 * printable ASCII (a run of them is UTF-8, or bytes of another charset kept as %HH) and Apache's
 * \" \\ \n \t.
 */
export function unescapeLogField(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) {
      out += escapedBytesText(bytes);
      bytes = [];
    }
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      const next = text[i + 1] as string;
      if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
        bytes.push(Number.parseInt(text.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
      const simple = SIMPLE_ESCAPES[next];
      if (simple !== undefined) {
        flush();
        out += simple;
        i += 1;
        continue;
      }
    }
    flush();
    out += ch;
  }
  flush();
  return out;
}

const dash = (value: string | undefined): string | null =>
  value === undefined || value === '-' || value === '' ? null : unescapeLogField(value);

// The absolute form of a request target (RFC 9112 §3.2.2), which clients send to a proxy:
// scheme, then the authority (userinfo@ dropped, port kept apart) before the path.
const ABSOLUTE_TARGET = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(?::\d*)?([^#]*)/;

// The authority form (RFC 9112 §3.2.3), which only CONNECT takes: `host:port`, nothing else.
const AUTHORITY_TARGET = /^(\[[0-9A-Fa-f:.]+\]|[^\s/?#@:[\]]+):\d{1,5}$/;

/**
 * Splits a request target into path and query. An absolute-form one (`http://example.com/a?b=1`)
 * gives its host apart, lower-cased as nginx's $host has it, and its path (`/` when it has none):
 * the whole URL was kept as the path. A CONNECT's authority-form one (`example.com:443`) is a host
 * (without its port, as absolute-form hosts are kept) and no path: `example.com:443` was the path.
 */
export function splitTarget(
  target: string,
  method?: string | null,
): { path: string | null; query: string | null; host: string | null } {
  const authority = method === 'CONNECT' ? AUTHORITY_TARGET.exec(target) : null;
  if (authority) return { path: null, query: null, host: (authority[1] as string).toLowerCase() };
  const absolute = ABSOLUTE_TARGET.exec(target);
  const host = absolute ? (absolute[1] as string).toLowerCase() || null : null;
  const rest = absolute ? (absolute[2] as string) : target;
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  return {
    path: absolute && !path.startsWith('/') ? `/${path}` : path,
    query: q === -1 ? null : rest.slice(q + 1),
    host,
  };
}

/**
 * Splits `GET /a?b=1 HTTP/1.1`; a request line that is not three parts keeps no method or path.
 * `targetHost` is the host of an absolute-form target (`GET http://example.com/a HTTP/1.1`), or of a
 * CONNECT's authority-form one (`CONNECT example.com:443 HTTP/1.1`, which has no path).
 */
export function splitRequestLine(
  request: string | null,
): Pick<AccessFields, 'method' | 'path' | 'query' | 'protocol'> & { targetHost: string | null } {
  const none = { method: null, path: null, query: null, protocol: null, targetHost: null };
  if (!request) return none;
  const first = request.indexOf(' ');
  if (first <= 0) return none;
  const method = request.slice(0, first);
  if (!/^[A-Z][A-Z0-9_-]{0,19}$/.test(method)) return none;
  const last = request.lastIndexOf(' ');
  const hasProtocol = last > first && request.startsWith('HTTP/', last + 1);
  const target = splitTarget(hasProtocol ? request.slice(first + 1, last) : request.slice(first + 1), method);
  return {
    method,
    path: target.path,
    query: target.query,
    protocol: hasProtocol ? request.slice(last + 1) : null,
    targetHost: target.host,
  };
}

/**
 * A parser for one of the standard access log formats. Combined formats may carry extra fields
 * after the user agent: the first unquoted number there is the response time, in seconds for
 * nginx ($request_time) and in microseconds for Apache (%D).
 */
export function createAccessLogParser(
  format: AccessFormat,
  timeZone = 'UTC',
  options: {
    /**
     * The lines come from one log_format (one source's files): once a line has shown that the
     * first field is the virtual host ($host, a name, before an address), two addresses are the
     * host and the client, as for a request to the server's bare IP address, and no longer a
     * forwarded client and the proxy. Records of many senders (POST /logs) share no layout.
     */
    oneLayout?: boolean;
    /** What earlier runs learned of the layout (oneLayout), and where to say what this one learns. */
    layout?: FirstField;
    onLayout?(layout: FirstField): void;
  } = {},
): AccessLogParser {
  const pattern = format === 'apache_common' ? COMMON_ONLY : COMBINED;
  const timeScale = format === 'nginx_combined' ? 1000 : 0.001;
  let lastTime = '';
  let lastMs = 0;
  let layout = options.layout;
  const learn = (shown: FirstField) => {
    if (!options.oneLayout || shown === undefined || shown === layout) return;
    layout = shown;
    options.onLayout?.(shown);
  };
  const parse = (line: string): ParseResult<AccessFields> => {
    const vhost = virtualHost(line, layout);
    let m = vhost ? pattern.exec(line.slice(vhost.length)) : null;
    const host = m ? (vhost?.host ?? null) : null;
    if (m) learn(vhost?.shows);
    m ??= pattern.exec(line);
    if (!m) return { ok: false, reason: `does not match the ${format} format`, unmatched: true };
    // A forwarded list ('client, proxy') first: the layout is '$http_x_forwarded_for $remote_addr'.
    if (!vhost && (m[1] as string).includes(',')) learn('forwarded');
    const time = m[2] as string;
    if (time !== lastTime) {
      // A time without an offset (Apache's %{%Y-%m-%d %H:%M:%S}t) is in the source's timezone.
      const ms = parseClfTime(time) ?? parseLogTime(time, timeZone);
      if (ms === undefined) return { ok: false, reason: `bad timestamp [${time}]` };
      lastTime = time;
      lastMs = ms;
    }
    const combined = format !== 'apache_common';
    const trailing = combined ? m[8] : m[6];
    const number = trailing ? trailingNumber(trailing, format === 'nginx_combined') : undefined;
    const status = m[4] as string;
    const bytes = m[5] as string;
    const { targetHost, ...request } = splitRequestLine(dash(m[3]));
    return accessResult(
      {
        tsMs: lastMs,
        // The client is the first address of a forwarded list.
        remoteAddr: dash((m[1] as string).split(',')[0]),
        ...request,
        host: host ?? targetHost,
        status: status === '-' ? null : Number(status),
        bytes: bytes === '-' ? (format === 'nginx_combined' ? null : 0) : Number(bytes),
        referrer: combined ? dash(m[6]) : null,
        userAgent: combined ? dash(m[7]) : null,
        responseTimeMs: number === undefined ? null : Number(number) * timeScale,
      },
      { status, bytes },
    );
  };
  /**
   * Looks ahead over lines about to be parsed for one that shows the layout (a name, or '-', before
   * the client's address), so that a request to the bare address among the first lines of a file
   * (or of a run) is read as the later ones are.
   */
  const observe = (lines: Iterable<{ text: string }>) => {
    if (!options.oneLayout || layout !== undefined) return;
    for (const { text: line } of lines) {
      const vhost = virtualHost(line, undefined);
      if (vhost?.shows && pattern.test(line.slice(vhost.length))) {
        learn(vhost.shows);
        return;
      }
    }
  };
  return Object.assign(parse, { observe });
}
