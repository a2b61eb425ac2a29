import type { CatalogColumn, CatalogTableDetail } from './catalog-table.ts';

/**
 * Descriptions keyed by the column's name in lower case. DuckDB identifiers are case-insensitive,
 * so YAML's user_id documents a mart's User_ID, as dbt's docs match them on such warehouses; of two
 * sources spelling one column differently, the later (the model's YAML) wins.
 */
export function byColumn(descriptions: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(descriptions).map(([column, text]) => [column.toLowerCase(), text]));
}

/**
 * Sets each column's description: its own, or that of the same column in the nearest table upstream
 * that has one (description_from names it).
 */
export function describeColumns(
  tables: ReadonlyMap<string, CatalogTableDetail>,
  own: ReadonlyMap<string, Map<string, string>>,
  name: string,
  columns: CatalogColumn[],
): void {
  const lookup = (
    table: string,
    column: string,
    seen: Set<string>,
  ): { text: string; from: string } | undefined => {
    // Only a table that has the column can pass its description on: a same-named column elsewhere
    // upstream is a different thing.
    const entry = tables.get(table);
    const key = column.toLowerCase();
    if (seen.has(table) || (entry && !entry.columns.some((c) => c.name.toLowerCase() === key)))
      return undefined;
    seen.add(table);
    const text = own.get(table)?.get(key);
    if (text) return { text, from: table };
    for (const dep of entry?.depends_on ?? []) {
      const found = lookup(dep, column, seen);
      if (found) return found;
    }
    return undefined;
  };
  for (const column of columns) {
    const found = lookup(name, column.name, new Set());
    column.description = found?.text ?? null;
    if (found && found.from !== name) column.description_from = found.from;
  }
}

/**
 * Fills descriptions from manifests and model YAML, then lets a column without one inherit it from
 * the same column upstream, and gives a view the freshness of the newest table it reads.
 */
export function resolveDescriptions(
  tables: Map<string, CatalogTableDetail>,
  own: Map<string, Map<string, string>>,
): void {
  const freshness = (table: string, seen: Set<string>): string | null => {
    const entry = tables.get(table);
    if (!entry || seen.has(table)) return null;
    seen.add(table);
    if (entry.sql === undefined) return entry.updated_at;
    const times = entry.depends_on.map((dep) => freshness(dep, seen)).filter((t): t is string => t !== null);
    return times.sort().at(-1) ?? null;
  };
  for (const [name, entry] of tables) {
    describeColumns(tables, own, name, entry.columns);
    if (entry.sql !== undefined) entry.updated_at = freshness(name, new Set());
  }
}
