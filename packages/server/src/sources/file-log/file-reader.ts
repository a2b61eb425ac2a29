import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import {
  beforeWindow,
  type Candidate,
  type Head,
  hashHead,
  type ReadTask,
  type TrackedFile,
} from './file-tracker.ts';
import { createLineSplitter, type LineSplitter, type SplitLine } from './line-splitter.ts';

// Parsing one chunk holds the event loop (the collector may share it): 256 KiB is a few ms.
const CHUNK_BYTES = 256 * 1024;

export interface ReadOptions {
  maxLineBytes: number;
  /**
   * The file gets no more bytes (rotated away, untouched for minutes): a last line without a
   * newline is read as it is, where it would otherwise wait for a newline that never comes.
   */
  finishLastLine?: boolean;
  signal: AbortSignal;
  /** Takes each chunk's complete lines in order and advances file.offset past those it consumed. */
  onLines(lines: SplitLine[], file: TrackedFile): Promise<void>;
  /** Bytes read from disk, for progress. */
  onBytes?(bytes: number): void;
  /**
   * The last lines read without their newline, by dev:ino, kept between reads so that a line still
   * being written is not read again from its start on every scan (a huge one cost that much I/O
   * every poll_ms): the next read goes on where this one stopped.
   */
  partials?: Map<string, PartialLine>;
  /**
   * Where a plain file's read goes on instead of its offset: the lines between were read already
   * and are held by whoever takes them (a Docker joiner awaiting a split line's last part, a record
   * joiner gathering a record's lines); a line kept in `partials` from there goes on too.
   */
  from?: number;
}

/** A plain file's last line as far as it was read, before its newline came. */
export interface PartialLine {
  /** Where the line starts: the file's offset, or where the lines held before it (ReadOptions.from) end. */
  start: number;
  /** Bytes read so far: the next read starts here. */
  readTo: number;
  /** The file's head when it was read, so that a file emptied and written again is read anew. */
  head: string;
  headBytes: number;
  headAt: number | undefined;
  splitter: LineSplitter;
  /** Said to have waited minutes for its newline (file-tailer.ts), so it is said once. */
  warned?: boolean;
}

/** The bytes of a waiting line checked against the file before going on with it. */
const CHECK_BYTES = 1024;

/** How a read ended: `corrupt` says why a .gz could not be read to its end, `unreadable` why a file could not be opened. */
export type ReadOutcome =
  | { status: 'read'; unended?: UnendedLine }
  | { status: 'gone' | 'stopped' }
  | { status: 'corrupt' | 'unreadable'; message: string };

/** The line a plain file ended with, still without its newline: as far as it was read (to `readTo`). */
export interface UnendedLine {
  start: number;
  head: Buffer;
  bytes: number;
  readTo: number;
}

async function openSame(candidate: Candidate): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    // Without waiting: a named pipe put where the scan found the file waited for a writer, for good,
    // holding the source's reads and a thread of the pool (and the process's exit) with it.
    handle = await open(candidate.path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Rotated between the scan and the open: the path now names another file, which the next scan plans.
  // That file may have the listed file's inode number (deleted since, the number reused by a copy):
  // taken for it, its content was planned with the size and mtime of the other, read only to that
  // size, its last record finished as at rest, and a copy's offset moved back to that size.
  const stat = await handle.stat();
  if (
    !stat.isFile() ||
    stat.ino !== candidate.ino ||
    stat.dev !== candidate.dev ||
    (candidate.birthtimeMs !== undefined && stat.birthtimeMs !== candidate.birthtimeMs)
  ) {
    await handle.close();
    return undefined;
  }
  return handle;
}

