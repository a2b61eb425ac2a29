import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { dataLayout, partitionFiles } from '../../lake/index.ts';
import { createSilentLogger } from '../../log/index.ts';
import { compactLogPartition, recoverLogCompaction } from './log-compactor.ts';
import { chunksOf, createLogLakeWriter } from './log-lake-writer.ts';

/** Runs check with a new temp folder and an in-memory DuckDB connection, and closes and removes both after. */
async function withTempDuck(
  check: (dir: string, connection: DuckDBConnection) => Promise<void>,
): Promise<void> {
  const { dir, cleanup } = tempDir();
  const duck = await DuckDBInstance.create(':memory:');
  const connection = await duck.connect();
  try {
    await check(dir, connection);
  } finally {
    connection.closeSync();
    duck.closeSync();
    cleanup();
  }
}

/** The rows of a query, as arrays. */
const rowsOf = async (connection: DuckDBConnection, sql: string) =>
  (await connection.runAndReadAll(sql)).getRows();

describe('log compaction recovery', () => {
  it('finishes a merge whose output appeared, abandons one whose output did not, and leaves other writers alone', () => {
    const { dir, cleanup } = tempDir();
    for (const name of [
      'web-00000001-5-0',
      'web-00000002-5-9',
      'web-00000003-5-20',
      'http-intake-0000000000000007-ab',
    ])
      writeFileSync(join(dir, `${name}.parquet`), 'x');
    writeFileSync(join(dir, 'web-00000002-c.parquet'), 'merged');
    writeFileSync(
      join(dir, '.compact-web-00000002-c.inputs'),
      JSON.stringify(['web-00000001-5-0.parquet', 'web-00000002-5-9.parquet']),
    );
    writeFileSync(
      join(dir, '.compact-http-intake-0000000000000007-c.inputs'),
      JSON.stringify(['http-intake-0000000000000007-ab.parquet']),
    );
    recoverLogCompaction(dir, 'web-');
    expect(readdirSync(dir).sort()).toEqual([
      '.compact-http-intake-0000000000000007-c.inputs',
      'http-intake-0000000000000007-ab.parquet',
      'web-00000002-c.parquet',
      'web-00000003-5-20.parquet',
    ]);
    writeFileSync(
      join(dir, '.compact-web-00000003-c.inputs'),
      JSON.stringify(['web-00000002-c.parquet', 'web-00000003-5-20.parquet']),
    );
    writeFileSync(join(dir, '.web-00000003-c.parquet.tmp'), 'half');
    recoverLogCompaction(dir, 'web-');
    expect(existsSync(join(dir, 'web-00000003-5-20.parquet'))).toBe(true);
    expect(existsSync(join(dir, '.web-00000003-c.parquet.tmp'))).toBe(false);
    cleanup();
  });
});

