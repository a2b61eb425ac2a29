import type { InletConfig } from '../config/index.ts';
import { createQueryProcess } from '../engine/index.ts';
import { type DataLayout, damagedFileMessage, type ReadLeases } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import type { Metrics } from '../metrics/index.ts';

/**
 * Starts the web role's query engine in a process of its own, with counters of its restarts,
 * recycles, file races and damaged files; fileRaces is given back, as the catalog's looks count there too.
 */
export async function startQueryEngine(options: {
  config: InletConfig;
  layout: DataLayout;
  leases: ReadLeases;
  logger: Logger;
  metrics: Metrics;
}) {
  const { config, layout, leases, logger, metrics } = options;
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
  return { queries, fileRaces };
}
