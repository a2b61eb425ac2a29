import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { removeOwnFile } from '../remove-own-file.ts';
import { openRegularFile } from './files.ts';

// An id filter lists the 52-bit hashes of the event ids in one Parquet file of lake/events, sorted,
// in a hidden file beside it (.part-….parquet.ids; engines that read the lake skip dot files). The
// loader checks a new segment's ids against the filters of the files it must not repeat, and runs
// the exact anti-join in DuckDB only when a hash matches (a retry, or a rare hash collision) or a
// file has no filter. Layout: "IDF1", crc32 of the hashes, count (uint32 LE), then float64 LE hashes.

const MAGIC = 'IDF1';
const HEADER = 12;

/** Where the id filter of a Parquet file lives. */
export function idFilterPath(parquetPath: string): string {
  return join(dirname(parquetPath), `.${basename(parquetPath)}.ids`);
}

/**
 * Writes the filter under its final name, before its Parquet file appears. Without an fsync: after a
 * crash a filter is whole or fails its length and checksum check, and a missing one only means the
 * exact anti-join runs for that file.
 */
export function writeIdFilter(parquetPath: string, hashes: Float64Array): void {
  const path = idFilterPath(parquetPath);
  writeFileSync(`${path}.tmp`, Buffer.concat(encodeIdFilter(hashes)));
  renameSync(`${path}.tmp`, path);
}

/** writeIdFilter with the file work on libuv's thread pool (a compaction's filter is megabytes). */
export async function writeIdFilterAsync(parquetPath: string, hashes: Float64Array): Promise<void> {
  const path = idFilterPath(parquetPath);
  const file = await open(`${path}.tmp`, 'w');
  try {
    // Header, then the hashes from the array's own memory: no copy of megabytes into one buffer.
    let at = 0;
    for (const part of encodeIdFilter(hashes)) {
      for (let done = 0; done < part.length; ) {
        const { bytesWritten } = await file.write(part, done, part.length - done, at);
        done += bytesWritten;
        at += bytesWritten;
      }
    }
  } finally {
    await file.close();
  }
  await rename(`${path}.tmp`, path);
}

/** The header and the hashes, as two buffers; the hashes are the array's own memory. */
function encodeIdFilter(hashes: Float64Array): [Buffer, Buffer] {
  const body = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(crc32(body) >>> 0, 4);
  header.writeUInt32LE(hashes.length, 8);
  return [header, body];
}

/**
 * Room for a filter's bytes, placed so that its hashes start 8-byte aligned: a Float64Array can then
 * be the filter's own memory. A copy to align them cost as much as the read (fresh pages, ~3 ms a MB).
 */
function alignedBytes(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(size + 4), 4, size);
}

/** The hashes of a filter's bytes (from alignedBytes), or undefined when they do not check out. */
function decodeIdFilter(data: Uint8Array): Float64Array | undefined {
  const header = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, HEADER));
  if (data.length < HEADER || header.toString('latin1', 0, 4) !== MAGIC) return undefined;
  const count = header.readUInt32LE(8);
  if (data.length !== HEADER + count * 8) return undefined;
  const body = data.subarray(HEADER);
  if (crc32(body) >>> 0 !== header.readUInt32LE(4)) return undefined;
  return new Float64Array(body.buffer, body.byteOffset, count);
}

/** Reads the whole of an open file into buffer from position at, as far as it goes; the bytes read. */
function readFully(fd: number, buffer: Uint8Array, at: number): number {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, at + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * A descriptor of parquetPath's filter; undefined for what is no regular file (a named pipe or a
 * device under its name hung the loader, the collector beside it and its SIGTERM).
 */
const openFilter = (parquetPath: string) => openRegularFile(idFilterPath(parquetPath));

