import { InletError } from '../errors/index.ts';
import { jsonFault, MAX_JSON_DEPTH } from '../events/index.ts';

// Small parsers that turn untrusted JSON into typed values and name the exact field when they cannot.

export type Json = Record<string, unknown>;

export function fail(field: string, problem: string): never {
  throw new InletError('INVALID_FIELD', `${field}: ${problem}`, { details: { field } });
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalObject(value: unknown, field: string): Json {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(field, 'must be a JSON object');
  return value;
}

/** The problem with a number beyond a 64-bit float, said where a client sends one (see jsonFault). */
export const HUGE_NUMBER =
  'is a number beyond what a 64-bit float holds (1e400 reads as infinity, and would be stored as null); send it as a string';

/**
 * An object the event keeps as JSON (properties, traits, context): optionalObject, nested at most
 * MAX_JSON_DEPTH levels, holding no number beyond a 64-bit float (its field named to the leaf).
 */
export function optionalJsonObject(value: unknown, field: string): Json {
  const object = optionalObject(value, field);
  const fault = jsonFault(object);
  if (fault?.kind === 'deep')
    fail(field, `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; flatten it`);
  if (fault) fail(`${field}${fault.path}`, HUGE_NUMBER);
  return object;
}

export function optionalString(value: unknown, field: string, max = 8192): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number' && Number.isFinite(value)) {
    // JSON.parse has already rounded an integer beyond 2^53 (a 64-bit id 1234567890123456789 reads
    // as 1234567890123456800), so two ids would become one: refused rather than stored wrong. A
    // request body read by parseJson has such integers as strings already.
    if (Number.isInteger(value) && !Number.isSafeInteger(value))
      fail(field, 'is a number too large to keep exactly (beyond 2^53); send it as a string');
    return String(value);
  }
  if (typeof value !== 'string') fail(field, 'must be a string');
  if (value.length > max) fail(field, `is longer than ${max} characters`);
  return value;
}

/** The latest time a JavaScript Date holds (year 275760). */
const MAX_DATE_MS = 8.64e15;

/** An epoch number written as text: 1733300000, 1733300000.25. */
const EPOCH_TEXT = /^\d{9,19}(?:\.\d+)?$/;

/** The end of a time that names its offset: Z, +09:00, +0900, -05. */
const ZONED = /(?:[zZ]|[+-]\d\d(?::?\d\d)?)$/;

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

/** Accepts ISO 8601 strings and epoch numbers (epochMs); returns epoch milliseconds. */
export function optionalTime(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let ms: number;
  if (typeof value === 'number') ms = epochMs(value);
  // Digits as text: what some clients send, and a nanosecond time beyond 2^53 as parseJson keeps it.
  else if (typeof value === 'string' && EPOCH_TEXT.test(value)) ms = epochMs(Number(value));
  else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) {
    // Date.parse reads a date and time with no offset in the server's time zone (a date alone in
    // UTC), so the same event moved with the TZ of the machine: without an offset it is UTC.
    ms = Date.parse(value.length > 10 && !ZONED.test(value) ? `${value}Z` : value);
    if (Number.isNaN(ms))
      fail(
        field,
        `"${value.slice(0, 40)}" is not a date and time inlet can read; send ISO 8601 such as 2026-11-22T09:30:00.000Z, or an epoch number in seconds or milliseconds`,
      );
    // Date.parse rolls a day the month does not have over into the next month (2026-02-30 is 2 March).
    // Only days past the 28th can be missing: the rest pass without more work (this runs per event).
    const day = (value.charCodeAt(8) - 48) * 10 + (value.charCodeAt(9) - 48);
    if (day > 28) {
      const [year, month] = value.slice(0, 7).split('-').map(Number) as [number, number];
      if (day > new Date(Date.UTC(year, month, 0)).getUTCDate())
        fail(field, `${value.slice(0, 10)} is not a day of the calendar; send the day the event happened`);
    }
  } else
    fail(
      field,
      'must be an ISO 8601 date string such as 2026-11-22T09:30:00.000Z, or an epoch number in seconds or milliseconds',
    );
  // Before 1970 is a client bug (a negative epoch) that would create nonsense partitions. A time
  // past 2200 is a broken clock as any more than a day ahead, which enrich files at its arrival; it
  // was refused, and the event lost. Only what no date can hold is refused as well.
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DATE_MS)
    fail(field, 'is not a valid date from 1970 on; send the time the event happened');
  return ms;
}
