import { type ModelConfig, type Project, sourceTableConfigs } from '../models/index.ts';
import type { CatalogTable } from './catalog-table.ts';

/** A mart, or a column of one, that nobody has described; or a column documented that it does not have. */
export interface DocsGap {
  table: string;
  /** Absent when the table itself has no description. */
  column?: string;
  /**
   * not_a_column: the model's YAML (or a source table's entry in sources:) names a column the mart does not output (a typo, or one since
   * renamed). no_model: no model defines the mart any more (renamed or removed); its file stays.
   */
  problem?: 'not_a_column' | 'no_model';
}

/**
 * Marts and mart columns without a description (own or inherited from the same column upstream),
 * columns a model's YAML documents that its mart does not have, and marts no model defines any
 * more. Models not built yet are among the tables, with the columns their SQL would output. A lint:
 * the caller reports, never fails.
 */
export function docsGaps(tables: CatalogTable[], project: Project | undefined): DocsGap[] {
  const gaps: DocsGap[] = [];
  for (const table of tables) {
    if (table.kind !== 'model' && table.kind !== 'seed') continue;
    // Its missing descriptions are noise: nobody will describe a model that is gone.
    if (project && !project.nodes.has(table.name)) {
      gaps.push({ table: table.name, problem: 'no_model' });
      continue;
    }
    if (!table.description) gaps.push({ table: table.name });
    for (const column of table.columns)
      if (!column.description) gaps.push({ table: table.name, column: column.name });
    gaps.push(...documentedNotThere(table, project?.nodes.get(table.name)?.config));
  }
  // A source table's columns from a properties file's sources:, checked as a mart's are; its other
  // columns are not listed, since a source table needs no description to be read.
  const declared = sourceTableConfigs(project);
  for (const table of tables)
    if (table.kind === 'source_table') gaps.push(...documentedNotThere(table, declared.get(table.name)));
  return gaps.sort(
    (a, b) => a.table.localeCompare(b.table) || (a.column ?? '').localeCompare(b.column ?? ''),
  );
}

/**
 * The columns a configuration documents that the table does not have (in any case, as DuckDB
 * matches identifiers): a typo or a column since renamed, whose description is shown nowhere.
 */
function documentedNotThere(table: CatalogTable, config: ModelConfig | undefined): DocsGap[] {
  const names = new Set(table.columns.map((c) => c.name.toLowerCase()));
  return Object.keys(config?.columns ?? {})
    .filter((name) => !names.has(name.toLowerCase()))
    .map((column) => ({ table: table.name, column, problem: 'not_a_column' as const }));
}
