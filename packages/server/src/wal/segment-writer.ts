import {
  close,
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { InletError } from '../errors/index.ts';
import { syncPath } from '../fsync.ts';
import { createDeletedSegments, type DeletedSegment } from './deleted-segments.ts';
import { createRoomCheck, PROBE_ROOM, probeWrites } from './disk-space.ts';
import { monotonicMs } from './monotonic-clock.ts';
import { type RecoveryResult, recoverSegment } from './recovery.ts';
import { listSegments, segmentPath, straySegments } from './segment-files.ts';
import { ensureDir, recoverRewrites } from './segment-rewrite.ts';
import { writeChunks } from './write-chunks.ts';
import { LOW_SPACE, unavailable } from './write-failures.ts';

export interface WalWriterOptions {
  dir: string;
  segmentBytes: number;
  maxBytes: number;
  /** Appends that would leave less free space than this on the WAL's disk are refused; 0 or absent: no check. */
  minFreeBytes?: number;
  /** Free bytes on the WAL's disk; statfs of dir by default. */
  freeBytes?: (dir: string) => number;
  /** Called with the seconds each fdatasync took, for the latency histogram. */
  onFsync?: (seconds: number) => void;
  /** Called once per segment that recovery repaired at open. */
  onRecovered?: (segment: number, result: RecoveryResult) => void;
  /** Called at open with each file of dir named like a segment but no segment's, which is never loaded. */
  onStraySegment?: (path: string) => void;
  /**
   * Called when writing starts to fail (with the error) and when it works again (undefined), once
   * each: for a log line per outage rather than one per refused request.
   */
  onWritableChange?: (error: unknown) => void;
  /** Sealed segments already loaded and kept for readers: they do not count toward maxBytes. */
  loaded?: (path: string) => boolean;
  /**
   * Bytes other WALs hold under the same maxBytes (the events WAL and the log WAL share
   * wal.max_bytes, so together they never hold more than it); 0 when absent.
   */
  sharedBytes?: () => number;
  /**
   * Called when a segment's file was found deleted or moved away while open (its folder removed
   * by hand, say) and its acknowledged bytes were written to its name again.
   */
  onSegmentDeleted?: (deleted: DeletedSegment) => void;
}

export interface WalWriter {
  /** Appends encoded records; resolves once they are on disk (fdatasync), shared with every append that arrived meanwhile. */
  append(records: string | Buffer): Promise<void>;
  /** Closes the current segment so the loader can take it, when it holds anything. */
  seal(): Promise<void>;
  /** Ids of segments that are complete and may be loaded. */
  sealedSegments(): number[];
  /** Bytes in all segments, sealed and current, but those loaded and kept for readers (loaded). */
  bytes(): number;
  /** Re-reads the size of sealed segments after the loader removed some. */
  refresh(): void;
  /** Milliseconds since the current segment got its first record, or 0 when empty. */
  currentAgeMs(): number;
  /** False from a failed write or sync until one succeeds again (or a probe shows the disk takes writes). */
  writable(): boolean;
  /**
   * While writes fail: writes and syncs a small file beside the segments, at most once a second, and
   * when that works, the writer counts as writable again. Lets /healthz recover with no traffic, as
   * a load balancer that took the node out sends none. Returns writable().
   */
  probe(): boolean;
  /**
   * Whether the last request refused as WAL_FULL would still be refused: true from that refusal
   * until the loader has freed room for it (or a write was taken since).
   */
  full(): boolean;
  /** The last segment found deleted while open and written again, for /healthz; undefined if none. */
  deletedSegment(): DeletedSegment | undefined;
  close(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Why the writer left a segment another program wrote to (no refusal: the writes go on). */
const FOREIGN_BYTES = 'INLET_FOREIGN_BYTES';

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
  recoverRewrites(options.dir);
  const existing = listSegments(options.dir);
  for (const name of straySegments(options.dir)) options.onStraySegment?.(join(options.dir, name));
  let sealedBytes = 0;
  /** Size of the last append refused as WAL_FULL, 0 once one was taken (full()). */
  let refusedFull = 0;
  for (const id of existing) {
    const path = segmentPath(options.dir, id);
    // Every start writes a new segment after recovering the last one, so a sealed segment's tail
    // without its newline is damage (its last record's newline flipped, bytes another program
    // appended), not a write a crash cut short: truncated, a whole acknowledged record went without
    // a trace. It is left for the loader, which keeps it in lake/_rejects.
    const result = recoverSegment(path, id === existing.at(-1));
    if (result === undefined) continue;
    if (result.truncatedBytes > 0 || result.corruptRecords > 0) options.onRecovered?.(id, result);
    sealedBytes += statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  }
  let id = (existing.at(-1) ?? 0) + 1;
  // Open for reading too: a segment whose file is deleted while open is read back through it.
  let fd = openSync(segmentPath(options.dir, id), 'a+');
  syncPath(options.dir);
  let size = 0;
  // Bytes of the current segment an fdatasync has covered (the rest are not acknowledged yet).
  let syncedSize = 0;
  let firstWriteAt = 0;
  // Stage 1: accepted, not yet written. Stage 2: written, waiting for an fdatasync that starts after the write.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingWaiters: Waiter[] = [];
  let unsynced: Waiter[] = [];
  let writeScheduled = false;
  let syncing = false;
  let sealWaiters: Waiter[] = [];
  // A failure that leaves the current segment's end unknown (a failed sync, a partial write that
  // could not be cut back): the next write goes to a new segment.
  let broken: unknown;
  // Set from a failed write or sync until one succeeds, for writable() and /healthz.
  let failing: unknown;
  let lastProbe = Number.NEGATIVE_INFINITY;
  // The current segment holds bytes of a refused write that could not be cut back.
  let tornTail = false;
  // Successful writes so far, and their count at the last failure: a sync clears `failing` only if
  // it covers a write made after that failure.
  let writes = 0;
  let writesAtFailure = 0;
  let closed = false;
  let idle: (() => void) | undefined;
  const orphans = createDeletedSegments(options.dir, options.onSegmentDeleted);

  const space = createRoomCheck(options);
  /** Bytes counted toward maxBytes: this WAL's unloaded segments and those of the WALs sharing it. */
  const held = () => sealedBytes + size + (options.sharedBytes?.() ?? 0);

  const fail = (error: unknown) => {
    if (failing === undefined) options.onWritableChange?.(error);
    failing = error;
    writesAtFailure = writes;
  };
  const works = () => {
    if (failing === undefined) return;
    failing = undefined;
    options.onWritableChange?.(undefined);
  };

  /**
   * Starts a new segment for the writes that follow; the old descriptor is returned for its last
   * sync. Nothing changes if the new segment cannot be made, so a retry takes the same name.
   */
  const rotate = (): number => {
    ensureDir(options.dir);
    const next = openSync(segmentPath(options.dir, id + 1), 'a+');
    try {
      syncPath(options.dir);
    } catch (error) {
      closeSync(next);
      throw error;
    }
    const old = fd;
    fd = next;
    id += 1;
    sealedBytes += size;
    size = 0;
    syncedSize = 0;
    firstWriteAt = 0;
    broken = undefined;
    tornTail = false;
    return old;
  };

  /** Closes a descriptor left behind, unless its file is gone and must still be written again. */
  const release = (old: number) => {
    if (!orphans.holds(old)) closeSync(old);
  };

  /** Writes the open segment again when its file is gone, and with retry those that could not be before (see deleted-segments.ts). */
  const rescue = (retry: boolean): unknown => {
    const rescued = orphans.rescue({ id, fd, size, syncedSize }, retry);
    fd = rescued.fd;
    return rescued.failure;
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
    const lost = rescue(false);
    if (orphans.has(id)) {
      // The current segment's file is gone and cannot be made again: what it holds since the last
      // sync is refused, and writing goes on in a new segment once the folder can be made.
      broken = lost;
      fail(lost);
      settle(batch, lost);
      settle(seals, lost);
      syncing = false;
      if (pending.length > 0) schedule();
      return sync();
    }
    const target = fd;
    const covered = writes;
    const coveredSize = size;
    let rotated = false;
    if ((seals.length > 0 && size > 0) || size >= options.segmentBytes) {
      try {
        rotate();
        rotated = true;
      } catch (error) {
        broken = error;
      }
      // The folder takes files: segments that could not be written to it before can be now.
      if (rotated && orphans.any()) rescue(true);
    }
    const started = performance.now();
    fdatasync(target, (error) => {
      options.onFsync?.((performance.now() - started) / 1000);
      if (rotated) close(target, () => {});
      if (error) {
        // A failed fdatasync may have dropped dirty pages, also those of writes made while it ran:
        // those are refused too, and writing goes on in a new segment, never after them.
        fail(error);
        if (!rotated) {
          broken = error;
          settle(unsynced, error);
          unsynced = [];
        }
      } else {
        if (!rotated && target === fd) syncedSize = coveredSize;
        if (covered > writesAtFailure) works();
      }
      settle(batch, error);
      settle(seals, error);
      syncing = false;
      // Writes held back while this sync ran on a segment that must be left (see writeOut).
      if (pending.length > 0) schedule();
      sync();
    });
  };

  const writeOut = () => {
    writeScheduled = false;
    if (pending.length === 0) return sync();
    // Something else wrote to the open segment (echo >> by hand) or cut it: its bytes would run into
    // the next record, a line without its newline spoiling it. The writes go to a new segment, and
    // the loader skips the stray bytes in this one.
    if (broken === undefined && !orphans.has(id) && fstatSync(fd).size !== size) {
      broken = Object.assign(new Error('the open segment was changed by another program'), {
        code: FOREIGN_BYTES,
      });
      tornTail = true;
    }
    // Leaving a broken segment closes it, which must wait for a sync still running on it.
    if (broken !== undefined && syncing) return;
    const chunks = pending;
    const bytes = pendingBytes;
    const waiters = pendingWaiters;
    pending = [];
    pendingBytes = 0;
    pendingWaiters = [];
    const progress = { written: 0 };
    try {
      if (broken !== undefined) {
        // Continue in a new segment, so no torn bytes precede good ones and a file that refuses
        // writes (too large, say) is left behind. One that holds nothing is removed: a full disk
        // refusing request after request must not leave a file for each.
        const left = id;
        const empty = size === 0 && !tornTail;
        release(rotate());
        if (empty && !orphans.has(left)) rmSync(segmentPath(options.dir, left), { force: true });
        // The folder takes files again: segments that could not be written to it before can be.
        if (orphans.any()) rescue(true);
      }
      writeChunks(fd, chunks, progress);
    } catch (error) {
      // A write refused part-way (the disk filled up during it) is cut back, so the segment ends
      // with its last whole record: nothing of a refused request is left to load.
      if (progress.written > 0) {
        try {
          ftruncateSync(fd, size);
        } catch {
          tornTail = true;
        }
      }
      broken = error;
      fail(error);
      settle(waiters, error);
      sync();
      return;
    }
    if (size === 0) firstWriteAt = monotonicMs();
    size += bytes;
    writes += 1;
    unsynced.push(...waiters);
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
      // Counted in bytes as written: a string's length undercounts multi-byte UTF-8 text.
      const data = typeof records === 'string' ? Buffer.from(records) : records;
      if (data.length > options.maxBytes)
        return Promise.reject(
          new InletError(
            'BODY_TOO_LARGE',
            `This request's records take ${data.length} bytes in the write-ahead log, more than all of wal.max_bytes (${options.maxBytes}); send smaller batches, or raise wal.max_bytes.`,
          ),
        );
      if (held() + pendingBytes + data.length > options.maxBytes) {
        refusedFull = data.length;
        return Promise.reject(
          new InletError(
            'WAL_FULL',
            'The write-ahead log is full because the loader is behind; retry later.',
            { retryAfterSeconds: 10 },
          ),
        );
      }
      refusedFull = 0;
      if (!space.roomFor(data.length)) {
        const error = Object.assign(
          new Error(`less than wal.min_free_bytes (${options.minFreeBytes} bytes) free on the WAL's disk`),
          { code: LOW_SPACE },
        );
        fail(error);
        return Promise.reject(unavailable(error));
      }
      space.accepted(data.length);
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
    deletedSegment() {
      return orphans.last();
    },
    full() {
      return refusedFull > 0 && held() + pendingBytes + refusedFull > options.maxBytes;
    },
    refresh() {
      let total = 0;
      for (const segment of listSegments(options.dir)) {
        if (segment >= id || options.loaded?.(segmentPath(options.dir, segment))) continue;
        try {
          total += statSync(segmentPath(options.dir, segment)).size;
        } catch {
          // Removed by the loader between the listing and the stat.
        }
      }
      sealedBytes = total;
    },
    currentAgeMs() {
      return firstWriteAt === 0 ? 0 : monotonicMs() - firstWriteAt;
    },
    writable() {
      return failing === undefined && !closed;
    },
    probe() {
      if (closed) return false;
      // With no traffic, a deleted folder is noticed here (for /healthz) rather than at the next request.
      if (!syncing && failing === undefined) {
        const lost = rescue(false);
        if (orphans.has(id)) {
          broken = lost;
          fail(lost);
        }
      }
      if (failing === undefined || monotonicMs() - lastProbe < 1000) return this.writable();
      lastProbe = monotonicMs();
      if (orphans.any()) rescue(true);
      // Room for a request or two of the largest kind, asked of the disk now.
      if (!space.roomFor(PROBE_ROOM, true)) return false;
      if (probeWrites(options.dir)) works();
      return this.writable();
    },
    async close() {
      closed = true;
      if (writeScheduled || syncing || unsynced.length > 0)
        await new Promise<void>((resolve) => (idle = resolve));
      orphans.close(fd);
      closeSync(fd);
    },
  };
}
