import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import { walRecord } from '../../test/lake-fixtures.ts';
import { encodeRecord, verifySegmentFile } from '../wal/index.ts';
import { createSegmentStats } from './segment-stats.ts';

// A property that looks like the record's tail, to show dt is read from the record's own end.
const line = (id: string, ts: string) =>
  walRecord({ event_id: id, ts, received_at: ts, properties: { note: '"dt":"1999-01-01"}' } });

async function statsOf(lines: string[], chunkBytes = 97) {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'segment.log');
  writeFileSync(path, lines.join(''));
  const stats = createSegmentStats();
  await verifySegmentFile(path, { visit: stats.visit, chunkBytes });
  cleanup();
  return stats.result();
}

describe('segment stats gathered during verification', () => {
  it('counts rows, distinct ids, partitions and the first receive time without DuckDB', async () => {
    const stats = await statsOf([
      line('a', '2026-11-20T10:00:00.000Z'),
      line('b', '2026-11-21T10:00:00.000Z'),
      line('a', '2026-11-20T10:00:00.000Z'),
      line('日本語-id', '2026-11-21T11:00:00.000Z'),
    ]);
    expect(stats).toMatchObject({
      rows: 4,
      distinctIds: 3,
      firstReceived: '2026-11-20T10:00:00.000Z',
      dts: ['2026-11-20', '2026-11-21'],
    });
    const hashes = [...(stats?.idHashes ?? [])];
    expect(hashes).toHaveLength(3);
    expect(hashes).toEqual([...hashes].sort((a, b) => a - b));
  });

  it('skips bad records and leaves the work to DuckDB when an id has escapes', async () => {
    const good = line('a', '2026-11-20T10:00:00.000Z');
    const corrupt = good.replace('signup', 'signuq');
    expect((await statsOf([good, corrupt]))?.rows).toBe(1);
    expect(await statsOf([good, line('quote"d', '2026-11-20T10:00:00.000Z')])).toBeUndefined();
    expect(
      await statsOf([encodeRecord(JSON.stringify({ site: 'docs', event_id: 'x', dt: '2026-11-20' }))]),
    ).toBeUndefined();
  });

  it('counts every distinct id of a segment larger than its id table starts', async () => {
    // 66,000 distinct ids and 2,000 of them again: the table of 131,072 slots grows past 65,536.
    const ts = '2026-11-20T10:00:00.000Z';
    const ids = Array.from({ length: 66_000 }, (_, i) => `id-${i}`);
    const stats = await statsOf(
      [...ids, ...ids.slice(0, 2_000)].map((id) => line(id, ts)),
      1 << 20,
    );
    expect(stats).toMatchObject({ rows: 68_000, distinctIds: 66_000 });
    const hashes = stats?.idHashes as Float64Array;
    expect(hashes).toHaveLength(66_000);
    expect(hashes.every((hash, i) => i === 0 || hash > (hashes[i - 1] as number))).toBe(true);
  });
});
