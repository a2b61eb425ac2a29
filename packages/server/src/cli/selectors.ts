/** dbt's --select / -s, taken beside positional selectors, and --exclude: a dbt user's hands type them. */
export const selectOption = {
  select: { type: 'string', short: 's', multiple: true },
  exclude: { type: 'string', multiple: true },
} as const;

/** What selectorsOf reads of parseArgs' tokens (tokens: true): each option, and each word after it. */
export type SelectorToken =
  | { kind: 'option'; name: string; value?: string | undefined }
  | { kind: 'positional'; value: string }
  | { kind: 'option-terminator' };

/** A value that may hold several selectors ("a b+"). */
const words = (value: string) => value.split(/\s+/).filter(Boolean);

/**
 * The selectors given as arguments and after --select, and those after --exclude. As dbt reads them
 * (and a workflow's step), each word up to the next option belongs to the --select or --exclude
 * before it: --exclude a b leaves out both, where Node's parser would have selected b alone.
 */
export function selectorsOf(tokens: readonly SelectorToken[]): { selectors: string[]; exclude: string[] } {
  const selectors: string[] = [];
  const exclude: string[] = [];
  let into = selectors;
  for (const token of tokens) {
    if (token.kind === 'positional') into.push(...words(token.value));
    else if (token.kind === 'option-terminator') into = selectors;
    else {
      into = token.name === 'exclude' ? exclude : selectors;
      if ((token.name === 'select' || token.name === 'exclude') && token.value !== undefined)
        into.push(...words(token.value));
    }
  }
  return { selectors, exclude };
}

/**
 * A selector given empty or blank (inlet run "$MODEL" with MODEL unset, -s ''), said as a usage
 * error: it was passed over, so the command picked every model (and --full-refresh rebuilt them all).
 */
export function emptySelectorProblem(tokens: readonly SelectorToken[]): string | undefined {
  const given = tokens.find(
    (token) =>
      (token.kind === 'positional' ||
        (token.kind === 'option' && (token.name === 'select' || token.name === 'exclude'))) &&
      token.value !== undefined &&
      token.value.trim() === '',
  );
  if (given === undefined) return undefined;
  if (given.kind === 'positional')
    return 'A selector is empty (an unset variable?): name a model, or give no selector to pick every model.';
  return given.kind === 'option' && given.name === 'exclude'
    ? '--exclude is empty (an unset variable?): name the models to leave out, or leave --exclude out.'
    : '--select is empty (an unset variable?): name a model, or leave --select out to pick every model.';
}
