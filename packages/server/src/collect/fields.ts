import { InletError } from '../errors/index.ts';
import { jsonFault, MAX_JSON_DEPTH } from '../events/index.ts';

// Small parsers that turn untrusted JSON into typed values and name the exact field when they cannot.

export type Json = Record<string, unknown>;

export function fail(field: string, problem: string): never {
  throw new InletError('INVALID_FIELD', `${field}: ${problem}`, { details: { field } });
}

/**
 * A field's name: field, then key (".context.page.url"). The parsers below take the two apart and
 * join them only when they fail, so a message that passes builds none of its fields' names.
 */
export const named = (field: string, key: string): string => (key === '' ? field : `${field}${key}`);

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalObject(value: unknown, field: string, key = ''): Json {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(named(field, key), 'must be a JSON object');
  return value;
}

/** The problem with a number beyond a 64-bit float, said where a client sends one (see jsonFault). */
export const HUGE_NUMBER =
  'is a number beyond what a 64-bit float holds (1e400 reads as infinity, and would be stored as null); send it as a string';

/**
 * An object the event keeps as JSON (properties, traits, context): optionalObject, nested at most
 * MAX_JSON_DEPTH levels, holding no number beyond a 64-bit float (its field named to the leaf).
 */
export function optionalJsonObject(value: unknown, field: string, key = ''): Json {
  const object = optionalObject(value, field, key);
  checkJson(object, field, MAX_JSON_DEPTH, key);
  return object;
}

/**
 * Fails naming field (or the number's key under it) when value nests more than depth levels or
 * holds a number beyond a 64-bit float: what JSON cannot keep of it (see jsonFault).
 */
export function checkJson(value: unknown, field: string, depth = MAX_JSON_DEPTH, key = ''): void {
  const fault = jsonFault(value, depth);
  if (fault?.kind === 'deep')
    fail(named(field, key), `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; flatten it`);
  if (fault) fail(`${named(field, key)}${fault.path}`, HUGE_NUMBER);
}

export function optionalString(value: unknown, field: string, max = 8192, key = ''): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number' && Number.isFinite(value)) {
    // JSON.parse has already rounded an integer beyond 2^53 (a 64-bit id 1234567890123456789 reads
    // as 1234567890123456800), so two ids would become one: refused rather than stored wrong. A
    // request body read by parseJson has such integers as strings already.
    if (Number.isInteger(value) && !Number.isSafeInteger(value))
      fail(named(field, key), 'is a number too large to keep exactly (beyond 2^53); send it as a string');
    return String(value);
  }
  if (typeof value !== 'string') fail(named(field, key), 'must be a string');
  if (value.length > max) fail(named(field, key), `is longer than ${max} characters`);
  return value;
}

/** Only white space, as JavaScript's \s has it (a tab, U+00A0, the ideographic space U+3000…). */
const BLANK = /^\s+$/;

/**
 * Whether a text is only white space. A text that starts with a character \s cannot match (a letter
 * or digit, as ids start) is told apart by that one character, without the regular expression.
 */
function isBlank(text: string): boolean {
  const first = text.charCodeAt(0);
  if (first > 0x20 && first < 0x1680 && first !== 0xa0) return false;
  return BLANK.test(text);
}

/**
 * optionalString for an id or a name (userId, messageId, an event's name): one of only white space
 * is none, as an empty one is. Stored, "   " was a user every request without a user shared, a
 * message id that made distinct messages repeats of one another, or an event named blank. Spaces
 * within or around a text that has more are kept: ids are the client's.
 */
export function optionalId(value: unknown, field: string, max = 200, key = ''): string | null {
  const text = optionalString(value, field, max, key);
  return text !== null && isBlank(text) ? null : text;
}

/**
 * The problem of a required id or name that came as none (optionalId), saying so when one was sent
 * blank: "is required" alone puzzled a client that had sent "   ".
 */
export function requiredProblem(problem: string, ...sent: unknown[]): string {
  return sent.some((value) => typeof value === 'string' && value !== '')
    ? `${problem} (a value of only white space is none)`
    : problem;
}

/**
 * A text cut to max characters, for a column whose whole value the event keeps elsewhere (a page's
 * title in its properties). A cut between the halves of a surrogate pair (an emoji) moves before
 * it, as half an emoji would be stored as U+FFFD.
 */
