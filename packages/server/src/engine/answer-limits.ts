import type { Json } from '@duckdb/node-api';

/** A row limit as a note names it, with its rows: "max_rows (1000 rows)". */
export type RowLimit = (rows: number) => string;

interface SizeLimit {
  /** Whether one more row keeps the JSON within the limit (always, without one). */
  fits(row: Json[]): boolean;
  /** The bytes of the last row that did not fit, or undefined. */
  refused(): number | undefined;
}

/**
 * Counts a result's JSON against maxBytes bytes. Bytes as sent, not characters: counted in
 * characters, an answer of Japanese text was three times the limit (a 100 MB cap let 313 MB
 * through, and the server held 1.3 GB to send it).
 */
export function createSizeLimit(maxBytes: number | undefined): SizeLimit {
  let size = 0;
  let refused: number | undefined;
  return {
    fits(row) {
      if (maxBytes === undefined) return true;
      const bytes = Buffer.byteLength(JSON.stringify(row)) + 1;
      if (size + bytes > maxBytes) {
        refused = bytes;
        return false;
      }
      size += bytes;
      return true;
    },
    refused: () => refused,
  };
}

/**
 * What an answer of max_rows 0 says: its query was planned for the columns, never run, so it cannot
 * say whether rows were left out and is marked truncated rather than complete.
 */
export const plannedOnlyNote = (rowLimit: RowLimit) =>
  `The answer stops at ${rowLimit(0)}: the query was planned for its columns and not run, so whether it has rows (or fails as it runs) is not known; ask for more rows to run it.`;

const megabytes = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

/**
 * Why an answer holds fewer rows than its result: which limit stopped it, and what gets every row.
 * A single row past the byte limit answered no rows at all, with nothing to say why.
 */
export function truncationNote(
  rows: number,
  maxRows: number,
  rowLimit: RowLimit,
  limit: SizeLimit,
  maxBytes?: number,
  whole = 'export the result as CSV (POST /api/query?format=csv, or inlet query --format csv)',
): string {
  const refused = limit.refused();
  if (refused === undefined || maxBytes === undefined)
    return `The answer stops at ${rowLimit(maxRows)}; ${whole}, or narrow the query.`;
  if (rows === 0)
    return `The first row alone is ${megabytes(refused)} of JSON, more than an answer may hold (${megabytes(maxBytes)}), so no row is answered; select fewer or narrower columns, or ${whole}.`;
  return `The answer stops after ${rows} rows, before its JSON passed ${megabytes(maxBytes)}; ${whole}, or select fewer or narrower columns.`;
}