describe('log compaction', () => {
  it('merges at most 128 files at a time, oldest first', () =>
    withTempDuck(async (dir, connection) => {
      await connection.run('SET preserve_insertion_order = false');
      const name = (n: number) => `web-${String(n).padStart(8, '0')}-1-0.parquet`;
      await connection.run(`COPY (SELECT 1 AS line) TO '${join(dir, name(1))}' (FORMAT parquet)`);
      for (let n = 2; n <= 130; n++) copyFileSync(join(dir, name(1)), join(dir, name(n)));
      expect(await compactLogPartition(connection, dir, 'web-', 2)).toEqual({ inputs: 128 });
      expect(
        partitionFiles(dir)
          .map((f) => f.name)
          .sort(),
      ).toEqual(['web-00000128-c.parquet', name(129), name(130)]);
      const count = await rowsOf(connection, `SELECT count(*)::INTEGER FROM '${dir}/*.parquet'`);
      expect(count).toEqual([[130]]);
    }));

  it('names its output anew when the newest input is an earlier merge, so readers never skip rows', () =>
    withTempDuck(async (dir, connection) => {
      await connection.run('SET preserve_insertion_order = false'); // as the log writer's own DuckDB
      for (const [name, line] of [
        ['web-00000001-5-0', 1],
        ['web-00000002-5-9', 2],
        ['web-00000003-c', 3],
      ] as const)
        await connection.run(
          `COPY (SELECT ${line} AS line) TO '${join(dir, `${name}.parquet`)}' (FORMAT parquet)`,
        );
      // While a merge runs, its manifest is there: an output named like an input read as finished.
      writeFileSync(
        join(dir, '.compact-web-00000003-c.inputs'),
        JSON.stringify(['web-00000001-5-0.parquet', 'web-00000003-c.parquet']),
      );
      expect(partitionFiles(dir).map((f) => f.name)).toContain('web-00000003-c.parquet');
      rmSync(join(dir, '.compact-web-00000003-c.inputs'));
      expect(await compactLogPartition(connection, dir, 'web-', 2)).toEqual({ inputs: 3 });
      expect(partitionFiles(dir).map((f) => f.name)).toEqual(['web-00000003-c1.parquet']);
      const sum = await rowsOf(connection, `SELECT sum(line)::INTEGER FROM '${dir}/*.parquet'`);
      expect(sum).toEqual([[6]]);
    }));

  it('merges files of long lines (stack traces) within the writer memory limit, in row groups of at most 32 MB', () =>
    withTempDuck(async (dir, connection) => {
      const layout = dataLayout(dir);
      const partition = join(layout.lake, 'app_logs', 'dt=2026-12-01');
      mkdirSync(partition, { recursive: true });
      // 16 files of 8,000 error lines of ~2.2 KB each; 122,880-row groups made this merge fail with
      // "Out of Memory Error: failed to allocate data of size 100.3 MiB" on every try.
      for (let f = 0; f < 16; f++)
        await connection.run(
          `COPY (SELECT TIMESTAMPTZ '2026-12-01 00:00:00+00' + (i || ' seconds')::INTERVAL AS ts, 'error' AS level, ` +
            `'Error: failed ' || i || chr(10) || repeat('    at handler (/srv/app/src/routes/' || md5(i::VARCHAR) || ` +
            `'.js:' || (i % 900) || ':17)' || chr(10), 30) AS message FROM range(${f * 8000}, ${(f + 1) * 8000}) t(i)) ` +
            `TO '${join(partition, `app-${String(f + 1).padStart(8, '0')}-1-0.parquet`)}' (FORMAT parquet)`,
        );
      const warnings: unknown[] = [];
      const logger = createSilentLogger();
      logger.warn = ((...args: unknown[]) => warnings.push(args)) as typeof logger.warn;
      const writer = await createLogLakeWriter({ layout, logger, compactMinFiles: 16 });
      try {
        await writer.compact([join(partition, 'app-00000016-1-0.parquet')], 'app-');
      } finally {
        writer.close();
      }
      expect(warnings).toEqual([]);
      const merged = join(partition, 'app-00000016-c.parquet');
      expect(readdirSync(partition).filter((name) => !name.startsWith('.'))).toEqual([
        'app-00000016-c.parquet',
      ]);
      const [rows, distinct, groups, largest] = (
        await rowsOf(
          connection,
          `SELECT (SELECT count(*)::INTEGER FROM '${merged}'), (SELECT count(DISTINCT message)::INTEGER FROM '${merged}'), ` +
            `count(DISTINCT row_group_id)::INTEGER, max(row_group_num_rows)::INTEGER FROM parquet_metadata('${merged}')`,
        )
      )[0] as number[];
      expect([rows, distinct]).toEqual([128_000, 128_000]);
      expect(groups).toBeGreaterThan(4);
      expect(largest).toBeLessThan(30_000);
    }));
});

describe('log writer', () => {
  it('cuts rows into runs of about maxChars, keeping every row once and in order', () => {
    const rows = ['a'.repeat(5), 'b'.repeat(5), 'c'.repeat(20), 'd', 'e'];
    expect(chunksOf(rows, 12)).toEqual([[rows[0], rows[1]], [rows[2]], [rows[3], rows[4]]]);
    expect(chunksOf([], 12)).toEqual([]);
  });

  it('writes a batch of records of 64 KB within its memory limit, and the same batch again over its own files', async () => {
    const { dir, cleanup } = tempDir();
    const layout = dataLayout(dir);
    // 2,500 records with 64 KB messages: read as one file, DuckDB's JSON reader held 2,048 of them
    // at once, and this failed with "Out of Memory Error: failed to pin block of size 256.0 KiB".
    const rows = Array.from({ length: 2_500 }, (_, i) =>
      JSON.stringify({
        ts: '2026-12-01T10:00:00.000Z',
        level: 'error',
        message: `Error ${i}\n${Array.from({ length: 1_600 }, (_, k) => String(i * 10_000 + k).padStart(39, 'x')).join('\n')}`,
        fields: { request: i },
        source: 'app',
        dt: '2026-12-01',
      }),
    );
    const batch = { base: 'app-00000001-7-0', tables: [{ kind: 'app' as const, name: 'app_logs', rows }] };
    const writer = await createLogLakeWriter({ layout, logger: createSilentLogger(), compactMinFiles: 100 });
    const partition = join(layout.lake, 'app_logs', 'dt=2026-12-01');
    let names: string[] = [];
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        (await writer.prepare(batch)).publish();
        const now = readdirSync(partition).sort();
        if (attempt === 1) expect(now).toEqual(names);
        names = now;
      }
    } finally {
      writer.close();
    }
    expect(names.length).toBeGreaterThan(1);
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    const [count, distinct] = (
      await rowsOf(
        connection,
        `SELECT count(*)::INTEGER, count(DISTINCT message)::INTEGER FROM '${partition}/*.parquet'`,
      )
    )[0] as number[];
    expect([count, distinct]).toEqual([2_500, 2_500]);
    connection.closeSync();
    duck.closeSync();
    cleanup();
  }, 120_000);
});
