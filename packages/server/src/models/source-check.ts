import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { sourceTableNames } from '../sources/index.ts';
import type { Project } from './project-node.ts';

// A source of a properties file, and a source() in SQL, name tables that inlet.yaml's sources: copy
// into the lake; a name it does not configure would describe nothing, or read nothing, unnoticed.

/** What is wrong with naming this source (and table) of inlet.yaml, or undefined when it is there. */
export function sourceProblem(
  configured: ReadonlyMap<string, string[] | undefined>,
  leftOut: string[],
  source: string,
  table?: string,
): string | undefined {
  // A source left out for an unset ${VAR} is there; only its tables cannot be told.
  if (leftOut.includes(source)) return undefined;
  if (!configured.has(source)) {
    const names = [...configured.keys()].join(', ');
    return `${source} is not a source in inlet.yaml (${names ? `its sources are ${names}` : 'it has no sources:'}); correct the name, or add the source to inlet.yaml's sources:`;
  }
  const tables = configured.get(source);
  if (tables === undefined)
    return `${source} is a log source, whose rows are a table of its own (access_logs, app_logs), read by that name with no source()`;
  if (table !== undefined && !tables.includes(table))
    return `source ${source} has no table ${table} in inlet.yaml (its tables are ${tables.join(', ')}); correct the name, or add the table to its tables:`;
  return undefined;
}

/**
 * Refuses a properties file's source or source table, and a source('crm', 'customers') in a model
 * or a test, that inlet.yaml's sources: does not configure.
 */
export function checkSourceNames(project: Project, config: InletConfig): void {
  const configured = sourceTableNames(config);
  const check = (shown: string, source: string, table?: string) => {
    const problem = sourceProblem(configured, config.sourcesLeftOut, source, table);
    if (problem) throw new InletError('MODEL_INVALID', `${shown}: ${problem}.`);
  };
  for (const source of project.sources.values()) {
    // dbt's name: is often not the schema its tables are in, and inlet's source is named as the schema.
    const schema = source.schema?.toLowerCase();
    if (schema && schema !== source.name && configured.has(schema) && !configured.has(source.name))
      throw new InletError(
        'MODEL_INVALID',
        `${source.shown}: ${source.name} is not a source in inlet.yaml, but its schema: ${schema} is; name the source ${schema} here and in its source() calls, as models read its tables (${schema}.<table>).`,
      );
    check(source.shown, source.name);
    for (const [name, table] of source.tables) check(table.shown, source.name, name);
  }
  for (const { path, sources } of [...project.nodes.values(), ...project.tests])
    for (const table of sources) {
      const [source = '', name = ''] = table.split('.');
      check(`${path}: source('${source}', '${name}')`, source, name);
    }
}
