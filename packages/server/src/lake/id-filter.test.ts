import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import {
  createIdFilterCache,
  idFilterPath,
  mergeIdFilters,
  readIdFilter,
  sharesAny,
  writeIdFilter,
} from './id-filter.ts';

describe('id filters', () => {
  it('round-trips beside their Parquet file, and reads as absent once damaged', () => {
    const { dir, cleanup } = tempDir();
    const parquet = join(dir, 'part-1.parquet');
    const hashes = new Float64Array([3, 17, 2 ** 51 + 1]);
    writeIdFilter(parquet, hashes);
    expect(idFilterPath(parquet)).toBe(join(dir, '.part-1.parquet.ids'));
    expect(readIdFilter(parquet)).toEqual(hashes);
    const bytes = readFileSync(idFilterPath(parquet));
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(idFilterPath(parquet), bytes);
    expect(readIdFilter(parquet)).toBeUndefined();
    writeFileSync(idFilterPath(parquet), bytes.subarray(0, 20));
    expect(readIdFilter(parquet)).toBeUndefined();
    expect(readIdFilter(join(dir, 'part-2.parquet'))).toBeUndefined();
    cleanup();
  });

  it('finds a shared hash in sorted lists and merges them without repeats', () => {
    const a = new Float64Array([1, 5, 9]);
    expect(sharesAny(a, new Float64Array([2, 4, 6, 10]))).toBe(false);
    expect(sharesAny(a, new Float64Array([2, 9]))).toBe(true);
    expect(sharesAny(a, new Float64Array([]))).toBe(false);
    expect([...mergeIdFilters([a, new Float64Array([2, 5, 11])])]).toEqual([1, 2, 5, 9, 11]);
  });

  it('searches a far longer list instead of walking it, with the same answers', () => {
    const long = new Float64Array(Array.from({ length: 1000 }, (_, i) => 10 * (i + 1)));
    for (const [short, shared] of [
      [[5, 15, 10_005], false],
      [[5, 20], true],
      [[10], true],
      [[10_000], true],
      [[10_001, 20_000], false],
      [[1, 2, 3], false],
    ] as const) {
      expect(sharesAny(new Float64Array(short), long)).toBe(shared);
      expect(sharesAny(long, new Float64Array(short))).toBe(shared);
    }
  });

  it('keeps filters in memory while their files stay the same, within its budget', () => {
    const { dir, cleanup } = tempDir();
    const [one, two] = [join(dir, 'part-1.parquet'), join(dir, 'part-2.parquet')];
    writeIdFilter(one, new Float64Array([1, 2]));
    writeIdFilter(two, new Float64Array([3, 4, 5]));
    const cache = createIdFilterCache(32);
    expect(cache.get(one)).toEqual(new Float64Array([1, 2]));
    expect(cache.get(one)).toBe(cache.get(one));
    expect(cache.bytes()).toBe(16);
    // Both do not fit in 32 bytes: the least recently used one goes.
    expect(cache.get(two)).toEqual(new Float64Array([3, 4, 5]));
    expect(cache.bytes()).toBe(24);
    // A rewritten, damaged or removed filter is read again, never served from memory.
    writeIdFilter(two, new Float64Array([6]));
    expect(cache.get(two)).toEqual(new Float64Array([6]));
    writeFileSync(idFilterPath(two), 'IDF1 damaged');
    expect(cache.get(two)).toBeUndefined();
    writeIdFilter(one, new Float64Array([7, 8]));
    expect(cache.get(one)).toEqual(new Float64Array([7, 8]));
    rmSync(idFilterPath(one));
    expect(cache.get(one)).toBeUndefined();
    expect(cache.bytes()).toBe(0);
    cleanup();
  });
});
