/** dbt's --select / -s, taken beside positional selectors: a dbt user's hands type it. */
export const selectOption = { select: { type: 'string', short: 's', multiple: true } } as const;

/** The selectors given as arguments and in each --select, which may hold several ("a b+"). */
export function selectorsOf(positionals: string[], select: string[] | undefined): string[] {
  return [...positionals, ...(select ?? []).flatMap((value) => value.split(/\s+/).filter(Boolean))];
}
