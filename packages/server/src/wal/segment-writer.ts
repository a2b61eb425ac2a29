import { close, closeSync, fdatasync, fsyncSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { InletError } from '../errors/index.ts';
import { recoverSegment } from './recovery.ts';
import { listSegments, segmentPath } from './segment-files.ts';

export interface WalWriterOptions {
  dir: string;
  segmentBytes: number;
  maxBytes: number;
  /** Called with the seconds each fdatasync took, for the latency histogram. */
  onFsync?: (seconds: number) => void;
  /** Called once per segment that recovery repaired at open. */
  onRecovered?: (segment: number, result: ReturnType<typeof recoverSegment>) => void;
}

export interface WalWriter {
  /** Appends encoded records; resolves once they are on disk (fdatasync), shared with every append that arrived meanwhile. */
  append(records: string | Buffer): Promise<void>;
  /** Closes the current segment so the loader can take it, when it holds anything. */
  seal(): Promise<void>;
  /** Ids of segments that are complete and may be loaded. */
  sealedSegments(): number[];
  /** Bytes in all segments, sealed and current. */
  bytes(): number;
  /** Re-reads the size of sealed segments after the loader removed some. */
  refresh(): void;
  /** Milliseconds since the current segment got its first record, or 0 when empty. */
  currentAgeMs(): number;
  writable(): boolean;
  close(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const unavailable = (cause: unknown) =>
  new InletError('WAL_UNAVAILABLE', 'The write-ahead log cannot be written right now; retry shortly.', {
    retryAfterSeconds: 5,
    cause,
  });

/**
 * Opens the WAL: repairs the segments a crash left, then starts a fresh segment after them.
 *
 * Group commit in two stages. Records that arrive during one turn of the event loop are written
 * together with one write(2) into the page cache, which costs microseconds. One fdatasync is in
 * flight at a time; it covers everything written before it started, and every append it covers is
 * acknowledged when it returns. Appends written while it runs wait for the next one, which starts
 * at once. So the commit rate follows the disk's sync latency, never one fsync per request.
 */
export function createWalWriter(options: WalWriterOptions): WalWriter {
  mkdirSync(options.dir, { recursive: true });
  const existing = listSegments(options.dir);
  let sealedBytes = 0;
  for (const id of existing) {
    const result = recoverSegment(segmentPath(options.dir, id));
    if (result.truncatedBytes > 0 || result.corruptRecords > 0) options.onRecovered?.(id, result);
    sealedBytes += statSync(segmentPath(options.dir, id)).size;
  }
  let id = (existing.at(-1) ?? 0) + 1;
  let fd = openSync(segmentPath(options.dir, id), 'a');
  syncDir(options.dir);
  let size = 0;
  let firstWriteAt = 0;
  // Stage 1: accepted, not yet written. Stage 2: written, waiting for an fdatasync that starts after the write.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingWaiters: Waiter[] = [];
  let unsynced: Waiter[] = [];
  let writeScheduled = false;
  let syncing = false;
  let sealWaiters: Waiter[] = [];
  let broken: unknown;
  let closed = false;
  let idle: (() => void) | undefined;

  /** Starts a new segment for the writes that follow; the old descriptor is returned for its last sync. */
  const rotate = (): number => {
    const old = fd;
    sealedBytes += size;
    id += 1;
    fd = openSync(segmentPath(options.dir, id), 'a');
    syncDir(options.dir);
    size = 0;
    firstWriteAt = 0;
    return old;
  };

  const settle = (waiters: Waiter[], error: unknown) => {
    for (const waiter of waiters) {
      if (error) waiter.reject(unavailable(error));
      else waiter.resolve();
    }
  };

  const sync = () => {
    if (syncing || (unsynced.length === 0 && sealWaiters.length === 0)) {
      if (!syncing && pending.length === 0) idle?.();
      return;
    }
    syncing = true;
    const batch = unsynced;
    const seals = sealWaiters;
    unsynced = [];
    sealWaiters = [];
    const target = fd;
    let rotated = false;
    if ((seals.length > 0 && size > 0) || size >= options.segmentBytes) {
      try {
        rotate();
        rotated = true;
      } catch (error) {
        broken = error;
      }
    }
    const started = performance.now();
    fdatasync(target, (error) => {
      options.onFsync?.((performance.now() - started) / 1000);
      // A failed fdatasync may have dropped dirty pages: continue in a new segment, never after them.
      if (error) broken = error;
      if (rotated) close(target, () => {});
      settle(batch, error);
      settle(seals, error);
      syncing = false;
      sync();
    });
  };

  const writeOut = () => {
    writeScheduled = false;
    if (pending.length === 0) return sync();
    const data = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
    const waiters = pendingWaiters;
    pending = [];
    pendingBytes = 0;
    pendingWaiters = [];
    try {
      if (broken !== undefined) {
        // The last write or sync failed part-way: continue in a new segment so no torn bytes precede good ones.
        closeSync(rotate());
        broken = undefined;
      }
      for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
      if (size === 0) firstWriteAt = Date.now();
      size += data.length;
      unsynced.push(...waiters);
    } catch (error) {
      broken = error;
      settle(waiters, error);
    }
    sync();
  };

  const schedule = () => {
    if (!writeScheduled) {
      writeScheduled = true;
      setImmediate(writeOut);
    }
  };

  return {
    append(records) {
      if (closed)
        return Promise.reject(
          new InletError('WAL_UNAVAILABLE', 'inlet is shutting down; retry shortly.', {
            retryAfterSeconds: 2,
          }),
        );
      if (sealedBytes + size + pendingBytes + records.length > options.maxBytes) {
        return Promise.reject(
          new InletError(
            'WAL_FULL',
            'The write-ahead log is full because the loader is behind; retry later.',
            { retryAfterSeconds: 10 },
          ),
        );
      }
      const data = typeof records === 'string' ? Buffer.from(records) : records;
      return new Promise<void>((resolve, reject) => {
        pending.push(data);
        pendingBytes += data.length;
        pendingWaiters.push({ resolve, reject });
        schedule();
      });
    },
    seal() {
      if (size === 0 && pending.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        sealWaiters.push({ resolve, reject });
        schedule();
      });
    },
    sealedSegments() {
      return listSegments(options.dir).filter((segment) => segment < id);
    },
    bytes() {
      return sealedBytes + size;
    },
    refresh() {
      let total = 0;
      for (const segment of listSegments(options.dir)) {
        if (segment >= id) continue;
        try {
          total += statSync(segmentPath(options.dir, segment)).size;
        } catch {
          // Removed by the loader between the listing and the stat.
        }
      }
      sealedBytes = total;
    },
    currentAgeMs() {
      return firstWriteAt === 0 ? 0 : Date.now() - firstWriteAt;
    },
    writable() {
      return broken === undefined && !closed;
    },
    async close() {
      closed = true;
      if (writeScheduled || syncing || unsynced.length > 0)
        await new Promise<void>((resolve) => (idle = resolve));
      closeSync(fd);
    },
  };
}
