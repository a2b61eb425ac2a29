import { shownValue } from './shown-value.ts';

// Log timestamps come in a handful of shapes: Common Log Format with its offset, ISO 8601 with or
// without one, RFC 1123, ctime (Apache's error log) and syslog's, epoch numbers in seconds,
// milliseconds or microseconds. All become epoch milliseconds with a fraction down to the
// microsecond, the precision of the lake's TIMESTAMP columns: digits past it are cut off.

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

// Years outside this range are typing errors or garbage, not log times.
const MIN_MS = Date.UTC(1970, 0, 1);
const MAX_MS = Date.UTC(2200, 0, 1);

const digits = (text: string, start: number, end: number): number => {
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return value;
};

const inRange = (ms: number): number | undefined =>
  Number.isFinite(ms) && ms >= MIN_MS && ms < MAX_MS ? ms : undefined;

/**
 * Epoch ms of a UTC wall-clock time, or undefined when no such time exists: Date.UTC rolls 31 Feb
 * over to 3 March and 13:99 to 14:39, which filed a garbled line under another day. A leap second
 * (:60) is kept, as the next second.
 */
function utcOf(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  if (!(hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 60))
    return undefined;
  const date = new Date(Date.UTC(year, month, day));
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day) return undefined;
  return Date.UTC(year, month, day, hour, minute, second);
}

/** Minutes east of UTC of a `+hhmm` offset's digits; undefined past 23:59. */
const offsetMinutes = (hours: number, minutes: number): number | undefined =>
  hours >= 0 && hours <= 23 && minutes >= 0 && minutes <= 59 ? hours * 60 + minutes : undefined;

/** `10/Oct/2026:13:55:36 +0900` (nginx $time_local, Apache %t) to epoch ms; undefined when malformed. */
export function parseClfTime(text: string): number | undefined {
  if (text.length !== 26 || text[2] !== '/' || text[6] !== '/' || text[11] !== ':' || text[20] !== ' ')
    return undefined;
  const month = MONTHS[text.slice(3, 6)];
  const day = digits(text, 0, 2);
  const year = digits(text, 7, 11);
  const hour = digits(text, 12, 14);
  const minute = digits(text, 15, 17);
  const second = digits(text, 18, 20);
  const sign = text[21] === '+' ? 1 : text[21] === '-' ? -1 : 0;
  const offset = offsetMinutes(digits(text, 22, 24), digits(text, 24, 26));
  if (month === undefined || sign === 0 || offset === undefined) return undefined;
  const wall = utcOf(year, month, day, hour, minute, second);
  return wall === undefined ? undefined : inRange(wall - sign * offset * 60_000);
}

// Common Log Format with a fraction of a second (Apache's %{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t)
// or without an offset (HAProxy's accept date, in the machine's zone).
const CLF = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?: ([+-]\d{4}))?$/;

/** A Common Log Format time with a fraction or without an offset (see CLF); no offset means `timeZone`. */
function parseClfVariant(text: string, timeZone: string): number | undefined {
  const m = CLF.exec(text);
  if (!m) return undefined;
  const [, d, mon, y, h, mi, s, frac = '', zone] = m;
  const month = MONTHS[mon as string];
  if (month === undefined) return undefined;
  const wall = utcOf(Number(y), month, Number(d), Number(h), Number(mi), Number(s));
  return wall === undefined ? undefined : fromWall(wall, frac, zone, timeZone);
}

// Dates with slashes too: nginx's error log and Go's log package write 2026/10/10 13:55:36.
const ISO =
  /^(\d{4})([-/])(\d{2})\2(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** How far the zone's wall clock is ahead of UTC at the instant `utcMs`, in ms. */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(utcMs))) parts[part.type] = Number(part.value);
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return wall - (utcMs - (utcMs % 1000));
}

// What follows a numeric offset (or Z) and adds nothing to it: the zone's name as Go's
// time.Time.String() writes it (`2026-10-10 13:55:36.123 +0900 JST`, `+0545 +0545` for a zone with
// no abbreviation, then its monotonic clock reading ` m=+0.001`), or in brackets as java.time's
// ZonedDateTime and RFC 9557 write it (`2026-10-10T13:55:36+09:00[Asia/Tokyo]`). Both times were
// rejected. The offset is the time's; a name alone (`13:55:36 CST`) is still refused.
const NAME_AFTER_OFFSET =
  /(Z|[+-]\d{2}:?\d{2})(?: (?:[A-Z]{2,5}|[+-]\d{2}(?:\d{2})?)(?: m=[+-]\d+(?:\.\d+)?)?|\[!?[A-Za-z][\w/+-]{0,63}\])$/i;

