import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import {
  createIdFilterCache,
  idFilterPath,
  mergeIdFilters,
  readIdFilter,
  readIdFilterAsync,
  sharesAny,
  sharesAnyInFile,
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

  it('reads as absent, at once, when a named pipe stands under its name', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const parquet = join(dir, 'part-1.parquet');
      execFileSync('mkfifo', [idFilterPath(parquet)]);
      // Opening it waited for a writer, for good: the loader, the collector beside it and its SIGTERM hung.
      expect(await readIdFilterAsync(parquet)).toBeUndefined();
      expect(readIdFilter(parquet)).toBeUndefined();
      expect(sharesAnyInFile(new Float64Array([3]), parquet)).toBeUndefined();
    } finally {
      cleanup();
    }
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

  /** Rewrites a filter in place (same inode, size and time), so only a read from disk sees the change. */
  const rewriteInPlace = (parquet: string, hashes: number[]) => {
    const path = idFilterPath(parquet);
    const { mtime } = statSync(path);
    writeIdFilter(`${parquet}.new`, new Float64Array(hashes));
    writeFileSync(path, readFileSync(idFilterPath(`${parquet}.new`)));
    utimesSync(path, mtime, mtime);
  };
  /** A filter whose time is a whole second, which utimes can set again exactly. */
  const writeFilter = (parquet: string, hashes: number[]) => {
    writeIdFilter(parquet, new Float64Array(hashes));
    utimesSync(idFilterPath(parquet), 1_700_000_000, 1_700_000_000);
  };
  const h = (...values: number[]) => new Float64Array(values);

  it('keeps filters in memory while their files stay the same, within its budget', () => {
    const { dir, cleanup } = tempDir();
    const [one, two] = [join(dir, 'part-1.parquet'), join(dir, 'part-2.parquet')] as [string, string];
    writeFilter(one, [1, 2]);
    writeFilter(two, [3, 4, 5]);
    const cache = createIdFilterCache(32);
    expect(cache.mayShare(one, h(2, 9))).toBe(true);
    expect(cache.mayShare(one, h(9))).toBe(false);
    expect(cache.bytes()).toBe(16);
    // Served from memory: a change that keeps inode, size and time goes unseen.
    rewriteInPlace(one, [8, 9]);
    expect(cache.mayShare(one, h(9))).toBe(false);
    // Both do not fit in 32 bytes: the least recently used one goes, as another pass began.
    cache.startPass();
    expect(cache.mayShare(two, h(5))).toBe(true);
    expect(cache.bytes()).toBe(24);
    expect(cache.mayShare(one, h(9))).toBe(true);
    // A rewritten, damaged or removed filter is read again, never served from memory.
    writeIdFilter(two, new Float64Array([6]));
    expect(cache.mayShare(two, h(5))).toBe(false);
    writeFileSync(idFilterPath(two), 'IDF1 damaged');
    expect(cache.mayShare(two, h(5))).toBe(true);
    rmSync(idFilterPath(one));
    expect(cache.mayShare(one, h(1))).toBe(true);
    expect(cache.bytes()).toBe(0);
    cleanup();
  });

  it('keeps the filters a pass used first when a pass needs more than its budget, and reads the rest from disk', () => {
    const { dir, cleanup } = tempDir();
    const files = [1, 2, 3].map((n) => join(dir, `part-${n}.parquet`));
    for (const [i, file] of files.entries()) writeFilter(file, [i * 10, i * 10 + 1]);
    // Room for two of the three 16-byte filters.
    const cache = createIdFilterCache(40);
    const pass = () => {
      cache.startPass();
      return files.map((file, i) => cache.mayShare(file, h(i * 10)));
    };
    expect(pass()).toEqual([true, true, true]);
    for (const [i, file] of files.entries()) rewriteInPlace(file, [i * 10 + 5, i * 10 + 6]);
    // The first two from memory (the old ids), the third from disk (the new ones).
    expect(pass()).toEqual([true, true, false]);
    expect(cache.bytes()).toBe(32);
    cleanup();
  });

  it('checks hashes against a filter on disk chunk by chunk, and trusts no filter that does not check out', () => {
    const { dir, cleanup } = tempDir();
    const parquet = join(dir, 'part-1.parquet');
    // Even numbers 0…198, read three at a time: matches at chunk starts, ends and in between.
    writeIdFilter(parquet, new Float64Array(Array.from({ length: 100 }, (_, i) => i * 2)));
    for (const [hashes, shared] of [
      [[1, 3, 5, 197, 199, 1001], false],
      [[-1, 0], true],
      [[5, 6], true],
      [[11, 198], true],
      [[198], true],
      [[], false],
    ] as const) {
      expect(sharesAnyInFile(new Float64Array(hashes), parquet, 3)).toBe(shared);
      expect(sharesAnyInFile(new Float64Array(hashes), parquet)).toBe(shared);
    }
    const bytes = readFileSync(idFilterPath(parquet));
    bytes[bytes.length - 8] ^= 1;
    writeFileSync(idFilterPath(parquet), bytes);
    expect(sharesAnyInFile(h(1, 3), parquet, 3)).toBeUndefined();
    writeFileSync(idFilterPath(parquet), bytes.subarray(0, 40));
    expect(sharesAnyInFile(h(1, 3), parquet, 3)).toBeUndefined();
    expect(sharesAnyInFile(h(1), join(dir, 'part-2.parquet'))).toBeUndefined();
    cleanup();
  });
});
