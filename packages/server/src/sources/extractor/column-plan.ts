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
  /** The lake type where convert makes it another than csvType (a BOOLEAN from MySQL's tinyint(1)). */
  lakeType?: string;
  /** The source's SQL that reads the column as text, written {}, for advice; PostgreSQL's {}::text when absent. */
  asText?: string;
  /**
   * A DuckDB expression over the lake value, written {}, that orders values as the source does where
   * the lake type does not (numbers kept as text); a cursor's greatest value is taken by it.
   */
  order?: string;
  /**
   * True when the lake cannot order the values as the source compares them (booleans, bytes, JSON,
   * enums, network addresses…): such a column cannot be a cursor, whose saved value goes back into
   * the source's WHERE.
   */
  unordered?: boolean;
}

/**
 * The order of MySQL TIME text (-838:59:59…838:59:59): as text '100:00:00' < '20:00:00' and
 * '-10:00:00' > '-02:00:00', so a cursor copied rows again and a merge view kept an older version.
 * Ranked by its seconds, as MySQL compares it.
 */
const timeSeconds = (part: number) => `split_part(ltrim({}, '-'), ':', ${part})`;
export const TIME_TEXT_ORDER =
  `(CASE WHEN starts_with({}, '-') THEN -1 ELSE 1 END) * (${timeSeconds(1)}::BIGINT * 3600 + ` +
  `${timeSeconds(2)}::BIGINT * 60 + ${timeSeconds(3)}::DECIMAL(9,6))`;

/**
 * Numbers kept as text (numeric wider than DECIMAL(38,s), or without precision) ordered as numbers,
 * by a text key: as text '99' > '100', and an incremental sync that saved 99 as its cursor copied
 * 100 again. The key is a class (-Infinity, negative, other, Infinity, NaN, as PostgreSQL orders
 * them), the count of integer digits, then the digits; a negative number's digits are complemented
 * (9 - d) and closed with ':' (above every digit), so a greater magnitude sorts lower.
 */
function numericTextOrder(): string {
  const magnitude = (text: string) => {
    const whole = `ltrim(split_part(${text}, '.', 1), '0')`;
    const digits = `${whole} || '.' || rtrim(split_part(${text}, '.', 2), '0')`;
    return { width: `length(${whole})`, digits };
  };
  const other = magnitude('{}');
  const negative = magnitude('substr({}, 2)');
  return (
    `CASE WHEN {} = 'NaN' THEN '4' WHEN {} = 'Infinity' THEN '3' WHEN {} = '-Infinity' THEN '0' ` +
    `WHEN starts_with({}, '-') THEN '1' || lpad((1000000000 - ${negative.width})::VARCHAR, 10, '0') || ` +
    `translate(${negative.digits}, '0123456789', '9876543210') || ':' ` +
    `ELSE '2' || lpad(${other.width}::VARCHAR, 10, '0') || ${other.digits} END`
  );
}

/** The order of a column of numbers kept as text; see numericTextOrder. */
export const NUMERIC_TEXT_ORDER = numericTextOrder();

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

/**
 * A column named twice (Parquet cannot hold that), or undefined. Names that differ only in case
 * count as the same: the lake's SQL does not tell them apart, and DuckDB renamed the second.
 */
export function duplicateColumn(columns: Array<{ name: string }>): string | undefined {
  const seen = new Set<string>();
  for (const { name } of columns) {
    if (seen.has(name.toLowerCase())) return name;
    seen.add(name.toLowerCase());
  }
  return undefined;
}
