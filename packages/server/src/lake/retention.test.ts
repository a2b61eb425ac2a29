import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { tempDir } from '../../test/helpers.ts';
import { dataLayout } from './layout.ts';
import { applyRetention, firstKeptDay } from './retention.ts';
import { writeLakeTable } from './tables.ts';

const cleanups = cleanupAfterEach();

/** A data directory with one file in each of the given partition directories (relative to the lake). */
function lakeWith(partitions: string[]) {
  const temp = tempDir();
  cleanups.push(temp.cleanup);
  const layout = dataLayout(temp.dir);
  for (const dir of partitions) {
    mkdirSync(join(layout.lake, dir), { recursive: true });
    writeFileSync(join(layout.lake, dir, 'part-1.parquet'), 'x');
  }
  for (const [name, kind] of [
    ['access_logs', 'logs'],
    ['daily_visits', 'mart'],
  ] as const) {
    mkdirSync(join(layout.lake, name), { recursive: true });
    writeLakeTable(join(layout.lake, name), { name, kind, files: 'dt=*/*.parquet', hive_partitioning: true });
  }
  return layout;
}

const NOW = Date.parse('2026-12-03T10:00:00Z');

describe('retention', () => {
  it('keeps at least the given number of whole days before today (UTC)', () => {
    expect(firstKeptDay(30, NOW)).toBe('2026-11-03');
    expect(firstKeptDay(1, Date.parse('2026-12-03T00:00:00Z'))).toBe('2026-12-02');
  });

  it('deletes expired partitions of events, log tables and rejects, and leaves marts and younger days', async () => {
    const layout = lakeWith([
      'events/dt=2026-11-02',
      'events/dt=2026-11-03',
      'events/dt=2026-12-03',
      'access_logs/dt=2026-11-25',
      'access_logs/dt=2026-11-26',
      'daily_visits/dt=2020-01-01',
      '_rejects/events/dt=2026-11-01',
      '_rejects/access_logs/dt=2026-11-30',
      '_rejects/damaged/events/dt=2026-10-01',
    ]);
    const { removed } = await applyRetention(layout, { events: 30, logs: 7, rejects: 3 }, NOW);
    expect(removed.sort()).toEqual([
      '_rejects/damaged/events/dt=2026-10-01',
      '_rejects/events/dt=2026-11-01',
      'access_logs/dt=2026-11-25',
      'events/dt=2026-11-02',
    ]);
    const again = await applyRetention(layout, { events: 30, logs: 7, rejects: 3 }, NOW);
    expect(again.removed).toEqual([]);
    // 0 keeps every day.
    expect((await applyRetention(layout, { events: 0, logs: 0, rejects: 0 }, NOW + 1e12)).removed).toEqual(
      [],
    );
  });
});
