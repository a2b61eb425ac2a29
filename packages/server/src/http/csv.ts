import type { Json } from '@duckdb/node-api';

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; nested values as JSON. */
export function csvField(value: Json): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly Json[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
