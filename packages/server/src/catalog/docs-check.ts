import type { Project } from '../models/index.ts';
import type { CatalogTable } from './catalog.ts';

/** A mart, or a column of one, that nobody has described. */
export interface DocsGap {
  table: string;
  /** Absent when the table itself has no description. */
  column?: string;
}

/**
 * Marts and mart columns without a description (own or inherited from the same column upstream),
 * and project models without one that are not built yet. A lint: the caller reports, never fails.
 */
export function docsGaps(tables: CatalogTable[], project: Project | undefined): DocsGap[] {
  const gaps: DocsGap[] = [];
  const built = new Set(tables.map((t) => t.name));
  for (const table of tables) {
    if (table.kind !== 'mart') continue;
    if (!table.description) gaps.push({ table: table.name });
    for (const column of table.columns)
      if (!column.description) gaps.push({ table: table.name, column: column.name });
  }
  for (const node of project?.nodes.values() ?? [])
    if (!built.has(node.name) && !node.config.description) gaps.push({ table: node.name });
  return gaps.sort(
    (a, b) => a.table.localeCompare(b.table) || (a.column ?? '').localeCompare(b.column ?? ''),
  );
}
