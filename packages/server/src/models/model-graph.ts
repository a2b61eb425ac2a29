import { relative, sep } from 'node:path';
import { editDistance } from '../edit-distance.ts';
import { InletError } from '../errors/index.ts';
import { templateRefs } from './model-template.ts';
import { modelNamesHint } from './names-hint.ts';
import { pathSelection } from './path-selectors.ts';
import type { ProjectNode, SwitchedOff } from './project-node.ts';
import { hasWildcard, wildcardMatch } from './source-patterns.ts';
import { type GraphSources, sourceLookup, sourceSelection, sourceTargets } from './source-selectors.ts';

/** The dependency graph of a project's models and seeds, checked for missing refs and cycles. */
export interface ModelGraph {
  /** Every node, dependencies first; ties broken by name so runs are repeatable. */
  order: string[];
  parents(name: string): string[];
  children(name: string): string[];
  /** Everything name depends on, transitively (not name itself). */
  upstream(name: string): Set<string>;
  /** Everything that depends on name, transitively (not name itself). */
  downstream(name: string): Set<string>;
  /** The folders of the node's file under its model or seed folder (staging, marts/finance). */
  folders(name: string): string[];
  /** Where a model not in the graph was switched off (enabled: false), for a selector that names it. */
  disabledBy(name: string): string | undefined;
  /** The models switched off in a folder (staging, marts.finance), for a selector that names it. */
  disabledIn(folder: string): string[];
  /** The project's name: in dbt_project.yml, which a selector may start with (shop.staging). */
  projectName: string | undefined;
  /** Whether the node is the project's own, not a built-in one, for a selector of the project's name. */
  isProjects(name: string): boolean;
  /** The nodes that read a source's tables (crm), or one of them (crm.customers), by source() or by name. */
  readersOf(source: string, table?: string): string[];
  /** Why a selector cannot name this source (or its table), naming those that exist; undefined when it can. */
  sourceProblem(source: string, table?: string): string | undefined;
  /** inlet.yaml's names of a source and table that a selector names as source() does (raw_crm: crm). */
  sourceName(source: string, table?: string): [string, string | undefined];
  /** The sources and tables of inlet.yaml (lake names) whose names, dbt's or inlet.yaml's, match dbt's wildcards (cr*, cust*). */
  sourcesMatching(source: string, table?: string): [string, string | undefined][];
  /** The lake's names of a source's tables (crm.customers), or of the one named; none for a source whose tables cannot be told. */
  sourceTables(source: string, table?: string): string[];
  /** The configuration file the sources are set in, as messages name it (configFileName). */
  sourcesFile: string;
  /** Why a source of GraphSources' leftOut is left out, and what to set (leftOutSource). */
  sourceLeftOut(source: string): { why: string; set: string };
  /** The project's node's file, from the project folder (models/staging/stg_orders.sql); undefined for a built-in one. */
  filePath(name: string): string | undefined;
}

function findCycle(remaining: Set<string>, parents: (name: string) => string[]): string[] {
  // Every remaining node has a remaining parent, so walking parents must come back to a node seen.
  const start = [...remaining].sort()[0] ?? '';
  const path = [start];
  const seen = new Map([[start, 0]]);
  for (let node = start; ; ) {
    const next = parents(node)
      .filter((p) => remaining.has(p))
      .sort()[0];
    if (next === undefined) return path;
    const at = seen.get(next);
    if (at !== undefined) return [...path.slice(at), next].reverse();
    seen.set(next, path.length);
    path.push(next);
    node = next;
  }
}

/**
 * The models a node's data tests read (relationships' to, ref() in a SQL test): not edges of the
 * graph, since a model that fails does not stop them, but it is built after them when it can be,
 * so its tests do not read a table the same run has not built yet.
 */
function testReads(node: ProjectNode, nodes: Map<string, ProjectNode>): string[] {
  const names = [
    ...Object.values(node.config.columns).flatMap((column) =>
      typeof column === 'string'
        ? []
        : column.tests.flatMap((test) =>
            typeof test === 'object' && 'relationships' in test ? [test.relationships.to] : [],
          ),
    ),
    ...node.config.tests.flatMap((test) => ('sql' in test ? templateRefs(test.sql) : [])),
  ];
  return [...new Set(names)].filter((name) => name !== node.name && nodes.has(name));
}

