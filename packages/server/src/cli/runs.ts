import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { configFileName } from '../config/index.ts';
import { dataLayout, makeDataFolders } from '../lake/index.ts';
import {
  createRunHistory,
  createScheduler,
  createStepHandlers,
  listWorkflows,
  noWorkflowConfigured,
  RUN_STATUSES,
  type RunHistory,
  type RunRecord,
  runById,
  runsLimitProblem,
  STALE_RUN_MS,
  shownAbandonedLine,
  startableWorkflowNames,
  warnLeftOutWorkflows,
  workflowNames,
  workflowProblemLine,
  workflowProblems,
  workflowsToStart,
} from '../scheduler/index.ts';
import { openStateStore, openStateStoreToRead } from '../state/index.ts';
import {
  beyondUsage,
  type Command,
  commandArgs,
  outputFormat,
  stoppedLine,
  whileInterruptible,
} from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { type Format, type Output, renderRows } from './output.ts';

/** A list of workflows in parentheses after a word, or nothing where there are none (not "((none))"). */
const someWorkflows = (listed: string): string =>
  listed === '(none)' ? ' (there are none yet)' : ` (${listed})`;

export const runsHelp = `inlet runs [--workflow NAME] [--status STATUS] [--limit 20 (1–1000)] [--before ID] [--format table|json|csv]
inlet runs <id> [--format table|json|csv]
inlet runs start <workflow>
  Lists workflow runs, newest first (--before: older than run ID, to page on); shows one run with the log of each step; or runs a
  workflow now, in this process, outside its schedule (it is recorded like the others; one switched off by
  enabled: false runs too, its run noting so); Ctrl-C stops
  it, its run recorded as stopped (exit 130; SIGTERM 143).`;

/** Words other tools show one item by (kubectl get, docker inspect), which inlet runs <id> is. */
const SHOW_WORDS: ReadonlySet<string> = new Set([
  'show',
  'get',
  'view',
  'describe',
  'inspect',
  'info',
  'logs',
]);

/** The options that filter or page the list of runs, and nothing else. */
const LIST_OPTIONS: ReadonlySet<string> = new Set(['workflow', 'status', 'limit', 'before']);

/**
 * An option's value as a message names it: an empty one (--status "$S" with S unset) in quotes, where
 * "--status  is not a run status" showed nothing at all.
 */
const shown = (value: string): string => (value.trim() === '' ? JSON.stringify(value) : value);

const seconds = (ms: number | null) => (ms === null ? null : Number((ms / 1000).toFixed(1)));

/**
 * How long a run took, as its header says it. An abandoned run's process died some time after it was
 * last heard from, which its duration runs to: "abandoned in 0 s" was a time nobody knew.
 */
function took(run: RunRecord): string {
  // One that waited its turn and never started (its process killed or stopped, or its workflow since
  // removed) did not run at all: "how long it ran is not known" said it had.
  if (run.status !== 'running' && run.started_at === null) return ' before it started';
  if (run.status === 'abandoned')
    return run.duration_ms === null
      ? ', how long it ran is not known'
      : `, last heard from ${seconds(run.duration_ms)} s after it started`;
  return run.duration_ms === null ? '' : ` in ${seconds(run.duration_ms)} s`;
}

/**
 * One run: its steps' logs as text (table), the run as JSON, or its steps as CSV. id is the run's id
 * or its digits as typed, which an unknown id past 2^53 is named by.
 */
