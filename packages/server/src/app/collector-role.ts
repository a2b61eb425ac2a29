import { availableParallelism } from 'node:os';
import {
  createEnricher,
  createIntake,
  createIntakeWorkers,
  type Intake,
  type IntakeWorkers,
  startSaltExpiry,
} from '../collect/index.ts';
import type { InletConfig } from '../config/index.ts';
import { type DataLayout, loaderLagSeconds, type ReadLeases } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { createLogIntake, type LogIntake } from '../sources/file-log/index.ts';
import { createSources } from '../sources/index.ts';
import type { StateStore } from '../state/index.ts';
import {
  createWalWriter,
  type WalWriter,
  walDeletedLogger,
  walRecoveredLogger,
  walStrayLogger,
  walWritableLogger,
} from '../wal/index.ts';

/**
 * Intake workers when collector.workers is not set: a core for the main thread and one for the
 * loader's DuckDB come first, so one per core beyond two, at most 4. Each costs about 50 MB.
 */
function defaultIntakeWorkers(): number {
  return Math.min(4, Math.max(0, availableParallelism() - 2));
}

/** What the collector role runs: the events WAL, the intake and its workers, and the log intake. */
export interface CollectorParts {
  wal: WalWriter;
  intake: Intake;
  workers: IntakeWorkers | undefined;
  logs: LogIntake;
}

/**
 * Starts the collector role's parts. What each needs at close is added to stoppers, in the order
 * they run; without the loader beside it (besideLoader false), the collector seals the WAL by age.
 */
export function startCollector(options: {
  config: InletConfig;
  layout: DataLayout;
  logger: Logger;
  metrics: Metrics;
  leases: ReadLeases;
  stoppers: Array<() => unknown>;
  besideLoader: boolean;
}): CollectorParts {
  const { config, layout, logger, metrics, leases, stoppers } = options;
  let logs: LogIntake | undefined;
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
  metrics.gauge('inlet_wal_bytes', 'Bytes in WAL segments not yet loaded', () => writer.bytes());
  const saltExpiry = startSaltExpiry({ dir: layout.salts, logger });
  stoppers.push(() => saltExpiry.stop());
  const intake = createIntake({
    config,
    wal: writer,
    enrich: createEnricher({
      saltDir: layout.salts,
      maxEventAgeDays: config.limits.max_event_age_days,
      sites: config.sites,
    }),
    metrics,
  });
  let workers: IntakeWorkers | undefined;
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
  if (!options.besideLoader) {
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
  return { wal: writer, intake, workers, logs: logIntake };
}

/**
 * The log tails of the collector: each source with follow() followed until signal aborts. Each line
 * a source logs names it already; a child logger bound to it too wrote the key twice.
 */
export function followSources(options: {
  config: InletConfig;
  layout: DataLayout;
  state: StateStore;
  metrics: Metrics;
  logger: Logger;
  signal: AbortSignal;
}): Array<{ stop(): Promise<void> }> {
  const { config, layout, state, metrics, logger, signal } = options;
  return createSources(config).flatMap((source) => {
    const context = { config, layout, state, metrics, logger };
    return source.follow ? [source.follow({ ...context, signal })] : [];
  });
}
