import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { keywordSources, withQuotedSchemaHint, withSqlHint } from '../engine/index.ts';
import { isInletError } from '../errors/index.ts';
import { type LakeTable, readLakeTable } from '../lake/index.ts';
import { type BuildEngine, isInterrupted } from './build-engine.ts';
import { outOfMemoryMessage } from './build-memory.ts';
import { type DataTestResult, modelTests, runDataTests } from './data-tests.ts';
import {
  type BuildMode,
  checkColumnNames,
  checkIncrementalColumns,
  checkSameColumns,
  checkSeedColumns,
  checkSeedHeader,
  checkSeedTypes,
  checkTimezones,
  DAY,
  describeSelect,
  FULL_WINDOW,
  partitionedByDt,
  seedConversionMessage,
  seedSql,
  stagingViewSql,
  type Window,
  writeStaging,
} from './materialize.ts';
import { columnDescriptions } from './model-config.ts';
import { renderForBuild } from './model-template.ts';
import type { ProjectNode } from './project-node.ts';
import { firstLines, modelErrorMessage } from './sql-error-lines.ts';
import { quoteName } from './sql-names.ts';
import { analyzeSelect } from './sql-references.ts';
import { partitionDirs, tableVersions } from './table-versions.ts';

export interface ModelResult {
  name: string;
  kind: ProjectNode['kind'];
  /** skipped: an optional input is missing, or something upstream did not build. */
  status: 'success' | 'failed' | 'test_failed' | 'skipped';
  mode?: BuildMode;
  /** Rows in the table after the build; views have none of their own. */
  rows?: number;
  /** dt partitions written by this build (partitioned models). */
  partitions?: string[];
  /** Tables and views the SQL reads. */
  inputs?: string[];
  message?: string;
  /** The error code of a failure that has one: QUERY_OUT_OF_MEMORY, which inlet run exits 4 on. */
  code?: 'QUERY_OUT_OF_MEMORY';
  tests: DataTestResult[];
  ms: number;
}

/** Everything one node's build needs from the run. */
export interface BuildStep {
  engine: BuildEngine;
  node: ProjectNode;
  /** lake/marts */
  marts: string;
  fullRefresh: boolean;
  /** A backfill window, when given. */
  window: Window | undefined;
  timezone: string;
  /** It uses {{ timezone }}, or reads a model that does: its manifest records the zone, checked at each build. */
  usesTimezone: boolean;
  retainVersionsMs: number;
  isNode(name: string): boolean;
}

