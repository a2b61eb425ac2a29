import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createCatalog } from '../src/catalog/index.ts';
import { createQueryEngine } from '../src/engine/index.ts';
import { dataLayout } from '../src/lake/index.ts';
import { createSilentLogger } from '../src/log/index.ts';
import { createMetrics } from '../src/metrics/index.ts';
import { createSources, findSource, type SyncResult } from '../src/sources/index.ts';
import { openStateStore } from '../src/state/index.ts';
import { killedAfterwards } from './child-processes.ts';
import { configIn, tempDir, testConfig } from './helpers.ts';

/** The database URLs the source tests run against (real servers on this machine). */
export const TEST_PG_URL = process.env.INLET_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_MYSQL_URL = process.env.INLET_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A name no parallel test run uses, for schemas and databases. */
export const uniqueName = (prefix: string) =>
  `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

/** A source's entry in inlet.yaml: the given name, type and url with these tables, and extra fields over them. */
export const sourceEntry =
  (base: { name: string; type: string; url: string }) =>
  (tables: unknown[], extra: Record<string, unknown> = {}) => ({ ...base, tables, ...extra });

/**
 * A data directory with the given sources configured, syncing them in-process and querying the
 * result through the real sandboxed engine, as `inlet sync` and `inlet query` do.
 */
/** A merge-mode table entry, keyed on id and read by its updated_at cursor unless extra says otherwise. */
export const mergeTable = (table: string, extra: Record<string, unknown> = {}) => ({
  table,
  mode: 'merge',
  primary_key: 'id',
  cursor: 'updated_at',
  ...extra,
});

export async function createSourceHarness(
  sources: Array<Record<string, unknown>>,
  options: {
    /** The name of the file the configuration was read from (prod.yaml), as --config gives one; none by default. */
    configFile?: string;
  } = {},
) {
  const temp = tempDir('inlet-sources-');
  const parsed = testConfig(temp.dir, {
    sources: sources as Array<{ name: string; type: string }>,
    // Its own, so a test's models never land in the working directory's ./project.
    project_dir: join(temp.dir, 'project'),
    models: { builtin: false },
  });
  const config =
    options.configFile === undefined ? parsed : { ...parsed, configPath: join(temp.dir, options.configFile) };
  const layout = dataLayout(config.data_dir);
  const state = openStateStore(join(temp.dir, 'state.sqlite'));
  const engine = await createQueryEngine({ config, layout });
  const progress: Array<[number, number | undefined]> = [];
  const metrics = createMetrics();
  return {
    dir: temp.dir,
    config,
    layout,
    state,
    progress,
    /** What the syncs counted, as /metrics would show it. */
    metrics,
    sync(
      name: string,
      signal = new AbortController().signal,
      logger = createSilentLogger(),
    ): Promise<SyncResult> {
      return findSource(createSources(config), name).sync({
        config,
        layout,
        state,
        logger,
        metrics,
        signal,
        onProgress: (rows, total) => progress.push([rows, total]),
      });
    },
    /** A table as `inlet catalog <table>` shows it, with its descriptions. */
    async catalog(table: string) {
      const catalog = createCatalog({ config, logger: createSilentLogger() });
      try {
        return await catalog.table(table);
      } finally {
        catalog.close();
      }
    },
    /** Rows of a query as objects. */
    async query(sql: string): Promise<Array<Record<string, unknown>>> {
      const result = await engine.query(sql);
      return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
    },
    close() {
      engine.close();
      state.close();
      temp.cleanup();
    },
  };
}

export type SourceHarness = Awaited<ReturnType<typeof createSourceHarness>>;

/** Runs `use` with a harness for the given sources, and closes the harness after, passed or failed. */
export async function withSourceHarness<T>(
  sources: Array<Record<string, unknown>>,
  use: (h: SourceHarness) => Promise<T>,
  options: Parameters<typeof createSourceHarness>[1] = {},
): Promise<T> {
  const h = await createSourceHarness(sources, options);
  try {
    return await use(h);
  } finally {
    h.close();
  }
}

/** Each column of a lake table with the type the lake gave it, as DESCRIBE shows them. */
export const lakeColumnTypes = async (h: SourceHarness, table: string): Promise<Record<string, unknown>> =>
  Object.fromEntries((await h.query(`DESCRIBE ${table}`)).map((r) => [r.column_name, r.column_type]));

/** The error a sync of `name` fails with; a sync that succeeds gives an error saying it should have failed. */
export const syncError = (h: SourceHarness, name: string): Promise<Error> =>
  h.sync(name).then(
    () => new Error('the sync should have failed'),
    (e: unknown) => e as Error,
  );

const BIN = join(import.meta.dirname, '..', 'bin', 'inlet.cjs');

/** Parquet files a run has staged (not yet published) for one table. */
export function stagedParts(lakeDir: string, source: string, table: string): number {
  const dir = join(lakeDir, 'sources', source, table);
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((name) => name.startsWith('.run-'))
    .reduce((n, run) => n + readdirSync(join(dir, run)).filter((f) => f.endsWith('.parquet')).length, 0);
}

/**
 * Runs `inlet sync <source>` in a child process, as a user would, and SIGKILLs it once `midway()`
 * holds. Resolves to true when the kill landed mid-sync, false when the sync finished first.
 */
export async function killSyncMidway(options: {
  configPath: string;
  source: string;
  env: Record<string, string>;
  midway: () => boolean;
}): Promise<boolean> {
  const child = killedAfterwards(
    spawn(process.execPath, [BIN, 'sync', options.source, '--config', options.configPath], {
      env: { ...process.env, ...options.env, INLET_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 6000; i++) {
    if (child.exitCode !== null) break;
    if (options.midway()) {
      child.kill('SIGKILL');
      await exited;
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  child.kill('SIGKILL');
  await exited;
  if (child.exitCode !== 0 && child.signalCode === null) throw new Error(`inlet sync failed: ${stderr}`);
  return false;
}

/**
 * The SIGKILL scenario every database source must survive. `inlet sync` of `table` (as an
 * incremental and as a full table of the source "crash") is killed while the incremental table is
 * half staged, retried, then killed again while the full snapshot is rewritten after `addRows()`:
 * each time the lake's fingerprint matches the database's, so no row is lost, repeated or changed
 * and a full snapshot never shows half a copy.
 */
export async function expectSyncSurvivesKills(options: {
  type: string;
  url: string;
  table: string;
  /** The fingerprint of `table` computed by the database. */
  fingerprint: () => Promise<unknown>;
  /** The same fingerprint of a lake table, as DuckDB SQL. */
  lakeFingerprint: (table: string) => string;
  addRows: () => Promise<unknown>;
}): Promise<void> {
  const sources = [
    {
      name: 'crash',
      type: options.type,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${NAME} is inlet.yaml syntax, not a template
      url: '${INLET_CRASH_URL}',
      part_size_mb: 1,
      tables: [
        { table: options.table, name: 'big_inc', mode: 'incremental', cursor: 'id' },
        { table: options.table, name: 'big_full' },
      ],
    },
  ];
  const h = await createSourceHarness(sources.map((s) => ({ ...s, url: options.url })));
  const configPath = configIn(h.dir, JSON.stringify({ data_dir: h.dir, sources }));
  const env = { INLET_CRASH_URL: options.url };
  const lake = async (table: string) => h.query(options.lakeFingerprint(table));
  /** Runs `inlet sync crash` and kills it once table has two parts staged, which it must reach. */
  const killWhileStaging = async (table: string) => {
    const killed = await killSyncMidway({
      configPath,
      source: 'crash',
      env,
      midway: () => stagedParts(h.layout.lake, 'crash', table) >= 2,
    });
    expect(killed, 'the sync finished before it could be killed; make the table bigger').toBe(true);
  };
  try {
    // Killed while the incremental table is half staged: nothing of it is committed.
    await killWhileStaging('big_inc');
    expect(h.state.getCheckpoint('source:crash', 'big_inc')).toBeUndefined();
    await h.sync('crash');
    const before = await options.fingerprint();
    expect(await lake('crash.big_inc')).toEqual([before]);
    expect(await lake('crash.big_full')).toEqual([before]);

    // More rows, then killed while the full snapshot is being rewritten: the old snapshot stays whole.
    await options.addRows();
    await killWhileStaging('big_full');
    expect(await lake('crash.big_full')).toEqual([before]);
    const after = await options.fingerprint();
    expect(await lake('crash.big_inc')).toEqual([after]);

    await h.sync('crash');
    expect(await lake('crash.big_inc')).toEqual([after]);
    expect(await lake('crash.big_full')).toEqual([after]);
  } finally {
    h.close();
  }
}
