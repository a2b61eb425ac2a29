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

  it('finds a shared hash in sorted lists and merges them without repeats', async () => {
    const a = new Float64Array([1, 5, 9]);
    expect(sharesAny(a, new Float64Array([2, 4, 6, 10]))).toBe(false);
    expect(sharesAny(a, new Float64Array([2, 9]))).toBe(true);
    expect(sharesAny(a, new Float64Array([]))).toBe(false);
    expect([...(await mergeIdFilters([a, new Float64Array([2, 5, 11])]))]).toEqual([1, 2, 5, 9, 11]);
  });

  it('merges lists longer than a step, of uneven lengths and with shared values, as a sorted set union', async () => {
    // Steps hold 8,192 values of a list: these span several, and share values across step ends.
    const list = (length: number, stride: number, offset: number) =>
      Float64Array.from({ length }, (_, i) => offset + i * stride);
    const lists = [
      list(100_000, 3, 0),
      list(70_000, 2, 1),
      list(5, 50_000, 7),
      list(0, 1, 0),
      list(40_000, 7, 2),
    ];
    const expected = [...new Set(lists.flatMap((l) => [...l]))].sort((x, y) => x - y);
    const merged = await mergeIdFilters(lists);
    expect(merged.length).toBe(expected.length);
    expect([...merged]).toEqual(expected);
    // A value repeated past a whole step (never written by inlet, but the walk must still end).
    const runs = await mergeIdFilters([new Float64Array(40_000).fill(5), Float64Array.from([1, 5, 9])]);
    expect([...runs]).toEqual([1, 5, 9]);
  });

  it('lets the event loop run while it merges long lists (the collector answers on the same loop)', async () => {
    const long = (offset: number) => Float64Array.from({ length: 100_000 }, (_, i) => offset + 2 * i);
    let turns = 0;
    let finished = false;
    const tick = () => {
      turns++;
      if (!finished) setImmediate(tick);
    };
    setImmediate(tick);
    const merged = await mergeIdFilters([long(0), long(1)]);
    finished = true;
    expect(merged.length).toBe(200_000);
    // 200,000 values in steps of at most 8,192 of each list: the loop turned at every step.
    expect(turns).toBeGreaterThanOrEqual(10);
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
    // Both do not fit in 32 bytes: the least recently used one goes, as another pass began.
    cache.startPass();
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

  it('keeps the filters a pass used first when a pass needs more than its budget, instead of none', () => {
    const { dir, cleanup } = tempDir();
    const files = [1, 2, 3].map((n) => join(dir, `part-${n}.parquet`));
    for (const [i, file] of files.entries()) writeIdFilter(file, new Float64Array([i * 2, i * 2 + 1]));
    // Room for two of the three 16-byte filters.
    const cache = createIdFilterCache(40);
    const pass = () => {
      cache.startPass();
      return files.map((file) => cache.get(file));
    };
    const [first, second, third] = pass();
    const again = pass();
    expect(again[0]).toBe(first);
    expect(again[1]).toBe(second);
    expect(again[2]).not.toBe(third);
    expect(again[2]).toEqual(new Float64Array([4, 5]));
    expect(cache.bytes()).toBe(32);
    cleanup();
  });
});
