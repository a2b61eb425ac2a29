/** The selectors of a command or step, as inlet run and a workflow's run step take them. */
interface Selection {
  selectors: string[];
  exclude: string[];
}

/**
 * What inlet ls, run and test, and a workflow's run and test steps, say when their selectors pick no
 * model or seed (an intersection that meets nowhere, an --exclude of all that was selected): they
 * printed nothing, "Done: 0 built" or "0 passed", exit 0, as if the project had nothing to do, and
 * the step's log was empty. dbt says "Nothing to do" there; so does inlet, naming the selectors, and
 * goes on as dbt does. `who` is the command (inlet run) or "the step". Undefined when no selector was given.
 */
export function nothingPickedNote(
  command: 'ls' | 'run' | 'test',
  { selectors, exclude }: Selection,
  who = `inlet ${command}`,
): string | undefined {
  if (selectors.length === 0 && exclude.length === 0) return undefined;
  const given = [...selectors, ...(exclude.length > 0 ? ['--exclude', ...exclude] : [])].join(' ');
  const did = { ls: 'lists nothing', run: 'builds nothing', test: 'runs no test' }[command];
  return `Nothing to do: the selectors ${given} pick no model or seed, so ${who} ${did}. a,b (no spaces) picks only what both a and b pick, and --exclude leaves out what it names; inlet ls lists every model and seed.`;
}

/** The note for a build (runModels) that has no model's result; undefined when it built or tried one. */
export function runPickedNothing(
  selection: Selection,
  result: { models: readonly unknown[] },
  who?: string,
): string | undefined {
  return result.models.length === 0 ? nothingPickedNote('run', selection, who) : undefined;
}

/** The note for a test (testModels) whose selection picked no model; models without tests read "0 passed". */
export function testPickedNothing(
  selection: Selection,
  result: { picked: number; tests: readonly unknown[] },
  who?: string,
): string | undefined {
  // source:crm picks a source's tables, which are no model: "nothing picked" would not be so there.
  if (selection.selectors.some((s) => s.trim().startsWith('source:'))) return undefined;
  return result.picked === 0 && result.tests.length === 0
    ? nothingPickedNote('test', selection, who)
    : undefined;
}
