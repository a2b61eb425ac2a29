import { join, resolve } from 'node:path';
import type { DuckDBConnection, Json } from '@duckdb/node-api';
import { configFileName, type InletConfig } from '../config/index.ts';
import { closeDuckDB, openDuckDB } from '../engine/allocator.ts';
import {
  applyViews,
  createWalViewCheck,
  discoverViews,
  failedViews,
  unavailableMessage,
} from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import { type DataLayout, dataDirUnusable, makeFolder, type ReadLeases, sqlString } from '../lake/index.ts';
import type { BuildMemory } from './build-memory.ts';
import { BUILTIN_PROJECT_DIR } from './project-loader.ts';
import { openSpillFolder } from './spill-folder.ts';
import { quoteName } from './sql-names.ts';

/**
 * The DuckDB that builds models: its own in-memory instance, never the sandboxed one that runs
 * people's SQL, because building means writing Parquet. It has the same views over the lake.
 */
export interface BuildEngine {
  connection: DuckDBConnection;
  /** The database and CSV sources' names, whose tables are the views <source>.<table>. */
  sources: readonly string[];
  /** Brings the views in line with the lake's manifests (after a model is published, for one). */
  refreshViews(): Promise<void>;
  /** Points one view somewhere else until the next refresh (a model's unpublished files, for its tests). */
  overrideView(name: string, sql: string): Promise<void>;
  /** Names of every view over the lake right now. */
  viewNames(): Set<string>;
  /** Tables and views left out because their view cannot be built: name → why, and what to do. */
  unavailable(): Map<string, string>;
  rows(sql: string): Promise<Record<string, Json>[]>;
  /** What its DuckDB may use, where it spills and where the limit is set, which a build or test that ran out of it names. */
  memory: BuildMemory;
  close(): void;
}

/** The loader deleted a WAL segment between the events view's glob and the read: the rows are in the lake now. */
export const FILE_RACE = /No files found|Cannot open file|No such file/;

/**
 * The lake's views as listed, or LAKE_UNREADABLE, as inlet query says it, when the lake cannot be
 * listed (lake/events a file, a folder this user may not read): inlet run, test, catalog and docs
 * check ended with a bare ENOTDIR, as an error inlet did not foresee (exit 5). A file gone while
 * listed (ENOENT) is a race the callers take again.
 */
export function lakeViews<T>(list: () => T): T {
  try {
    return list();
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === undefined || code === 'ENOENT') throw error;
    throw new InletError(
      'LAKE_UNREADABLE',
      `The lake's tables cannot be read, so no model can be built or tested and the catalog cannot list them (${message.split('\n')[0]}). The path named is not a folder inlet made or one this user can read: move what is there out of the lake or restore it from a backup, or give this user the data directory (chown -R).`,
      { cause: error },
    );
  }
}

export async function createBuildEngine(options: {
  config: InletConfig;
  layout: DataLayout;
  /**
   * Shared with this process's loader, as the query engine's are: while the engine is open, no
   * WAL segment its views may list is deleted, and its views leave out segments already loaded.
   */
  leases?: ReadLeases;
  /** Stops the build: the statement running is interrupted, and no statement starts after it. */
  signal?: AbortSignal;
  /**
   * For the catalog, which only reads: it makes nothing in data_dir, and spills to a folder of its
   * own under the system's temporary folder, removed when it closes (spill-folder.ts). inlet catalog
   * made data/tmp/models in a fresh directory, and failed over a data_dir this user may only read.
   */
  readOnly?: boolean;
}): Promise<BuildEngine> {
  const { config, layout } = options;
  const own = options.readOnly === true ? openSpillFolder() : undefined;
  const temp = options.readOnly === true ? (own?.path ?? '') : modelsSpillFolder(config, layout);
  try {
    return await openBuildEngine(config, layout, temp, options, () => own?.remove());
  } catch (error) {
    own?.remove();
    throw error;
  }
}

