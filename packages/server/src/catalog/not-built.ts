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
 * A model or seed of the project not built yet as the catalog shows it: its YAML's description,
 * owner, tests and columns, the SQL its first build runs, what it reads and what reads it.
 */
export async function notBuiltDetail(
  snap: Snapshot,
  node: ProjectNode,
  lineage: ReturnType<typeof buildLineage>,
  timezone: string,
): Promise<CatalogTableDetail> {
  const sql = firstBuildSql(node, timezone);
  const depends_on = lineage.edges
    .filter((edge) => edge.to === node.name && !edge.from.startsWith('source:'))
    .map((edge) => edge.from);
  const documented = byColumn(columnDescriptions(node.config));
  const columns = await outputColumns(snap, node, sql);
  const entry: CatalogTableDetail = {
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
    columns,
    built: false,
    partition_list: [],
    ...(node.kind === 'model' ? { sql: withoutBlankEnds(sql) } : {}),
    tests: testNames(node.config),
    upstream: lineage.upstream(node.name),
    downstream: lineage.downstream(node.name),
  };
  // Its columns inherit descriptions from what it reads, as a built model's do.
  describeColumns(
    new Map(snap.tables).set(node.name, entry),
    new Map(snap.own).set(node.name, documented),
    node.name,
    columns,
  );
  return entry;
}

/**
 * The project's models and seeds not built yet (no table of the lake has the name, in any case), by
 * name, as their pages show them: what dbt's docs list beside the models built.
 */
export async function notBuiltDetails(
  snap: Snapshot,
  lineage: ReturnType<typeof buildLineage>,
  timezone: string,
): Promise<CatalogTableDetail[]> {
  const nodes = [...(snap.project?.nodes.values() ?? [])]
    .filter((node) => !snap.tables.has(node.name) && !snap.tables.has(node.name.toLowerCase()))
    .sort((a, b) => byName(a.name, b.name));
  const details: CatalogTableDetail[] = [];
  // One at a time: the snapshot's DuckDB has one connection.
  for (const node of nodes) details.push(await notBuiltDetail(snap, node, lineage, timezone));
  return details;
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
