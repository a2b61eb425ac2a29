import {
  backfillProblem,
  dayProblem,
  type ModelResult,
  runModels,
  runPickedNothing,
  summarizeModel,
  summarizeTest,
} from '../models/index.ts';
import { type Command, commandArgs, stoppedLine, whileInterruptible } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { emptySelectorProblem, selectOption, selectorsOf } from './selectors.ts';
import { parseVars, varsHelp, varsOption } from './vars-option.ts';

export const runHelp = `inlet run [selector…] [--full-refresh] [--from YYYY-MM-DD --to YYYY-MM-DD] [--vars …]
  Builds the project's models (and inlet's built-in marts) in dependency order, testing each
  before it is published. Selectors: model, +model (with upstream), model+ (with downstream),
  2+model or model+1 (that many steps), @model (model+ with their upstream), a folder's
  name for the models in it (staging, marts.finance), source:crm+ for the models that read a
  source, a,b for what both pick; dbt's --select / -s "a b+" takes them too, and --exclude a b
  leaves those out.
  --from/--to rebuild exactly those days of incremental models (a backfill); one never built is
  built whole. Ctrl-C stops it (exit 130; SIGTERM 143).
  ${varsHelp}`;

/** inlet run: builds models in this process; a terminal gets a line per model, a pipe NDJSON. */
export const runCommand: Command = async (args, config, logger, output) => {
  const { values, tokens } = commandArgs(args, {
    'full-refresh': { type: 'boolean', default: false },
    from: { type: 'string' },
    to: { type: 'string' },
    ...selectOption,
    ...varsOption,
  });
  const given = parseVars(values.vars);
  if ('error' in given) {
    output.err(`${given.error}\n${runHelp}\n`);
    return ExitCode.USAGE;
  }
  const empty = emptySelectorProblem(tokens);
  if (empty) {
    output.err(`${empty}\n${runHelp}\n`);
    return ExitCode.USAGE;
  }
  // Both given, one of them not a day (--to x), is said as such below: "needs both" named nothing wrong.
  if ((values.from === undefined) !== (values.to === undefined)) {
    output.err(`A backfill needs both --from and --to, as YYYY-MM-DD.\n${runHelp}\n`);
    return ExitCode.USAGE;
  }
  // Not a day (x, 26-1-1), or one of the right shape that is none (2026-02-30, 2026-13-45).
  // So are arguments that contradict each other (--from after --to, --full-refresh with --from).
  const notADay =
    dayProblem('--from', values.from) ??
    dayProblem('--to', values.to) ??
    backfillProblem({ from: values.from, to: values.to, fullRefresh: values['full-refresh'] });
  if (notADay) {
    output.err(`${notADay}\n${runHelp}\n`);
    return ExitCode.USAGE;
  }
  const selection = selectorsOf(tokens);
  const code = await whileInterruptible(async (signal) => {
    const result = await runModels({
      config,
      logger,
      ...selection,
      fullRefresh: values['full-refresh'],
      from: values.from,
      to: values.to,
      vars: given.vars,
      signal,
      onWarning: (message) => output.err(`Warning: ${message}\n`),
      // A terminal's line per model says a failure already; a pipe's NDJSON keeps the log line on stderr.
      logResults: !output.isTty,
      onResult: (model) =>
        output.out(output.isTty ? `${summarizeModel(model)}\n` : `${JSON.stringify(model)}\n`),
    });
    for (const test of result.tests)
      output.out(output.isTty ? `${summarizeTest(test)}\n` : `${JSON.stringify(test)}\n`);
    // A model the stop broke is counted as stopped, not failed: "Failed: 0 built, 1 failed" read as
    // the model's fault, and the run's own line began "Failed:" where a signal had stopped it.
    const brokenByStop = (m: ModelResult) =>
      signal.aborted && m.status === 'failed' && m.message === 'stopped';
    const count = (status: string) =>
      result.models.filter((m) => m.status === status && !brokenByStop(m)).length;
    const nothing = runPickedNothing(selection, result);
    if (nothing) output.err(`${nothing}\n`);
    const stopped = signal.aborted ? `${result.models.filter(brokenByStop).length} stopped, ` : '';
    output.err(
      `${result.ok ? 'Done' : signal.aborted ? 'Stopped' : 'Failed'}: ${count('success')} built, ${stopped}${count('failed') + count('test_failed')} failed, ${count('skipped')} skipped in ${(result.ms / 1000).toFixed(1)} s.\n`,
    );
    // A model that ran out of memory failed as any other (its line says QUERY_OUT_OF_MEMORY and what
    // to do): a run's exit code says whether the build failed, as dbt's does, not why.
    return result.ok ? ExitCode.OK : ExitCode.FAILURE;
  });
  // The models the stop broke or left are counted as failed above: this line says a signal stopped
  // the run (as inlet test and runs start say), where the count alone read as the models' fault.
  if (code === ExitCode.INTERRUPTED || code === ExitCode.TERMINATED)
    output.err(`${stoppedLine('run', code)}\n`);
  return code;
};
