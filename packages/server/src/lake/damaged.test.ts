import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { tempDir } from '../../test/helpers.ts';
import { failsParquetFraming, moveDamagedFile, moveDamagedInside } from './damaged.ts';
import { idFilterPath } from './id-filter.ts';
import { dataLayout, sqlString } from './layout.ts';

const cleanups = cleanupAfterEach();

async function lakeWithFile() {
  const temp = tempDir();
  cleanups.push(temp.cleanup);
  const layout = dataLayout(temp.dir);
  const dir = join(layout.events, 'dt=2026-11-20');
  mkdirSync(dir, { recursive: true });
  const good = join(dir, 'part-0000000000000001.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  await connection.run(`COPY (SELECT 'a' AS event_id) TO ${sqlString(good)} (FORMAT parquet)`);
  connection.closeSync();
  db.closeSync();
  return { layout, dir, good };
}

describe('damaged Parquet files', () => {
  it("tells a file that fails Parquet's framing from a good one", async () => {
    const { dir, good } = await lakeWithFile();
    expect(failsParquetFraming(good)).toBe(false);
    const cases = {
      empty: '',
      short: 'PAR1',
      garbage: 'x'.repeat(64),
      lying: `PAR1${'x'.repeat(20)}\xff\xff\xff\x7fPAR1`,
    };
    for (const [name, content] of Object.entries(cases)) {
      const path = join(dir, `${name}.parquet`);
      writeFileSync(path, content, 'latin1');
      expect([name, failsParquetFraming(path)]).toEqual([name, true]);
    }
  });

  it('moves a damaged file named by DuckDB to lake/_rejects/damaged with its id filter gone', async () => {
    const { layout, dir } = await lakeWithFile();
    const bad = join(dir, 'part-0000000000000002.parquet');
    writeFileSync(bad, 'PAR1 cut sh');
    writeFileSync(idFilterPath(bad), 'filter');
    const moved = moveDamagedFile(
      layout,
      `Invalid Input Error: No magic bytes found at end of file '${bad}'`,
    );
    expect(moved).toEqual({
      file: 'events/dt=2026-11-20/part-0000000000000002.parquet',
      movedTo: '_rejects/damaged/events/dt=2026-11-20/part-0000000000000002.parquet',
    });
    expect(existsSync(bad)).toBe(false);
    expect(existsSync(idFilterPath(bad))).toBe(false);
    expect(existsSync(join(layout.lake, moved?.movedTo as string))).toBe(true);
  });

  it('moves nothing for a good file, a file outside the lake, or a message that names no file', async () => {
    const { layout, good } = await lakeWithFile();
    expect(moveDamagedFile(layout, `No magic bytes found at end of file '${good}'`)).toBeUndefined();
    expect(existsSync(good)).toBe(true);
    const outside = join(layout.dataDir, 'elsewhere.parquet');
    writeFileSync(outside, '');
    expect(moveDamagedFile(layout, `File '${outside}' too small to be a Parquet file`)).toBeUndefined();
    expect(existsSync(outside)).toBe(true);
    expect(moveDamagedFile(layout, 'Invalid Error: TProtocolException: Invalid data')).toBeUndefined();
  });

  it('moves a file whose values DuckDB cannot read, which its error names, once reading it alone fails so', async () => {
    const { layout, dir, good } = await lakeWithFile();
    const bad = join(dir, 'part-0000000000000002.parquet');
    const db = await DuckDBInstance.create(':memory:');
    cleanups.push(() => db.closeSync());
    const connection = await db.connect();
    await connection.run(
      `COPY (SELECT md5(i::VARCHAR) AS event_id FROM range(20000) t(i)) TO ${sqlString(bad)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    // The second half of its column's bytes scrambled, the page headers and footer intact.
    const [[offset, size]] = (
      await connection.runAndReadAll(
        `SELECT data_page_offset, total_compressed_size FROM parquet_metadata(${sqlString(bad)})`,
      )
    ).getRows() as [[bigint, bigint]];
    const data = readFileSync(bad);
    for (let i = Number(offset + size / 2n); i < Number(offset + size); i++)
      data[i] = (data[i] as number) ^ 0x55;
    writeFileSync(bad, data);
    const error = (await connection
      .run(`SELECT * FROM read_parquet(${sqlString(bad)})`)
      .catch((e) => e)) as Error;
    expect(error.message).toContain(`Failed to read file "${bad}"`);
    const read = (sql: string) => connection.run(sql);
    // The same words naming a good file (a query's own error('…')) move nothing.
    const aboutGood = error.message.replace(bad, good);
    expect(await moveDamagedInside(layout, aboutGood, read, new Map())).toBeUndefined();
    expect(existsSync(good)).toBe(true);
    expect(await moveDamagedInside(layout, error.message, read, new Map())).toEqual({
      file: 'events/dt=2026-11-20/part-0000000000000002.parquet',
      movedTo: '_rejects/damaged/events/dt=2026-11-20/part-0000000000000002.parquet',
    });
    expect(existsSync(bad)).toBe(false);
  });
});
