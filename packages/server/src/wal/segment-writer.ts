import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, statSync, write } from 'node:fs';
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
  append(records: string): Promise<void>;
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

const writeAsync = (fd: number, data: Buffer) =>
  new Promise<void>((resolve, reject) => {
    const step = (offset: number) =>
      write(fd, data, offset, data.length - offset, null, (error, written) => {
        if (error) reject(error);
        else if (offset + written < data.length) step(offset + written);
        else resolve();
      });
    step(0);
  });

const fdatasyncAsync = (fd: number) =>
  new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Opens the WAL: repairs the segments a crash left, then starts a fresh segment after them. */
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
  let pending: string[] = [];
  let pendingBytes = 0;
  let waiters: Waiter[] = [];
  let flushing = false;
  let sealRequested = false;
  let broken: Error | undefined;
  let closed = false;
  let idle: (() => void) | undefined;

  const rotate = () => {
    closeSync(fd);
    sealedBytes += size;
    id += 1;
    fd = openSync(segmentPath(options.dir, id), 'a');
    syncDir(options.dir);
    size = 0;
    firstWriteAt = 0;
  };

  const flush = async (): Promise<void> => {
    flushing = true;
    while (pending.length > 0 || sealRequested) {
      const batch = pending;
      const batchWaiters = waiters;
      pending = [];
      pendingBytes = 0;
      waiters = [];
      try {
        if (broken) {
          // The last write failed part-way: continue in a new segment so no torn bytes precede good ones.
          rotate();
          broken = undefined;
        }
        if (batch.length > 0) {
          const data = Buffer.from(batch.length === 1 ? (batch[0] as string) : batch.join(''), 'utf8');
          await writeAsync(fd, data);
          const started = performance.now();
          await fdatasyncAsync(fd);
          options.onFsync?.((performance.now() - started) / 1000);
          if (size === 0) firstWriteAt = Date.now();
          size += data.length;
        }
        for (const waiter of batchWaiters) waiter.resolve();
        if ((sealRequested && size > 0) || size >= options.segmentBytes) rotate();
        sealRequested = false;
      } catch (error) {
        broken = error as Error;
        sealRequested = false;
        const failure = new InletError(
          'WAL_UNAVAILABLE',
          'The write-ahead log cannot be written right now; retry shortly.',
          {
            retryAfterSeconds: 5,
            cause: error,
          },
        );
        for (const waiter of batchWaiters) waiter.reject(failure);
      }
    }
    flushing = false;
    idle?.();
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
      return new Promise<void>((resolve, reject) => {
        pending.push(records);
        pendingBytes += records.length;
        waiters.push({ resolve, reject });
        if (!flushing) void flush();
      });
    },
    async seal() {
      if (size === 0 && pending.length === 0) return;
      await new Promise<void>((resolve, reject) => {
        sealRequested = true;
        waiters.push({ resolve, reject });
        if (!flushing) void flush();
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
      if (flushing) await new Promise<void>((resolve) => (idle = resolve));
      closeSync(fd);
    },
  };
}