/** The file's filter, or undefined when it has none or it does not check out (then the exact path runs). */
export function readIdFilter(parquetPath: string): Float64Array | undefined {
  let fd: number | undefined;
  try {
    fd = openFilter(parquetPath);
    if (fd === undefined) return undefined;
    const data = alignedBytes(fstatSync(fd).size);
    return readFully(fd, data, 0) === data.length ? decodeIdFilter(data) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** readIdFilter with the read on libuv's thread pool. */
export async function readIdFilterAsync(parquetPath: string): Promise<Float64Array | undefined> {
  try {
    const file = await open(idFilterPath(parquetPath), constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stats = await file.stat();
      if (!stats.isFile()) return undefined;
      const data = alignedBytes(stats.size);
      for (let done = 0; done < data.length; ) {
        const { bytesRead } = await file.read(data, done, data.length - done, done);
        if (bytesRead === 0) return undefined;
        done += bytesRead;
      }
      return decodeIdFilter(data);
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
}

/** Hashes read at a time by sharesAnyInFile: 1 MB, reused, so the check allocates nothing. */
const CHUNK_HASHES = 1 << 17;
let chunkBuffer: ArrayBuffer | undefined;

/**
 * Whether sorted hashes share a value with a file's filter, read in chunks into one reused buffer
 * rather than whole: for a filter the cache has no room for, reading 40 MB into new memory cost
 * ~250 ms, most of it the pages' first touch. Undefined when the file has no filter that checks out
 * (a match found before the end needs no checksum: the exact anti-join runs either way).
 */
export function sharesAnyInFile(
  hashes: Float64Array,
  parquetPath: string,
  chunkHashes = CHUNK_HASHES,
): boolean | undefined {
  let fd: number | undefined;
  try {
    fd = openFilter(parquetPath);
    if (fd === undefined) return undefined;
    const header = Buffer.alloc(HEADER);
    if (readFully(fd, header, 0) < HEADER || header.toString('latin1', 0, 4) !== MAGIC) return undefined;
    const count = header.readUInt32LE(8);
    if (fstatSync(fd).size !== HEADER + count * 8) return undefined;
    if (chunkBuffer === undefined) chunkBuffer = new ArrayBuffer(CHUNK_HASHES * 8);
    const buffer = chunkHashes === CHUNK_HASHES ? chunkBuffer : new ArrayBuffer(chunkHashes * 8);
    const chunk = new Float64Array(buffer);
    const bytes = new Uint8Array(buffer);
    let crc = 0;
    let from = 0;
    for (let read = 0; read < count; ) {
      const n = Math.min(chunkHashes, count - read);
      if (readFully(fd, bytes.subarray(0, n * 8), HEADER + read * 8) < n * 8) return undefined;
      read += n;
      crc = crc32(bytes.subarray(0, n * 8), crc);
      const values = chunk.subarray(0, n);
      const lo = bound(hashes, values[0] as number, from);
      const hi = bound(hashes, values[n - 1] as number, lo, true);
      if (hi > lo && sharesAny(hashes.subarray(lo, hi), values)) return true;
      from = hi;
    }
    return crc >>> 0 === header.readUInt32LE(4) ? false : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function removeIdFilter(parquetPath: string): void {
  rmSync(idFilterPath(parquetPath), { force: true });
}

/** Removes the filters of a partition directory that a crash left half-written under their temporary name. */
export function removeIdFilterTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir))
    if (name.startsWith('.') && name.endsWith('.ids.tmp'))
      removeOwnFile(join(dir, name), 'an id filter being written, which a crash left');
}

/**
 * Id filters kept in memory between segments, up to budgetBytes. Every segment is checked against
 * the filters of the files it might repeat (its day's, and those of the days before that are still
 * in the dedup window), which grow with the traffic: read from disk each time (with their
 * checksums) they cost ~40 ms a million ids, more than the segment's own copy once a day passes a
 * few million events. A cached filter is used only while its file is the same one (inode, size,
 * modification time). Each segment's check is a pass (startPass): a filter that does not fit goes
 * out least recently used first, but never one the current pass used. A segment's filters that
 * outgrow the budget then keep the first ones in memory, instead of each pushing out the one the
 * next segment needs first (least-recently-used alone would read them all from disk); those left
 * over are read in chunks into one small buffer (sharesAnyInFile).
 */
export function createIdFilterCache(budgetBytes: number) {
  const entries = new Map<
    string,
    { ino: number; size: number; mtimeMs: number; hashes: Float64Array; pass: number }
  >();
  let bytes = 0;
  let pass = 0;
  const drop = (path: string) => {
    const entry = entries.get(path);
    if (entry) bytes -= entry.hashes.byteLength;
    entries.delete(path);
  };
  /** Makes room for more bytes from entries the current pass has not used; whether it could. */
  const makeRoom = (more: number): boolean => {
    if (more > budgetBytes) return false;
    for (const [path, entry] of entries) {
      if (bytes + more <= budgetBytes) break;
      if (entry.pass !== pass) drop(path);
    }
    return bytes + more <= budgetBytes;
  };
  return {
    /** Begins the checks of another segment. */
    startPass(): void {
      pass++;
    },
    /**
     * Whether sorted hashes may share a value with a Parquet file's ids: true when its filter holds
     * one of them, or the file has no filter that checks out (then only the exact anti-join can tell).
     */
    mayShare(parquetPath: string, hashes: Float64Array): boolean {
      const path = idFilterPath(parquetPath);
      let stat: { ino: number; size: number; mtimeMs: number };
      try {
        stat = statSync(path);
      } catch {
        drop(path);
        return true;
      }
      const hit = entries.get(path);
      if (hit && hit.ino === stat.ino && hit.size === stat.size && hit.mtimeMs === stat.mtimeMs) {
        // Moved to the end: the Map's order is the use order.
        entries.delete(path);
        entries.set(path, { ...hit, pass });
        return sharesAny(hashes, hit.hashes);
      }
      drop(path);
      if (!makeRoom(Math.max(0, stat.size - HEADER))) return sharesAnyInFile(hashes, parquetPath) ?? true;
      const read = readIdFilter(parquetPath);
      if (read === undefined) return true;
      entries.set(path, { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, hashes: read, pass });
      bytes += read.byteLength;
      return sharesAny(hashes, read);
    },
    /** Bytes of filters held. */
    bytes: () => bytes,
  };
}

export type IdFilterCache = ReturnType<typeof createIdFilterCache>;

/**
 * The first index of sorted at or after from whose value is ≥ value: a galloping search, which
 * steps 1, 2, 4… ahead of from and then halves, so consecutive lookups of increasing values touch
 * memory near each other instead of jumping across the whole list.
 */
function seek(sorted: Float64Array, value: number, from: number): number {
  let step = 1;
  let lo = from;
  while (lo + step < sorted.length && (sorted[lo + step] as number) < value) {
    lo += step;
    step *= 2;
  }
  let hi = Math.min(lo + step, sorted.length);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether two sorted hash lists share a value. One merge walk when they are of a size; when one is
 * far longer (a segment against a day's file), a search in it for each value of the other, so
 * the cost follows the shorter list.
 */
export function sharesAny(a: Float64Array, b: Float64Array): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (long.length > 16 * short.length) {
    let from = 0;
    for (const value of short) {
      from = seek(long, value, from);
      if (from === long.length) return false;
      if (long[from] === value) return true;
    }
    return false;
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) return true;
    if (x < y) i++;
    else j++;
  }
  return false;
}

/** Values of each list a merge step takes at most before it lets the event loop run (≤ 10 ms of cold code). */
const MERGE_STEP = 1 << 13;

/** The first index at or after from whose value is not below value (above it, when past is set). */
function bound(sorted: Float64Array, value: number, from: number, past = false): number {
  let lo = from;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = sorted[mid] as number;
    if (at < value || (past && at === value)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The sorted union of two sorted hash lists, without repeats. A compaction merges millions of
 * hashes on the event loop the collector answers on, and one walk held it ~150 ms a million (cold
 * code: compactions are rare). So the walk goes in steps, each up to a pivot that leaves at most
 * MERGE_STEP values of either list below it, and the loop runs between steps.
 */
async function mergeTwo(a: Float64Array, b: Float64Array): Promise<Float64Array> {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const pivot = Math.min(
      (a[i + MERGE_STEP] as number | undefined) ?? Number.POSITIVE_INFINITY,
      (b[j + MERGE_STEP] as number | undefined) ?? Number.POSITIVE_INFINITY,
    );
    let iEnd = bound(a, pivot, i);
    let jEnd = bound(b, pivot, j);
    // Only a run of one value repeated past a whole step stops short of it: take the run.
    if (iEnd === i && jEnd === j) {
      iEnd = bound(a, pivot, i, true);
      jEnd = bound(b, pivot, j, true);
    }
    while (i < iEnd || j < jEnd) {
      const x = i < iEnd ? (a[i] as number) : Number.POSITIVE_INFINITY;
      const y = j < jEnd ? (b[j] as number) : Number.POSITIVE_INFINITY;
      const next = Math.min(x, y);
      if (x === next) i++;
      if (y === next) j++;
      if (n === 0 || out[n - 1] !== next) out[n++] = next;
    }
    if (i < a.length || j < b.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out.subarray(0, n);
}

/** The sorted union of sorted hash lists, without repeats, merged pairwise (a compaction's inputs). */
export async function mergeIdFilters(lists: Float64Array[]): Promise<Float64Array> {
  let round = lists;
  while (round.length > 1) {
    const next: Float64Array[] = [];
    for (let k = 0; k < round.length; k += 2)
      next.push(
        k + 1 < round.length
          ? await mergeTwo(round[k] as Float64Array, round[k + 1] as Float64Array)
          : (round[k] as Float64Array),
      );
    round = next;
  }
  return round[0] ?? new Float64Array(0);
}
