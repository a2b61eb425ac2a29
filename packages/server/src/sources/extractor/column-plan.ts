/**
 * How one source column travels to the lake: the source writes it as a CSV field, DuckDB reads the
 * field as csvType and, where the text form is not the lake type yet, converts it with convert.
 */
export interface ColumnPlan {
  /** The column's name in the lake. */
  name: string;
  /** The type as the source names it, for messages and docs. */
  sourceType: string;
  /** The DuckDB type the CSV reader parses the field as. */
  csvType: string;
  /** A DuckDB expression over the field, written {} (e.g. unhex({})); the field itself when absent. */
  convert?: string;
}

/**
 * JSON text as DuckDB's JSON type. DuckDB refuses a lone surrogate escape ("\ud800", half of a
 * UTF-16 pair), which PostgreSQL's json type (not jsonb) and MySQL-family JSON columns keep as
 * written, and one such value failed its whole table. A value DuckDB refuses is tried again with
 * every lone surrogate escape written as \ufffd (U+FFFD, as a UTF-8 decoder does): escaped
 * backslashes set aside first (so "\\ud800" stays text), escaped pairs kept, then both put back.
 * JSON that is broken otherwise still fails, naming the value. RE2 has no lookbehind, hence the
 * steps; chr(1) and chr(2) cannot occur raw in JSON.
 */
export const JSON_FROM_TEXT =
  'COALESCE(TRY_CAST({} AS JSON), replace(replace(regexp_replace(regexp_replace(regexp_replace(' +
  "{}, '\\\\\\\\', chr(1), 'g'), " +
  "'\\\\u([dD][89abAB][0-9a-fA-F]{2})\\\\u([dD][c-fC-F][0-9a-fA-F]{2})', chr(2) || '\\1' || chr(2) || '\\2', 'g'), " +
  "'\\\\u[dD][89a-fA-F][0-9a-fA-F]{2}', '\\\\ufffd', 'g'), chr(2), '\\u'), chr(1), '\\\\')::JSON)";

/** Names a column twice (Parquet cannot hold that), or undefined. */
export function duplicateColumn(columns: Array<{ name: string }>): string | undefined {
  const seen = new Set<string>();
  for (const { name } of columns) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}
