import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { STEADY, tempDir, testConfig } from '../../test/helpers.ts';
import { dataLayout, writeLakeTable } from '../lake/index.ts';
import { createQueryEngine } from './index.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** A data dir whose lake holds 300 marts of one file each: building their views takes a while. */
async function manyMarts(name: string): Promise<string> {
  const dataDir = join(temp.dir, name);
  const writer = await (await DuckDBInstance.create(':memory:')).connect();
  for (let i = 0; i < 300; i++) {
    const dir = join(dataLayout(dataDir).lake, 'marts', `m${i}`);
    mkdirSync(dir, { recursive: true });
    await writer.run(`COPY (SELECT ${i} AS n) TO '${dir}/part-1.parquet'`);
    writeLakeTable(dir, { name: `m${i}`, kind: 'mart', files: '*.parquet' });
  }
  writer.closeSync();
  return dataDir;
}

/** How long the first query of a fresh engine over dataDir takes past the second: building the views. */
async function setUpMs(dataDir: string): Promise<number> {
  const engine = await createQueryEngine({ config: testConfig(dataDir), layout: dataLayout(dataDir) });
  try {
    const timed = async () => {
      const started = performance.now();
      await engine.query('SELECT n FROM m299');
      return performance.now() - started;
    };
    const first = await timed();
    return first - (await timed());
  } finally {
    engine.close();
  }
}

describe("the query engine's set-up", () => {
  it("does not count building the lake's views against the query's time limit", async () => {
    const dataDir = await manyMarts('timed');
    const setUp = await setUpMs(dataDir);
    expect(setUp).toBeGreaterThan(0);
    // A limit that building the views alone passes; the query itself takes a few milliseconds.
    const timeoutMs = Math.max(1, Math.floor(setUp / 2));
    const config = testConfig(dataDir, { query: { timeout_ms: timeoutMs } });
    const engine = await createQueryEngine({ config, layout: dataLayout(dataDir) });
    try {
      await expect(engine.query('SELECT n FROM m299')).resolves.toMatchObject({ rows: [[299]] });
    } finally {
      engine.close();
    }
  });

  it('has a bound of its own: past it the query fails saying the views are still being built, and a retry runs', async () => {
    const dataDir = await manyMarts('bounded');
    const setUp = await setUpMs(dataDir);
    const engine = await createQueryEngine({
      config: testConfig(dataDir),
      layout: dataLayout(dataDir),
      setUpMs: Math.max(1, Math.floor(setUp / 2)),
    });
    try {
      await expect(engine.query('SELECT n FROM m299')).rejects.toMatchObject({
        code: 'QUERY_BUSY',
        status: 503,
        message: expect.stringMatching(/still building its views of the lake's tables .* retry in a moment/),
      });
      // The views went on being built, and once they are, the query runs.
      const result = await vi.waitFor(() => engine.query('SELECT n FROM m299'), STEADY);
      expect(result.rows).toEqual([[299]]);
    } finally {
      engine.close();
    }
  });
});
