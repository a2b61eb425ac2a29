import { configFileName, leftOutSource } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { ModelGraph } from './model-graph.ts';
import { templateCode } from './model-template.ts';
import type { ProjectNode } from './project-node.ts';
import { sourceProblem } from './source-check.ts';
import { hasWildcard, sourceParts, wildcardMatch } from './source-patterns.ts';

// dbt's source:crm+ selects the models downstream of a source: those that read its tables. A model
// reads one through {{ source('crm', 'customers') }} or, as inlet's models may, by name (crm.customers).

/** The sources inlet.yaml configures, as selectors may name them (source:crm+). */
export interface GraphSources {
  /** Each source's tables; undefined for a log source, whose rows are a table of its own. */
  tables: ReadonlyMap<string, string[] | undefined>;
  /** Sources left out for an unset ${VAR}: there, but their tables cannot be told. */
  leftOut: string[];
  /** The unset variable that leaves each of leftOut out, which messages name. */
  leftOutBy?: Readonly<Record<string, string>>;
  /**
   * dbt's names of a source (crm) or a table (crm.customers) that sources: maps to others of
   * inlet.yaml (its schema:, its identifier:), as source() reads them.
   */
  aliases?: ReadonlyMap<string, string>;
  /** The file sources: was read from, which messages name (configFileName); undefined when none was. */
  configPath?: string | undefined;
  /** The table each log source writes (nginx → access_logs), which a message naming one points to. */
  logTables?: ReadonlyMap<string, string>;
}

const asRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether the node reads the source's table, by source() or by name; with no table, any of the
 * source's (by name, any of tables, when they are known, so that an alias crm.id is no read).
 */
export function readsSource(
  node: ProjectNode,
  source: string,
  table: string | undefined,
  tables: string[] | undefined,
): boolean {
  if (table === undefined && tables !== undefined)
    return tables.some((each) => readsSource(node, source, each, tables));
  const named = (read: string) =>
    table === undefined ? read.startsWith(`${source}.`) : read === `${source}.${table}`;
  if (node.sources.some(named)) return true;
  if (node.kind !== 'model') return false;
  // A name in the code (not in a comment or a string), quoted or not: crm.customers, "crm"."customers".
  const part = (name: string) => `(?:${asRegExp(name)}|"${asRegExp(name.replaceAll('"', '""'))}")`;
  const last = table === undefined ? '(?:[A-Za-z_]|")' : `${part(table)}(?![\\w$"])`;
  return new RegExp(`(?<![\\w$."])${part(source)}\\s*\\.\\s*${last}`, 'i').test(templateCode(node.sql));
}

/** A graph's readersOf, sourceProblem, sourceName, sourcesMatching and sourceTables, over its nodes in build order. */
export function sourceLookup(
  nodes: Map<string, ProjectNode>,
  order: string[],
  sources: GraphSources,
): Pick<
  ModelGraph,
  | 'readersOf'
  | 'sourceProblem'
  | 'sourceName'
  | 'sourcesMatching'
  | 'sourceTables'
  | 'sourcesFile'
  | 'sourceLeftOut'
> {
  const aliases = [...(sources.aliases ?? [])];
  // A selector names a source and a table as source() does: by dbt's names, which may be aliases.
  const inLake = (source: string, table?: string): [string, string | undefined] => {
    const aliased = table === undefined ? undefined : sources.aliases?.get(`${source}.${table}`);
    if (aliased === undefined) return [sources.aliases?.get(source) ?? source, table];
    const [lake = '', real = ''] = aliased.split(/\.(.*)/);
    return [lake, real];
  };
  // Every name a selector's wildcards may match, dbt's and inlet.yaml's, with the table it is in the lake.
  const names = (): { source: string; table: string | undefined; lake: [string, string | undefined] }[] => [
    ...[...sources.tables].flatMap(([lake, tables]) =>
      [
        lake,
        ...aliases.filter(([from, to]) => to === lake && !from.includes('.')).map(([from]) => from),
      ].flatMap((source) =>
        (tables ?? []).map((table) => ({ source, table, lake: [lake, table] as [string, string] })),
      ),
    ),
    ...sources.leftOut.map((lake) => ({
      source: lake,
      table: undefined,
      lake: [lake, undefined] as [string, undefined],
    })),
    ...aliases
      .filter(([from]) => from.includes('.'))
      .map(([from, to]) => {
        const [source = '', table = ''] = from.split(/\.(.*)/);
        const [lake = '', real = ''] = to.split(/\.(.*)/);
        return { source, table, lake: [lake, real] as [string, string] };
      }),
  ];
  return {
    readersOf: (source, table) => {
      const [lake, real] = inLake(source, table);
      return order.filter((name) => {
        const node = nodes.get(name);
        return node !== undefined && readsSource(node, lake, real, sources.tables.get(lake));
      });
    },
    sourceProblem: (source, table) => sourceProblem(sources, ...inLake(source, table)),
    sourceName: inLake,
    sourcesFile: configFileName({ configPath: sources.configPath }),
    sourceLeftOut: (source) =>
      leftOutSource(configFileName({ configPath: sources.configPath }), sources.leftOutBy?.[source]),
    sourcesMatching: (source, table) => {
      const matched = new Map<string, [string, string | undefined]>();
      for (const name of names())
        if (
          wildcardMatch(source, name.source) &&
          (table === undefined || (name.table !== undefined && wildcardMatch(table, name.table)))
        )
          matched.set(name.lake.join('.'), name.lake);
      return [...matched.values()];
    },
    sourceTables: (source, table) => {
      const [lake, real] = inLake(source, table);
      return (real === undefined ? (sources.tables.get(lake) ?? []) : [real]).map(
        (each) => `${lake}.${each}`,
      );
    },
  };
}

