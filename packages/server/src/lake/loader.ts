import { availableParallelism } from 'node:os';
import { join } from 'node:path';
// The module itself, not config/index.ts: that one loads the sources, which load the lake.
import { configFileName } from '../config/config-file-name.ts';
import type { InletConfig } from '../config/index.ts';
import { closeDuckDB, openDuckDB } from '../engine/allocator.ts';
import { RECORD_ADDED_BYTES, RECORD_COPIED_BYTES } from '../events/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';
import { segmentPath, type WalSegments, walCounters } from '../wal/index.ts';
import { compactPartition, recoverCompaction } from './compactor.ts';
import {
  damagedFileMessage,
  damagedInside,
  moveDamagedFile,
  moveDamagedInside,
  NO_PERMISSION,
  noPermissionAdvice,
} from './damaged.ts';
import {
  type CheckedSegment,
  checkSegment,
  copySegment,
  isUnreadableRecord,
  LOAD_ROW_GROUP,
  loaderLagSeconds,
  removeLoadLeftovers,
  repairSegments,
  type SegmentLoadResult,
} from './event-loader.ts';
import { linkedFiles, linkedFileWarning, partitionFiles, partitions, strayPartitions } from './files.ts';
import { moveForeignEventFiles } from './foreign.ts';
import { createIdFilterCache, removeIdFilterTemps } from './id-filter.ts';
import { type DataLayout, makeDataFolders } from './layout.ts';
import { createPeriodicLoad } from './periodic-load.ts';
import type { ReadLeases } from './read-leases.ts';
import { applyRetention } from './retention.ts';
import { createSegmentChecker } from './segment-checker.ts';

