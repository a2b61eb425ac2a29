import type { Json } from '@duckdb/node-api';

/**
 * A number zero as JSON writes it, standing alone as a value: a -0.0 written by JSON.stringify
 * looks like this.
 */
const ZERO = /(?:^|[[,:])0(?:$|[,\]}])/;

/**
 * What stands for -0.0 while JSON.stringify writes: text no answer's string can hold, since DuckDB's
 * text is UTF-8 and so has no lone surrogate, which JSON.stringify writes as this escape.
 */
const SIGNED_ZERO = '\ud800-0';
const SIGNED_ZERO_TEXT = JSON.stringify(SIGNED_ZERO);

const isNegativeZero = (value: unknown) => value === 0 && 1 / value < 0;

function holdsNegativeZero(value: Json): boolean {
  if (typeof value === 'number') return isNegativeZero(value);
  if (value === null || typeof value !== 'object') return false;
  for (const item of Array.isArray(value) ? value : Object.values(value))
    if (holdsNegativeZero(item)) return true;
  return false;
}

const keepSign = (_key: string, value: unknown) => (isNegativeZero(value) ? SIGNED_ZERO : value);

/**
 * An answer's value as JSON text, the text JSON.stringify gives but with a DOUBLE's -0.0 written so
 * (JSON.stringify writes 0, dropping the sign the lake keeps). Written -0.0, not -0, as DuckDB
 * does, for a reader such as Python's json reads -0 as the integer 0. Only text that holds a zero
 * is looked through again, so answers without one cost what they did.
 */
export function jsonText(value: Json): string {
  const text = JSON.stringify(value);
  if (!ZERO.test(text) || !holdsNegativeZero(value)) return text;
  return JSON.stringify(value, keepSign).replaceAll(SIGNED_ZERO_TEXT, '-0.0');
}

/** A number as text, -0.0 with its sign as jsonText writes it. */
export const numberText = (value: number): string => (isNegativeZero(value) ? '-0.0' : String(value));
