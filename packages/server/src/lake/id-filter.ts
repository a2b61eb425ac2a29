import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

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
  const body = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(crc32(body) >>> 0, 4);
  header.writeUInt32LE(hashes.length, 8);
  const path = idFilterPath(parquetPath);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, Buffer.concat([header, body]));
  renameSync(tmp, path);
}

/** The file's filter, or undefined when it has none or it does not check out (then the exact path runs). */
export function readIdFilter(parquetPath: string): Float64Array | undefined {
  let data: Buffer;
  try {
    data = readFileSync(idFilterPath(parquetPath));
  } catch {
    return undefined;
  }
  if (data.length < HEADER || data.toString('latin1', 0, 4) !== MAGIC) return undefined;
  const count = data.readUInt32LE(8);
  if (data.length !== HEADER + count * 8) return undefined;
  const body = data.subarray(HEADER);
  if (crc32(body) >>> 0 !== data.readUInt32LE(4)) return undefined;
  // Copied so the values are 8-byte aligned.
  return new Float64Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
}

export function removeIdFilter(parquetPath: string): void {
  rmSync(idFilterPath(parquetPath), { force: true });
}

/** Whether two sorted hash lists share a value: one merge walk. */
export function sharesAny(a: Float64Array, b: Float64Array): boolean {
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

/** The sorted union of two sorted hash lists, without repeats: one merge walk. */
function mergeTwo(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? (a[i] as number) : Number.POSITIVE_INFINITY;
    const y = j < b.length ? (b[j] as number) : Number.POSITIVE_INFINITY;
    const next = Math.min(x, y);
    if (x === next) i++;
    if (y === next) j++;
    if (n === 0 || out[n - 1] !== next) out[n++] = next;
  }
  return out.subarray(0, n);
}

/** The sorted union of sorted hash lists, without repeats, merged pairwise (a compaction's inputs). */
export function mergeIdFilters(lists: Float64Array[]): Float64Array {
  let round = lists;
  while (round.length > 1) {
    const next: Float64Array[] = [];
    for (let k = 0; k < round.length; k += 2)
      next.push(
        k + 1 < round.length
          ? mergeTwo(round[k] as Float64Array, round[k + 1] as Float64Array)
          : (round[k] as Float64Array),
      );
    round = next;
  }
  return round[0] ?? new Float64Array(0);
}
