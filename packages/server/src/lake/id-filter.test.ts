import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import { idFilterPath, mergeIdFilters, readIdFilter, sharesAny, writeIdFilter } from './id-filter.ts';

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
});
