import type { Json } from '@duckdb/node-api';
import { jsonText, numberText } from './json-text.ts';

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; nested values as
 * JSON. NULL is an empty field and an empty string a quoted one (""), as PostgreSQL's COPY writes
 * them, so a reader that honours quotes (COPY … FROM, Python's csv module) can tell them apart.
 * A NUL character is written \u0000, as JSON escapes it (and as it stands inside a nested value's
 * JSON here): CSV has no escape, and a raw 0x00 byte made pandas drop the rest of the field,
 * PostgreSQL's COPY and Python's csv before 3.11 refuse the file, and grep take it for binary.
 */
export function csvField(value: Json): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'object'
      ? jsonText(value)
      : typeof value === 'number'
        ? numberText(value)
        : String(value).replaceAll('\0', '\\u0000');
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly Json[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