/** Whether name reaches itself through the parents given, among the names still left. */
function inCycle(name: string, parents: (name: string) => string[], left: Set<string>): boolean {
  const seen = new Set<string>();
  const stack = parents(name).filter((p) => left.has(p));
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (next === name) return true;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...parents(next).filter((p) => left.has(p)));
  }
  return false;
}

/** Raw lake tables, which are read by name, not through ref(). */
const RAW_TABLES = new Set(['events', 'access_logs', 'app_logs']);

/** What a ref to nothing most likely meant: a table read by name (events, crm.customers), or a typo. */
function refHint(ref: string, nodes: Map<string, ProjectNode>, from: string): string {
  if (RAW_TABLES.has(ref) || ref.includes('.'))
    return `; ${ref} is ${ref.includes('.') ? "a source's table" : 'a table of the lake'}, not a model, so read it by its name: FROM ${ref}`;
  const lower = ref.toLowerCase();
  // Never the model that refs: it cannot read itself (a cycle), and a ref to one renamed offered it.
  const close = [...nodes.keys()].filter(
    (name) =>
      name !== from &&
      (name === lower || (Math.abs(name.length - ref.length) <= 2 && editDistance(name, lower) <= 2)),
  );
  return modelNamesHint(
    close.slice(0, 3),
    [...nodes.keys()].filter((name) => name !== from),
    true,
  );
}

/**
 * Builds the graph; a ref to nothing or a cycle is an error that names the models involved.
 * disabled: the models switched off, by name, with where, so a selector naming one says so.
 */
export function buildGraph(
  nodes: Map<string, ProjectNode>,
  disabled: ReadonlyMap<string, SwitchedOff> = new Map(),
  projectName?: string,
  sources: GraphSources = { tables: new Map(), leftOut: [] },
  projectDir?: string,
): ModelGraph {
  const missing: string[] = [];
  for (const node of nodes.values())
    for (const ref of node.refs)
      if (!nodes.has(ref))
        missing.push(
          `${node.name} (${node.path}) refers to ref('${ref}'), which no model or seed defines${refHint(ref, nodes, node.name)}`,
        );
  if (missing.length > 0)
    throw new InletError(
      'MODEL_REF_MISSING',
      // Each line a sentence; one that asks "did you mean orders?" takes no full stop after it.
      missing.map((line) => (/[?.]$/.test(line) ? line : `${line}.`)).join('\n'),
      { details: { missing } },
    );

  const childMap = new Map<string, string[]>([...nodes.keys()].map((name) => [name, []]));
  for (const node of nodes.values()) for (const ref of node.refs) childMap.get(ref)?.push(node.name);
  const parents = (name: string) => nodes.get(name)?.refs ?? [];
  const children = (name: string) => childMap.get(name) ?? [];

  // Build order follows refs and, where they make no cycle, what each model's tests read.
  const before = new Map(
    [...nodes.values()].map((node) => [node.name, [...new Set([...node.refs, ...testReads(node, nodes)])]]),
  );
  const after = new Map<string, string[]>([...nodes.keys()].map((name) => [name, []]));
  for (const [name, first] of before) for (const parent of first) after.get(parent)?.push(name);
  const waiting = new Map([...before].map(([name, first]) => [name, first.length]));
  const queued = new Set([...waiting].filter(([, n]) => n === 0).map(([name]) => name));
  const ready = [...queued];
  const order: string[] = [];
  const left = new Set(nodes.keys());
  while (order.length < nodes.size) {
    if (ready.length === 0) {
      // Stuck: a cycle. One only a test's read closes is broken at a model whose refs are all built.
      const free = [...left].filter((name) => parents(name).every((p) => !left.has(p))).sort();
      const next = free.find((name) => inCycle(name, (n) => before.get(n) ?? [], left)) ?? free[0];
      if (next === undefined) break;
      queued.add(next);
      ready.push(next);
    }
    ready.sort();
    const name = ready.shift() as string;
    order.push(name);
    left.delete(name);
    for (const child of after.get(name) ?? []) {
      const count = (waiting.get(child) ?? 0) - 1;
      waiting.set(child, count);
      if (count <= 0 && !queued.has(child)) {
        queued.add(child);
        ready.push(child);
      }
    }
  }
  if (order.length < nodes.size) {
    const itself = [...left].sort().find((name) => parents(name).includes(name));
    if (itself)
      throw new InletError(
        'MODEL_CYCLE',
        `${itself} refers to itself with ref('${itself}'); to read what it built before, use {{ this }} inside {% if is_incremental %}…{% endif %}.`,
        { details: { cycle: [itself, itself] } },
      );
    const remaining = new Set(left);
    const cycle = findCycle(remaining, parents);
    throw new InletError(
      'MODEL_CYCLE',
      `Models refer to each other in a cycle: ${cycle.join(' → ')}. Remove one of these refs.`,
      { details: { cycle } },
    );
  }

  const walk = (start: string, next: (name: string) => string[]) => {
    const out = new Set<string>();
    const stack = [...next(start)];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (out.has(name)) continue;
      out.add(name);
      stack.push(...next(name));
    }
    return out;
  };
  return {
    order,
    parents,
    children,
    upstream: (name) => walk(name, parents),
    downstream: (name) => walk(name, children),
    folders: (name) => nodes.get(name)?.folders ?? [],
    disabledBy: (name) => (nodes.has(name) ? undefined : disabled.get(name)?.where),
    disabledIn: (folder) =>
      [...disabled]
        .filter(([name, off]) => inPath([...off.folders, name], folder, projectName))
        .map(([name]) => name),
    projectName,
    isProjects: (name) => nodes.get(name)?.origin === 'project',
    filePath: (name) => {
      const node = nodes.get(name);
      return node?.origin === 'project' && projectDir !== undefined
        ? relative(projectDir, node.path).split(sep).join('/')
        : undefined;
    },
    ...sourceLookup(nodes, order, sources),
  };
}

