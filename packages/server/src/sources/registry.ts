import type { z } from 'zod';
import type { InletConfig } from '../config/index.ts';
// The module itself, not config/index.ts: that one loads the sources, which load this file.
import { describeIssue } from '../config/issue-message.ts';
import { InletError } from '../errors/index.ts';
import { SOURCE_KINDS } from './kinds.ts';
import type { Source, SourceKind } from './types.ts';

/**
 * The kind of the sources: entry at index i and its options (all but name and type) as the kind
 * validates them, or the error naming the key; ignore tells which issues not to count (those of a key holding an
 * unset ${VAR}, in a source left out for it).
 */
export function parseSourceOptions(
  entry: { type: string } & Record<string, unknown>,
  i: number,
  file: string,
  ignore: (issue: z.core.$ZodIssue) => boolean = () => false,
): { kind: SourceKind; options: unknown } {
  const { name: _name, type, ...options } = entry;
  const kind = SOURCE_KINDS[type];
  if (!kind) {
    const known = Object.keys(SOURCE_KINDS).sort().join(', ') || '(none)';
    throw new InletError(
      'CONFIG_INVALID',
      `${file} is not valid:\n  sources[${i}].type: "${type}" is not a source type; use one of ${known}`,
    );
  }
  const parsed = kind.options.safeParse(options);
  const issues = parsed.success ? [] : (parsed.error as z.ZodError).issues.filter((issue) => !ignore(issue));
  if (issues.length > 0) {
    const lines = issues.slice(0, 5).map((issue) => describeIssue(issue, options, `sources[${i}]`));
    throw new InletError('CONFIG_INVALID', `${file} is not valid:\n  ${lines.join('\n  ')}`);
  }
  return { kind, options: parsed.data };
}

/** The error for a source's name that an entry before the one at index i has already. */
export const nameUsedTwice = (name: string, i: number, file: string): InletError =>
  new InletError(
    'CONFIG_INVALID',
    `${file} is not valid:\n  sources[${i}].name: "${name}" is used twice; source names must be unique`,
  );

/** Validates every `sources:` entry against its kind's schema and builds the sources, once at start-up. */
export function createSources(config: Pick<InletConfig, 'sources'>, file = 'inlet.yaml'): Source[] {
  const names = new Set<string>();
  const sources = config.sources.map((entry, i) => {
    const { name } = entry;
    if (names.has(name)) throw nameUsedTwice(name, i, file);
    names.add(name);
    const { kind, options } = parseSourceOptions(entry, i, file);
    return kind.create(name, options);
  });
  // Rows of two shapes in one table: the view took one source's columns, empty in the other's rows.
  const holders = new Map<string, { source: string; holds: string }>();
  sources.forEach(({ name, sharedTables = [] }, i) => {
    for (const { table, holds, option } of sharedTables) {
      const first = holders.get(table);
      if (first && first.holds !== holds)
        throw new InletError(
          'CONFIG_INVALID',
          `${file} is not valid:\n  sources[${i}].${option}: ${table} holds the ${first.holds} of source "${first.source}"; source "${name}" makes ${holds}: name another table`,
        );
      if (!first) holders.set(table, { source: name, holds });
    }
  });
  return sources;
}

/**
 * The source a name such as crm.customers (as the table's view is named) is a table of, for the
 * error that says a sync copies every table of a source; undefined for any other name.
 */
export function sourceOfTable(sourceNames: Iterable<string>, name: string): string | undefined {
  return [...sourceNames].find((source) => name.startsWith(`${source}.`));
}

/**
 * The source with this name, or an error that lists the configured ones: those made and those left
 * out (leftOut) for a ${VAR} unset in a source the command does not use.
 */
export function findSource(sources: Source[], name: string, leftOut: string[] = []): Source {
  const source = sources.find((s) => s.name === name);
  if (!source) {
    const names = [...sources.map((s) => s.name), ...leftOut];
    const known = names.join(', ') || '(none configured)';
    const table = sourceOfTable(names, name);
    const hint = table
      ? ` "${name}" names a table of source "${table}": inlet sync copies every table of a source, so run inlet sync ${table}.`
      : '';
    throw new InletError(
      'NOT_FOUND',
      `No source named "${name}" in the configuration; configured sources: ${known}.${hint}`,
    );
  }
  return source;
}

/**
 * The lake tables of each configured source, as models read them (<source>.<table>): undefined for
 * a log source, whose rows go to access_logs or app_logs, and for one whose options are not valid
 * (createSources says why where the source is used).
 */
export function sourceTableNames(config: Pick<InletConfig, 'sources'>): Map<string, string[] | undefined> {
  return new Map(
    config.sources.map((entry) => {
      const tables = (validOptions(entry) as { tables?: Array<{ name: string }> } | undefined)?.tables;
      return [entry.name, tables?.map((table) => table.name)];
    }),
  );
}

/**
 * The tables the configured sources write under a name of their own, with no source's schema (a log
 * source's access_logs, app_logs or table:), each with the sources that write it; a source whose
 * options are not valid writes none here (createSources says why where the source is used).
 */
export function logTableSources(config: Pick<InletConfig, 'sources'>): Map<string, string[]> {
  const writers = new Map<string, string[]>();
  for (const entry of config.sources) {
    const options = validOptions(entry);
    if (options === undefined) continue;
    const source = SOURCE_KINDS[entry.type]?.create(entry.name, options);
    for (const { table } of source?.sharedTables ?? [])
      writers.set(table, [...(writers.get(table) ?? []), entry.name]);
  }
  return writers;
}

/** The table each log source writes (nginx → access_logs), as logTableSources has it the other way round. */
export function logSourceTables(config: Pick<InletConfig, 'sources'>): Map<string, string> {
  const tables = new Map<string, string>();
  for (const [table, writers] of logTableSources(config))
    for (const source of writers) if (!tables.has(source)) tables.set(source, table);
  return tables;
}

/** A `sources:` entry's options as its kind reads them, or undefined when they are not valid. */
function validOptions({ name: _name, type, ...options }: InletConfig['sources'][number]): unknown {
  const parsed = SOURCE_KINDS[type]?.options.safeParse(options);
  return parsed?.success ? parsed.data : undefined;
}
