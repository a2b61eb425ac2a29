import { yamlErrorLine } from '../config/index.ts';
import { parseVarsYaml } from '../models/index.ts';

/** dbt's --vars: a YAML or JSON map of model variables, winning over the vars: of dbt_project.yml. */
export const varsOption = { vars: { type: 'string' } } as const;

export const varsHelp = `--vars '{name: value}' (YAML or JSON, as dbt's) sets what {{ var('name') }} is,
  over the vars: of dbt_project.yml.`;

/** The variables --vars gives (none when absent), or what is wrong with them. */
export function parseVars(text: string | undefined): { vars?: Record<string, unknown> } | { error: string } {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = parseVarsYaml(text);
  } catch (error) {
    // yaml's own error is a syntax error; the others (a key that is a list, a tag YAML does not know)
    // are what dbt refuses in YAML that parsed, and "is not YAML or JSON" was wrong for them.
    const line = yamlErrorLine(error);
    const { name } = error as Error;
    return { error: name === 'YAMLParseError' ? `--vars is not YAML or JSON: ${line}` : `--vars: ${line}` };
  }
  // A date or a float is an object of its own class (VarDate, VarFloat), not a map.
  if (parsed === null || typeof parsed !== 'object' || Object.getPrototypeOf(parsed) !== Object.prototype)
    return { error: `--vars must be a map of names to values, such as --vars '{start_date: "2026-01-01"}'` };
  return { vars: parsed as Record<string, unknown> };
}
