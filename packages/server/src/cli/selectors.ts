/** dbt's --select / -s, taken beside positional selectors, and --exclude: a dbt user's hands type them. */
export const selectOption = {
  select: { type: 'string', short: 's', multiple: true },
  exclude: { type: 'string', multiple: true },
} as const;

/** Each value of a repeated option, which may hold several selectors ("a b+"). */
const split = (values: string[] | undefined) => (values ?? []).flatMap((v) => v.split(/\s+/).filter(Boolean));

/** The selectors given as arguments and in each --select, and those given in each --exclude. */
export function selectorsOf(
  positionals: string[],
  values: { select?: string[]; exclude?: string[] },
): { selectors: string[]; exclude: string[] } {
  return { selectors: [...positionals, ...split(values.select)], exclude: split(values.exclude) };
}
