import { join } from 'node:path';
import { type ApiToken, claimApiToken } from '../auth/index.ts';
import { type Catalog, createCatalog } from '../catalog/index.ts';
import type { Intake, IntakeWorkers } from '../collect/index.ts';
import { configFileName, type InletConfig, warnLeftOutSources } from '../config/index.ts';
import type { QueryEngine } from '../engine/index.ts';
import { InletError } from '../errors/index.ts';
import { createHttpApp } from '../http/index.ts';
import { createLoader, createReadLeases, dataLayout, type Loader } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { checkLogTableNames, projectWarnings } from '../models/index.ts';
import {
  createRunHistory,
  createScheduler,
  createStepHandlers,
  type RunHistory,
  type Scheduler,
  warnLeftOutWorkflows,
  workflowsToSchedule,
} from '../scheduler/index.ts';
import type { LogIntake } from '../sources/file-log/index.ts';
import { createSources } from '../sources/index.ts';
import { acquireProcessLock, openStateStore, type ProcessLock, type StateStore } from '../state/index.ts';
import { createSealedSegments, type WalWriter } from '../wal/index.ts';
import { startCollector } from './collector-role.ts';
import { prepareDataDir } from './data-dir-check.ts';
import { listenFailed } from './listen-failure.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { startQueryEngine } from './query-engine.ts';

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
