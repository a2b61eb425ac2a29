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

/** Names a column twice (Parquet cannot hold that), or undefined. */
export function duplicateColumn(columns: Array<{ name: string }>): string | undefined {
  const seen = new Set<string>();
  for (const { name } of columns) {
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}
