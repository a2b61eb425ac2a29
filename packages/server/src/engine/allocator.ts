import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

// DuckDB allocates through a jemalloc of its own. bin/environment.cjs has the pages it frees kept a
// second for reuse (dirty_decay_ms) and then returned to the system at once (muzzy_decay_ms 0);
// jemalloc's background threads return them when the second is up even if nothing is allocated
// after, as in an idle loader's or engine's process. Without them, an idle server sat on what its
// last load freed (95 MB of four copies, against 12 MB with them); with a decay of 0 instead,
// nothing waited, but a segment load faulted its pages in again and again, and the loader ran at
// a third of its speed on a machine where page faults are dear (docs/benchmarks.md).
//
// The background threads are the process's, not an instance's: an instance created with
// allocator_background_threads turns them on, and DuckDB turns them off whenever any instance
// closes. So every instance inlet opens and closes goes through here, and a close turns them on
// again through a connection to a small instance of this module's own, which is never closed: a
// connection to any other instance could be closing at the same moment, and DuckDB's native code
// does not survive a connect racing with a close (a segfault, seen on Node 22).

const BACKGROUND_THREADS = { allocator_background_threads: 'true' };

let keeper: Promise<DuckDBConnection> | undefined;
/** The SET statements in flight on the keeper's connection, one at a time. */
let turningOn: Promise<unknown> = Promise.resolve();

const keeperConnection = () =>
  (keeper ??= DuckDBInstance.create(':memory:', {
    threads: '1',
    memory_limit: '16MB',
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
    ...BACKGROUND_THREADS,
  })
    .then((instance) => instance.connect())
    .catch((error: unknown) => {
      // Tried again at the next open rather than failing every open after this one.
      keeper = undefined;
      throw error;
    }));

/** An in-memory DuckDB instance with the given options and jemalloc's background threads on. */
export async function openDuckDB(options: Record<string, string>): Promise<DuckDBInstance> {
  // Opened first, so that every close has a way to turn the threads on again.
  await keeperConnection();
  return DuckDBInstance.create(':memory:', { ...options, ...BACKGROUND_THREADS });
}

/** Closes an instance opened by openDuckDB, and turns the background threads on again. */
export function closeDuckDB(instance: DuckDBInstance): void {
  instance.closeSync();
  const connection = keeperConnection();
  turningOn = turningOn
    .then(() => connection)
    .then((kept) => kept.run('SET allocator_background_threads = true'))
    .catch(() => undefined);
}
