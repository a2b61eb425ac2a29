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