export function cutText(text: string | null, max: number): string | null {
  if (text === null || text.length <= max) return text;
  return text.slice(0, (text.charCodeAt(max - 1) & 0xfc00) === 0xd800 ? max - 1 : max);
}

/**
 * optionalString for a page's url, referrer or title, cut to max characters rather than refused:
 * browser SDKs send them as the page has them, and drop an event answered 400, so a long title
 * lost every view of its page.
 */
export function optionalCutString(value: unknown, field: string, max = 8192, key = ''): string | null {
  return cutText(optionalString(value, field, Number.POSITIVE_INFINITY, key), max);
}

/** The latest time a JavaScript Date holds (year 275760). */
const MAX_DATE_MS = 8.64e15;

/** An epoch number written as text: 1733300000, 1733300000.25. */
const EPOCH_TEXT = /^\d{9,19}(?:\.\d+)?$/;

/**
 * An ISO 8601 date, or date and time: T (or a space) between them, seconds and a fraction
 * optional, then Z, an offset (+09:00, +0900, -05) or nothing (UTC), after UTC or GMT if given
 * (BigQuery writes 2026-12-05 10:00:00.123456 UTC; GMT+0900 is what Date's toString ends with).
 * A year past 9999 comes with a sign and six digits, as toISOString writes it (+056896-02-02 for
 * a time in milliseconds multiplied by 1000 again): a clock that far ahead is filed at its arrival as
 * any other, where it was refused. The whole text must match. Date.parse, which read it before, falls back to a loose reader for
 * what is not ISO, so "2026-12-05junk" was stored as 12 June 2026, and it refused "-05", an offset
 * ISO 8601 allows.
 */
const ISO_TIME =
  /^(\d{4}|[+-]\d{6})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?\s*(?:UTC|GMT)?(?:[zZ]|([+-])(\d\d)(?::?(\d\d))?)?)?$/;

const unreadable = (field: string, value: string): never =>
  fail(
    field,
    `"${value.slice(0, 40)}" is not a date and time inlet can read; send ISO 8601 such as 2026-11-22T09:30:00.000Z, or an epoch number in seconds or milliseconds`,
  );

/**
 * Epoch milliseconds of an ISO 8601 text (ISO_TIME), or undefined when it is not one. A time with no
 * offset is UTC, as a date alone is, whatever the server's time zone. A leap second (23:59:60) is
 * the last millisecond of its minute, so it stays on its day; 24:00 is the end of the day.
 */
function isoMs(value: string, field: string, key: string): number | undefined {
  const m = ISO_TIME.exec(value);
  if (!m) return undefined;
  const year = +(m[1] as string);
  const month = +(m[2] as string);
  const day = +(m[3] as string);
  const hour = m[4] === undefined ? 0 : +m[4];
  const minute = m[5] === undefined ? 0 : +m[5];
  const second = m[6] === undefined ? 0 : +m[6];
  const fraction = m[7];
  const offsetHours = m[9] === undefined ? 0 : +m[9];
  const offsetMinutes = m[10] === undefined ? 0 : +m[10];
  const endOfDay = hour === 24 && minute === 0 && second === 0 && (fraction === undefined || +fraction === 0);
  if (month < 1 || month > 12 || day < 1 || (hour > 23 && !endOfDay) || minute > 59 || second > 60)
    return unreadable(named(field, key), value);
  if (offsetHours > 23 || offsetMinutes > 59) return unreadable(named(field, key), value);
  // Date.UTC reads years below 100 as 19xx; any year before 1970 is refused by the caller.
  if (year < 1000) return -1;
  // A day the month does not have (2026-02-30) would roll over into the next month.
  if (day > 28 && day > new Date(Date.UTC(year, month, 0)).getUTCDate())
    fail(
      named(field, key),
      `${m[1]}-${m[2]}-${m[3]} is not a day of the calendar; send the day the event happened`,
    );
  // The fraction to the millisecond, cut as Date.parse cuts it (.1234567 is 123 ms).
  let millis = 0;
  if (second === 60) millis = 999;
  else if (fraction !== undefined)
    millis = +fraction.slice(0, 3) * (fraction.length === 1 ? 100 : fraction.length === 2 ? 10 : 1);
  const offset =
    m[8] === undefined ? 0 : (m[8] === '-' ? -60_000 : 60_000) * (offsetHours * 60 + offsetMinutes);
  return Date.UTC(year, month - 1, day, hour, minute, second === 60 ? 59 : second, millis) - offset;
}