/**
 * The nodes a selector list picks, in build order: `name`, `+name` (with everything upstream),
 * `name+` (with everything downstream), `+name+`; as dbt, `2+name` and `name+1` go that many steps,
 * and `@name` is name+ with everything upstream of those; `a,b` is what both pick, as dbt's
 * intersection. No selector picks everything. What the exclude selectors pick is left out, as dbt's --exclude.
 */
export function selectNodes(graph: ModelGraph, selectors: string[], exclude: string[] = []): string[] {
  const picked = selectors.length === 0 ? new Set(graph.order) : pick(graph, selectors);
  const dropped = exclude.length === 0 ? new Set<string>() : pick(graph, exclude, 'exclude');
  return graph.order.filter((name) => picked.has(name) && !dropped.has(name));
}

const SELECTORS =
  'Selectors are name, +name (with upstream), name+ (with downstream), 2+name or name+1 (that many steps), @name (name+ with their upstream); a folder (staging, marts.finance) stands for the models in it, and staging.* or * (as dbt, with * ? [abc]) for the paths they match; path:models/staging and file:orders.sql as in dbt; source:crm+ for those that read a source (@source:crm with what they need); a,b for those both pick.';

/**
 * The nodes a name selects: the node of that name, else those its path names, as dbt selects by
 * a model's folders (staging, or marts.finance for marts/finance/) and name (staging.stg_orders),
 * with dbt's wildcards too (staging.*, *).
 */
function named(graph: ModelGraph, name: string): string[] {
  if (graph.order.includes(name)) return [name];
  // The project's name alone is all of it, as dbt selects a package: its models, not the built-in ones.
  if (name === graph.projectName) return graph.order.filter((node) => graph.isProjects(node));
  if (hasWildcard(name))
    return graph.order.filter((node) => {
      const path = [...graph.folders(node), node];
      return (
        globPath(path, name) || (graph.isProjects(node) && globPath([graph.projectName ?? '', ...path], name))
      );
    });
  // The project's name leads only to its own models, as a package's name in dbt: shop.staging
  // picked the built-in marts' staging folder too.
  return graph.order.filter((node) =>
    inPath([...graph.folders(node), node], name, graph.isProjects(node) ? graph.projectName : undefined),
  );
}

