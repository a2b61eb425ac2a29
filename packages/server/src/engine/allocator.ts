import { DuckDBInstance } from '@duckdb/node-api';

// DuckDB allocates through a jemalloc of its own. bin/environment.cjs has the pages it frees kept a
// second for reuse (dirty_decay_ms) and then returned to the system at once (muzzy_decay_ms 0);
// jemalloc's background threads return them when the second is up even if nothing is allocated
// after, as in an idle loader's or engine's process. Without them, an idle server sat on what its
// last load freed (95 MB of four copies, against 12 MB with them); with a decay of 0 instead,
// nothing waited, but a segment load faulted its pages in again and again, and the loader ran at
// a third of its speed on a machine where page faults are dear (docs/benchmarks.md).
//
// The background threads are the process's, not an instance's, and DuckDB turns them off whenever
// any instance closes: every instance inlet opens and closes goes through here, so that closing one
// turns them on again through another that is still open.

const open = new Set<DuckDBInstance>();

/** An in-memory DuckDB instance with the given options and jemalloc's background threads on. */
export async function openDuckDB(options: Record<string, string>): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(':memory:', {
    ...options,
    allocator_background_threads: 'true',
  });
  open.add(instance);
  return instance;
}

/** Closes an instance opened by openDuckDB, and turns the background threads on again. */
export function closeDuckDB(instance: DuckDBInstance): void {
  if (!open.delete(instance)) return;
  instance.closeSync();
  const other = open.values().next().value;
  if (other) void backgroundThreadsOn(other);
}

async function backgroundThreadsOn(instance: DuckDBInstance): Promise<void> {
  try {
    const connection = await instance.connect();
    try {
      await connection.run('SET allocator_background_threads = true');
    } finally {
      connection.closeSync();
    }
  } catch {
    // That instance closed meanwhile: its own close turned them on through the next one.
  }
}
