import { type Project, sourceDescription, templateCode } from '../models/index.ts';
import { type TableKind, tableKind } from './catalog-table.ts';

export interface LineageNode {
  /** A table or view name, or source:<name> for a configured source (a database, a log). */
  id: string;
  /** A table's kind, as the catalog gives it; source for a configured source (source:crm). */
  kind: TableKind | 'source';
  /** False for a model of the project that has not been built yet. */
  built: boolean;
  /** A source's description, from a properties file's sources: (absent when none gives one). */
  description?: string;
}

export interface Lineage {
  nodes: LineageNode[];
  edges: Array<{ from: string; to: string }>;
}

/** Only what lineage needs to know about each table the engine has. */
interface TableFacts {
  kind: TableKind;
  depends_on: string[];
}

/** Whether SQL has the table's name (its last part: customers of crm.customers) as a word. */
function namesTable(sql: string, table: string): boolean {
  const last = (table.split('.').at(-1) ?? table).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w$])${last}(?![\\w$])`, 'i').test(sql);
}

/**
 * Edges source → table → model → model: from the refs and source()s of the project's models as written now, from
 * each table's depends_on (the other tables a model read when it was built and still names, what a
 * source wrote), from the tables a model's SQL reads now (sqlInputs, by DuckDB's parser; for a model
 * whose SQL it cannot parse, what it read when built), and from a source table's schema to the
 * configured source of that name.
 */
export function buildLineage(
  tables: Map<string, TableFacts>,
  project: Project | undefined,
  sources: string[],
  /** The tables each model of the project reads, from its SQL as written now, as DuckDB's parser reads it. */
  sqlInputs: ReadonlyMap<string, string[]> = new Map(),
  /** The log tables with the log sources that write each (access_logs ← nginx). */
  logWriters: ReadonlyMap<string, string[]> = new Map(),
): Lineage & { upstream(name: string): string[]; downstream(name: string): string[] } {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, { from: string; to: string }>();
  const sourceIds = new Set(sources.map((s) => `source:${s}`));
  const edge = (from: string, to: string) => edges.set(`${from}\u0000${to}`, { from, to });
  for (const source of sources) {
    const description = sourceDescription(project, source);
    nodes.set(`source:${source}`, {
      id: `source:${source}`,
      kind: 'source',
      built: true,
      ...(description === undefined ? {} : { description }),
    });
  }
  for (const [name, table] of tables) {
    const node = project?.nodes.get(name);
    nodes.set(name, { id: name, kind: table.kind, built: true });
    // A project model's inputs are what its SQL reads now (below), as in dbt: an edit may have
    // added one, or taken one out or left it only in a comment or a string ('events'), where it
    // reads nothing. Only for SQL DuckDB cannot parse now is what it read when last built shown,
    // while its SQL still names it.
    if (node?.kind === 'model' && sqlInputs.has(name)) continue;
    const sql = node?.kind === 'model' ? templateCode(node.sql) : undefined;
    for (const dep of table.depends_on)
      if (sql === undefined || namesTable(sql, dep))
        edge(sourceIds.has(`source:${dep}`) && !tables.has(dep) ? `source:${dep}` : dep, name);
    const schema = name.includes('.') ? name.split('.')[0] : undefined;
    if (
      table.kind === 'source_table' &&
      table.depends_on.length === 0 &&
      schema &&
      sourceIds.has(`source:${schema}`)
    )
      edge(`source:${schema}`, name);
  }
  // A log source's node stood alone: nothing said it writes access_logs (or its table:), written yet or not.
  for (const [table, writers] of logWriters) {
    if (!nodes.has(table)) nodes.set(table, { id: table, kind: 'logs', built: false });
    for (const writer of writers) if (sourceIds.has(`source:${writer}`)) edge(`source:${writer}`, table);
  }
  // A name as the SQL writes it (FROM Events) is the table or model of that name in any case, as
  // DuckDB reads identifiers.
  const known = new Map<string, string>();
  for (const name of [...(project?.nodes.keys() ?? []), ...tables.keys()])
    known.set(name.toLowerCase(), name);
  for (const node of project?.nodes.values() ?? []) {
    if (!nodes.has(node.name)) nodes.set(node.name, { id: node.name, kind: node.kind, built: false });
    for (const input of [...node.refs, ...node.sources]) edge(input, node.name);
    // What a model's SQL reads, built or not: known before it is run, or run again after an edit.
    for (const input of sqlInputs.get(node.name) ?? []) {
      const name = known.get(input.toLowerCase()) ?? input;
      edge(sourceIds.has(`source:${name}`) && !tables.has(name) ? `source:${name}` : name, node.name);
    }
  }
  // An input that is neither a table nor a model (a table since removed) still shows as a node, of
  // the kind its name tells.
  for (const { from } of [...edges.values()]) {
    if (nodes.has(from)) continue;
    nodes.set(from, { id: from, kind: tableKind(from), built: false });
    // A source's table not synced yet that a model reads comes from its source, as a synced one
    // does: crm.orders stood without source:crm upstream of it until inlet sync crm.
    const schema = from.includes('.') ? `source:${from.split('.')[0]}` : undefined;
    if (schema && sourceIds.has(schema)) edge(schema, from);
  }

  const list = [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  const walk = (start: string, forward: boolean) => {
    const out = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      const at = stack.pop() as string;
      for (const e of list) {
        const next = forward ? (e.from === at ? e.to : undefined) : e.to === at ? e.from : undefined;
        if (next && !out.has(next)) {
          out.add(next);
          stack.push(next);
        }
      }
    }
    return [...out].sort();
  };
  return {
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: list,
    upstream: (name) => walk(name, false),
    downstream: (name) => walk(name, true),
  };
}