/**
 * Whether a selector with dbt's wildcards (staging.*, *, marts.fin*, *orders) names a node by its
 * path, as dbt's fqn method does: the parts before the first wildcard are folders from the top, and
 * the rest is matched by fnmatch against the rest of the path, dots and all.
 */
function globPath(path: string[], selector: string): boolean {
  const steps = selector.split('.');
  const at = steps.findIndex(hasWildcard);
  if (steps.length > path.length || !steps.slice(0, at).every((step, i) => path[i] === step)) return false;
  return wildcardMatch(steps.slice(at).join('.'), path.slice(at).join('.'));
}

/**
 * Whether a selector names a node by its path, folders then its own name, as dbt's fully qualified
 * names do: marts.finance for marts/finance/…, staging.stg_orders, and either after the project's name.
 */
function inPath(path: string[], selector: string, projectName: string | undefined): boolean {
  const steps = selector.split('.');
  const prefix = (of: string[]) =>
    of.length > 0 && of.length <= path.length && of.every((step, i) => path[i] === step);
  return prefix(steps) || (steps[0] === projectName && prefix(steps.slice(1)));
}

/** The nodes up to depth steps from start along next, start left out; any depth when undefined. */
function near(start: string, next: (name: string) => string[], depth: number | undefined): string[] {
  const seen = new Set<string>([start]);
  let frontier = [start];
  for (let step = 0; frontier.length > 0 && (depth === undefined || step < depth); step++) {
    frontier = frontier.flatMap(next).filter((name) => !seen.has(name) && seen.add(name));
  }
  seen.delete(start);
  return [...seen];
}

/**
 * The nodes the selectors pick. A model switched off names nothing to build, so selecting it is
 * an error; excluding it leaves out nothing, as dbt's --exclude passes over disabled models.
 */