/** Reads a plain file from the tracked offset up to its size at the scan; a last line without a newline waits. */
async function readPlain(handle: FileHandle, task: ReadTask, options: ReadOptions): Promise<ReadOutcome> {
  const { file, candidate } = task;
  // Truncated (and written again) since the plan, or while a chunk was read: the offset belongs to
  // other content then. The first bytes, and those last read before the offset, are checked before
  // and after each read, so a chunk is only used when it certainly came from the content the offset
  // counts.
  const holds = async (at: number, bytes: number, hash: string) => {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, at);
    return bytesRead === bytes && hashHead(buffer) === hash;
  };
  const sameFile = async () =>
    (file.headBytes === 0 || (await holds(file.headAt ?? 0, file.headBytes, file.head))) &&
    (!file.before || (await holds(file.before.at, file.before.bytes, file.before.hash)));
  if (!(await sameFile())) return { status: 'gone' };
  const key = `${file.dev}:${file.ino}`;
  const kept = options.partials?.get(key);
  options.partials?.delete(key);
  const resume =
    kept !== undefined &&
    kept.start === (options.from ?? file.offset) &&
    kept.readTo <= candidate.size &&
    kept.head === file.head &&
    kept.headBytes === file.headBytes &&
    kept.headAt === file.headAt &&
    (await startsAsKept(handle, kept));
  const splitter = resume ? kept.splitter : createLineSplitter(options.maxLineBytes);
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let position = resume ? kept.readTo : (options.from ?? file.offset);
  while (position < candidate.size) {
    if (options.signal.aborted) return { status: 'stopped' };
    const { bytesRead } = await handle.read(
      buffer,
      0,
      Math.min(CHUNK_BYTES, candidate.size - position),
      position,
    );
    if (bytesRead === 0) break;
    if (!(await sameFile())) return { status: 'gone' };
    const lines = splitter.push(buffer.subarray(0, bytesRead), position);
    position += bytesRead;
    if (lines.length > 0) await options.onLines(lines, file);
    // After the chunk's lines, which progress counts: told before them, a file of one chunk (256 KiB)
    // showed no bar, and a longer one's ended a chunk of lines short.
    options.onBytes?.(bytesRead);
  }
  const last = options.finishLastLine && position === candidate.size ? splitter.finish(position) : undefined;
  if (last) await options.onLines([last], file);
  // Kept whatever holds the lines before it (a multi-line record still gathering lines, a split
  // line's parts): a read from where those end goes on with it, one from the offset only when the
  // line starts there. Kept only then, it was read again every poll_ms while they waited.
  const start = splitter.pendingStart();
  if (options.partials && start !== undefined)
    options.partials.set(key, {
      start,
      readTo: position,
      head: file.head,
      headBytes: file.headBytes,
      headAt: file.headAt,
      splitter,
      ...(resume && kept.warned ? { warned: true } : {}),
    });
  await noteBefore(handle, file, sameFile);
  const held = splitter.pending();
  return held ? { status: 'read', unended: { ...held, readTo: position } } : { status: 'read' };
}

/**
 * Hashes the bytes just before the offset the read left (file-tracker.ts `before`): taken only while
 * the file still holds what was read, so a file emptied and refilled meanwhile keeps the old ones.
 */
async function noteBefore(handle: FileHandle, file: TrackedFile, sameFile: () => Promise<boolean>) {
  const { at, bytes } = beforeWindow(file);
  if (bytes === 0 || (file.before && file.before.at + file.before.bytes === file.offset)) return;
  const buffer = Buffer.alloc(bytes);
  const { bytesRead } = await handle.read(buffer, 0, bytes, at);
  if (bytesRead === bytes && (await sameFile())) file.before = { at, bytes, hash: hashHead(buffer) };
}

/**
 * Whether the file still holds the line's first bytes where it starts: a line kept from before a
 * restart may belong to content since written over in place (with the same first KiB).
 */
async function startsAsKept(handle: FileHandle, kept: PartialLine): Promise<boolean> {
  const line = kept.splitter.pending();
  if (!line || line.start !== kept.start) return false;
  const expected = line.head.subarray(0, CHECK_BYTES);
  const actual = Buffer.alloc(expected.length);
  const { bytesRead } = await handle.read(actual, 0, expected.length, kept.start);
  return bytesRead === expected.length && actual.equals(expected);
}

/** The gzip trailer's ISIZE: the uncompressed size modulo 2^32 (of the last member). */
async function gzipSize(handle: FileHandle, size: number): Promise<number | undefined> {
  if (size < 18) return undefined;
  const trailer = Buffer.alloc(4);
  await handle.read(trailer, 0, 4, size - 4);
  return trailer.readUInt32LE(0);
}

