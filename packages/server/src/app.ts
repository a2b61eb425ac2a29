import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Catalog, createCatalog } from './catalog/index.ts';
import { createEnricher, createIntake } from './collect/index.ts';
import type { InletConfig } from './config/index.ts';
import { createQueryEngine, type QueryEngine } from './engine/index.ts';
import { createHttpApp } from './http/index.ts';
import { createLoader, dataLayout, type Loader } from './lake/index.ts';
import type { Logger } from './log/index.ts';
import { createMetrics } from './metrics/index.ts';
import {
  createRunHistory,
  createScheduler,
  createStepHandlers,
  loadWorkflows,
  type RunHistory,
  type Scheduler,
} from './scheduler/index.ts';
import { createLogIntake } from './sources/file-log/index.ts';
import { createSources } from './sources/index.ts';
import { openStateStore, type StateStore } from './state/index.ts';
import { createWalWriter, type WalWriter } from './wal/index.ts';

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

/** The admin API token: INLET_API_TOKEN, or one generated once and kept in the data directory. */
export function resolveApiToken(config: InletConfig): { token: string; generated: boolean; path: string } {
  const path = join(dataLayout(config.data_dir).state, 'api-token');
  if (config.apiToken) return { token: config.apiToken, generated: false, path };
  try {
    return { token: readFileSync(path, 'utf8').trim(), generated: false, path };
  } catch {
    const token = `inlet_${randomBytes(24).toString('base64url')}`;
    mkdirSync(dataLayout(config.data_dir).state, { recursive: true, mode: 0o700 });
    writeFileSync(path, `${token}\n`, { mode: 0o600 });
    return { token, generated: true, path };
  }
}

/** Starts collector, loader and query API in one process (the embedded default). */
export async function startInlet(options: { config: InletConfig; logger: Logger }): Promise<RunningInlet> {
  const { config, logger } = options;
  // Before anything starts: a bad workflow should stop start-up with its file named.
  const workflows = loadWorkflows(config);
  const layout = dataLayout(config.data_dir);
  for (const dir of [layout.lake, layout.events, layout.walEvents, layout.state, layout.tmp])
    mkdirSync(dir, { recursive: true });
  const metrics = createMetrics();
  const state = openStateStore(join(config.data_dir, 'state.sqlite'));
  const fsync = metrics.histogram(
    'inlet_wal_fsync_seconds',
    'fdatasync latency of WAL group commits',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
  );
  const recovered = metrics.counter('inlet_wal_recovered_segments_total', 'Segments repaired at start-up');
  const wal = createWalWriter({
    dir: layout.walEvents,
    segmentBytes: config.wal.segment_bytes,
    maxBytes: config.wal.max_bytes,
    onFsync: (seconds) => fsync.observe(seconds),
    onRecovered: (segment, result) => {
      recovered.inc();
      logger.warn({ segment, ...result }, 'recovered a WAL segment after an unclean stop');
    },
  });
  metrics.gauge('inlet_wal_bytes', 'Bytes in WAL segments not yet loaded', () => wal.bytes());
  const intake = createIntake({ config, wal, enrich: createEnricher({ saltDir: layout.salts }), metrics });
  const loader = await createLoader({ config, layout, wal, logger, metrics });
  const engine = await createQueryEngine({ config, layout });
  const { token, generated, path } = resolveApiToken(config);
  if (generated) logger.info({ path }, 'generated an API token because INLET_API_TOKEN is not set');
  const runs = createRunHistory(state);
  const scheduler = createScheduler({
    workflows,
    state,
    history: runs,
    handlers: createStepHandlers({ config, state, logger, metrics }),
    logger,
  });
  const catalog = createCatalog({ config, logger });
  const logs = createLogIntake({ config, layout, logger, metrics });
  const app = createHttpApp({
    config,
    logger,
    metrics,
    intake,
    wal,
    engine,
    catalog,
    runs,
    logs,
    apiToken: token,
  });
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  loader.start();
  scheduler.start();
  logs.start();
  // Log tails (sources with follow()) run for as long as the server does.
  const stopSources = new AbortController();
  const followers = createSources(config).flatMap((source) => {
    const context = { config, layout, state, metrics, logger: logger.child({ source: source.name }) };
    return source.follow ? [source.follow({ ...context, signal: stopSources.signal })] : [];
  });
  logger.info({ url: address, data_dir: config.data_dir }, 'inlet is listening');
  return {
    url: address,
    apiToken: token,
    wal,
    loader,
    engine,
    state,
    scheduler,
    runs,
    catalog,
    async close() {
      await app.close();
      stopSources.abort();
      await Promise.all(followers.map((follower) => follower.stop()));
      await logs.stop();
      await scheduler.stop();
      catalog.close();
      await loader.stop();
      await wal.close();
      engine.close();
      state.close();
    },
  };
}
