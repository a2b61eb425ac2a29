import { rm } from 'node:fs/promises';

/**
 * Deletion of loaded WAL segments, deferred while queries that may read them still run.
 *
 * The events view lists the WAL's segments when a query is planned and opens each as the scan
 * reaches it; a segment the loader deleted in between failed the query ("Cannot open file"), which
 * a busy loader (a backlog after a restart, or a segment sealed every second) made common for any
 * query longer than a segment's load. A loaded segment may stay a while: the view leaves out WAL
 * rows the lake already holds. So the loader retires a segment here instead of deleting it, and it
 * is deleted once every query that began before is done. Within one process only; a web role in
 * another process retries instead.
 *
 * Deletion runs on libuv's thread pool, never on the event loop: unlinking a 64 MB segment keeps
 * ext4 busy ~20 ms freeing its blocks, which stalled every request the collector had in hand.
 */
export interface ReadLeases {
  /** A query that may list WAL segments begins; call the returned function when it has finished. */
  begin(): () => void;
  /**
   * Deletes the file once no query that began before this call is still running. Resolves when
   * it is deleted, or at once when a query still holds it.
   */
  retire(path: string): Promise<void>;
  /** Whether the file waits to be deleted or is being deleted (so it must not be loaded again). */
  retiring(path: string): boolean;
  /** The files that wait to be deleted or are being deleted, for a query planned in another process. */
  retiringPaths(): string[];
  /** Resolves once no deletion is under way. */
  settled(): Promise<void>;
}

export function createReadLeases(): ReadLeases {
  // Each retirement moves the epoch on; a query that began at an earlier epoch may have listed it.
  let epoch = 0;
  let nextReader = 0;
  const readers = new Map<number, number>();
  const waiting = new Map<string, number>();
  const deleting = new Map<string, Promise<void>>();

  const flush = () => {
    let oldest = Number.POSITIVE_INFINITY;
    for (const began of readers.values()) oldest = Math.min(oldest, began);
    for (const [path, retiredAt] of waiting) {
      if (oldest < retiredAt || deleting.has(path)) continue;
      const deleted = rm(path, { force: true }).then(
        () => {
          waiting.delete(path);
          deleting.delete(path);
        },
        () => {
          // Tried again at the next flush; a query that ends here must not fail for it.
          deleting.delete(path);
        },
      );
      deleting.set(path, deleted);
    }
  };

  return {
    begin() {
      const reader = nextReader++;
      readers.set(reader, epoch);
      return () => {
        if (readers.delete(reader)) flush();
      };
    },
    retire(path) {
      waiting.set(path, ++epoch);
      flush();
      return deleting.get(path) ?? Promise.resolve();
    },
    retiring: (path) => waiting.has(path),
    retiringPaths: () => [...waiting.keys()],
    async settled() {
      while (deleting.size > 0) await Promise.all(deleting.values());
    },
  };
}