const daysBefore = (dt: string, days: number) =>
  new Date(Date.parse(`${dt}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

/** Which way this build writes, over which dt window, and whether it adds to what exists. */
function plan(
  step: BuildStep,
  current: string | undefined,
): { mode: BuildMode; window: Window; incremental: boolean } {
  const { node } = step;
  const existing = step.fullRefresh ? undefined : current;
  if (node.kind === 'seed' || node.config.materialized === 'table')
    return { mode: 'full', window: FULL_WINDOW, incremental: false };
  if (node.config.materialized === 'view') return { mode: 'view', window: FULL_WINDOW, incremental: false };
  // As dbt's is_incremental() is false on a first run whatever vars are passed, a backfill of a
  // model with no table yet builds it whole: a window alone would publish those days as the table.
  if (!partitionedByDt(node))
    return existing
      ? { mode: 'merge', window: step.window ?? FULL_WINDOW, incremental: true }
      : { mode: 'full', window: FULL_WINDOW, incremental: false };
  // Days only: a version published before NULL days were refused has dt=__HIVE_DEFAULT_PARTITION__.
  // None: it found no rows, or it was a table until now; its rows would not be carried over.
  const newest = existing
    ? partitionDirs(existing)
        .map((p) => p.slice(3))
        .filter((dt) => DAY.test(dt))
        .at(-1)
    : undefined;
  if (!newest) return { mode: 'full', window: FULL_WINDOW, incremental: false };
  if (step.window) return { mode: 'partitions', window: step.window, incremental: true };
  // A model that outputs days still to come (a due date) has its newest partition ahead of today:
  // counted from there, today's partition would never be rebuilt again.
  const from = daysBefore([newest, today(step.timezone)].sort()[0] ?? newest, node.config.lookback_days);
  return { mode: 'partitions', window: { from, to: FULL_WINDOW.to }, incremental: true };
}

/** Today, the earlier of the UTC day (the lake's dt) and the day in the model's time zone. */
function today(timezone: string): string {
  const now = new Date();
  const local = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
  const utc = now.toISOString().slice(0, 10);
  return [local, utc].sort()[0] ?? utc;
}

/**
 * The published version a build by key adds to: none when it holds no rows, as for a model by dt.
 * A first build that found nothing left is_incremental filters such as ts > (SELECT max(ts) FROM
 * {{ this }}) comparing with NULL, and every later build added nothing.
 */
async function mergeTarget(step: BuildStep, current: string | undefined): Promise<string | undefined> {
  const { engine, node } = step;
  if (!current || node.config.materialized !== 'incremental' || partitionedByDt(node)) return current;
  if (!engine.viewNames().has(node.name)) return current;
  const [row] = await engine.rows(`SELECT EXISTS (SELECT 1 FROM ${quoteName(node.name)}) AS found`);
  return row?.found === true ? current : undefined;
}

/** The table names a reader means, whatever the spelling: main.events and Events are events. */
const canonical = (name: string) => name.toLowerCase().replace(/^main\./, '');

/** The SQL one build of a model or seed runs: a seed's reading of its CSV file, a model's rendered. */
function nodeSql(
  node: ProjectNode,
  build: { from: string; to: string; timezone: string; incremental: boolean },
): string {
  return node.kind === 'seed' ? seedSql(node) : renderForBuild(node.sql, node.name, build);
}

/** The SQL a node's first build runs (whole: nothing to add to yet), as the catalog shows a node not built. */
export function firstBuildSql(node: ProjectNode, timezone: string): string {
  return nodeSql(node, { ...FULL_WINDOW, timezone, incremental: false });
}

/**
 * Builds one model or seed: checks it is one SELECT over things that exist, writes it to a staging
 * directory (or defines the view), runs its tests against that, and only then publishes it.
 */
export async function buildNode(step: BuildStep): Promise<ModelResult> {
  const { engine, node } = step;
  const started = performance.now();
  const versions = tableVersions(join(step.marts, node.name));
  if (existsSync(versions.dir) && !statSync(versions.dir).isDirectory())
    return {
      name: node.name,
      kind: node.kind,
      status: 'failed',
      message: `${node.name}: ${versions.dir} is a file where inlet keeps the folder of its table; move it out of the lake.`,
      tests: [],
      ms: 0,
    };
  const current = versions.current();
  const { mode, window, incremental } = plan(step, await mergeTarget(step, current));
  // Said on the line of a model built whole where days were asked for, so nobody wonders why.
  const note =
    step.window && node.config.materialized === 'incremental' && !incremental && !step.fullRefresh
      ? current === undefined
        ? 'never built: building whole'
        : partitionedByDt(node)
          ? 'its published table has no dt partitions yet: building whole'
          : 'its published table is empty: building whole'
      : undefined;
  const done = (
    result: Omit<ModelResult, 'name' | 'kind' | 'ms' | 'mode' | 'tests'> & { tests?: DataTestResult[] },
  ) => ({
    name: node.name,
    kind: node.kind,
    mode,
    tests: [],
    ...(note ? { message: note } : {}),
    ...result,
    ms: Math.round(performance.now() - started),
  });
  const sql = nodeSql(node, { ...window, timezone: step.timezone, incremental });
  let analysis: Awaited<ReturnType<typeof analyzeSelect>>;
  try {
    analysis = await analyzeSelect(engine.connection, sql);
    if (!analysis.ok) {
      // A source named as a keyword (left, order) written bare fails to parse, as in people's queries.
      const keywords = await keywordSources(engine.connection, sql, engine.sources);
      return done({
        status: 'failed',
        message: `${node.path}: ${withQuotedSchemaHint(analysis.reason, sql, keywords)}`,
      });
    }
  } catch (error) {
    // Stopped (Ctrl-C) while its SQL was read, or before: it ended inlet run as an error inlet did
    // not foresee (exit 5).
    if (isInterrupted(error)) return done({ status: 'failed', message: 'stopped' });
    throw error;
  }
  const inputs = analysis.tables;
  const views = new Set([...engine.viewNames()].map(canonical));
  const missing = inputs.filter((table) => !views.has(canonical(table)));
  if (missing.length > 0) {
    const optional = new Set(node.config.skip_when_missing.map(canonical));
    if (missing.every((table) => optional.has(canonical(table))))
      return done({
        status: 'skipped',
        inputs,
        message: `${missing.join(', ')} is not in the lake yet, so ${node.name} waits for it`,
      });
    const unavailable = new Map([...engine.unavailable()].map(([name, why]) => [canonical(name), why]));
    const reasons = missing.map((table) =>
      unavailable.has(canonical(table))
        ? `reads ${table}, which cannot be read now: ${unavailable.get(canonical(table))}`
        : canonical(table) === node.name
          ? `reads {{ this }}, its own table, which does not exist before its first build; ${
              node.config.materialized === 'incremental'
                ? 'put what reads it inside {% if is_incremental %}…{% endif %}'
                : `a ${node.config.materialized} model is built whole each time, so make it materialized: incremental to add to what it built before`
            }`
          : step.isNode(table)
            ? `needs ${table}, which has not been built yet (run inlet run +${node.name} to build it too)`
            : `reads ${table}, which is not a table or view in the lake (SHOW TABLES lists them)`,
    );
    return done({ status: 'failed', inputs, message: `${node.name} ${reasons.join('; ')}` });
  }

  let staging: string | undefined;
  try {
    if (node.kind === 'seed') {
      await checkSeedHeader(engine, node);
      await checkSeedTypes(engine, node);
    }
    const columns = await describeSelect(engine, sql);
    if (node.kind === 'seed') checkSeedColumns(node, columns);
    else await checkColumnNames(engine, node, sql);
    checkIncrementalColumns(node, columns);
    if (step.usesTimezone) {
      const zoneOf = (name: string) => readLakeTable(join(step.marts, name))?.timezone;
      checkTimezones(
        node,
        step.timezone,
        incremental ? zoneOf(node.name) : undefined,
        node.refs.map((ref) => [ref, zoneOf(ref)]),
      );
    }
    if (incremental)
      checkSameColumns(node, await describeSelect(engine, `SELECT * FROM ${quoteName(node.name)}`), columns);
    const manifest: Omit<LakeTable, 'files'> = {
      name: node.name,
      kind: 'mart',
      ...(node.config.description ? { description: node.config.description } : {}),
      columns: columnDescriptions(node.config),
      // Its own table, read through {{ this }}, is not an input: lineage showed it as its own parent.
      depends_on: [...new Set(inputs.map(canonical))].filter((input) => input !== node.name),
      ...(step.usesTimezone ? { timezone: step.timezone } : {}),
    };
    let partitions: string[] = [];
    if (mode === 'view') {
      await engine.overrideView(node.name, sql);
    } else {
      staging = versions.stage();
      partitions = await writeStaging({
        engine,
        node,
        sql,
        mode,
        window,
        staging,
        current: step.fullRefresh ? undefined : current,
        keepDaysNotOutput: !step.window,
      });
      await engine.overrideView(node.name, stagingViewSql(staging));
    }
    const tests = await runDataTests(
      engine,
      modelTests(node.name, node.config, quoteName(node.name), quoteName, (text) =>
        renderForBuild(text, node.name, { ...window, timezone: step.timezone, incremental: false }),
      ),
      undefined,
      step.isNode,
    );
    const failed = tests.filter((t) => t.status !== 'pass');
    if (failed.length > 0) {
      if (staging) versions.discard(staging);
      await engine.refreshViews();
      return done({
        status: 'test_failed',
        inputs,
        tests,
        message: `not published: ${failed.map((t) => `${t.name} ${t.status === 'error' ? `could not run (${t.message})` : `found ${t.failures} row${t.failures === 1 ? '' : 's'}`}`).join('; ')}`,
      });
    }
    if (staging) versions.publish(staging, manifest);
    else versions.publishView({ ...manifest, sql });
    staging = undefined;
    await engine.refreshViews();
    const rows =
      mode === 'view'
        ? undefined
        : Number((await engine.rows(`SELECT count(*)::BIGINT AS n FROM ${quoteName(node.name)}`))[0]?.n ?? 0);
    return done({
      status: 'success',
      inputs,
      rows,
      partitions: partitionedByDt(node) ? partitions : undefined,
      tests,
    });
  } catch (error) {
    if (staging) versions.discard(staging);
    await engine.refreshViews().catch(() => undefined);
    const message = (error as Error).message;
    const outOfMemory = outOfMemoryMessage(node, message, step.engine.memory);
    if (outOfMemory)
      return done({ status: 'failed', inputs, code: 'QUERY_OUT_OF_MEMORY', message: outOfMemory });
    const conversion = node.kind === 'seed' ? seedConversionMessage(node, message) : undefined;
    return done({
      status: 'failed',
      inputs,
      message: isInletError(error)
        ? message
        : isInterrupted(error)
          ? 'stopped'
          : conversion
            ? conversion
            : node.kind === 'seed' && /sniffing file|CSV Error/i.test(message)
              ? `${node.path}: not a CSV file a seed can be (comma-separated, a header row, every row as many fields as the header, every quote closed); DuckDB says: ${firstLines(message).replace(/ The search space used was:.*$/, '')}`
              : withSqlHint(modelErrorMessage(node, message, sql), sql),
    });
  } finally {
    versions.cleanup(step.retainVersionsMs);
  }
}