/** Decompresses a .gz, skipping the content already consumed; at its end the file is done. */
async function readGzip(handle: FileHandle, task: ReadTask, options: ReadOptions): Promise<ReadOutcome> {
  const { file, candidate } = task;
  // A .gz of a file read to its end holds nothing new: its trailer says so without decompressing.
  if (file.offset > 0 && (await gzipSize(handle, candidate.size)) === file.offset % 2 ** 32) {
    file.done = true;
    options.onBytes?.(candidate.size);
    return { status: 'read' };
  }
  const input = handle.createReadStream({ autoClose: false, start: 0, highWaterMark: CHUNK_BYTES });
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  input.on('error', (error) => gunzip.destroy(error));
  input.on('data', (chunk) => options.onBytes?.(chunk.length));
  input.pipe(gunzip);
  const splitter = createLineSplitter(options.maxLineBytes);
  let position = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (options.signal.aborted) return { status: 'stopped' };
      const skip = Math.min(Math.max(0, file.offset - position), chunk.length);
      const lines = skip < chunk.length ? splitter.push(chunk.subarray(skip), position + skip) : [];
      position += chunk.length;
      if (lines.length > 0) await options.onLines(lines, file);
    }
  } catch (error) {
    return { status: 'corrupt', message: (error as Error).message };
  } finally {
    input.unpipe(gunzip);
    input.destroy();
    gunzip.destroy();
  }
  const last = splitter.finish(position);
  if (last) await options.onLines([last], file);
  file.done = true;
  return { status: 'read' };
}

/** Reads what is new in one planned file. */
export async function readTask(task: ReadTask, options: ReadOptions): Promise<ReadOutcome> {
  let handle: FileHandle | undefined;
  try {
    handle = await openSame(task.candidate);
  } catch (error) {
    return { status: 'unreadable', message: (error as Error).message };
  }
  if (!handle) return { status: 'gone' };
  try {
    return await (task.candidate.gz ? readGzip(handle, task, options) : readPlain(handle, task, options));
  } finally {
    await handle.close();
  }
}

/** The first non-zero byte of `chunk`, or -1. */
const firstNonZero = (chunk: Buffer): number => {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return i;
  return -1;
};

/**
 * Takes up to `bytes` bytes of content from `at`, or (without `at`) from the first byte that is not
 * zero, out of chunks fed in order; `done` once it has them.
 */
function createHeadTaker(bytes: number, at: number | undefined) {
  const parts: Buffer[] = [];
  let taken = 0;
  let position = 0;
  let start = at;
  return {
    push(chunk: Buffer): boolean {
      let from = 0;
      if (start === undefined) {
        const i = firstNonZero(chunk);
        if (i === -1) {
          position += chunk.length;
          return false;
        }
        start = position + i;
      }
      from = Math.max(0, start - position);
      position += chunk.length;
      if (from < chunk.length) {
        const part = chunk.subarray(from, from + bytes - taken);
        // Copied: the caller reuses its buffer.
        parts.push(Buffer.from(part));
        taken += part.length;
      }
      return taken >= bytes;
    },
    head: (): Head => ({ at: start ?? position, bytes: Buffer.concat(parts, taken) }),
  };
}

/**
 * Up to `bytes` bytes of a file's content (decompressed for a .gz) from byte `at`, or without `at`
 * from its first byte that is not zero; undefined when the path now names another file or none.
 */
export async function readHead(candidate: Candidate, bytes: number, at?: number): Promise<Head | undefined> {
  const handle = await openSame(candidate).catch(() => undefined);
  if (!handle) return undefined;
  const taker = createHeadTaker(bytes, at);
  try {
    if (!candidate.gz) {
      if (at !== undefined) {
        const buffer = Buffer.alloc(bytes);
        const { bytesRead } = await handle.read(buffer, 0, bytes, at);
        return { at, bytes: buffer.subarray(0, bytesRead) };
      }
      // The zero bytes a writer without O_APPEND left can be as long as the file was: reads grow
      // to large chunks while they find only zeros, and stop once the head is taken.
      let buffer = Buffer.allocUnsafe(bytes);
      let position = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0 || taker.push(buffer.subarray(0, bytesRead))) break;
        position += bytesRead;
        if (buffer.length < CHUNK_BYTES)
          buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, buffer.length * 4));
      }
      return taker.head();
    }
    const input = handle.createReadStream({ autoClose: false, start: 0, highWaterMark: 64 * 1024 });
    const gunzip = createGunzip();
    input.on('error', (error) => gunzip.destroy(error));
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) if (taker.push(chunk)) break;
    } catch {
      // A truncated or corrupt .gz gives what it has.
    } finally {
      input.unpipe(gunzip);
      input.destroy();
      gunzip.destroy();
    }
    return taker.head();
  } finally {
    await handle.close();
  }
}