/**
 * The sources (and tables) of inlet.yaml a source: selector's value names (crm, crm.customers,
 * shop.crm.customers, cr*, crm.cust*), each as [source, table]; or why it names none. A name with
 * no wildcard is kept as typed (dbt's or inlet.yaml's), as source() takes it.
 */
export function sourceTargets(
  graph: ModelGraph,
  selector: string,
  value: string,
  noSource = 'names no source',
): { targets: [string, string | undefined][] } | { error: string } {
  const parts = sourceParts(selector, value, graph.projectName);
  if ('error' in parts) return parts;
  const { source, table } = parts;
  if (hasWildcard(source) || (table !== undefined && hasWildcard(table))) {
    const targets = graph.sourcesMatching(source, table);
    if (targets.length > 0) return { targets };
    const all = graph.sourcesMatching('*', '*').map((pair) => pair.join('.'));
    return {
      error:
        all.length > 0
          ? `"${selector}" matches no source table of ${graph.sourcesFile} (its tables are ${all.join(', ')})`
          : `"${selector}" matches no source table: none is configured; add sources under sources: in ${graph.sourcesFile}`,
    };
  }
  const problem = graph.sourceProblem(source, table);
  if (!problem) return { targets: [[source, table]] };
  // dbt reads source:shop.crm as the source shop's table crm, however the project is named.
  const projects =
    table !== undefined && source === graph.projectName
      ? `; dbt reads it as source ${source}'s table ${table}: source:${source}.${table}.* names the tables of source ${table} of project ${source}`
      : '';
  return { error: `"${selector}" ${noSource}: ${problem}${projects}` };
}

/**
 * dbt's source:crm+ and source:crm.customers+ (source:crm+1 for one step, source:crm.*+ as
 * source:crm+, source:cr*+ with dbt's wildcards, source:shop.crm+ with the project's name): the
 * nodes that read the source's tables (or that table), and how many steps below them to go too
 * (any when undefined). A source itself is synced, not built, so source:crm alone selects nothing to build.
 */
export function sourceSelection(
  graph: ModelGraph,
  selector: string,
): { readers: string[]; steps: number | undefined; withUpstream: boolean } {
  // As in dbt: source:crm+ (and +source:crm+, as a source has nothing upstream), and @source:crm,
  // which is source:crm+ with everything upstream of what it selects.
  const found = /^(?:(@)|(?:\d*\+)?)source:([^+@]+)(?:\+(\d*)|(?<=^@[^+]*))$/.exec(selector);
  if (!found) throw new InletError('MODEL_NOT_FOUND', notToBuild(graph, selector));
  const [, at, value = '', depth = ''] = found;
  const named = sourceTargets(graph, selector, value, 'names no source to select from');
  if ('error' in named) throw new InletError('MODEL_NOT_FOUND', `${named.error}.`);
  const readers = new Set(named.targets.flatMap(([source, table]) => graph.readersOf(source, table)));
  // The readers are one step down from the source.
  return {
    readers: graph.order.filter((name) => readers.has(name)),
    steps: depth === '' ? undefined : Number(depth) - 1,
    withUpstream: at !== undefined,
  };
}

