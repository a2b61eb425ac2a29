import { type InletConfig, leftOutSourceError } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { dataLayout, type ReadLeases } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { createMetrics, type Metrics } from '../metrics/index.ts';
import {
  checkLogTableNames,
  runModels,
  runPickedNothing,
  summarizeModel,
  summarizeTest,
  testModels,
  testPickedNothing,
} from '../models/index.ts';
import { createSources, findSource, type Source } from '../sources/index.ts';
import type { StateStore } from '../state/index.ts';

/** What a step gets: a signal that stops it (timeout, shutdown) and a log kept with the run. */
export interface StepContext {
  signal: AbortSignal;
  log(line: string): void;
  /** The run's logger, whose lines name the workflow, run and step; the handlers' own when absent. */
  logger?: Logger;
}

/**
 * How each kind of step is carried out. A step fails by throwing. `report` stays unset until the
 * reports module exists; workflows with report steps are refused until then.
 */
export interface StepHandlers {
  sync(source: string, context: StepContext): Promise<void>;
  /** exclude: selectors whose models are left out (dbt's --exclude); vars: the step's (dbt's --vars). */
  run(
    selectors: string[],
    fullRefresh: boolean,
    context: StepContext,
    exclude?: string[],
    vars?: Record<string, unknown>,
  ): Promise<void>;
  test(
    selectors: string[],
    context: StepContext,
    exclude?: string[],
    vars?: Record<string, unknown>,
  ): Promise<void>;
  report?: (name: string, context: StepContext) => Promise<void>;
}

/**
 * The refusal of a report step while no reports module exists: the scheduler's at start, and the
 * run's should a workflow get past that check, where it said less.
 */
export function reportsMissing(workflow: { name: string; origin: string }, step: string): InletError {
  return new InletError(
    'WORKFLOW_INVALID',
    `Workflow "${workflow.name}" (${workflow.origin}): "${step}" needs the reports module, which this inlet does not have yet; remove the step (the steps that run are "sync <source>", "run …" and "test …") for the workflow to start.`,
  );
}

/** The real steps: sources sync through their contract; run and test build and test models. */
export function createStepHandlers(options: {
  config: InletConfig;
  state: StateStore;
  logger: Logger;
  metrics?: Metrics;
  /** Defaults to the configured sources. */
  sources?: Source[];
  /** This process's loader's, when it has one: models built here then never lose a segment mid-build. */
  leases?: ReadLeases;
  /** Where a warning about the project goes; logged by default. */
  onWarning?: (message: string) => void;
}): StepHandlers {
  const { config, state, logger } = options;
  // Each run reads the project afresh; a warning about it (a dbt_project.yml entry for no model) is
  // news once, not at every run of every workflow.
  const warned = new Set<string>();
  const warn = options.onWarning ?? ((message: string) => logger.warn(message));
  const sayOnce = (message: string, say: () => void) => {
    if (warned.has(message)) return;
    warned.add(message);
    say();
  };
  const onWarning = (message: string) => sayOnce(message, () => warn(message));
  const layout = dataLayout(config.data_dir);
  const metrics = options.metrics ?? createMetrics();
  let sources = options.sources;
  return {
    async sync(name, context) {
      // A source left out for an unset ${VAR}: inlet start runs without it, and its syncs fail saying so.
      const leftOut = leftOutSourceError(config, name);
      if (leftOut) throw leftOut;
      sources ??= createSources(config);
      const source = findSource(sources, name);
      checkLogTableNames(config, { only: name });
      const logger = context.logger ?? options.logger;
      const result = await source.sync({
        config,
        layout,
        state,
        logger,
        metrics,
        signal: context.signal,
        // A symbolic link among a table's files, named again at each sync, each hour of each day.
        warnOnce: (fields, message) => sayOnce(message, () => logger.warn(fields, message)),
      });
      for (const table of result.tables) {
        context.log(`${table.table}: ${rowCount(table.rows)}`);
        for (const note of table.notes ?? []) context.log(note);
      }
      context.log(`synced ${rowCount(result.rows)} from ${name}`);
    },
    async run(selectors, fullRefresh, context, exclude, vars) {
      const result = await runModels({
        config,
        logger: context.logger ?? logger,
        selectors,
        exclude,
        vars,
        fullRefresh,
        signal: context.signal,
        onResult: (model) => context.log(summarizeModel(model)),
        onWarning,
        leases: options.leases,
      });
      // A step that built nothing said nothing: its log was empty, and nothing told why.
      const nothing = runPickedNothing({ selectors, exclude: exclude ?? [] }, result, 'the step');
      if (nothing) context.log(nothing);
      for (const test of result.tests) context.log(summarizeTest(test));
      if (!result.ok) {
        const failed = result.models
          .filter((m) => m.status === 'failed' || m.status === 'test_failed')
          .map((m) => m.name);
        const tests = result.tests.filter((t) => t.status !== 'pass').map((t) => t.name);
        // What to do about a model that ran out of models.memory_limit is the run's error too: the
        // history said only "models failed: orders", and the step's log DuckDB's words.
        const outOfMemory = result.models
          .filter((m) => m.code === 'QUERY_OUT_OF_MEMORY')
          .map((m) => m.message);
        throw new InletError(
          'MODEL_BUILD_FAILED',
          [
            failed.length > 0 ? `models failed: ${failed.join(', ')}` : '',
            tests.length > 0 ? `tests failed: ${tests.join(', ')}` : '',
            ...outOfMemory,
          ]
            .filter(Boolean)
            .join('; ') || 'the run was stopped',
        );
      }
    },
    async test(selectors, context, exclude, vars) {
      const result = await testModels({
        config,
        selectors,
        exclude,
        vars,
        leases: options.leases,
        signal: context.signal,
        onWarning,
      });
      const nothing = testPickedNothing({ selectors, exclude: exclude ?? [] }, result, 'the step');
      if (nothing) context.log(nothing);
      for (const test of result.tests) context.log(summarizeTest(test));
      if (!result.ok)
        throw new InletError(
          'DATA_TEST_FAILED',
          `tests failed: ${result.tests
            .filter((t) => t.status !== 'pass')
            .map((t) => (t.model ? `${t.model}: ${t.name}` : t.name))
            .join(', ')}`,
        );
    },
  };
}

/** 1 row, 2 rows, 12,345 rows. */
function rowCount(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'row' : 'rows'}`;
}
