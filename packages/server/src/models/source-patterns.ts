// What follows dbt's source: in a selector: a source (crm), a source's table (crm.customers), or
// both after the project's name (shop.crm.customers), each part matched as dbt's fnmatch does, so
// source:crm.cust* and source:cr* pick what they pick in dbt.

/** Whether a part of a selector holds one of fnmatch's wildcards (* ? [). */
export const hasWildcard = (part: string) => /[*?[]/.test(part);

/** dbt's fnmatch, case as typed: * any run, ? any one character, [abc] and [!abc] one of them or not. */
export function wildcardMatch(pattern: string, name: string): boolean {
  if (!hasWildcard(pattern)) return pattern === name;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    const close = char === '[' ? pattern.indexOf(']', i + (pattern[i + 1] === '!' ? 3 : 2)) : -1;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (close > 0) {
      const set = pattern.slice(i + 1, close);
      const negated = set.startsWith('!');
      const body = (negated ? set.slice(1) : set).replace(/[\\\]^]/g, '\\$&');
      source += `[${negated ? '^' : ''}${body}]`;
      i = close;
    } else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's').test(name);
}

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
      error: `"${selector}" is not a source selector: dbt's are source:<source>, source:<source>.<table> and source:<project>.<source>.<table> (each part may hold dbt's wildcards * and ?)`,
    };
  const [project, source = '', table] = parts.length === 3 ? parts : [undefined, ...parts];
  if (project !== undefined && (projectName === undefined || !wildcardMatch(project, projectName)))
    return {
      error: `"${selector}" names the project ${project}, ${projectName === undefined ? "but this project's dbt_project.yml has no name:" : `but this project is ${projectName} (name: in dbt_project.yml)`}; leave the project out (source:${parts.slice(1).join('.')})`,
    };
  return { source, table: table === '*' ? undefined : table };
}
