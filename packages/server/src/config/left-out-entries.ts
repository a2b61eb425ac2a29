import type { z } from 'zod';
import { InletError } from '../errors/index.ts';
import { nameUsedTwice, parseSourceOptions } from '../sources/index.ts';
import { describeIssues } from './config-issues.ts';
import { type Env, type UnsetInEntry, unsetVariable } from './env-expansion.ts';
import { configSchema, type ParsedConfig } from './schema.ts';

/**
 * Whether an issue of an entry left out is its unset variables' doing: one at a key that holds one,
 * or around it (the step whose vars: it is in). An unknown key is no value's doing: a misspelt key
 * beside the unset one went unsaid until the variable was set, and inlet then refused to start.
 */
function byUnset(issue: z.core.$ZodIssue, unset: UnsetInEntry[]): boolean {
  if (issue.code === 'unrecognized_keys') return false;
  return unset.some(({ path }) => issue.path.every((key, i) => String(key) === String(path[i])));
}

/**
 * Checks the entries of a list at indexes, those left out, as the schema checks any, but for the
 * issues their unset variables cause; gives them parsed, or undefined when only those were found.
 */
function checkLeftOut(
  raw: unknown,
  list: 'sources' | 'workflows',
  indexes: number[],
  unset: UnsetInEntry[],
  file: string,
): ParsedConfig | undefined {
  const entries = (raw as Record<typeof list, unknown[]>)[list];
  const result = configSchema.safeParse({ [list]: indexes.map((i) => entries[i]) });
  if (result.success) return result.data;
  const issues = result.error.issues
    .map((issue) => ({ ...issue, path: [list, indexes[Number(issue.path[1])] ?? 0, ...issue.path.slice(2)] }))
    .filter((issue) => !byUnset(issue, unset));
  if (issues.length > 0) throw new InletError('CONFIG_INVALID', describeIssues(issues, file, raw));
  return undefined;
}

/**
 * Leaves out of raw.sources the entries with an unset ${VAR} that the command does not use, and
 * returns their names, each with the first such variable; an unset one in a source it uses is the
 * error naming the variable. Each left out is still checked as strictly as the others, its kind's
 * options too, but for the keys that hold the unset variable.
 */
export function leaveOutSources(
  raw: unknown,
  unset: UnsetInEntry[],
  sourcesInUse: 'all' | readonly string[],
  file: string,
  env: Env,
): Record<string, string> {
  const inSources = unset.filter(({ list }) => list === 'sources');
  if (inSources.length === 0) return {};
  const sources = (raw as { sources: unknown[] }).sources;
  const names = new Map<number, string>();
  const leftOut: Record<string, string> = {};
  for (const { entry: source, variable } of inSources) {
    const name = (sources[source] as { name?: unknown } | null)?.name;
    // A source whose name itself is unset cannot be told apart from the ones a command uses.
    if (sourcesInUse === 'all' || typeof name !== 'string' || name === '' || sourcesInUse.includes(name))
      throw unsetVariable(variable, file, env);
    names.set(source, name);
    leftOut[name] ??= variable;
  }
  const indexes = [...names.keys()];
  const checked = checkLeftOut(raw, 'sources', indexes, inSources, file);
  for (const [i, entry] of checked?.sources.entries() ?? []) {
    const at = indexes[i] ?? 0;
    const held = inSources.filter(({ entry: source }) => source === at);
    // A type that holds the variable names no kind yet, whose options to check.
    if (held.some(({ path }) => path[2] === 'type')) continue;
    parseSourceOptions(entry, at, file, (issue) =>
      byUnset({ ...issue, path: ['sources', at, ...issue.path] }, held),
    );
  }
  // Left out, it was a second crm beside the one configured, refused only once the variable was set.
  const first = new Map<unknown, number>();
  sources.forEach((entry, i) => {
    const name = (entry as { name?: unknown } | null)?.name;
    const before = first.get(name);
    if (before === undefined) first.set(name, i);
    else if (names.has(i) || names.has(before)) throw nameUsedTwice(String(name), i, file);
  });
  (raw as { sources: unknown[] }).sources = sources.filter((_entry, i) => !names.has(i));
  return leftOut;
}

/**
 * Leaves out of raw.workflows the entries with an unset ${VAR}, and returns their names, each with
 * the first such variable: one in a step's vars: stopped every command. Each is still checked as
 * strictly as the others, but for the keys that hold the unset variable; one whose name itself is
 * unset is the error naming the variable, as it cannot be named.
 */
export function leaveOutWorkflows(
  raw: unknown,
  unset: UnsetInEntry[],
  file: string,
  env: Env,
): Record<string, string> {
  const inWorkflows = unset.filter(({ list }) => list === 'workflows');
  if (inWorkflows.length === 0) return {};
  const workflows = (raw as { workflows: unknown[] }).workflows;
  const leftOut = new Map<number, string>();
  for (const { entry, variable } of inWorkflows) {
    const name = (workflows[entry] as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') throw unsetVariable(variable, file, env);
    if (!leftOut.has(entry)) leftOut.set(entry, variable);
  }
  checkLeftOut(raw, 'workflows', [...leftOut.keys()], inWorkflows, file);
  (raw as { workflows: unknown[] }).workflows = workflows.filter((_entry, i) => !leftOut.has(i));
  return Object.fromEntries(
    [...leftOut].map(([i, variable]) => [(workflows[i] as { name: string }).name, variable]),
  );
}
