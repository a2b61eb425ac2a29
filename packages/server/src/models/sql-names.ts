/** Quotes a table or column name for SQL; schema.name becomes "schema"."name". */
export function quoteName(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

/** Quotes a column name whole: a CSV's "utm.source" or "Order ID" is one column, never schema.name. */
export function quoteColumn(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The column of columns that name means, as DuckDB matches identifiers: the same spelling, else the
 * one that differs only in case (user_id for User_ID), since "User_ID" and user_id are one column.
 */
export function matchColumn(columns: Iterable<string>, name: string): string | undefined {
  const list = [...columns];
  if (list.includes(name)) return name;
  const lower = name.toLowerCase();
  return list.find((column) => column.toLowerCase() === lower);
}