function pick(graph: ModelGraph, selectors: string[], use: 'select' | 'exclude' = 'select'): Set<string> {
  const picked = new Set<string>();
  for (const selector of selectors) {
    const text = selector.trim();
    // dbt's intersection: the nodes every part picks (+daily,staging: what daily needs in staging).
    if (text.includes(',')) {
      const parts = text.split(',');
      if (parts.some((part) => part.trim() === ''))
        throw new InletError(
          'MODEL_NOT_FOUND',
          `"${selector}" has an empty part; dbt's intersection a,b names a selector on each side of each comma, with no spaces. ${SELECTORS}`,
        );
      const [first, ...rest] = parts.map((part) => pick(graph, [part], use));
      for (const node of first ?? []) if (rest.every((set) => set.has(node))) picked.add(node);
      continue;
    }
    // dbt's --exclude source:crm leaves out the source's own nodes, which are synced, never built or
    // picked here: it excludes nothing, once the source is known (a typo is still an error).
    const sourceOnly = use === 'exclude' ? /^source:([^+@]+)$/.exec(text) : null;
    if (sourceOnly) {
      const named = sourceTargets(graph, selector, sourceOnly[1] ?? '', 'names no source to leave out');
      if ('error' in named) throw new InletError('MODEL_NOT_FOUND', `${named.error}.`);
      continue;
    }
    if (/^(?:@|\d*\+)?source:/.test(text)) {
      const { readers, steps, withUpstream } = sourceSelection(graph, text);
      const down = [...readers, ...readers.flatMap((reader) => near(reader, graph.children, steps))];
      for (const node of down) picked.add(node);
      if (withUpstream) for (const node of down) for (const above of graph.upstream(node)) picked.add(above);
      continue;
    }
    // dbt's other selector methods (tag:, config.materialized:) have no inlet meaning.
    // With graph operators too (+tag:nightly, 1+tag:nightly, @tag:nightly), as dbt writes them.
    const method = /^(?:@|\d*\+)?([a-z_.]+):/.exec(text)?.[1];
    if (method && method !== 'path' && method !== 'file')
      throw new InletError(
        'MODEL_NOT_FOUND',
        `"${selector}" is dbt's ${method}: selector method, which inlet does not have; name the models, with their graph operators. ${SELECTORS}`,
      );
    const match = /^(?:(@)|(\d*)(\+))?([^+@]+?)(?:(\+)(\d*))?$/.exec(text);
    const name = match?.[4] ?? selector;
    const byPath = match ? pathSelection(graph, name) : undefined;
    if (byPath && 'error' in byPath) throw new InletError('MODEL_NOT_FOUND', `${byPath.error}. ${SELECTORS}`);
    const starts = byPath ? byPath.nodes : match ? named(graph, name) : [];
    const off = match ? graph.disabledBy(name) : undefined;
    // A folder whose models are all switched off is named as one of them would be.
    const offIn = match && !off ? graph.disabledIn(name) : [];
    if ((off || offIn.length > 0) && starts.length === 0 && use === 'exclude') continue;
    // A path to one model (marts.finance.old) names that model.
    const [only] = offIn.length === 1 && name.endsWith(`.${offIn[0]}`) ? offIn : [];
    const offOne = off ?? (only === undefined ? undefined : graph.disabledBy(only));
    if (offOne && starts.length === 0)
      throw new InletError(
        'MODEL_NOT_FOUND',
        `"${selector}" names ${only ?? name}, which is switched off (${offOne}); enable it to build or test it, or leave it out.`,
      );
    if (offIn.length > 0 && starts.length === 0)
      throw new InletError(
        'MODEL_NOT_FOUND',
        `"${selector}" names the folder ${name}, whose models are all switched off (${offIn
          .slice(0, 3)
          .map((model) => `${model}: ${graph.disabledBy(model)}`)
          .join(
            '; ',
          )}${offIn.length > 3 ? `; and ${offIn.length - 3} more` : ''}); enable them to build or test them, or leave it out.`,
      );
    if (match && starts.length === 0 && hasWildcard(name)) {
      // dbt's stg_* matches no model in a folder, which a dbt user may not expect: show where they are.
      const last = name.split('.').at(-1) ?? name;
      const deeper = graph.order
        .filter((node) => graph.folders(node).length > 0 && wildcardMatch(last, node))
        .slice(0, 5)
        .map((node) => [...graph.folders(node), node].join('.'));
      throw new InletError(
        'MODEL_NOT_FOUND',
        `No model or seed matches "${selector}": as in dbt, a wildcard matches a model's path from the top, its folders then its name${deeper.length > 0 ? ` (${deeper.join(', ')}: *${last} matches them in any folder)` : ''}. ${SELECTORS}`,
      );
    }
    if (!match || starts.length === 0) {
      // A typo (cusomer_totals) is as close as a part of the name; a short name allows fewer edits.
      const edits = Math.min(2, Math.floor(name.length / 4));
      const close = graph.order
        .filter(
          (n) =>
            n.includes(name) ||
            name.includes(n) ||
            (Math.abs(n.length - name.length) <= edits && editDistance(n, name.toLowerCase()) <= edits),
        )
        .slice(0, 5);
      throw new InletError(
        'MODEL_NOT_FOUND',
        `No model or seed matches "${selector}"${modelNamesHint(close, graph.order)} ${SELECTORS}`,
      );
    }
    const [, at, upDepth, up, , down, downDepth] = match;
    const steps = (digits: string | undefined) => (digits ? Number(digits) : undefined);
    for (const start of starts) {
      picked.add(start);
      if (up) for (const node of near(start, graph.parents, steps(upDepth))) picked.add(node);
      if (down || at) for (const node of near(start, graph.children, steps(downDepth))) picked.add(node);
      if (at)
        for (const node of [...picked].filter((n) => n === start || graph.downstream(start).has(n)))
          for (const ancestor of graph.upstream(node)) picked.add(ancestor);
    }
  }
  return picked;
}
