import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type ApiToken, claimApiToken } from './auth/index.ts';
import { type Catalog, createCatalog } from './catalog/index.ts';
import {
  createEnricher,
  createIntake,
  createIntakeWorkers,
  type Intake,
  type IntakeWorkers,
  startSaltExpiry,
} from './collect/index.ts';
import { configFileName, type InletConfig, warnLeftOutSources } from './config/index.ts';
import { createQueryProcess, type QueryEngine } from './engine/index.ts';
import { InletError } from './errors/index.ts';
import { createHttpApp } from './http/index.ts';
import {
  createLoader,
  createReadLeases,
  type DataLayout,
  damagedFileMessage,
  dataDirUnusable,
  dataLayout,
  fileInTheWay,
  type Loader,
  loaderLagSeconds,
  makeFolder,
} from './lake/index.ts';
import type { Logger } from './log/index.ts';
import { createMetrics, type Metrics } from './metrics/index.ts';
import { checkLogTableNames, projectWarnings } from './models/index.ts';
import {
  createRunHistory,
  createScheduler,
  createStepHandlers,
  type RunHistory,
  type Scheduler,
  warnLeftOutWorkflows,
  workflowsToSchedule,
} from './scheduler/index.ts';
import { createLogIntake, type LogIntake } from './sources/file-log/index.ts';
import { createSources } from './sources/index.ts';
import { acquireProcessLock, openStateStore, type ProcessLock, type StateStore } from './state/index.ts';
import {
  createSealedSegments,
  createWalWriter,
  segmentId,
  type WalWriter,
  walDeletedLogger,
  walRecoveredLogger,
  walStrayLogger,
  walWritableLogger,
} from './wal/index.ts';

export interface RunningInlet {
  url: string;
  apiToken: string;
  wal: WalWriter;
  loader: Loader;
  engine: QueryEngine;
  state: StateStore;
  scheduler: Scheduler;
  runs: RunHistory;
  catalog: Catalog;
  close(): Promise<void>;
}

/**
 * Intake workers when collector.workers is not set: a core for the main thread and one for the
 * loader's DuckDB come first, so one per core beyond two, at most 4. Each costs about 50 MB.
 */
function defaultIntakeWorkers(): number {
  return Math.min(4, Math.max(0, availableParallelism() - 2));
}

const LAG_TIMER_MS = 10;

/** The process's memory, under the names Prometheus' Node.js exporters use. */
function registerProcessMetrics(metrics: Metrics): () => void {
  metrics.gauge('process_resident_memory_bytes', 'Resident memory of this process', () =>
    process.memoryUsage.rss(),
  );
  const memory = (key: 'heapUsed' | 'heapTotal' | 'external') => () => process.memoryUsage()[key];
  metrics.gauge('nodejs_heap_size_used_bytes', 'V8 heap in use', memory('heapUsed'));
  metrics.gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved', memory('heapTotal'));
  metrics.gauge(
    'nodejs_external_memory_bytes',
    'Memory of buffers and other objects outside the V8 heap',
    memory('external'),
  );
  // How late the event loop ran a 10 ms timer: a stall here holds up every request the collector
  // has in hand. Measured by a timer of its own rather than perf_hooks' monitorEventLoopDelay,
  // whose reset() drops the interval it falls in, so a stall that began right after a scrape
  // went unreported.
  const delay = metrics.histogram(
    'inlet_event_loop_delay_seconds',
    'How late the event loop ran a 10 ms timer',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  );
  let longest = 0;
  metrics.gauge(
    'inlet_event_loop_delay_max_seconds',
    'Longest event loop delay since the previous scrape',
    () => {
      const value = longest;
      longest = 0;
      return value;
    },
  );
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - last - LAG_TIMER_MS) / 1000;
    last = now;
    delay.observe(late);
    longest = Math.max(longest, late);
  }, LAG_TIMER_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Makes the data directory's folders and checks this user can write in each: one left by another
 * user (a start as root, then as a service user) otherwise failed later with a bare EACCES.
 */
