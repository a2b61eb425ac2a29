import {
  columnDescriptions,
  createTempView,
  describeSelect,
  dropTempView,
  firstBuildSql,
  type ProjectNode,
} from '../models/index.ts';
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

type Lineage = ReturnType<typeof buildLineage>;

/** The columns of a model not built yet, and why they are only its YAML's when DuckDB cannot tell them. */
interface Output {
  columns: CatalogColumn[];
  columns_note?: string;
}

/** What describing the models not built yet tells, and asks. */
interface Describing {
  /** Told each time DuckDB is asked for the columns of one (a DESCRIBE of its SQL). */
  onDescribed?: (model: string) => void;
  /** Why a table one reads is not in the lake (not written yet, or written by nothing), as its note says it. */
  whyNotInLake?: (table: string) => string;
}

/**
 * The project's models and seeds not built yet (no table of the lake has the name, in any case), by
 * name, as their pages show them: their YAML's description, owner, tests and columns, the SQL their
 * first build runs, what they read and what reads them. What dbt's docs list beside the models built.
 */
export async function notBuiltDetails(
  snap: Snapshot,
  lineage: Lineage,
  timezone: string,
  options: Describing & {
    /**
     * One model's page: only it and those not built yet it reads (through others not built yet),
     * whose columns and descriptions it may take on, are described; by default every one.
     */
    only?: string;
  } = {},
): Promise<CatalogTableDetail[]> {
  const nodes = [...(snap.project?.nodes.values() ?? [])]
    .filter((node) => !snap.tables.has(node.name) && !snap.tables.has(node.name.toLowerCase()))
    .sort((a, b) => byName(a.name, b.name));
  const starts = options.only === undefined ? nodes.map((node) => node.name) : [options.only];
  const outputs = await describeInOrder(snap, nodes, starts, lineage, timezone, options);
  const tables = new Map(snap.tables);
  const own = new Map(snap.own);
  const details: CatalogTableDetail[] = [];
  for (const node of nodes) {
    const output = outputs.get(node.name);
    if (!output) continue;
    const entry = notBuiltDetail(node, lineage, timezone, output);
    tables.set(node.name, entry);
    own.set(node.name, byColumn(columnDescriptions(node.config)));
    details.push(entry);
  }
  // Their columns inherit descriptions from what they read, as a built model's do; through another
  // model not built yet too (its YAML's, or what it has from upstream), as its page shows them.
  for (const entry of details) describeColumns(tables, own, entry.name, entry.columns);
  return details;
}

/**
 * The columns each node's first build would output, as DuckDB describes its SQL (which runs nothing).
 * What it reads that is not built either is described first and stands in for its table as a
 * temporary view (the SQL its first build runs, not run), so a model over another not built yet has
 * its columns and types too; the views are dropped after. One in a cycle of reads, or over one whose
 * SQL DuckDB cannot describe, has the columns its YAML documents, and a note saying why.
 */
