import { join } from 'node:path';
import { type Catalog, createCatalog } from '../catalog/index.ts';
import type { Intake, IntakeWorkers } from '../collect/index.ts';
import { configFileName, type InletConfig } from '../config/index.ts';
import type { QueryEngine } from '../engine/index.ts';
import { createHttpApp } from '../http/index.ts';
import { createLoader, createReadLeases, dataLayout, type Loader } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { checkLogTableNames } from '../models/index.ts';
import {
  createRunHistory,
  createScheduler,
  createStepHandlers,
  type RunHistory,
  type Scheduler,
} from '../scheduler/index.ts';
import type { LogIntake } from '../sources/file-log/index.ts';
import { openStateStore, type ProcessLock, type StateStore } from '../state/index.ts';
import { createSealedSegments, type WalWriter } from '../wal/index.ts';
import { followSources, startCollector } from './collector-role.ts';
import { prepareDataDir } from './data-dir-check.ts';
import { listenFailed } from './listen-failure.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { startQueryEngine } from './query-engine.ts';
import { lockRoles } from './role-locks.ts';
import { ROLES, type Role, type RunningInlet, type RunningRoles } from './roles.ts';
import { warnAtStart, warnNoSite } from './start-warnings.ts';

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
  const { loaded, warnOnce } = warnAtStart({ config, logger, has });
  const workflows = loaded?.workflows ?? [];
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
    const resolvedToken = await lockRoles({ config, logger, layout, has, roleLocks, stopIfAsked });
    state = openStateStore(join(config.data_dir, 'state.sqlite'));
    stoppers.push(registerProcessMetrics(metrics));

    if (has('collector')) {
      ({ wal, intake, workers, logs } = startCollector({
        config,
        layout,
        logger,
        metrics,
        leases,
        stoppers,
        besideLoader: has('loader'),
      }));
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
      const { queries, fileRaces } = await startQueryEngine({ config, layout, leases, logger, metrics });
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
    // Log tails (sources with follow()) run with the collector, for as long as it does.
    if (has('collector')) checkLogTableNames(config);
    followers = has('collector')
      ? followSources({ config, layout, state, metrics, logger, signal: stopSources.signal })
      : [];
  } catch (error) {
    await close().catch((closeError: unknown) =>
      logger.error({ err: closeError }, 'stopping the parts that had started failed'),
    );
    throw error;
  }
  warnNoSite({ config, logger, has });
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