function prepareDataDir(layout: DataLayout, configFile: string): void {
  const { dataDir } = layout;
  const unusable = (path: string, doing: string, error: unknown) =>
    dataDirUnusable(dataDir, doing, path, error, configFile);
  const folders = [
    dataDir,
    layout.lake,
    layout.events,
    // Where the loader keeps what it skips: a file in its place failed every load pass with ENOTDIR.
    join(layout.rejects, 'events'),
    layout.walEvents,
    layout.state,
    layout.salts,
    layout.tmp,
  ];
  for (const dir of folders) {
    try {
      makeFolder(dir);
    } catch (error) {
      throw fileInTheWay(layout, dir) ?? unusable(dir, 'making', error);
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw unusable(dir, 'writing in', error);
    }
  }
  // The files inlet writes in place: the state store, and the WAL segments it recovers and appends to.
  const state = join(dataDir, 'state.sqlite');
  const files = [
    state,
    `${state}-wal`,
    `${state}-shm`,
    ...readdirSync(layout.walEvents)
      .filter((name) => segmentId(name) !== undefined)
      .map((name) => join(layout.walEvents, name)),
  ];
  for (const file of files) {
    const stats = statSync(file, { throwIfNoEntry: false });
    // A named pipe there (mkfifo) hung the start for good, as reading it waits for a writer.
    if (stats && !stats.isFile())
      throw new InletError(
        'DATA_DIR_UNUSABLE',
        `data_dir ${dataDir} cannot be used: ${file} is ${stats.isDirectory() ? 'a directory' : 'no regular file (a named pipe, socket or device)'} where inlet keeps a file. Move it out of the data directory.`,
      );
    try {
      accessSync(file, constants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(file, 'writing', error);
    }
  }
  checkOneFileSystem(layout);
}

/**
 * Refuses a lake on another file system than data/tmp. Files are written under data/tmp and renamed
 * into the lake, which works only within one file system: with data/lake (or data/tmp) a mount of
 * its own, every load failed with EXDEV, nothing reached the lake and the WAL filled up until
 * intake refused events.
 */
function checkOneFileSystem(layout: DataLayout): void {
  const tmp = statSync(layout.tmp).dev;
  const apart = [layout.lake, layout.events].find((dir) => statSync(dir).dev !== tmp);
  if (apart === undefined) return;
  throw new InletError(
    'DATA_DIR_UNUSABLE',
    `data_dir ${layout.dataDir} cannot be used: ${apart} and ${layout.tmp} are on different file systems (a mount or a symlink of their own?), and inlet writes files in ${layout.tmp} and renames them into the lake, which works only within one file system. Mount the volume at data_dir itself, so that tmp/ and lake/ share it.`,
  );
}

/** What one inlet process runs; `inlet start` without --role runs them all. */
export const ROLES = ['collector', 'loader', 'web', 'scheduler'] as const;
export type Role = (typeof ROLES)[number];

/** The parts a set of roles started; a part its roles do not need is absent. */
export type RunningRoles = Partial<Omit<RunningInlet, 'state' | 'close'>> &
  Pick<RunningInlet, 'state' | 'close'>;

/** Starts collector, loader, query API and scheduler in one process (the embedded default). */
export async function startInlet(options: { config: InletConfig; logger: Logger }): Promise<RunningInlet> {
  const parts = await startRoles({ ...options, roles: ROLES });
  const { url, apiToken, wal, loader, engine, scheduler, runs, catalog } = parts;
  if (!url || !apiToken || !wal || !loader || !engine || !scheduler || !runs || !catalog) {
    throw new Error('startRoles left out a part although every role was asked for');
  }
  return { ...parts, url, apiToken, wal, loader, engine, scheduler, runs, catalog };
}

/**
 * Starts the given roles over one data directory. collector: the WAL, intake routes, log intake
 * and log tails; loader: WAL → lake; web: query, catalog and runs API; scheduler: workflows.
 * Processes with different roles share the data directory (and the state store) on one machine.
 * Once `signal` aborts, the start stops at its next step, closes what had started and throws its reason.
 */
export async function startRoles(options: {
  config: InletConfig;
  logger: Logger;
  roles: readonly Role[];
  signal?: AbortSignal;
}): Promise<RunningRoles> {
  const { config, logger } = options;
  // Checked after each step that waits, when a signal to stop can have come.
  const stopIfAsked = () => options.signal?.throwIfAborted();
  const has = (role: Role) => options.roles.includes(role);
  // Before anything starts: each workflow that does not load is left out, named in a warning (the
  // others run, and the collector collects); what leaves none readable stops start-up with its file named.
  const loaded = has('scheduler') ? workflowsToSchedule(config, logger) : undefined;
  const workflows = loaded?.workflows ?? [];
  if (has('scheduler')) warnLeftOutWorkflows(config, logger);
  // A source an unset ${VAR} leaves out (its url:) is not synced nor tailed; the rest starts.
  if (has('scheduler') || has('collector')) warnLeftOutSources(config, logger);
  // A warning about the project (a dbt_project.yml entry for no model) is said once a process: at
  // start, not first in the log of a run at night, and not again at each run or look at the catalog.
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    logger.warn(message);
  };
  if (has('scheduler')) for (const warning of projectWarnings(config)) warnOnce(warning);
  const layout = dataLayout(config.data_dir);
  prepareDataDir(layout, configFileName(config));
  const metrics = createMetrics();
  // One collector and one loader a data directory: a second collector would recover (truncate)
  // the first one's open WAL segment as if it had crashed, and a second loader would load and
  // delete segments the first is writing or loading, losing acknowledged events.
  const roleLocks: ProcessLock[] = [];
  const stoppers: Array<() => unknown> = [];
  // The loader, the query engine and model builds of one process: loaded segments outlive the
  // queries and builds reading them.
  const leases = createReadLeases();
  let state: StateStore | undefined;
  let wal: WalWriter | undefined;
  let intake: Intake | undefined;
  let workers: IntakeWorkers | undefined;
  let logs: LogIntake | undefined;
  let loader: Loader | undefined;
  let engine: QueryEngine | undefined;
  let catalog: Catalog | undefined;
  let runs: RunHistory | undefined;
  let scheduler: Scheduler | undefined;
  let url: string | undefined;
  let apiToken: string | undefined;
  let app: ReturnType<typeof createHttpApp> | undefined;
  const stopSources = new AbortController();
  let followers: Array<{ stop(): Promise<void> }> = [];
  // Also what a start that fails part-way calls: it stops what had started, and frees the locks.
  const close = async () => {
    await app?.close();
    stopSources.abort();
    await Promise.all(followers.map((follower) => follower.stop()));
    await logs?.stop();
    await scheduler?.stop();
    catalog?.close();
    await loader?.stop();
    await leases.settled();
    for (const stop of stoppers) await stop();
    engine?.close();
    state?.close();
    for (const lock of roleLocks) lock.release();
  };
  try {
    for (const role of (['collector', 'loader'] as const).filter(has)) {
      const path = join(layout.state, `${role}.lock`);
      roleLocks.push(
        acquireProcessLock(
          path,
          (holder) =>
            new InletError(
              'DATA_DIR_IN_USE',
              `${holder} runs the ${role} role on ${config.data_dir}, and one data directory takes one ${role}. Stop that process, give this one another data_dir, or start it with --role for what the other does not run (lock file: ${path}).`,
            ),
        ),
      );
    }
    // After the locks, before anything is opened: a start refused for a data directory in use
    // generated data/state/api-token there, which the running inlet (given INLET_API_TOKEN) did not
    // use, and served in its place once restarted without the variable. Each process serving the
    // API is listed, so a start given another token than those running serve is refused.
    let resolvedToken: ApiToken | undefined;
    if (has('collector') || has('web')) {
      const claim = await claimApiToken(config);
      stopIfAsked();
      roleLocks.push(claim.server.lock);
      resolvedToken = claim.token;
    }
    if (resolvedToken?.generated)
      logger.info({ path: resolvedToken.path }, 'generated an API token because INLET_API_TOKEN is not set');
    // Never the token, nor its SHA-256 (a short one is found from it): where the old one was kept.
    if (resolvedToken?.replaced)
      logger.warn(
        { path: resolvedToken.replaced },
        'INLET_API_TOKEN is not the API token served on this data directory before, and replaces it: clients sending the old one are refused from now on',
      );
    state = openStateStore(join(config.data_dir, 'state.sqlite'));
    stoppers.push(registerProcessMetrics(metrics));

    if (has('collector')) {
      const fsync = metrics.histogram(
        'inlet_wal_fsync_seconds',
        'fdatasync latency of WAL group commits',
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      );
      const writer = createWalWriter({
        dir: layout.walEvents,
        segmentBytes: config.wal.segment_bytes,
        maxBytes: config.wal.max_bytes,
        minFreeBytes: config.wal.min_free_bytes,
        onFsync: (seconds) => fsync.observe(seconds),
        onRecovered: walRecoveredLogger(logger, metrics, 'events'),
        onStraySegment: walStrayLogger(logger, 'events'),
        onWritableChange: walWritableLogger(logger, 'events'),
        onSegmentDeleted: walDeletedLogger(logger, 'events'),
        // Loaded, and kept only for readers still running: not the loader falling behind.
        loaded: leases.retiring,
        // One wal.max_bytes for both WALs, so together they never hold more than the docs promise.
        sharedBytes: () => logs?.walBytes() ?? 0,
      });
      wal = writer;
      metrics.gauge('inlet_wal_bytes', 'Bytes in WAL segments not yet loaded', () => writer.bytes());
      const saltExpiry = startSaltExpiry({ dir: layout.salts, logger });
      stoppers.push(() => saltExpiry.stop());
      intake = createIntake({
        config,
        wal: writer,
        enrich: createEnricher({
          saltDir: layout.salts,
          maxEventAgeDays: config.limits.max_event_age_days,
          sites: config.sites,
        }),
        metrics,
      });
      const workerCount = config.collector.workers ?? defaultIntakeWorkers();
      if (workerCount > 0) {
        const pool = createIntakeWorkers({
          size: workerCount,
          data: { config, saltDir: layout.salts },
          logger,
        });
        workers = pool;
        stoppers.push(() => pool.close());
      }
      const logIntake = createLogIntake({
        config,
        layout,
        logger,
        metrics,
        sharedBytes: () => writer.bytes(),
      });
      logs = logIntake;
      // Its own metric, not a label of inlet_wal_bytes: an alert on that one kept its meaning, and the
      // two add up to what wal.max_bytes bounds.
      metrics.gauge('inlet_log_wal_bytes', 'Bytes in log WAL segments (POST /logs) not yet loaded', () =>
        logIntake.walBytes(),
      );
      stoppers.push(() => writer.close());
      if (!has('loader')) {
        // With the loader in another process, the collector seals by age itself and re-reads what the
        // loader has removed, for the WAL-full check.
        const timer = setInterval(
          () => {
            writer.refresh();
            // A refused seal (the disk, or the WAL folder deleted) is logged by the writer, and
            // tried again at the next tick: it must not end the collector.
            if (writer.currentAgeMs() >= config.wal.seal_after_ms) writer.seal().catch(() => {});
          },
          Math.min(1000, config.wal.seal_after_ms),
        );
        stoppers.unshift(() => clearInterval(timer));
        // The loader's process may serve no /metrics at all: its lag is read here, where the WAL is.
        metrics.gauge('inlet_loader_lag_seconds', 'Age of the oldest sealed WAL segment not yet loaded', () =>
          loaderLagSeconds(layout, writer.sealedSegments()),
        );
      }
    }

    if (has('loader')) {
      loader = await createLoader({
        config,
        layout,
        wal: wal ?? createSealedSegments(layout.walEvents),
        logger,
        metrics,
        leases,
        besideCollector: has('collector'),
      });
      stopIfAsked();
    }

    if (has('web')) {
      const damaged = metrics.counter(
        'inlet_lake_damaged_files_total',
        'Parquet files that were not readable and were moved to lake/_rejects/damaged',
      );
      const fileRaces = metrics.counter(
        'inlet_query_file_races_total',
        'Queries (and catalog looks) planned again because a file they listed went away (a WAL segment loaded by another process, Parquet files compacted)',
      );
      const restarts = metrics.counter(
        'inlet_query_process_restarts_total',
        "Times the query engine's process ended unasked (its memory past its cap, or a crash) and was started again",
      );
      const recycles = metrics.counter(
        'inlet_query_process_recycles_total',
        "Times the query engine's process, idle, was replaced by a fresh one for the memory it kept after its queries (not counted in the restarts)",
      );
      // People's SQL runs in a process of its own: one value past any memory limit, or a crash in
      // DuckDB, ends that process and fails its queries, not the collector beside it. Each query
      // holds a read lease here while it runs there, so the loader beside it deletes no WAL segment
      // the query may have listed.
      const queries = await createQueryProcess({
        config,
        layout,
        leases,
        logger,
        onExit: () => restarts.inc(),
        onRecycle: () => recycles.inc(),
        onFileRace: () => fileRaces.inc(),
        onViewFailed: (name, detail) =>
          logger.error({ table: name, detail }, `${name} is left out of queries: its view cannot be built`),
        onDamagedFile: (moved, detail) => {
          damaged.inc();
          logger.error({ file: moved.file, moved_to: moved.movedTo, detail }, damagedFileMessage(moved));
        },
      });
      engine = queries;
      stopIfAsked();
      metrics.gauge(
        'inlet_query_process_resident_memory_bytes',
        "Resident memory of the query engine's process (process_resident_memory_bytes is the server's own)",
        () => queries.residentBytes() ?? 0,
      );
      catalog = createCatalog({
        config,
        logger,
        leases,
        onFileRace: () => fileRaces.inc(),
        onWarning: warnOnce,
      });
    }
    runs = has('web') || has('scheduler') ? createRunHistory(state) : undefined;
    scheduler =
      has('scheduler') && runs
        ? createScheduler({
            workflows,
            config,
            state,
            stateDir: layout.state,
            history: runs,
            handlers: createStepHandlers({
              config,
              state,
              logger,
              metrics,
              leases,
              onWarning: warnOnce,
            }),
            logger,
            metrics,
          })
        : undefined;

    if (resolvedToken) {
      apiToken = resolvedToken.token;
      app = createHttpApp({
        config,
        logger,
        metrics,
        intake,
        workers,
        wal,
        engine,
        catalog,
        runs: has('web') ? runs : undefined,
        // As this process's scheduler read them; a process without one reads them when first asked.
        workflows: loaded && (() => loaded),
        logs,
        apiToken: resolvedToken.token,
      });
      const { host, port } = config.server;
      url = await app.listen({ host, port }).catch((error: unknown) => {
        throw listenFailed(error, host, port, configFileName(config));
      });
      stopIfAsked();
    }
    loader?.start();
    scheduler?.start();
    logs?.start();
    // Log tails (sources with follow()) run with the collector, for as long as it does. Each line a
    // source logs names it already; a child logger bound to it too wrote the key twice.
    const store = state;
    if (has('collector')) checkLogTableNames(config);
    followers = has('collector')
      ? createSources(config).flatMap((source) => {
          const context = {
            config,
            layout,
            state: store,
            metrics,
            logger,
          };
          return source.follow ? [source.follow({ ...context, signal: stopSources.signal })] : [];
        })
      : [];
  } catch (error) {
    await close().catch((closeError: unknown) =>
      logger.error({ err: closeError }, 'stopping the parts that had started failed'),
    );
    throw error;
  }
  // The defaults (inlet start with no inlet.yaml) list no site: said here, not only in each 401.
  if (has('collector') && config.sites.length === 0)
    logger.warn(
      config.configPath === undefined
        ? 'no site is set up, as no configuration file was read (no inlet.yaml in the working directory, nor --config), so the collector refuses every event (401 UNKNOWN_WRITE_KEY); create inlet.yaml with a site under sites: (an id and a write_key), and restart'
        : `no site is set up in ${configFileName(config)}, so the collector refuses every event (401 UNKNOWN_WRITE_KEY); add one under sites: with an id and a write_key, and restart`,
    );
  logger.info(
    {
      url,
      roles: options.roles,
      data_dir: config.data_dir,
      ...(scheduler ? { workflows: workflows.map((w) => w.name) } : {}),
    },
    url ? 'inlet is listening' : 'inlet is running',
  );
  return {
    url,
    apiToken,
    wal,
    loader,
    engine,
    state,
    scheduler,
    runs,
    catalog,
    close,
  };
}

/** The HTTP server could not listen: what is wrong with server.host or server.port, in words. */
function listenFailed(error: unknown, host: string, port: number, configFile: string): unknown {
  const code = (error as { code?: string }).code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE')
    return new InletError(
      'SERVER_CANNOT_LISTEN',
      `Another program already listens on ${where}; stop it, or give inlet another port: --port N, or server.port in ${configFile}.`,
      { cause: error },
    );
  if (code === 'EACCES')
    return new InletError(
      'SERVER_CANNOT_LISTEN',
      `This user may not listen on ${where} (ports below 1024 need privileges); use a port from 1024 up in server.port, or --port N.`,
      { cause: error },
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new InletError(
      'SERVER_CANNOT_LISTEN',
      `server.host ${host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 (every interface) or one of its addresses.`,
      { cause: error },
    );
  return error;
}