/** ISO 8601 (`2026-10-10T13:55:36.123+09:00`, `2026-10-10 13:55:36,123`, `2026/10/10 13:55:36`) to epoch ms; no offset means `timeZone`. */
export function parseIsoTime(text: string, timeZone = 'UTC'): number | undefined {
  const m = ISO.exec(text) ?? ISO.exec(text.replace(NAME_AFTER_OFFSET, '$1'));
  if (!m) return undefined;
  const [, y, , mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const wall = utcOf(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return wall === undefined ? undefined : fromWall(wall, frac, zone, timeZone);
}

// The largest offset ahead of UTC any zone has (Pacific/Kiritimati, +14:00).
const EARLIEST_OFFSET_MS = 14 * 3_600_000;

/** Epoch ms of a wall-clock time (as UTC ms) and its fraction, in `zone` (Z, UTC, GMT, ±hh[:]mm) or else `timeZone`. */
function fromWall(
  wall: number,
  frac: string,
  zone: string | undefined,
  timeZone: string,
): number | undefined {
  // Microseconds, as the lake keeps them; nanoseconds are cut off (truncated, as Go's Truncate does).
  const fractionMs = frac ? Number(frac.slice(0, 6).padEnd(6, '0')) / 1000 : 0;
  let utc: number;
  if (zone === undefined) {
    // Wall-clock time in a named zone: guess, then correct once for a DST change between guess and answer.
    // The guess is the offset at an instant no later than any reading of the time (no zone is ahead of
    // UTC by more than 14 h): guessed at `wall` itself, a time in the hour repeated when clocks go back
    // east of Greenwich (02:30 in Berlin on 2026-10-25) found only its later reading, west of it the earlier.
    const first = zoneOffsetMs(timeZone, wall - EARLIEST_OFFSET_MS);
    const second = zoneOffsetMs(timeZone, wall - first);
    utc = wall - second;
    if (first !== second) {
      // Near a change the two offsets are those before and after it. A time the larger one makes is
      // kept, the earlier reading of a repeated time as java.time takes it; else the time is in the
      // gap clocks skip (02:30 in New York on 2026-03-08) and, as java.time, PostgreSQL and DuckDB
      // do, is read with the offset before it: 03:30 EDT.
      const larger = Math.max(first, second);
      utc = zoneOffsetMs(timeZone, wall - larger) === larger ? wall - larger : wall - Math.min(first, second);
    }
  } else if (/^(z|utc|gmt)$/i.test(zone)) {
    utc = wall;
  } else {
    const sign = zone[0] === '-' ? -1 : 1;
    const rest = zone.slice(1).replace(':', '');
    const offset = offsetMinutes(Number(rest.slice(0, 2)), Number(rest.slice(2) || '0'));
    if (offset === undefined) return undefined;
    utc = wall - sign * offset * 60_000;
  }
  return inRange(utc + fractionMs);
}

// RFC 1123 (`Sat, 10 Oct 2026 13:55:36 GMT`), and ctime as Apache's error log writes it (`Sat Oct 10
// 13:55:36.123456 2026`) or syslog without the year (`Oct 10 13:55:36`). Month names in English.
const TEXTUAL =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+)?(?:(\d{1,2})\s+([A-Z][a-z]{2})\s+(\d{4})|([A-Z][a-z]{2})\s+(\d{1,2}))\s+(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:\s+(\d{4}))?(?:\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?$/;

/** A time written with an English month name (see TEXTUAL); no offset means `timeZone`. */
export function parseTextualTime(text: string, timeZone = 'UTC', nowMs = Date.now()): number | undefined {
  const m = TEXTUAL.exec(text);
  if (!m) return undefined;
  const [, rfcDay, rfcMonth, rfcYear, cMonth, cDay, h, mi, s, frac = '', cYear, zone] = m;
  if (rfcYear !== undefined && cYear !== undefined) return undefined;
  const month = MONTHS[(rfcMonth ?? cMonth) as string];
  if (month === undefined) return undefined;
  const day = Number(rfcDay ?? cDay);
  const at = (year: number) => {
    const wall = utcOf(year, month, day, Number(h), Number(mi), Number(s));
    return wall === undefined ? undefined : fromWall(wall, frac, zone, timeZone);
  };
  const year = rfcYear ?? cYear;
  if (year !== undefined) return at(Number(year));
  // Syslog has no year: the latest that puts the time at most a day ahead of now, so December's
  // lines read in January are last year's (29 Feb finds its leap year).
  const thisYear = new Date(nowMs).getUTCFullYear();
  for (let y = thisYear + 1; y >= thisYear - 4; y--) {
    const ms = at(y);
    if (ms !== undefined && ms <= nowMs + 86_400_000) return ms;
  }
  return undefined;
}

/** Epoch ms of a whole number of microseconds: exact as a double's fraction to well past 2200. */
const fromMicros = (micros: number): number | undefined => inRange(micros / 1000);

/**
 * Epoch seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude. A JSON number is
 * a 64-bit float (Fluent Bit's `double` date, 1733306400.123456, is 1733306400.1234560013): rounded
 * to the nearest microsecond, which is the one it was written with.
 */
export function parseEpoch(value: number): number | undefined {
  const abs = Math.abs(value);
  if (abs < 1e11) return fromMicros(Math.round(value * 1e6));
  if (abs < 1e14) return fromMicros(Math.round(value * 1000));
  if (abs < 1e17) return fromMicros(Math.round(value));
  return fromMicros(Math.round(value / 1000));
}

/**
 * An epoch time written as digits (`1733306400.123456`, `1733306400123456789`): its digits are
 * exact, so what is past the microsecond is cut off, as in ISO fractions.
 */
function parseEpochText(text: string): number | undefined {
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  const fraction = dot < 0 ? '' : text.slice(dot + 1);
  const abs = Number(whole);
  // Digits of a fraction of a unit that make whole microseconds: 6 of a second, 3 of a ms.
  const [unitMicros, fractionDigits] = abs < 1e11 ? [1_000_000n, 6] : abs < 1e14 ? [1000n, 3] : [1n, 0];
  if (abs >= 1e17) return fromMicros(Number(BigInt(whole) / 1000n));
  const micros =
    BigInt(whole) * unitMicros + BigInt(fraction.slice(0, fractionDigits).padEnd(fractionDigits, '0') || '0');
  return fromMicros(Number(micros));
}

const NUMERIC = /^\d{9,19}(?:\.\d+)?$/;

/** Each unit an epoch number may be in, by size: below what it is one, and its milliseconds. */
const EPOCH_UNITS = [
  { below: 1e11, unit: 'seconds', ms: 1000 },
  { below: 1e14, unit: 'milliseconds', ms: 1 },
  { below: 1e17, unit: 'microseconds', ms: 1e-3 },
  { below: Number.POSITIVE_INFINITY, unit: 'nanoseconds', ms: 1e-6 },
] as const;

/**
 * Why an epoch number (a JSON number, or digits as text) is no time inlet reads, or undefined when
 * it reads it or it is no number: in the unit its size tells, it is before 1970 or after 2199. Such a
 * line was rejected as "unrecognised timestamp 10000000000000000", which said neither.
 */
export function epochProblem(value: unknown): string | undefined {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{9,}(?:\.\d+)?$/.test(value.trim())
        ? Number(value)
        : undefined;
  if (number === undefined || parseLogTime(value) !== undefined) return undefined;
  const { unit, ms } = EPOCH_UNITS.find(({ below }) => Math.abs(number) < below) ?? EPOCH_UNITS[3];
  const at = number * ms;
  const when =
    number < 0
      ? 'before 1970'
      : Math.abs(at) <= 8.64e15
        ? `${new Date(at).toISOString().slice(0, 10)}, after 2199`
        : 'after 2199';
  return `is no time: an epoch number is read by its size (seconds below 1e11, milliseconds below 1e14, microseconds below 1e17, nanoseconds above), and as ${unit} this one is ${when}; write the time as seconds, milliseconds, microseconds or nanoseconds since 1970-01-01 UTC, or as ISO 8601 text`;
}

/** Why a record's time field (`key`) is refused: its value is no time parseLogTime reads. */
export function timeFieldReason(key: string, value: unknown): string {
  const problem = epochProblem(value);
  const shown = shownValue(value);
  return problem ? `the time field "${key}", ${shown}, ${problem}` : `unrecognised timestamp ${shown}`;
}

/** Any supported log time (number or string) to epoch ms; undefined when it is none of them. */
export function parseLogTime(value: unknown, timeZone = 'UTC'): number | undefined {
  if (typeof value === 'number') return parseEpoch(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text.length === 26 && text[2] === '/') return parseClfTime(text);
  if (text.length === 28 && text[0] === '[') return parseClfTime(text.slice(1, 27));
  if (NUMERIC.test(text)) return parseEpochText(text);
  if (text[0] === '[' && text.endsWith(']')) return parseLogTime(text.slice(1, -1), timeZone);
  return parseIsoTime(text, timeZone) ?? parseTextualTime(text, timeZone) ?? parseClfVariant(text, timeZone);
}

/**
 * ISO strings for epoch ms, remembering the last one: consecutive log lines mostly share their second.
 * A fraction of a millisecond is written as microseconds (`.123456Z`), which the lake keeps.
 */
export function createIsoFormatter(): (ms: number) => string {
  let lastMs = Number.NaN;
  let last = '';
  return (ms) => {
    if (ms !== lastMs) {
      lastMs = ms;
      const micros = Math.round(ms * 1000);
      const whole = Math.floor(micros / 1000);
      const text = new Date(whole).toISOString();
      const rest = micros - whole * 1000;
      last = rest === 0 ? text : `${text.slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
    }
    return last;
  };
}