export interface Loader {
  /** Seals a WAL segment that is old enough, loads every sealed segment, compacts what piled up. */
  runOnce(options?: { sealNow?: boolean }): Promise<SegmentLoadResult[]>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Milliseconds on a clock that never jumps, for waits between passes: by the wall clock, a step back
 * by NTP held a compaction retry and the hourly retention back for as long as the step.
 */
const monotonicMs = () => performance.now();

/** How often the loader deletes partitions past their retention. */
const RETENTION_EVERY_MS = 3_600_000;

/** How long a partition whose compaction failed waits before it is tried again. */
const COMPACT_RETRY_MS = 60_000;

/** Rows an instance of the loader's DuckDB loads before it is replaced at the next idle pass. */
const RECYCLE_AFTER_ROWS = 500_000;
/** …and before it is replaced after a pass even when the loader is never idle (sustained load). */
const RECYCLE_BUSY_AFTER_ROWS = 2_000_000;

/**
 * DuckDB threads for the loader when loader.threads is not set, at most 4. Beside the collector, one
 * per core beyond the first: the first core is the collector's main thread, and the segment check
 * thread needs some of it too; on 2 cores, one DuckDB thread loaded more and let the collector
 * answer more than two did. A loader without the collector in its process (`--role loader`) takes
 * every core: on 2 cores it loaded 1 M events at 232,000–241,000 events/s with two threads against
 * 158,000–188,000 with one, alternating in one phase (docs/benchmarks.md).
 */
export function defaultLoaderThreads(besideCollector: boolean, cores = availableParallelism()): number {
  return Math.min(4, Math.max(1, besideCollector ? cores - 1 : cores));
}

/**
 * The loader's DuckDB memory limit: 256 MB, or more where events may be large. DuckDB's JSON reader
 * parses 2,048 records at a time and holds them with their strings: a segment of 30 KB events (under
 * Segment's 32 KB limit) failed with "Out of Memory" under 256 MB, and the loader retried it on every
 * pass and never got past it; 10 KB events peaked at 394 MB of RSS. So the limit leaves room for
 * 2,048 of the largest records limits.event_bytes lets in (with what inlet adds and the columns it
 * copies, record-size.ts), five times over: 584 MB for the default 32 KB. It is a cap, not an
 * allocation: small events use what they did.
 */
export function loaderMemoryLimit(eventBytes: number): string {
  const largestRecord = eventBytes + 2 * RECORD_ADDED_BYTES + RECORD_COPIED_BYTES;
  return `${Math.max(256, Math.ceil(64 + (5 * 2048 * largestRecord) / 2 ** 20))}MB`;
}

/** WAL bytes a group of segments loaded together may hold at most (eight default segments). */
const GROUP_BYTES = 512 * 1024 * 1024;

/**
 * Sealed segments in the groups the loader copies together: one segment, then groups doubling up
 * to maxGroup (compact_min_files, the number a first-level merge would combine, within 512 MB). A
 * loader that is behind (a burst, a restart after downtime) so writes a file for up to maxGroup
 * segments at once instead of maxGroup files that compaction must read and write again: 1 M varied
 * events waiting took 16 copies and two merges, 5.1 s and +333 MB, one segment at a time; 5
 * copies, 3.2 s and +218 MB in groups (docs/benchmarks.md). The first group is one segment, and
 * each group is checked while the one before is copied, so the checks (a third of a copy's time)
 * wait for nothing. A loader that keeps up finds one segment a pass, as before.
 */
export function loadGroups(sealed: readonly number[], maxGroup: number): number[][] {
  const groups: number[][] = [];
  for (let at = 0, size = 1; at < sealed.length; at += size, size = Math.min(maxGroup, size * 2))
    groups.push(sealed.slice(at, at + size));
  return groups;
}

/** The in-process loader: its own DuckDB instance, which never sees people's SQL. */
export async function createLoader(options: {
  config: InletConfig;
  layout: DataLayout;
  wal: WalSegments;
  logger: Logger;
  metrics: Metrics;
  /** The queries of this process: a loaded segment is deleted once none that may read it runs. */
  leases?: ReadLeases;
  /**
   * The collector runs in this process. Its main thread is then the collector's, so segments are
   * verified on a thread of their own and DuckDB leaves a core to it (defaultLoaderThreads). A loader
   * without the collector checks on its main thread, which is idle meanwhile: the thread's start
   * (~30 ms and ~10 MB from the inlet command's bundle; 0.15–0.4 s and 32–70 MB from the sources
   * through tsx) then buys nothing (docs/benchmarks.md).
   */
  besideCollector?: boolean;
  /** Rows its DuckDB instance loads before a new one replaces it at an idle pass (default 500,000). */
  recycleAfterRows?: number;
  /** Rows before a new instance replaces it after any pass, idle or not (default 2,000,000). */
  recycleBusyAfterRows?: number;
  /** How long a partition whose compaction failed waits before it is tried again (default a minute). */
  compactRetryMs?: number;
}): Promise<Loader> {
  const { config, layout, wal, logger, metrics, leases } = options;
  // Sealed segments still to load: not those loaded already and waiting for queries to finish.
  const toLoad = () =>
    wal.sealedSegments().filter((segment) => !leases?.retiring(segmentPath(layout.walEvents, segment)));
  // A file where one should be (data/tmp/loader made by hand) is named, not a bare EEXIST or ENOTDIR.
  makeDataFolders(layout, [join(layout.tmp, 'loader'), join(layout.tmp, 'load')], configFileName(config));
  const open = async () => {
    const instance = await openDuckDB({
      threads: String(config.loader.threads ?? defaultLoaderThreads(options.besideCollector === true)),
      // The loader streams segment → Parquet, so a small buffer pool suffices and keeps the collector's RSS
      // low (128 MB is too small for a full 64 MB segment); row order within a file does not matter.
      memory_limit: loaderMemoryLimit(config.limits.event_bytes),
      preserve_insertion_order: 'false',
      temp_directory: join(layout.tmp, 'loader'),
      autoload_known_extensions: 'false',
      autoinstall_known_extensions: 'false',
    });
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    // A segment's rows go out to Parquet in row groups of LOAD_ROW_GROUP rows instead of being held
    // until the whole segment is in memory: a third less time and half the memory for a 64 MB segment
    // (docs/benchmarks.md). Compaction rewrites a day's files with full-size row groups.
    await connection.run(`SET partitioned_write_flush_threshold = ${LOAD_ROW_GROUP}`);
    return { instance, connection, rows: 0 };
  };
  let duck = await open();
  /**
   * DuckDB's instance keeps memory its buffer manager does not account for (duckdb_memory() shows
   * none) once read_json and the Parquet writer have run, and gives it back only when closed: even
   * with jemalloc's freed pages returned (bin/environment.cjs), a one-process server idle after a
   * busy spell sat at 390–450 MB without this, 265–315 MB with it (docs/benchmarks.md). So once
   * its instance has loaded afterRows since it was opened, the loader opens a new one: an idle
   * server does not sit on a busy hour's memory. The next load pays DuckDB's first-query start
   * once (~0.2 s).
   */
  const recycle = async (afterRows: number) => {
    if (duck.rows < afterRows) return;
    const old = duck;
    duck = await open();
    old.connection.closeSync();
    closeDuckDB(old.instance);
    logger.debug({ rows: old.rows }, 'opened a new DuckDB instance for the loader to give memory back');
  };
  const loadedRows = metrics.counter('inlet_loader_rows_total', 'Event rows written to the lake');
  const walCounted = walCounters(metrics);
  const duplicates = metrics.counter(
    'inlet_loader_duplicates_total',
    'Event rows dropped because a client sent their (site, event_id) again: in the same load, or already in the lake',
  );
  // Apart from duplicates: a restart after a crash is no client retrying (docs/collector.md).
  const reloaded = metrics.counter(
    'inlet_loader_reloaded_rows_total',
    'Event rows of WAL segments loaded again after a crash between writing their Parquet files and deleting them; the lake held them already',
  );
  const busy = metrics.counter(
    'inlet_loader_seconds_total',
    'Time the loader spent, by phase: load (WAL to Parquet) and compact',
    ['phase'],
  );
  metrics.gauge('inlet_loader_lag_seconds', 'Age of the oldest sealed WAL segment not yet loaded', () =>
    loaderLagSeconds(layout, toLoad()),
  );
  const leftovers = removeLoadLeftovers(layout);
  if (leftovers.length > 0)
    logger.info({ removed: leftovers }, 'removed what loads cut short by a crash left in data/tmp');
  for (const partition of partitions(layout.events)) {
    for (const manifest of recoverCompaction(join(layout.events, partition)))
      logger.error(
        { manifest },
        `${manifest} lists the files a finished merge read, but cannot be read, so queries read the merged file beside them and may count their rows twice; move out of the lake either the merged file (the name after .compact-) or the files whose rows it holds, then this manifest`,
      );
    removeIdFilterTemps(join(layout.events, partition));
  }
  for (const link of linkedFiles(layout.events)) logger.warn({ path: link }, linkedFileWarning(link));
  for (const name of strayPartitions(layout.events))
    logger.warn(
      { path: join(layout.events, name) },
      `${join(layout.events, name)} is no partition of the events table (a directory named dt=YYYY-MM-DD), so nothing in it is queried or loaded; move it out of the lake, or rename a directory to the day its events are of`,
    );

  const damaged = metrics.counter(
    'inlet_lake_damaged_files_total',
    'Parquet files that were not readable and were moved to lake/_rejects/damaged',
  );
  /** Runs fn again after moving aside a damaged lake file its error names (lake/damaged.ts). */
  const goodFiles = new Map<string, 'footer' | 'whole'>();
  const eventFilesChecked = new Set<string>();
  const healing = async <T>(fn: () => Promise<T>): Promise<T> => {
    const searched = new Set<string>();
    for (let moved = 0; ; moved++) {
      try {
        return await fn();
      } catch (error) {
        const detail = (error as Error).message;
        let file = moved < 10 ? moveDamagedFile(layout, detail) : undefined;
        // Damage inside a file (a merge reads every page): found by reading files alone, once.
        if (!file && moved < 10 && damagedInside(detail) && !searched.has(detail)) {
          searched.add(detail);
          file = await moveDamagedInside(layout, detail, (sql) => duck.connection.run(sql), goodFiles);
        }
        if (!file) throw error;
        damaged.inc();
        logger.error({ file: file.file, moved_to: file.movedTo, detail }, damagedFileMessage(file));
      }
    }
  };

  // Segments a group may hold: compact_min_files, and no more than GROUP_BYTES of WAL, so that large
  // segments (wal.segment_bytes) are not held back for one long copy before any is deleted.
  const maxGroup = Math.max(
    1,
    Math.min(config.loader.compact_min_files, Math.floor(GROUP_BYTES / config.wal.segment_bytes)),
  );
  const touched = new Set<string>();
  const checker = options.besideCollector ? createSegmentChecker({ logger }) : undefined;
  const filters = createIdFilterCache(config.loader.id_filter_bytes);
  metrics.gauge(
    'inlet_loader_id_filter_bytes',
    'Bytes of id filters the loader holds in memory (loader.id_filter_bytes is the most)',
    () => filters.bytes(),
  );

  // Retention runs between loads, so no load or compaction of this loader is writing a partition
  // it deletes: at the first pass, then once an hour.
  let expiredAt = Number.NEGATIVE_INFINITY;
  const expire = async () => {
    if (monotonicMs() - expiredAt < RETENTION_EVERY_MS) return;
    expiredAt = monotonicMs();
    const { retention } = config;
    try {
      const { removed } = await applyRetention(layout, {
        events: retention.events_days,
        logs: retention.logs_days,
        rejects: retention.rejects_days,
      });
      // Retention switched on over a lake of years deletes hundreds of days at once: counted, not listed.
      if (removed.length > 0)
        logger.info(
          removed.length <= 20
            ? { removed }
            : { partitions: removed.length, first: removed[0], last: removed.at(-1) },
          'deleted partitions older than their retention',
        );
    } catch (error) {
      logger.warn({ err: error }, 'deleting partitions past their retention failed; trying again in an hour');
    }
  };

  // Partitions whose compaction failed, with when to try again. A merge that fails (memory, disk)
  // leaves its inputs as they were, so loading goes on and the partition is merged later.
  const compactAfter = new Map<string, number>();
  const compactRetryMs = options.compactRetryMs ?? COMPACT_RETRY_MS;
  // The error each such partition's merge last logged: one that fails alike at every retry (a file
  // inlet's user may not read) logged the same lines every minute, for as long as it lasted.
  const compactFailed = new Map<string, string>();
  const compact = async (dt: string) => {
    if ((compactAfter.get(dt) ?? Number.NEGATIVE_INFINITY) > monotonicMs()) return;
    try {
      // Merges until no level has compact_min_files files: one merge a pass took the lowest level
      // only, and a loader behind (several part files every pass) never reached the next, whose
      // merged files then piled up for good. Each merge leaves at least one file fewer, so this ends.
      // A file of another table would be merged into the partition's files for good.
      const dir = join(layout.events, `dt=${dt}`);
      const rows = async (sql: string) => (await duck.connection.runAndReadAll(sql)).getRows();
      const files = partitionFiles(dir).map((f) => f.path);
      for (const moved of await moveForeignEventFiles(layout, files, rows, eventFilesChecked)) {
        damaged.inc();
        logger.error({ file: moved.file, moved_to: moved.movedTo }, damagedFileMessage(moved));
      }
      for (;;) {
        const compacted = await healing(() =>
          compactPartition(duck.connection, dir, config.loader.compact_min_files),
        );
        if (!compacted) break;
        logger.debug({ dt, ...compacted }, 'compacted partition');
      }
      compactAfter.delete(dt);
      if (compactFailed.delete(dt)) logger.info({ dt }, 'compacting the partition works again');
    } catch (error) {
      compactAfter.set(dt, monotonicMs() + compactRetryMs);
      const message = (error as Error).message;
      const fields = { err: error, dt, retry_in_ms: compactRetryMs };
      if (compactFailed.get(dt) === message) {
        logger.debug(fields, 'compacting a partition failed again as before');
        return;
      }
      compactFailed.set(dt, message);
      const denied = NO_PERMISSION.exec(message)?.[1];
      if (denied !== undefined)
        logger.error(
          { ...fields, file: denied },
          `the files of partition dt=${dt} cannot be merged: ${noPermissionAdvice(denied)}; loading goes on, and the merge is tried again quietly until it works or fails otherwise`,
        );
      else
        logger.error(
          fields,
          'compacting a partition failed; its files stay as they are, loading goes on and the merge is tried again later (quietly, while it fails alike)',
        );
    }
  };

  /** Loads every sealed segment, then compacts the partitions it touched; whether it compacted any. */
  const load = async (sealNow: boolean): Promise<{ results: SegmentLoadResult[]; compacted: boolean }> => {
    if (sealNow || wal.currentAgeMs() >= config.wal.seal_after_ms) await wal.seal();
    const results: SegmentLoadResult[] = [];
    const sealed = toLoad();
    const groups = loadGroups(sealed, maxGroup);
    const check = async (group: number[] | undefined) => {
      if (group === undefined) return undefined;
      const checked: CheckedSegment[] = [];
      for (const segment of group)
        checked.push(await checkSegment({ layout, segment, logger, check: checker?.check }));
      return checked;
    };
    const loadStarted = performance.now();
    let checked = await check(groups[0]);
    for (let i = 0; checked; i++) {
      const current = checked;
      // The next group's checksums are verified on the check thread while DuckDB copies this one.
      const [result, following] = await Promise.all([
        healing(async () => {
          const copy = (group: CheckedSegment[]) =>
            copySegment({
              connection: duck.connection,
              layout,
              checked: group,
              dedupWindowHours: config.loader.dedup_window_hours,
              filters,
              remove: leases?.retire,
            });
          try {
            return await copy(current);
          } catch (error) {
            // A record DuckDB cannot parse would fail this load on every pass: repaired once, then retried.
            if (!isUnreadableRecord(error)) throw error;
            const repaired = await repairSegments({
              connection: duck.connection,
              layout,
              checked: current,
              logger,
            });
            if (!repaired) throw error;
            return copy(repaired);
          }
        }),
        check(groups[i + 1]),
      ]);
      checked = following;
      results.push(result);
      duck.rows += result.rows;
      loadedRows.inc(undefined, result.rows);
      walCounted.skipped(result.skipped);
      duplicates.inc(undefined, result.duplicates);
      reloaded.inc(undefined, result.reloaded);
      for (const dt of result.partitions) touched.add(dt);
      wal.refresh();
    }
    const compactStarted = performance.now();
    busy.inc({ phase: 'load' }, (compactStarted - loadStarted) / 1000);
    for (const [dt, at] of compactAfter) if (at <= monotonicMs()) touched.add(dt);
    for (const dt of touched) await compact(dt);
    const compacted = touched.size > 0;
    touched.clear();
    busy.inc({ phase: 'compact' }, (performance.now() - compactStarted) / 1000);
    return { results, compacted };
  };

  const work = async (sealNow: boolean): Promise<SegmentLoadResult[]> => {
    let loaded: Awaited<ReturnType<typeof load>>;
    try {
      loaded = await load(sealNow);
    } finally {
      // A pass that failed (a full disk, say) is when deleting old partitions matters most.
      await expire();
    }
    // Under sustained load there is no idle pass, and the instance's memory grew with every
    // segment and compaction: in one process over 70 s of batches, a peak of 876–933 MB, against
    // 670–726 MB when replaced every 2 M rows, at the same rate (docs/benchmarks.md).
    const { results, compacted } = loaded;
    const idle = results.length === 0 && !compacted;
    await recycle(
      idle
        ? (options.recycleAfterRows ?? RECYCLE_AFTER_ROWS)
        : (options.recycleBusyAfterRows ?? RECYCLE_BUSY_AFTER_ROWS),
    );
    return results;
  };

  const periodic = createPeriodicLoad({
    intervalMs: config.loader.interval_ms,
    logger,
    failure: 'loading the WAL into the lake failed; will retry',
    pass: work,
  });

  return {
    runOnce: periodic.runOnce,
    start: periodic.start,
    async stop() {
      await periodic.stop();
      await checker?.close();
      duck.connection.closeSync();
      closeDuckDB(duck.instance);
    },
  };
}
