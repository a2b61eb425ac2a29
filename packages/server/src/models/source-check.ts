import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { logSourceTables, sourceTableNames } from '../sources/index.ts';
import type { ModelConfig } from './model-config.ts';
import { renameSources, templateSources } from './model-template.ts';
import type { Project } from './project-node.ts';
import type { GraphSources } from './source-selectors.ts';

// A source of a properties file, and a source() in SQL, name tables that inlet.yaml's sources: copy
// into the lake; a name it does not configure would describe nothing, or read nothing, unnoticed.

/**
 * What is wrong with naming this source (and table) of inlet.yaml, or undefined when it is there;
 * configPath is the file sources: was read from, which the message names (configFileName).
 */
export function sourceProblem(
  { tables: configured, leftOut, configPath, logTables }: GraphSources,
  source: string,
  table?: string,
): string | undefined {
  // A source left out for an unset ${VAR} is there; only its tables cannot be told.
  if (leftOut.includes(source)) return undefined;
  const file = configFileName({ configPath });
  if (!configured.has(source)) {
    const names = [...configured.keys(), ...leftOut].join(', ');
    return names
      ? `${source} is not a source in ${file} (its sources are ${names}); correct the name, or add the source to ${file}'s sources:`
      : `${source} is not a source: none is configured; add it under sources: in ${file}`;
  }
  const tables = configured.get(source);
  if (tables === undefined) {
    // As inlet catalog source:nginx says it: the table alone left the user to find where to look.
    const table = logTables?.get(source);
    return table === undefined
      ? `${source} is a log source, whose rows are a table of its own (access_logs, app_logs), read by that name with no source()`
      : `${source} is a log source, whose rows are the table ${table}, read by that name with no source(): inlet catalog ${table} shows it`;
  }
  if (table !== undefined && !tables.includes(table))
    return `source ${source} has no table ${table} in ${file} (its tables are ${tables.join(', ')}); correct the name, or add the table to its tables:`;
  return undefined;
}

/** inlet.yaml's sources as sourceProblem and the selectors read them. */
export function configuredSources(
  config: Pick<InletConfig, 'sources' | 'configPath' | 'sourcesLeftOut' | 'sourcesLeftOutBy'>,
): GraphSources & { tables: Map<string, string[] | undefined> } {
  return {
    tables: sourceTableNames(config),
    leftOut: config.sourcesLeftOut,
    leftOutBy: config.sourcesLeftOutBy,
    configPath: config.configPath,
    logTables: logSourceTables(config),
  };
}

/**
 * Resolves dbt's schema: and identifier: to inlet.yaml's names, as dbt reads them: a source whose
 * name: inlet.yaml does not configure is its source named as its schema:, and a table whose name:
 * that source does not copy is its table named as its identifier:. The declared tables take their
 * names in the lake, and each source() of the models and tests reads the table so resolved.
 */
function resolveSourceNames(
  project: Project,
  configured: Map<string, string[] | undefined>,
  leftOut: string[],
): void {
  const known = (source: string) => configured.has(source) || leftOut.includes(source);
  const sources = new Map<string, string>();
  const tables = new Map<string, string>();
  // Two declarations of one table would each give it a description and tests, one silently lost.
  const shownBy = new Map<string, string>();
  for (const source of project.sources.values()) {
    const schema = source.schema?.toLowerCase();
    const lake = !known(source.name) && schema !== undefined && known(schema) ? schema : source.name;
    if (lake !== source.name) {
      source.lake = lake;
      sources.set(source.name, lake);
    }
    const copied = configured.get(lake);
    for (const [name, table] of source.tables) {
      const real =
        table.identifier !== undefined && !copied?.includes(name) && copied?.includes(table.identifier)
          ? table.identifier
          : name;
      table.name = `${lake}.${real}`;
      if (table.name !== table.declared) tables.set(table.declared, table.name);
      const other = shownBy.get(table.name);
      if (other)
        throw new InletError(
          'MODEL_INVALID',
          `${table.shown}: is ${table.name} in the lake (by its source's schema: or its identifier:), which ${other} declares too; give each table once.`,
        );
      shownBy.set(table.name, table.shown);
    }
  }
  if (sources.size === 0 && tables.size === 0) return;
  const rename = (table: string) => {
    const [source = '', name = ''] = table.split(/\.(.*)/);
    return tables.get(table) ?? `${sources.get(source) ?? source}.${name}`;
  };
  for (const node of [...project.nodes.values(), ...project.tests]) {
    node.sql = renameSources(node.sql, rename);
    node.sources = templateSources(node.sql);
  }
  const configs = [
    ...[...project.nodes.values()].map((node) => node.config),
    ...[...project.sources.values()].flatMap((source) => [...source.tables.values()].map((t) => t.config)),
  ];
  for (const config of configs) renameInTests(config, rename);
}

/** A configuration's tests reading a source's table as source() names it: relationships' to:, sql:. */
function renameInTests(config: ModelConfig, rename: (table: string) => string): void {
  for (const column of Object.values(config.columns))
    if (typeof column !== 'string')
      for (const test of column.tests)
        if (typeof test === 'object' && 'relationships' in test && test.relationships.to.includes('.'))
          test.relationships.to = rename(test.relationships.to);
  for (const test of config.tests) if ('sql' in test) test.sql = renameSources(test.sql, rename);
}

/**
 * Refuses a properties file's source or source table, and a source('crm', 'customers') in a model
 * or a test, that inlet.yaml's sources: does not configure, once dbt's schema: and identifier: are
 * resolved to its names.
 */
export function checkSourceNames(project: Project, config: InletConfig): void {
  const sources = configuredSources(config);
  resolveSourceNames(project, sources.tables, config.sourcesLeftOut);
  const check = (shown: string, source: string, table?: string) => {
    const problem = sourceProblem(sources, source, table);
    if (problem) throw new InletError('MODEL_INVALID', `${shown}: ${problem}.`);
  };
  for (const source of project.sources.values()) {
    const lake = source.lake ?? source.name;
    check(source.shown, lake);
    for (const table of source.tables.values()) {
      const [, name = ''] = table.name.split(/\.(.*)/);
      check(table.shown, lake, name);
    }
  }
  for (const { path, sources } of [...project.nodes.values(), ...project.tests])
    for (const table of sources) {
      const [source = '', name = ''] = table.split('.');
      check(`${path}: source('${source}', '${name}')`, source, name);
    }
}
