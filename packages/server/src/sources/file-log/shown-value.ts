// How a rejected line's reason names the value it refuses: as the line wrote it, where that can be
// told, and never longer than a reason should be.

const MAX_SHOWN = 60;

// What parseJson makes of an integer beyond 2^53: a string of its digits, which keeps them.
const KEPT_DIGITS = /^-?\d{16,}$/;

const cut = (text: string): string => (text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);

/**
 * A record's value as a reason names it: its JSON, except an integer beyond 2^53, which is shown
 * with the digits the line wrote, not quoted as if the line had sent a string; cut at 60 characters.
 */
export function shownValue(value: unknown): string {
  const kept = typeof value === 'string' && KEPT_DIGITS.test(value) && !Number.isSafeInteger(Number(value));
  return cut(kept ? (value as string) : (JSON.stringify(value) ?? String(value)));
}

/**
 * A number a reason names (a status, a byte count, a response time), read from `written`: the text
 * a line (or parseJson) held, as it was written, where String() made 1e+23 of 100000000000000000000000;
 * a written value that is no number as shownValue names it.
 */
export function shownNumber(n: number, written: unknown): string {
  if (!Number.isFinite(n)) return written === undefined ? String(n) : shownValue(written);
  return typeof written === 'string' ? cut(written.trim()) : String(n);
}
