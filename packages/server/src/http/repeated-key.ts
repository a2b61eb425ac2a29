import { InletError } from '../errors/index.ts';

/** A string token's text, its escapes read (JSON.parse of it) only when it has any. */
function keyText(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end);
  return raw.includes('\\') ? (JSON.parse(text.slice(start, end + 1)) as string) : raw;
}

/**
 * The first key an object of JSON text names twice, with its path (filters.sql, e[2].n), or
 * undefined. text is JSON that JSON.parse has read: that keeps the last of the two ("sql": "SELECT
 * 1", "sql": "SELECT 2" ran SELECT 2), and other parsers the first, so a body that names one is
 * said to be wrong rather than read one way. Keys are compared as read ("\u0073ql" is sql).
 */
export function repeatedKey(text: string): string | undefined {
  // One entry for each object or array the scan is in: the keys an object has named, null for an
  // array; beside it the path to it and, for an array, its count of elements so far.
  const keys: Array<Set<string> | null> = [];
  const paths: string[] = [];
  const counts: number[] = [];
  let key = '';
  let atKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
      const names = keys[keys.length - 1];
      if (atKey && names) {
        key = keyText(text, start, i);
        if (names.has(key)) return `${paths[paths.length - 1]}${key}`;
        names.add(key);
        atKey = false;
      }
    } else if (c === 0x7b || c === 0x5b) {
      const outer = keys.length - 1;
      const at = outer < 0 ? '' : keys[outer] ? `${paths[outer]}${key}` : `${paths[outer]}[${counts[outer]}]`;
      keys.push(c === 0x7b ? new Set() : null);
      paths.push(c === 0x7b && at !== '' ? `${at}.` : at);
      counts.push(0);
      atKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      keys.pop();
      paths.pop();
      counts.pop();
    } else if (c === 0x2c) {
      const top = keys.length - 1;
      atKey = keys[top] !== null;
      if (!atKey) counts[top] = (counts[top] as number) + 1;
    }
  }
  return undefined;
}

/**
 * Refuses JSON text with a key named twice in one object (repeatedKey), naming it: an API body's
 * field given twice was read as its last, without a word.
 */
export function refuseRepeatedKeys(text: string): void {
  const field = repeatedKey(text);
  if (field === undefined) return;
  throw new InletError(
    'INVALID_FIELD',
    `${field}: is given twice in the body; send each field once (JSON parsers keep one of the two, not always the same one)`,
    { details: { field } },
  );
}