/**
 * Why a source: selector without a + after it selects nothing to build, with the names that do:
 * inlet.yaml's too where a properties file maps dbt's (raw_crm) to them by schema: or identifier:.
 */
function notToBuild(graph: ModelGraph, selector: string): string {
  const operators =
    'source:<source>+ (or source:<source>.<table>+) selects the models that read it and everything downstream of them, @source:<source> those with everything upstream of them';
  if (/^(?:@|\d*\+)source:/.test(selector))
    return `"${selector}": a source has nothing upstream to select; ${operators}.`;
  const found = /^source:([^+@]+)$/.exec(selector);
  if (!found)
    return `"${selector}" is not a source selector; ${operators}; inlet test takes source:<source> for the tests of a properties file's sources:.`;
  const named = sourceTargets(graph, selector, found[1] ?? '');
  if ('error' in named) return `${named.error}.`;
  const [[source, table] = ['', undefined], ...more] = named.targets;
  const [lakeSource, lakeTable] = graph.sourceName(source, table);
  const tests = `inlet test takes ${selector} for the tests of a properties file's sources:.`;
  if (more.length > 0 || hasWildcard(found[1] ?? '')) {
    const lake = named.targets.map(([s, t]) => graph.sourceName(s, t).filter(Boolean).join('.'));
    const syncs = [...new Set(named.targets.map(([s]) => graph.sourceName(s)[0]))];
    return `"${selector}" selects source tables (${lake.join(', ')}), which are synced (inlet sync ${syncs.join(', inlet sync ')}), not built: inlet run builds none of them. ${selector}+ selects the models that read them and everything downstream of them; ${tests}`;
  }
  const typed = table === undefined ? source : `${source}.${table}`;
  const lake = lakeTable === undefined ? lakeSource : `${lakeSource}.${lakeTable}`;
  const aliased = lake !== typed;
  return `"${selector}" selects ${table === undefined ? "a source's tables" : "a source's table"}${aliased ? ` (${typed} is dbt's name, by its sources: entry, for ${lake} of ${graph.sourcesFile})` : ''}, which are synced (inlet sync ${lakeSource}), not built: inlet run builds none of them. ${selector}+${aliased ? ` (or source:${lake}+)` : ''} selects the models that read ${table === undefined ? 'them' : 'it'} and everything downstream of them; ${tests}`;
}

/** A source: selector with nothing upstream asked for and no intersection: source:crm, source:cr*+1. */
const SOURCE_ONLY = /^source:[^,@+]+(\+\d*)?$/;

/**
 * dbt ls's view of source: selectors: the source tables they name (crm.customers), by name as dbt
 * sorts them, less those the exclude selectors name; and the selectors left for the graph: those with a
 * + (source:crm+ names the tables and the models that read them) and every other. models is
 * undefined when source: selectors without a + were all there was: the graph then picks nothing.
 */
export function sourceListing(
  graph: ModelGraph,
  selectors: string[],
  exclude: string[],
): { tables: string[]; models: string[] | undefined; exclude: string[] } {
  const tablesOf = (list: string[]) =>
    list.flatMap((selector) => {
      const found = SOURCE_ONLY.exec(selector.trim());
      if (!found) return [];
      const named = sourceTargets(
        graph,
        selector,
        selector
          .trim()
          .slice('source:'.length)
          .replace(/\+\d*$/, ''),
      );
      if ('error' in named) throw new InletError('MODEL_NOT_FOUND', `${named.error}.`);
      const tables = named.targets.flatMap(([source, table]) => graph.sourceTables(source, table));
      const leftOut = graph.sourceLeftOut(named.targets[0]?.[0] ?? '');
      if (tables.length === 0 && list === selectors && !found[1])
        throw new InletError(
          'MODEL_NOT_FOUND',
          `"${selector}" names a source whose tables cannot be listed: ${leftOut.why}; ${leftOut.set} to list them.`,
        );
      return tables;
    });
  const left = new Set(tablesOf(exclude));
  const forGraph = (list: string[]) =>
    list.filter((selector) => !SOURCE_ONLY.test(selector.trim()) || /\+\d*$/.test(selector.trim()));
  const models = forGraph(selectors);
  return {
    tables: [...new Set(tablesOf(selectors))].filter((table) => !left.has(table)).sort(),
    models: selectors.length > 0 && models.length === 0 ? undefined : models,
    exclude: forGraph(exclude),
  };
}
