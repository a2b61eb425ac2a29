/** Quotes a table or column name for SQL; schema.name becomes "schema"."name". */
export function quoteName(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}