function showRun(history: RunHistory, id: number | string, output: Output, format: Format): ExitCode {
  // As read where it can be: inlet runs 0012 was "No run has id 0012".
  const run = runById(history, id, 'inlet runs');
  if (format === 'json') {
    output.out(`${JSON.stringify(run)}\n`);
    return ExitCode.OK;
  }
  if (format === 'csv') {
    const columns = ['run', 'position', 'step', 'status', 'attempts', 'duration_ms', 'error', 'log'];
    const rows = run.steps.map((s) => [
      run.id,
      s.position,
      s.step,
      s.status,
      s.attempts,
      s.duration_ms,
      s.error,
      s.log,
    ]);
    output.out(renderRows('csv', columns, rows));
    return ExitCode.OK;
  }
  output.out(
    `Run ${run.id} of ${run.workflow}: ${run.status}${took(run)}\n` +
      `  ${run.trigger}${run.scheduled_for ? ` for ${run.scheduled_for}` : ''}, by ${run.owner}, started ${run.started_at ?? '-'}\n` +
      (run.note ? `  note: ${run.note}\n` : '') +
      (run.error ? `  error: ${run.error}\n` : ''),
  );
  for (const step of run.steps) {
    output.out(
      `\n[${step.status}] ${step.step}${step.attempts > 1 ? ` (${step.attempts} attempts)` : ''}${step.duration_ms !== null ? ` ${seconds(step.duration_ms)} s` : ''}\n`,
    );
    if (step.log) output.out(`${step.log.replace(/^/gm, '  ')}\n`);
  }
  return ExitCode.OK;
}

