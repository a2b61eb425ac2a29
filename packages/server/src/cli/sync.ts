import { configFileName } from '../config/index.ts';
import { InletError, isInletError } from '../errors/index.ts';
import { dataLayout, makeDataFolders } from '../lake/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { checkLogTableNames } from '../models/index.ts';
import { createSources, findSource, NOTHING_IMPORTED } from '../sources/index.ts';
import { openStateStore } from '../state/index.ts';
import { beyondUsage, type Command, commandArgs, whileInterruptible } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import { createProgress } from './output.ts';

export const syncHelp = `inlet sync <source>
  Runs one configured source now (a database copy, a CSV import, a catch-up read of log files),
  with a progress bar on a terminal. Ctrl-C stops it at a safe point (exit 130; SIGTERM 143).`;

/** inlet sync: one source, synced in this process. */
export const syncCommand: Command = async (args, config, logger, output) => {
  const { positionals } = commandArgs(args, {});
  const [name] = positionals;
  const sources = [...config.sources.map((source) => source.name), ...config.sourcesLeftOut];
  const noneConfigured = `none is configured; add one under sources: in ${configFileName(config)} (docs/databases.md, docs/csv.md, docs/logs.md)`;
  if (!name || positionals.length > 1) {
    // Without one it printed the usage alone: the sources there are to name are in the configuration.
    const why = name
      ? beyondUsage('sync', 'one source', positionals.slice(1))
      : `inlet sync needs the name of a source: ${sources.length > 0 ? `one of ${sources.join(', ')}` : noneConfigured}.\n`;
    output.err(`${why}${syncHelp}\n`);
    return ExitCode.USAGE;
  }
  // "configured sources: (none configured)." said what was missing, not where to add it.
  if (sources.length === 0)
    throw new InletError('NOT_FOUND', `No source named "${name}": ${noneConfigured}.`);
  const source = findSource(createSources(config), name, config.sourcesLeftOut);
  checkLogTableNames(config, { only: name });
  const layout = dataLayout(config.data_dir);
  makeDataFolders(layout, [layout.lake, layout.tmp], configFileName(config));
  const state = openStateStore(`${config.data_dir}/state.sqlite`);
  let progress: ReturnType<typeof createProgress> | undefined;
  let done = 0;
  // The source's estimate of the rows to copy (a database's query plan guesses), and then, in its
  // last report, the rows it copied: the bar ended at 6/2,407 for a sync that copied all 6.
  let total: number | undefined;
  try {
    return await whileInterruptible(async (signal) => {
      const result = await source.sync({
        config,
        layout,
        state,
        logger,
        metrics: createMetrics(),
        signal,
        // The error a failed sync throws names every table that failed, and main prints it.
        showsFailures: true,
        onProgress: (rows, estimate) => {
          done = rows;
          total = estimate;
          progress ??= createProgress(output, `Syncing ${name}`, total ?? 0);
          progress.update(rows, total);
        },
      });
      progress?.done(done, total);
      for (const table of result.tables) {
        output.err(`${table.table}: ${rows(table.rows)}\n`);
        for (const note of table.notes ?? []) output.err(`${note}\n`);
      }
      output.err(`Synced ${rows(result.rows)} from ${name}.\n`);
      return ExitCode.OK;
    });
  } catch (error) {
    // The bar ends its line, or the error was printed at the end of it.
    progress?.done(done, total);
    throw withRetryAdvice(error, name);
  } finally {
    state.close();
  }
};

/** Failures of tables, which a run after the fix copies; the others (a lock, a cancel) say what to do already. */
const TABLE_FAILURES = new Set(['SOURCE_DATA_INVALID', 'SOURCE_QUERY_FAILED', 'SOURCE_SCHEMA_INVALID']);

/** A table's failure, ending in what a run after the fix does. */
function withRetryAdvice(error: unknown, name: string): unknown {
  if (!isInletError(error) || !TABLE_FAILURES.has(error.code)) return error;
  // A table that says it imported nothing says half of the advice: said once, for every table.
  const own = error.message.replaceAll(` ${NOTHING_IMPORTED}`, '');
  const said = /[.!?]$/.test(own) ? own : `${own}.`;
  return new InletError(
    error.code,
    `${said} Nothing of a table that failed was committed, and tables copied are kept: run "inlet sync ${name}" again once that is fixed.`,
    { cause: error, ...(error.details ? { details: error.details } : {}) },
  );
}

/** 1 row, 2 rows, 12,345 rows. */
function rows(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'row' : 'rows'}`;
}
