import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import type { ColumnPlan } from './column-plan.ts';
import { createParquetWriter } from './parquet-writer.ts';

const temps: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});

const columns: ColumnPlan[] = [
  { name: 'id', sourceType: 'bigint', csvType: 'BIGINT' },
  { name: 'name', sourceType: 'text', csvType: 'VARCHAR' },
  { name: 'notes', sourceType: 'text', csvType: 'VARCHAR' },
];

describe('parquet writer', () => {
  it('copies a table of wide rows within its memory limit, in row groups of at most 16 MB', async () => {
    const temp = tempDir();
    temps.push(temp);
    const spool = join(temp.dir, 'spool.csv');
    const out = join(temp.dir, 'part-0.parquet');
    // 60,000 rows of ~1.2 KB (72 MB of CSV), as a spool file of a table with long text holds them.
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    await connection.run(
      `COPY (SELECT i AS id, 'customer ' || (i % 5000) AS name, repeat(md5(i::VARCHAR) || ' ', 36) AS notes ` +
        `FROM range(60000) t(i)) TO '${spool}' (HEADER false)`,
    );
    // With 122,880-row groups the whole file was one group, and this failed every time with
    // "Out of Memory Error: failed to allocate data of size 57.0 MiB".
    const writer = await createParquetWriter({ tmpDir: join(temp.dir, 'tmp'), memoryLimit: '128MB' });
    try {
      expect(await writer.writeCsv(spool, columns, out)).toBe(60_000);
    } finally {
      writer.close();
    }
    const [groups, largest, rows, ids] = (
      await connection.runAndReadAll(
        `SELECT count(DISTINCT row_group_id)::INTEGER, max(row_group_num_rows)::INTEGER, ` +
          `(SELECT count(*)::INTEGER FROM '${out}'), (SELECT count(DISTINCT id)::INTEGER FROM '${out}') ` +
          `FROM parquet_metadata('${out}')`,
      )
    ).getRows()[0] as number[];
    expect(rows).toBe(60_000);
    expect(ids).toBe(60_000);
    expect(groups).toBeGreaterThan(3);
    expect(largest).toBeLessThan(20_000);
    connection.closeSync();
    duck.closeSync();
  });
});
