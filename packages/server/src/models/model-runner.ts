import { join } from 'node:path';
import { configFileName, type InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import {
  dataLayout,
  linkedFileWarning,
  listLakeTables,
  makeDataFolders,
  type ReadLeases,
} from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { acquireProcessLock, type ProcessLock } from '../state/index.ts';
import { createBuildEngine, FILE_RACE, lakeViews } from './build-engine.ts';
import { type DataTestResult, runDataTests } from './data-tests.ts';
import { checkLogTableNames } from './log-table-names.ts';
import { buildGraph, type ModelGraph, selectNodes } from './model-graph.ts';
import { publishedValues, renderTemplate, usesTimezone } from './model-template.ts';
import { type BuildStep, buildNode, type ModelResult } from './node-builder.ts';
import { loadProject } from './project-loader.ts';
import type { Project } from './project-node.ts';
import { checkSourceNames, configuredSources } from './source-check.ts';
import { tableVersions } from './table-versions.ts';

export interface RunOptions {
  config: InletConfig;
  logger: Logger;
  /** Selectors as on the command line; none builds everything. */
  selectors?: string[];
  /** Selectors whose nodes are left out (dbt's --exclude). */
  exclude?: string[];
  fullRefresh?: boolean;
  /** Backfill: incremental models rebuild exactly these days (YYYY-MM-DD, inclusive); one never built is built whole. */
  from?: string;
  to?: string;
  signal?: AbortSignal;
  /** Called as each model finishes, for progress output. */
  onResult?: (result: ModelResult) => void;
  /**
   * Whether each model's result is logged as well (the default); false where onResult shows every
   * result to a person already (a terminal's line per model), which said each failure twice.
   */
  logResults?: boolean;
  /** How long a replaced version stays readable; by default twice the query timeout. */
  retainVersionsMs?: number;
  /** This process's loader's, when it has one: see createBuildEngine. */
  leases?: ReadLeases;
  /** What {{ var('name') }} is, over the vars: of dbt_project.yml (dbt's --vars). */
  vars?: Record<string, unknown>;
  /** Told what is wrong in the project but builds nothing differently; by default logged as a warning. */
  onWarning?: (message: string) => void;
}

export interface RunResult {
  ok: boolean;
  models: ModelResult[];
  /** Tests under tests/ that read the models built. */
  tests: DataTestResult[];
  ms: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A real day as YYYY-MM-DD: 2026-02-30 has the shape but is no day (Date rolls it over to March 2). */
const isDay = (value: string) => {
  const time = Date.parse(`${value}T00:00:00Z`);
  return DATE.test(value) && !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === value;
};

/** What is wrong with a backfill's --from or --to (flag), if anything: not given is nothing wrong. */
export function dayProblem(flag: string, value: string | undefined): string | undefined {
  if (value === undefined || isDay(value)) return undefined;
  return `${flag} must be a day as YYYY-MM-DD, and "${value}" is ${DATE.test(value) ? 'no day of the calendar' : 'not one'}.`;
}

/** What contradicts itself in a backfill's --from, --to and --full-refresh, if anything. */
export function backfillProblem(options: {
  from?: string;
  to?: string;
  fullRefresh?: boolean;
}): string | undefined {
  if (options.from && options.fullRefresh)
    return 'Use --full-refresh to rebuild everything, or --from/--to to rebuild some days, not both.';
  if (options.from && options.to && options.from > options.to)
    return `--from ${options.from} is after --to ${options.to}.`;
  return undefined;
}

/**
 * Refuses a model named as a log table of the lake: a log source's table: may be any name,
 * daily_active_users too. Once both were in the lake, either view replaced the other.
 */
function checkLakeNames(project: Project, config: InletConfig): void {
  for (const { dir, table } of lakeViews(() => listLakeTables(dataLayout(config.data_dir).lake))) {
    const node = project.nodes.get(table.name);
    // A source's tables are <source>.<table>, which no model's name can be.
    if (node === undefined || table.kind !== 'logs') continue;
    const rename = `give the log source another table: in ${configFileName(config)}`;
    throw new InletError(
      'MODEL_INVALID',
      `${node.path}: "${table.name}" is also the name of the log table in ${dir}, and one view cannot be both; ${node.origin === 'builtin' ? `${rename} (this is a built-in mart)` : `rename the model, or ${rename}`}.`,
    );
  }
}

/**
 * The project and its graph, read fresh: models may have changed since the last run. vars win
 * over the vars: of the project's dbt_project.yml.
 */
export function openProject(
  config: InletConfig,
  vars?: Record<string, unknown>,
): { project: Project; graph: ModelGraph } {
  const project = loadProject({
    projectDir: config.project_dir,
    builtin: config.models.builtin,
    vars,
    configPath: config.configPath,
  });
  checkLogTableNames(config, { project });
  checkLakeNames(project, config);
  checkSourceNames(project, config);
  // checkSourceNames resolved dbt's schema: and identifier:; selectors name sources as source() does.
  const aliases = new Map(
    [...project.sources.values()].flatMap((source) => [
      ...(source.lake ? [[source.name, source.lake] as const] : []),
      ...[...source.tables.values()]
        .filter((table) => table.name !== table.declared)
        .map((table) => [table.declared, table.name] as const),
    ]),
  );
  const sources = { ...configuredSources(config), aliases };
  return { project, graph: buildGraph(project.nodes, project.disabled, project.name, sources, project.dir) };
}

/**
 * What is wrong in the project but changes nothing built (a dbt_project.yml entry for no model);
 * none when the project cannot be read now, since each run reads it afresh and says why.
 */
export function projectWarnings(config: InletConfig): string[] {
  try {
    return loadProject({ projectDir: config.project_dir, builtin: config.models.builtin }).warnings;
  } catch (error) {
    if (error instanceof InletError) return [];
    throw error;
  }
}

/**
 * Takes the model's build lock, or returns why not: two processes building one model at once could
 * append an incremental model's new rows twice.
 */
function lockModel(stateDir: string, name: string): ProcessLock | InletError {
  try {
    return acquireProcessLock(
      join(stateDir, 'locks', `model-${name}.lock`),
      (holder) =>
        new InletError(
          'MODEL_BUSY',
          `${name} is being built by ${holder}; run it again once that build is done.`,
        ),
    );
  } catch (error) {
    if (error instanceof InletError) return error;
    throw error;
  }
}

/** The models that use {{ timezone }}, or read (through ref) one that does. */
function timezoneModels(project: Project, graph: ModelGraph): Set<string> {
  const zoned = new Set<string>();
  for (const name of graph.order) {
    const node = project.nodes.get(name);
    if (node?.kind === 'model' && (usesTimezone(node.sql) || node.refs.some((ref) => zoned.has(ref))))
      zoned.add(name);
  }
  return zoned;
}

/** What each status's log line says, so a failed model's line does not read "model built". */
const RESULT_MESSAGES: Record<ModelResult['status'], string> = {
  success: 'model built',
  failed: 'model failed',
  test_failed: 'model tests failed',
  skipped: 'model skipped',
};

/**
 * One model's result as a log line: an error for a failure, info otherwise. A build the run's stop
 * broke (Ctrl-C, SIGTERM, a workflow's timeout) is no fault of the model: a warning, "model stopped".
 */
function logResult(logger: Logger, result: ModelResult, stopped: boolean): void {
  const broken = result.status === 'failed' && stopped;
  const level =
    result.status === 'success' || result.status === 'skipped' ? 'info' : broken ? 'warn' : 'error';
  logger[level](
    { model: result.name, status: result.status, rows: result.rows, ms: result.ms, message: result.message },
    broken ? 'model stopped' : RESULT_MESSAGES[result.status],
  );
}

/**
 * Builds the selected models in dependency order. A model that fails (or whose tests fail) stops
 * the models downstream of it; unrelated branches carry on. ok is false when anything failed.
 */
export async function runModels(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { config, logger } = options;
  for (const [flag, value] of [
    ['--from', options.from],
    ['--to', options.to],
  ] as const) {
    const problem = dayProblem(flag, value);
    if (problem) throw new InletError('MODEL_INVALID', problem);
  }
  if ((options.from === undefined) !== (options.to === undefined))
    throw new InletError('MODEL_INVALID', 'A backfill needs both --from and --to.');
  const contradiction = backfillProblem(options);
  if (contradiction) throw new InletError('MODEL_INVALID', contradiction);

  const { project, graph } = openProject(config, options.vars);
  const warn = options.onWarning ?? ((message: string) => logger.warn(message));
  for (const warning of project.warnings) warn(warning);
  const selected = selectNodes(graph, options.selectors ?? [], options.exclude);
  const zoned = timezoneModels(project, graph);
  const layout = dataLayout(config.data_dir);
  // The models' build locks: data/state a file ended inlet run with a bare ENOTDIR (exit 5); and
  // where marts are published: lake/marts a file failed each model with "ENOTDIR: …, mkdir".
  makeDataFolders(layout, [join(layout.state, 'locks'), join(layout.lake, 'marts')], configFileName(config));
  const engine = await createBuildEngine({ config, layout, leases: options.leases, signal: options.signal });
  const results = new Map<string, ModelResult>();
  try {
    await engine.refreshViews();
    for (const name of selected) {
      const node = project.nodes.get(name);
      if (!node) continue;
      const blocked = graph.parents(name).find((p) => results.has(p) && results.get(p)?.status !== 'success');
      let result: ModelResult;
      if (options.signal?.aborted) {
        // Not the model's failure: the stop is the run's, which ok below and the caller report.
        result = {
          name,
          kind: node.kind,
          status: 'skipped',
          message: `the run was stopped before it reached ${name}`,
          tests: [],
          ms: 0,
        };
      } else if (blocked) {
        const status = results.get(blocked)?.status;
        result = {
          name,
          kind: node.kind,
          status: 'skipped',
          message: `upstream ${blocked} ${status === 'skipped' ? 'was skipped' : 'failed'}`,
          tests: [],
          ms: 0,
        };
      } else {
        const step: BuildStep = {
          engine,
          node,
          marts: join(layout.lake, 'marts'),
          fullRefresh: options.fullRefresh ?? false,
          window: options.from && options.to ? { from: options.from, to: options.to } : undefined,
          timezone: config.timezone,
          usesTimezone: zoned.has(name),
          retainVersionsMs: options.retainVersionsMs ?? Math.max(60_000, 2 * config.query.timeout_ms),
          isNode: (n) => project.nodes.has(n),
        };
        const lock = lockModel(layout.state, name);
        if (lock instanceof InletError) {
          result = { name, kind: node.kind, status: 'failed', message: lock.message, tests: [], ms: 0 };
        } else {
          try {
            // Left out of its view and of what the build carries over: a user who put a link among
            // its files (in place of a part file, or of its version's folder) is told where those rows went.
            for (const link of tableVersions(join(step.marts, name)).links()) warn(linkedFileWarning(link));
            result = await buildNode(step);
            // A WAL segment loaded into the lake mid-build is not the model's fault: build it again.
            for (
              let retry = 0;
              retry < 2 && result.status === 'failed' && FILE_RACE.test(result.message ?? '');
              retry++
            )
              result = await buildNode(step);
          } finally {
            lock.release();
          }
        }
      }
      results.set(name, result);
      if (options.logResults !== false) logResult(logger, result, options.signal?.aborted === true);
      options.onResult?.(result);
    }
    const built = new Set([...results].filter(([, r]) => r.status === 'success').map(([n]) => n));
    const views = engine.viewNames();
    const tests = await runDataTests(
      engine,
      project.tests
        .filter((t) => t.refs.some((r) => built.has(r)) && t.refs.every((r) => views.has(r)))
        .map((t) => ({
          model: t.refs.join(', '),
          name: t.name,
          sql: renderTemplate(t.sql, publishedValues(config.timezone, '')),
        })),
      options.signal,
      (name) => project.nodes.has(name),
    );
    const models = [...results.values()];
    // A skipped model (an optional input is missing, or something upstream failed) is not itself a
    // failure; the failure it stems from already is.
    const ok =
      models.every((r) => r.status === 'success' || r.status === 'skipped') &&
      tests.every((t) => t.status === 'pass');
    return { ok: ok && !options.signal?.aborted, models, tests, ms: Math.round(performance.now() - started) };
  } finally {
    engine.close();
  }
}
