import { columnDescriptions, describeSelect, firstBuildSql, type ProjectNode } from '../models/index.ts';
import {
  type CatalogColumn,
  type CatalogTableDetail,
  type Snapshot,
  testNames,
  withoutBlankEnds,
} from './catalog-table.ts';
import { byColumn, describeColumns } from './column-descriptions.ts';
import type { buildLineage } from './lineage.ts';

// A dbt docs or Metabase user looks a model up before its first build (a fresh install, a new
// model): its page shows what the project says of it, with no rows and no freshness, rather than
// "no such table" for a model the lineage shows.

/**
 * The project's models and seeds not built yet (no table of the lake has the name, in any case), by
 * name, as their pages show them: their YAML's description, owner, tests and columns, the SQL their
 * first build runs, what they read and what reads them. What dbt's docs list beside the models built.
 */
export async function notBuiltDetails(
  snap: Snapshot,
  lineage: ReturnType<typeof buildLineage>,
  timezone: string,
): Promise<CatalogTableDetail[]> {
  const nodes = [...(snap.project?.nodes.values() ?? [])]
    .filter((node) => !snap.tables.has(node.name) && !snap.tables.has(node.name.toLowerCase()))
    .sort((a, b) => byName(a.name, b.name));
  const tables = new Map(snap.tables);
  const own = new Map(snap.own);
  const details: CatalogTableDetail[] = [];
  // One at a time: the snapshot's DuckDB has one connection.
  for (const node of nodes) {
    const entry = await notBuiltDetail(snap, node, lineage, timezone);
    tables.set(node.name, entry);
    own.set(node.name, byColumn(columnDescriptions(node.config)));
    details.push(entry);
  }
  // Their columns inherit descriptions from what they read, as a built model's do; through another
  // model not built yet too (its YAML's, or what it has from upstream), as its page shows them.
  for (const entry of details) describeColumns(tables, own, entry.name, entry.columns);
  return details;
}

/** A model or seed not built yet, its columns not described yet. */
async function notBuiltDetail(
  snap: Snapshot,
  node: ProjectNode,
  lineage: ReturnType<typeof buildLineage>,
  timezone: string,
): Promise<CatalogTableDetail> {
  const sql = firstBuildSql(node, timezone);
  const depends_on = lineage.edges
    .filter((edge) => edge.to === node.name && !edge.from.startsWith('source:'))
    .map((edge) => edge.from);
  return {
    name: node.name,
    kind: 'mart',
    materialized: node.kind === 'seed' ? 'seed' : node.config.materialized,
    description: node.config.description ?? null,
    owner: node.config.owner ?? null,
    rows: null,
    bytes: 0,
    files: 0,
    partitions: { count: 0, first: null, last: null },
    updated_at: null,
    depends_on,
    columns: await outputColumns(snap, node, sql),
    built: false,
    partition_list: [],
    ...(node.kind === 'model' ? { sql: withoutBlankEnds(sql) } : {}),
    tests: testNames(node.config),
    upstream: lineage.upstream(node.name),
    downstream: lineage.downstream(node.name),
  };
}

/** Names in the order the catalog lists tables (as Array.prototype.sort orders strings). */
export const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The columns its first build would output, as DuckDB describes its SQL (which runs nothing); when
 * it reads what is not built either, those its YAML documents, of a type not known yet.
 */
async function outputColumns(snap: Snapshot, node: ProjectNode, sql: string): Promise<CatalogColumn[]> {
  try {
    const types = await describeSelect(snap.db, sql);
    return [...types].map(([name, type]) => ({ name, type, description: null }));
  } catch {
    return Object.keys(node.config.columns).map((name) => ({ name, type: null, description: null }));
  }
}