/** The engine over its DuckDB, which spills to temp ('' for nowhere); onClosed is told when it closes. */
async function openBuildEngine(
  config: InletConfig,
  layout: DataLayout,
  temp: string,
  { leases, signal }: { leases?: ReadLeases; signal?: AbortSignal },
  onClosed: () => void,
): Promise<BuildEngine> {
  const instance = await openDuckDB({
    threads: String(Math.max(1, config.query.threads)),
    memory_limit: config.models.memory_limit,
    // Rows of a model without ORDER BY may be written in any order (as SQL allows), which lets a
    // mart's row groups be capped in bytes (materialize.ts); an ORDER BY is still kept.
    preserve_insertion_order: 'false',
    temp_directory: temp,
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
  });
  const setup = await instance.connect();
  // Models see times in the configured zone, as people do in the SQL editor.
  await setup.run(`SET TimeZone = ${sqlString(config.timezone)}`);
  // A model is SQL too: it reads the lake (and the WAL under the events view) and its project's
  // seeds, writes its own files in the lake, and reaches nothing else on the machine or the network.
  const reachable = [layout.lake, layout.walEvents, resolve(config.project_dir), BUILTIN_PROJECT_DIR];
  if (temp !== '') reachable.push(temp);
  await setup.run(`SET allowed_directories = [${reachable.map((dir) => sqlString(`${dir}/`)).join(', ')}]`);
  await setup.run('SET enable_external_access = false');
  await setup.run('SET lock_configuration = true');
  const connection = stoppable(setup, signal);
  let views = new Map<string, string>();
  let reasons = new Map<string, string>();
  const endLease = leases?.begin();
  const walCheck = createWalViewCheck(layout.walEvents);
  return {
    connection,
    sources: config.sources.filter((source) => source.type !== 'file').map((source) => source.name),
    async refreshViews() {
      const failed = new Map<string, string>();
      const wal = await walCheck.files(leases?.retiring);
      views = await applyViews(
        (sql) => connection.run(sql),
        views,
        lakeViews(() =>
          discoverViews(layout, {
            skipWal: leases?.retiring,
            dedupWindowHours: config.loader.dedup_window_hours,
            wal,
            configPath: config.configPath,
          }),
        ),
        (view, error) => failed.set(view.name, unavailableMessage(view, error)),
      );
      // A view that failed before and was not tried again this time failed for the same reason.
      const left = failedViews(views);
      reasons = new Map(left.map((name) => [name, failed.get(name) ?? reasons.get(name) ?? '']));
    },
    async overrideView(name, sql) {
      await connection.run(`CREATE OR REPLACE VIEW ${quoteName(name)} AS ${sql}`);
      // A shape no manifest produces, so the next refresh puts the published definition back.
      views.set(name, `override:${sql}`);
    },
    unavailable: () => reasons,
    memory: { limit: config.models.memory_limit, spillFolder: temp, configFile: configFileName(config) },
    viewNames() {
      return new Set([...views].filter(([, shape]) => !shape.startsWith('failed:')).map(([name]) => name));
    },
    async rows(sql) {
      try {
        return (await connection.runAndReadAll(sql)).getRowObjectsJson();
      } catch (error) {
        if (!FILE_RACE.test((error as Error).message)) throw error;
        return (await connection.runAndReadAll(sql)).getRowObjectsJson();
      }
    },
    close() {
      stopListening(connection);
      connection.closeSync();
      closeDuckDB(instance);
      endLease?.();
      onClosed();
    },
  };
}

/** data/tmp/models, where a build's DuckDB spills (a build that runs out of memory even so names it). */
const modelsSpillPath = (layout: DataLayout): string => join(layout.tmp, 'models');

/**
 * Where a build's DuckDB spills what does not fit in memory, made first: a data_dir this user may
 * not write ended inlet run and test with a bare EACCES, as an error inlet did not foresee (exit 5).
 * The catalog's engine spills elsewhere (spill-folder.ts): letting its DuckDB make this folder when it
 * first spills would not do, as DuckDB deletes a folder it made, whole, when closed, with what a
 * build started meanwhile had put there.
 */
function modelsSpillFolder(config: InletConfig, layout: DataLayout): string {
  const temp = modelsSpillPath(layout);
  try {
    makeFolder(temp);
  } catch (error) {
    throw dataDirUnusable(layout.dataDir, 'making', temp, error, configFileName(config));
  }
  return temp;
}

/** Whether a statement failed because the build was stopped (DuckDB's interrupt, or not started). */
export const isInterrupted = (error: unknown): boolean =>
  error instanceof Error && error.message.includes('INTERRUPT');

/** The statements of a connection, which a stopped build refuses to start. */
const STATEMENTS: ReadonlySet<string | symbol> = new Set([
  'run',
  'runAndReadAll',
  'runAndRead',
  'prepare',
  'stream',
]);

/** What a statement a stopped build did not start fails with: as DuckDB says an interrupted one. */
const NOT_STARTED = 'INTERRUPT Error: the build was stopped before this statement started';

const listeners = new WeakMap<DuckDBConnection, () => void>();

/**
 * The connection, whose statements stop with signal. DuckDB's interrupt stops only a statement it
 * has begun: a stop that came after a model's build lock was taken but before its query started
 * (or while the query waited for a thread) went unheard, and the query ran for as long as it took.
 * So a statement is not started once stopped, and one under way is interrupted again every 50 ms
 * until it ends.
 */
function stoppable(connection: DuckDBConnection, signal: AbortSignal | undefined): DuckDBConnection {
  if (!signal) return connection;
  let running = 0;
  let again: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    connection.interrupt();
    if (running > 0) again ??= setInterval(() => connection.interrupt(), 50);
  };
  signal.addEventListener('abort', stop, { once: true });
  const wrapped = new Proxy(connection, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (!STATEMENTS.has(key)) return value.bind(target);
      return async (...args: unknown[]) => {
        if (signal.aborted) throw new Error(NOT_STARTED);
        running++;
        try {
          return await value.apply(target, args);
        } finally {
          running--;
          if (running === 0 && again) {
            clearInterval(again);
            again = undefined;
          }
        }
      };
    },
  });
  listeners.set(wrapped, () => {
    signal.removeEventListener('abort', stop);
    if (again) clearInterval(again);
  });
  return wrapped;
}

const stopListening = (connection: DuckDBConnection) => listeners.get(connection)?.();
