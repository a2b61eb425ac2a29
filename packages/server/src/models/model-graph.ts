import { InletError } from '../errors/index.ts';
import type { ProjectNode } from './project-loader.ts';

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

/** Builds the graph; a ref to nothing or a cycle is an error that names the models involved. */
export function buildGraph(nodes: Map<string, ProjectNode>): ModelGraph {
  const missing: string[] = [];
  for (const node of nodes.values())
    for (const ref of node.refs)
      if (!nodes.has(ref))
        missing.push(`${node.name} (${node.path}) refers to ref('${ref}'), which no model or seed defines`);
  if (missing.length > 0)
    throw new InletError('MODEL_REF_MISSING', `${missing.join('\n')}.`, { details: { missing } });

  const childMap = new Map<string, string[]>([...nodes.keys()].map((name) => [name, []]));
  for (const node of nodes.values()) for (const ref of node.refs) childMap.get(ref)?.push(node.name);
  const parents = (name: string) => nodes.get(name)?.refs ?? [];
  const children = (name: string) => childMap.get(name) ?? [];

  const waiting = new Map([...nodes.values()].map((node) => [node.name, new Set(node.refs).size]));
  const ready = [...waiting].filter(([, n]) => n === 0).map(([name]) => name);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort();
    const name = ready.shift() as string;
    order.push(name);
    for (const child of new Set(children(name))) {
      const left = (waiting.get(child) ?? 0) - 1;
      waiting.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  if (order.length < nodes.size) {
    const remaining = new Set([...nodes.keys()].filter((name) => !order.includes(name)));
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
  };
}

/**
 * The nodes a selector list picks, in build order: `name`, `+name` (with everything upstream),
 * `name+` (with everything downstream), `+name+`. No selector picks everything.
 */
export function selectNodes(graph: ModelGraph, selectors: string[]): string[] {
  if (selectors.length === 0) return graph.order;
  const picked = new Set<string>();
  for (const selector of selectors) {
    const match = /^(\+?)([^+]+)(\+?)$/.exec(selector.trim());
    const name = match?.[2] ?? selector;
    if (!match || !graph.order.includes(name)) {
      const close = graph.order.filter((n) => n.includes(name) || name.includes(n)).slice(0, 5);
      throw new InletError(
        'MODEL_NOT_FOUND',
        `No model or seed matches "${selector}"${close.length > 0 ? `; did you mean ${close.join(', ')}?` : '.'} Selectors are name, +name (with upstream), name+ (with downstream).`,
      );
    }
    picked.add(name);
    if (match[1]) for (const up of graph.upstream(name)) picked.add(up);
    if (match[3]) for (const down of graph.downstream(name)) picked.add(down);
  }
  return graph.order.filter((name) => picked.has(name));
}