/** inlet runs: the run history in the state store, read in this process (no server needed). */
export const runsCommand: Command = async (args, config, logger, output) => {
  const { values, positionals, tokens } = commandArgs(args, {
    workflow: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string', default: '20' },
    before: { type: 'string' },
    format: { type: 'string' },
  });
  const format = outputFormat(values.format, output);
  if (!format) {
    output.err(`${runsHelp}\n`);
    return ExitCode.USAGE;
  }
  const starts = positionals[0] === 'start';
  // The list's filters, given with one run or a start: inlet runs 1 --status failed showed run 1,
  // a success, as if the filter had passed it.
  const filters = [
    ...new Set(
      tokens.flatMap((t) => (t.kind === 'option' && LIST_OPTIONS.has(t.name) ? [`--${t.name}`] : [])),
    ),
  ];
  if (filters.length > 0 && positionals.length > 0) {
    const what = starts ? 'runs a workflow' : 'shows one run';
    output.err(
      `inlet runs ${positionals.join(' ')} ${what}, and ${filters.join(' and ')} ${filters.length > 1 ? 'are' : 'is'} for the list of runs (inlet runs ${filters[0]} …); leave ${filters.length > 1 ? 'them' : 'it'} out.\n`,
    );
    return ExitCode.USAGE;
  }
  // A file where data_dir should be ended it with a bare EEXIST, as an error inlet did not foresee
  // (exit 5); one where a run takes its locks (data/state) failed the run with ENOTDIR and a stack.
  const layout = dataLayout(config.data_dir);
  const storePath = join(config.data_dir, 'state.sqlite');
  // Listing or showing runs only reads: on a fresh directory it made data/state.sqlite (and data_dir)
  // to say there were none. With no store there is no run, so an empty one in memory answers; a file
  // where data_dir goes is named (makeDataFolders). A data_dir this user may not write (a read-only
  // mount, another user's files) refused them with DATA_DIR_UNUSABLE: its store is read read-only.
  const noStore = !starts && !existsSync(storePath);
  if (starts || (existsSync(layout.dataDir) && !statSync(layout.dataDir).isDirectory()))
    makeDataFolders(
      layout,
      [layout.dataDir, ...(starts ? [join(layout.state, 'locks')] : [])],
      configFileName(config),
    );
  const { store: state, readOnly } = starts
    ? { store: openStateStore(storePath), readOnly: false }
    : noStore
      ? { store: openStateStore(':memory:'), readOnly: false }
      : openStateStoreToRead(storePath);
  const history = createRunHistory(state);
  try {
    if (starts) {
      const name = positionals[1];
      // Told only the usage, "inlet runs start" (or "inlet runs start $WORKFLOW" unset) said not what was wrong.
      if (!name?.trim() || positionals.length > 2) {
        // Only those configured: one since removed, named from the history, was NOT_FOUND when started.
        const configured = startableWorkflowNames(config, (name) => `inlet runs start ${name} says why`);
        const why =
          positionals.length > 2
            ? beyondUsage('runs start', 'one workflow', positionals.slice(2))
            : configured.length === 0 && Object.keys(config.workflowsLeftOut).length === 0
              ? `inlet runs start needs the name of a workflow, and ${noWorkflowConfigured(config)}.\n`
              : `inlet runs start needs a workflow's name (an unset variable?); workflows: ${listWorkflows(config, configured)}.\n`;
        output.err(`${why}${runsHelp}\n`);
        return ExitCode.USAGE;
      }
      // The one started, when left out, says so itself (scheduler.trigger).
      warnLeftOutWorkflows(config, logger, name);
      const scheduler = createScheduler({
        workflows: workflowsToStart(config, name, logger),
        config,
        state,
        stateDir: layout.state,
        history,
        handlers: createStepHandlers({ config, state, logger }),
        logger,
      });
      const id = scheduler.trigger(name);
      // SIGTERM is what a supervisor, docker stop or timeout(1) sends: heard only for Ctrl-C, it
      // killed the process mid-run, and its run showed as running until marked abandoned. Either
      // exited 1, as a failed run does: it now exits 130 or 143, as inlet run and inlet sync do.
      const code = await whileInterruptible(async (signal) => {
        signal.addEventListener('abort', () => void scheduler.stop(), { once: true });
        await scheduler.idle();
        showRun(history, id, output, format);
        return history.get(id)?.status === 'success' ? ExitCode.OK : ExitCode.FAILURE;
      });
      // The run shown says stopped: this line says which signal stopped it.
      if (code === ExitCode.INTERRUPTED || code === ExitCode.TERMINATED)
        output.err(`${stoppedLine('runs start', code)}\n`);
      return code;
    }
    // A run whose process died shows as such even when no scheduler runs to notice it; in a store
    // read-only here, as one that may write it will mark it (it showed as running until then).
    const shownStale = readOnly ? history.showStale(STALE_RUN_MS) : [];
    if (!readOnly) history.abandonStale(STALE_RUN_MS);
    if (positionals.length === 1 && /^\d+$/.test(positionals[0] ?? ''))
      return showRun(history, positionals[0] ?? '', output, format);
    if (positionals.length === 1) {
      const word = positionals[0] ?? '';
      // An empty id (inlet runs "$ID" with ID unset) was pointed to 'inlet runs --workflow  lists…'.
      // A word no workflow has (inlet runs list, as git or docker read it) was pointed to --workflow
      // list, which lists nothing; a workflow's name still is.
      const known = word.trim() ? workflowNames(config, history) : [];
      output.err(
        !word.trim()
          ? 'inlet runs needs a run id (a whole number), not nothing (an unset variable?); inlet runs lists the runs.\n'
          : known.includes(word)
            ? `"${word}" is not a run id (a whole number); inlet runs --workflow ${word} lists the runs of a workflow.\n`
            : `"${word}" is neither a run id (a whole number) nor a workflow's name: inlet runs alone lists the runs, inlet runs 12 shows run 12, and inlet runs --workflow NAME lists the runs of one workflow${someWorkflows(listWorkflows(config, known))}.\n`,
      );
      return ExitCode.USAGE;
    }
    // inlet runs stop 1: a word that is neither a run id nor start was told "not also 1", as if the
    // word had been taken for a run id. inlet runs show 12 is inlet runs 12 (but stop 12 is no show).
    if (positionals.length > 1 && !/^\d+$/.test(positionals[0] ?? '')) {
      const id =
        positionals.length === 2 && SHOW_WORDS.has(positionals[0] ?? '') && /^\d+$/.test(positionals[1] ?? '')
          ? positionals[1]
          : undefined;
      output.err(
        id
          ? `inlet runs has no "${positionals[0]}": inlet runs ${id} shows run ${id}.\n`
          : `inlet runs has no "${positionals[0]}": it takes a run id (inlet runs 12), start <workflow>, or nothing to list the runs.\n${runsHelp}\n`,
      );
      return ExitCode.USAGE;
    }
    if (positionals.length > 0) {
      output.err(`${beyondUsage('runs', 'one run id', positionals.slice(1))}${runsHelp}\n`);
      return ExitCode.USAGE;
    }
    // Capped as GET /api/runs?limit= is, with the same words: --limit 5000 was taken, where the API
    // refused limit=5000. Older runs are a page further on (--before).
    const limitProblem = runsLimitProblem(values.limit);
    if (limitProblem) {
      output.err(
        `--limit ${shown(values.limit)} ${limitProblem}; older runs are on the pages after (--before ID).\n`,
      );
      return ExitCode.USAGE;
    }
    const limit = Number(values.limit);
    const statuses: readonly string[] = RUN_STATUSES;
    if (values.status !== undefined && !statuses.includes(values.status)) {
      output.err(
        `--status ${shown(values.status)} is not a run status; use one of ${statuses.join(', ')}.\n`,
      );
      return ExitCode.USAGE;
    }
    // inlet runs --workflow "$WF" with WF unset listed every workflow's runs, as if none was named.
    if (values.workflow?.trim() === '') {
      const known = workflowNames(config, history);
      output.err(
        `--workflow is empty (an unset variable?): name a workflow${known.length > 0 ? ` (${listWorkflows(config, known)})` : ''}, or leave --workflow out to list the runs of all of them.\n`,
      );
      return ExitCode.USAGE;
    }
    const before = values.before === undefined ? undefined : Number(values.before);
    if (
      before !== undefined &&
      (!/^\d+$/.test(values.before ?? '') || !Number.isSafeInteger(before) || before < 1)
    ) {
      output.err(
        `--before ${shown(values.before ?? '')} is not a run id; give the id of a run (a whole number above 0).\n`,
      );
      return ExitCode.USAGE;
    }
    // One more than asked for says whether there are older runs to page on to.
    const found = history.list({
      workflow: values.workflow,
      status: values.status,
      limit: limit + 1,
      before,
    });
    const runs = found.slice(0, limit);
    // A misspelt workflow lists nothing, which looked like a workflow that never ran.
    if (values.workflow !== undefined && found.length === 0) {
      const known = workflowNames(config, history);
      if (!known.includes(values.workflow)) {
        output.err(
          `--workflow ${values.workflow} names no workflow that is configured or has runs; workflows: ${listWorkflows(config, known)}.\n`,
        );
        return ExitCode.USAGE;
      }
    }
    // A person reads seconds; a program gets the whole milliseconds inlet runs <id> and the API give.
    const time = format === 'table' ? 'seconds' : 'duration_ms';
    const columns = ['id', 'workflow', 'scheduled_for', 'trigger', 'status', 'started_at', time, 'error'];
    output.out(
      renderRows(
        format,
        columns,
        runs.map((r) =>
          [
            r.id,
            r.workflow,
            r.scheduled_for,
            r.trigger,
            r.status,
            r.started_at,
            format === 'table' ? seconds(r.duration_ms) : r.duration_ms,
            r.error,
            // A person reads what a run lacks (no scheduled time, no error yet) as -, as inlet catalog
            // and inlet runs <id> show it; NULL read as a value. Programs keep their nulls.
          ].map((cell) => (format === 'table' ? (cell ?? '-') : cell)),
        ),
        output.columns,
      ),
    );
    // Why a run the store says is running is listed as abandoned, which inlet runs <id> notes: the
    // table's and CSV's rows have no note (JSON's each carry theirs), so it is said once below them.
    const listed = new Set(runs.map((r) => r.id));
    const abandoned =
      format === 'json'
        ? undefined
        : shownAbandonedLine(
            shownStale.filter((s) => listed.has(s.id)),
            STALE_RUN_MS,
          );
    if (abandoned) output.err(`${abandoned}\n`);
    const oldest = runs.at(-1);
    if (found.length > limit && oldest) {
      const filters = [
        ...(values.workflow !== undefined ? ['--workflow', values.workflow] : []),
        ...(values.status !== undefined ? ['--status', values.status] : []),
      ];
      output.err(
        `More: inlet runs ${[...filters, '--limit', String(limit), '--before', String(oldest.id)].join(' ')}\n`,
      );
    }
    // A workflow file with a typo is left out by inlet start, which said so only in its log at start-up.
    for (const problem of workflowProblems(config)) output.err(`${workflowProblemLine(problem)}\n`);
    // Said to a person; a program reads the empty list.
    if (output.isTty && runs.length === 0)
      output.err(
        noStore
          ? `No runs yet: none is recorded in ${storePath}, where inlet start and inlet runs start record them.\n`
          : 'No runs yet. Workflows run on their schedule under inlet start.\n',
      );
    return ExitCode.OK;
  } finally {
    state.close();
  }
};
