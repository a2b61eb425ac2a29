// What follows dbt's source: in a selector: a source (crm), a source's table (crm.customers), or
// both after the project's name (shop.crm.customers), as dbt reads it.

/** A source: selector's source and table (undefined: all of its tables), the project's name taken off. */
export type SourceParts = { source: string; table: string | undefined } | { error: string };

/**
 * The source and table a source: selector names, as dbt reads its value: crm, crm.customers, or
 * shop.crm.customers with the project's name (dbt_project.yml's name:) first; crm.* is crm.
 */
export function sourceParts(selector: string, value: string, projectName: string | undefined): SourceParts {
  const parts = value.split('.');
  if (parts.length > 3 || parts.some((part) => part === ''))
    return {
      error: `"${selector}" is not a source selector: dbt's are source:<source>, source:<source>.<table> and source:<project>.<source>.<table>`,
    };
  const [project, source = '', table] = parts.length === 3 ? parts : [undefined, ...parts];
  if (project !== undefined && (projectName === undefined || project !== projectName))
    return {
      error: `"${selector}" names the project ${project}, ${projectName === undefined ? "but this project's dbt_project.yml has no name:" : `but this project is ${projectName} (name: in dbt_project.yml)`}; leave the project out (source:${parts.slice(1).join('.')})`,
    };
  return { source, table: table === '*' ? undefined : table };
}
