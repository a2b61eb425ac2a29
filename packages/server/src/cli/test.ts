import type { InletConfig } from '../config/index.ts';
import { summarizeTest, testModels, testPickedNothing } from '../models/index.ts';
import { commandArgs, whileInterruptible } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import type { Output } from './output.ts';
import { emptySelectorProblem, selectOption, selectorsOf } from './selectors.ts';
import { parseVars, varsHelp, varsOption } from './vars-option.ts';

export const testHelp = `inlet test [selector…] [--vars …]
  Runs the data tests of the selected models (all by default) against what is published:
  not_null, unique, accepted_values, relationships and SQL tests. Exits 1 when one fails.
  dbt's --select / -s and --exclude take selectors too. Ctrl-C stops it (exit 130; SIGTERM 143).
  ${varsHelp}`;

/** inlet test: data tests in this process; a terminal gets a line per test, a pipe NDJSON. */
export async function testCommand(args: string[], config: InletConfig, output: Output): Promise<ExitCode> {
  const { values, tokens } = commandArgs(args, { ...selectOption, ...varsOption });
  const given = parseVars(values.vars);
  if ('error' in given) {
    output.err(`${given.error}\n${testHelp}\n`);
    return ExitCode.USAGE;
  }
  const empty = emptySelectorProblem(tokens);
  if (empty) {
    output.err(`${empty}\n${testHelp}\n`);
    return ExitCode.USAGE;
  }
  // As inlet run and sync: Ctrl-C or SIGTERM stops the test under way and exits 130 or 143.
  const selection = selectorsOf(tokens);
  return whileInterruptible(async (signal) => {
    const result = await testModels({
      config,
      ...selection,
      vars: given.vars,
      signal,
      onWarning: (message) => output.err(`Warning: ${message}\n`),
    });
    for (const test of result.tests)
      output.out(output.isTty ? `${summarizeTest(test)}\n` : `${JSON.stringify(test)}\n`);
    const nothing = testPickedNothing(selection, result);
    if (nothing) output.err(`${nothing}\n`);
    const failed = result.tests.filter((t) => t.status !== 'pass').length;
    output.err(`${result.tests.length - failed} passed, ${failed} failed.\n`);
    return result.ok ? ExitCode.OK : ExitCode.FAILURE;
  });
}