/**
 * An epoch number in seconds, milliseconds, microseconds or nanoseconds, told apart by size as log
 * times are: server SDKs and hand-made clients send seconds (1733300000), which read as
 * milliseconds fell in January 1970. Below 1e11 is seconds (as milliseconds that is 1973).
 */
function epochMs(value: number): number {
  const abs = Math.abs(value);
  if (abs < 1e11) return Math.round(value * 1000);
  if (abs < 1e14) return value;
  if (abs < 1e17) return Math.round(value / 1000);
  return Math.round(value / 1e6);
}

/** Two decimal digits at `at` as a number, or -1. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const ones = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

/**
 * The time of day of a time as toISOString writes it (2026-12-07T06:53:24.123Z, what every
 * Segment SDK sends) in milliseconds, or -1 for any other text or a time no day has (24:00, a leap
 * second), which isoMs reads.
 */
function canonicalTimeOfDay(value: string): number {
  if (value.length !== 24 || value.charCodeAt(10) !== 0x54 || value.charCodeAt(23) !== 0x5a) return -1;
  if (value.charCodeAt(13) !== 0x3a || value.charCodeAt(16) !== 0x3a || value.charCodeAt(19) !== 0x2e)
    return -1;
  const hour = twoDigits(value, 11);
  const minute = twoDigits(value, 14);
  const second = twoDigits(value, 17);
  const milliHigh = twoDigits(value, 20);
  const milliLow = twoDigits(value, 21);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return -1;
  if (milliHigh < 0 || milliLow < 0) return -1;
  return ((hour * 60 + minute) * 60 + second) * 1000 + milliHigh * 10 + (milliLow % 10);
}

// The day (2026-12-07T) of the last time in toISOString's form that was read, and its midnight in
// epoch milliseconds: a batch's times fall on a day or two, so the others of that day are read
// without regular expressions and Date.UTC (a twentieth of parsing a Segment batch).
let knownDay = '';
let knownDayMs = 0;

const NO_TIME =
  'must be an ISO 8601 date string such as 2026-11-22T09:30:00.000Z, or an epoch number in seconds or milliseconds';

/** Epoch milliseconds of a time sent as text: ISO 8601 (isoMs) or epoch digits (epochMs). */
function textMs(value: string, field: string, key: string): number {
  const timeOfDay = canonicalTimeOfDay(value);
  if (timeOfDay >= 0 && knownDay !== '' && value.startsWith(knownDay)) return knownDayMs + timeOfDay;
  // Digits as text: what some clients send, and a nanosecond time beyond 2^53 as parseJson keeps it.
  if (EPOCH_TEXT.test(value)) return epochMs(Number(value));
  if (!/^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}/.test(value)) return fail(named(field, key), NO_TIME);
  const ms = isoMs(value, field, key) ?? unreadable(named(field, key), value);
  // Only a day isoMs took (in the calendar, from 1970 on) is kept.
  if (timeOfDay >= 0 && ms - timeOfDay >= 0) {
    knownDay = value.slice(0, 11);
    knownDayMs = ms - timeOfDay;
  }
  return ms;
}

/** Accepts ISO 8601 strings and epoch numbers (epochMs); returns epoch milliseconds. */
export function optionalTime(value: unknown, field: string, key = ''): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let ms: number;
  if (typeof value === 'number') ms = epochMs(value);
  else if (typeof value === 'string') ms = textMs(value, field, key);
  else ms = fail(named(field, key), NO_TIME);
  // Before 1970 is a client bug (a negative epoch) that would create nonsense partitions. A time
  // past 2200 is a broken clock as any more than a day ahead, which enrich files at its arrival; it
  // was refused, and the event lost. Only what no date can hold is refused as well.
  if (ms < 0) fail(named(field, key), 'is not a valid date from 1970 on; send the time the event happened');
  // Told apart: "from 1970 on" was the answer to +275760-09-13T00:00:00.001Z and to 1e300 too.
  if (!(ms <= MAX_DATE_MS))
    fail(
      named(field, key),
      'is later than any date a time can hold (year 275760, +275760-09-13); send the time the event happened',
    );
  return ms;
}