async function describeInOrder(
  snap: Snapshot,
  nodes: ProjectNode[],
  /** Those asked for: each is described after the ones it reads, and nothing else is. */
  starts: string[],
  lineage: Lineage,
  timezone: string,
  { onDescribed, whyNotInLake }: Describing,
): Promise<Map<string, Output>> {
  const byNodeName = new Map(nodes.map((node) => [node.name, node]));
  const inputsOf = (name: string) =>
    [
      ...new Set(
        lineage.edges
          .filter((edge) => edge.to === name && edge.from !== name && byNodeName.has(edge.from))
          .map((edge) => edge.from),
      ),
    ].sort(byName);
  // Inputs first (depth first); a node met again while its inputs are visited closes a cycle.
  const order = new Set<string>();
  const cycles = new Map<string, string[]>();
  const path: string[] = [];
  const visit = (name: string) => {
    if (order.has(name)) return;
    const at = path.indexOf(name);
    if (at >= 0) {
      for (const member of path.slice(at))
        if (!cycles.has(member)) cycles.set(member, [...path.slice(at), name]);
      return;
    }
    path.push(name);
    for (const input of inputsOf(name)) visit(input);
    path.pop();
    order.add(name);
  };
  for (const name of starts) if (byNodeName.has(name)) visit(name);

  const outputs = new Map<string, Output>();
  const viewed = new Set<string>();
  try {
    // One at a time: the snapshot's DuckDB has one connection.
    for (const name of order) {
      const node = byNodeName.get(name) as ProjectNode;
      const cycle = cycles.get(name);
      if (cycle) {
        outputs.set(
          name,
          yamlColumns(
            node,
            `it reads itself through ${cycle.join(' → ')}, so none of these can be built first; make one of them read something else`,
          ),
        );
        continue;
      }
      const sql = firstBuildSql(node, timezone);
      try {
        onDescribed?.(name);
        const types = await describeSelect(snap.db, sql);
        await createTempView(snap.db, name, sql);
        viewed.add(name);
        outputs.set(name, {
          columns: [...types].map(([column, type]) => ({ name: column, type, description: null })),
        });
      } catch (error) {
        const blocked = inputsOf(name).filter((input) => !viewed.has(input));
        const message = (error as Error).message;
        const absent = blocked.length > 0 ? undefined : absentInput(snap, lineage, name, message);
        outputs.set(
          name,
          yamlColumns(
            node,
            blocked.length > 0
              ? `it reads ${blocked.join(', ')}, not built yet either, whose columns cannot be told (inlet catalog ${blocked[0]} says why)`
              : absent !== undefined && whyNotInLake
                ? whyNotInLake(absent)
                : `DuckDB cannot describe its SQL (${message.split('\n')[0]}); inlet run ${name} says what is wrong`,
          ),
        );
      }
    }
  } finally {
    // Left in place, one would stand in front of the model's own view once it is built.
    for (const name of viewed) await dropTempView(snap.db, name);
  }
  return outputs;
}

/** DuckDB's words for a table that is not there: crm.customers when schema crm is not either, else customers. */
const NO_SUCH_TABLE = /^Catalog Error: Table with name "?([^"!]+?)"? does not exist/;

/**
 * The table a model reads, as its SQL names it, that DuckDB's error says is not there, when it is
 * neither a table of the lake nor a model (a lake table nothing has written yet, or a typo); undefined
 * for any other error.
 */
function absentInput(snap: Snapshot, lineage: Lineage, model: string, message: string): string | undefined {
  const said = NO_SUCH_TABLE.exec(message)?.[1]?.toLowerCase();
  if (said === undefined) return undefined;
  const known = new Set(
    [...snap.tables.keys(), ...(snap.project?.nodes.keys() ?? [])].map((name) => name.toLowerCase()),
  );
  return lineage.edges
    .filter((edge) => edge.to === model && !edge.from.startsWith('source:'))
    .map((edge) => edge.from)
    .find((input) => {
      const name = input.toLowerCase();
      return !known.has(name) && (name === said || name.split('.').at(-1) === said);
    });
}

/** The columns a node's YAML documents, of a type not known yet, and why. */
function yamlColumns(node: ProjectNode, why: string): Output {
  return {
    columns: Object.keys(node.config.columns).map((name) => ({ name, type: null, description: null })),
    columns_note: `Its columns are those its YAML documents, of a type not known yet: ${why}.`,
  };
}

/** A model or seed not built yet, its columns not described yet. */
function notBuiltDetail(
  node: ProjectNode,
  lineage: Lineage,
  timezone: string,
  output: Output,
): CatalogTableDetail {
  const sql = firstBuildSql(node, timezone);
  const depends_on = lineage.edges
    .filter((edge) => edge.to === node.name && !edge.from.startsWith('source:'))
    .map((edge) => edge.from);
  return {
    name: node.name,
    kind: node.kind,
    materialized: node.kind === 'seed' ? 'seed' : node.config.materialized,
    description: node.config.description ?? null,
    owner: node.config.owner ?? null,
    rows: null,
    bytes: 0,
    files: 0,
    partitions: { count: 0, first: null, last: null },
    updated_at: null,
    depends_on,
    ...output,
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
