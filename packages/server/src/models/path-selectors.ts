import type { ModelGraph } from './model-graph.ts';
import { wildcardMatch } from './source-patterns.ts';

// dbt's path: and file: selector methods, which dbt also takes without the method when a selector
// has a / in it (models/staging) or ends in a file's extension (stg_orders.sql): dbt users select
// a folder by its path as often as by its dotted name.

/** What a selector asks of the files: a path under the project folder, or a file's name; or neither. */
function pathMethod(name: string): { kind: 'path' | 'file'; want: string } | undefined {
  const [, method, value = ''] = /^(?:(path|file):)?(.*)$/s.exec(name) ?? [];
  const kind =
    method === 'path' || method === 'file'
      ? method
      : value.includes('/')
        ? 'path'
        : /\.(?:sql|csv)$/.test(value)
          ? 'file'
          : undefined;
  return kind && { kind, want: value.replace(/^\.\//, '').replace(/\/+$/, '') };
}

/**
 * dbt's path: as its Path.glob reads it, one step of the path at a time: * and ? stay within a step
 * (models/stag* is the folder models/staging, and no * reaches past a /), and a step that is ** alone
 * is any number of folders, none too (models then ** then revenue.sql finds it at any depth).
 */
function globMatch(pattern: readonly string[], steps: readonly string[]): boolean {
  const [first, ...rest] = pattern;
  if (first === undefined) return steps.length === 0;
  if (first === '**') return steps.some((_step, i) => globMatch(rest, steps.slice(i))) || globMatch(rest, []);
  const [step, ...after] = steps;
  return step !== undefined && wildcardMatch(first.replaceAll('**', '*'), step) && globMatch(rest, after);
}

/**
 * The nodes a path: or file: selector picks, in build order, as dbt's methods pick them: path: the
 * file, or everything under a folder, relative to the project folder (models/staging,
 * models/marts/orders.sql); file: a file's name, with or without its extension. Either may hold
 * dbt's wildcards. Undefined when the selector is neither; an error's text when it picks nothing.
 */
export function pathSelection(
  graph: ModelGraph,
  name: string,
): { nodes: string[] } | { error: string } | undefined {
  const asked = pathMethod(name);
  if (!asked) return undefined;
  const { kind, want } = asked;
  const nodes = graph.order.filter((node) => {
    const file = graph.filePath(node);
    if (file === undefined) return false;
    const steps = file.split('/');
    if (kind === 'file') {
      const base = steps.at(-1) ?? '';
      return wildcardMatch(want, base) || wildcardMatch(want, base.replace(/\.[^.]*$/, ''));
    }
    return steps.some((_step, i) => globMatch(want.split('/'), steps.slice(0, i + 1)));
  });
  if (nodes.length > 0) return { nodes };
  const folders = [
    ...new Set(
      graph.order.flatMap((node) => {
        const file = graph.filePath(node);
        return file === undefined ? [] : [file.split('/').slice(0, -1).join('/')];
      }),
    ),
  ]
    .filter(Boolean)
    .sort();
  return {
    error:
      kind === 'file'
        ? `"${name}" names no model's or seed's file: dbt's file: is a file's name (orders.sql, or orders)`
        : `"${name}" is the path of no model or seed: dbt's path: is relative to the project folder${folders.length > 0 ? ` (its models and seeds are in ${folders.slice(0, 5).join(', ')}${folders.length > 5 ? ', …' : ''})` : ''}`,
  };
}
