import type { LakeTable } from '../../lake/index.ts';

/**
 * What a source says about one of its tables (a database's own comments), kept in the table's
 * manifest as log tables keep theirs, so the catalog, `inlet docs check` and the models built on
 * the table show it. columns is keyed by the column's name in the lake.
 */
export interface TableDocs {
  description?: string | undefined;
  columns: Record<string, string>;
}

/** The comments worth keeping: trimmed, and only those with text (an empty comment is none). */
export function tableDocs(
  description: string | null | undefined,
  columns: ReadonlyArray<readonly [name: string, comment: string | null | undefined]>,
): TableDocs {
  const text = description?.trim();
  return {
    ...(text ? { description: text } : {}),
    columns: Object.fromEntries(
      columns.flatMap(([name, comment]) => (comment?.trim() ? [[name, comment.trim()]] : [])),
    ),
  };
}

/**
 * The manifest with docs in place of whatever it said before, so a comment changed or dropped in
 * the database is changed or dropped here too. Without docs (a source that has none to give, or
 * could not read them this time) it keeps those of the manifest it replaces.
 */
export function withDocs(table: LakeTable, docs: TableDocs | undefined, previous?: LakeTable): LakeTable {
  const { description: _d, columns: _c, ...rest } = table;
  const description = docs ? docs.description : previous?.description;
  const columns = docs ? docs.columns : (previous?.columns ?? {});
  return {
    ...rest,
    ...(description ? { description } : {}),
    ...(Object.keys(columns).length > 0 ? { columns } : {}),
  };
}

/** Whether two manifests say the same of the table and its columns. */
export const sameDocs = (a: LakeTable | undefined, b: LakeTable): boolean =>
  a?.description === b.description && JSON.stringify(a?.columns ?? {}) === JSON.stringify(b.columns ?? {});
