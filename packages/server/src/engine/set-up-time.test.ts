import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { STEADY, tempDir, testConfig } from '../../test/helpers.ts';
import type { InletError } from '../errors/index.ts';
import { dataLayout, writeLakeTable } from '../lake/index.ts';
import { createQueryEngine, type QueryResult } from './index.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

/**
 * A data dir whose lake holds `count` marts of one file each, every one the same row (n = 7): building
 * their views takes a while, about 0.6 ms a mart.
 */
async function manyMarts(name: string, count: number): Promise<string> {
  const dataDir = join(temp.dir, name);
  const file = join(temp.dir, `${name}.parquet`);
  const writer = await (await DuckDBInstance.create(':memory:')).connect();
  await writer.run(`COPY (SELECT 7 AS n) TO '${file}'`);
  writer.closeSync();
  for (let i = 0; i < count; i++) {
    const dir = join(dataLayout(dataDir).lake, 'marts', `m${i}`);
    mkdirSync(dir, { recursive: true });
    copyFileSync(file, join(dir, 'part-1.parquet'));
    writeLakeTable(dir, { name: `m${i}`, kind: 'mart', files: '*.parquet' });
  }
  return dataDir;
}

/**
 * How long the first query of a fresh engine over dataDir takes past the second (building the
 * views), how long the second takes (the query's own time), and the first's answer.
 */
async function setUpMs(dataDir: string): Promise<{ setUp: number; own: number; first: QueryResult }> {
  const engine = await createQueryEngine({ config: testConfig(dataDir), layout: dataLayout(dataDir) });
  try {
    const timed = async () => {
      const started = performance.now();
      const result = await engine.query('SELECT n FROM m299');
      return { ms: performance.now() - started, result };
    };
    const first = await timed();
    const own = (await timed()).ms;
    return { setUp: first.ms - own, own, first: first.result };
  } finally {
    engine.close();
  }
}

describe("the query engine's set-up", () => {
  it("does not count building the lake's views against the query's time limit", async () => {
    const dataDir = await manyMarts('timed', 1000);
    const { setUp, own } = await setUpMs(dataDir);
    // A limit that building the views alone passes (half of it) and the query's own time does not
    // come near: a thousand views take hundreds of milliseconds, the query a few.
    const timeoutMs = Math.floor((setUp + own) / 2);
    expect(timeoutMs).toBeLessThan(setUp);
    const config = testConfig(dataDir, { query: { timeout_ms: timeoutMs } });
    const engine = await createQueryEngine({ config, layout: dataLayout(dataDir) });
    try {
      await expect(engine.query('SELECT n FROM m299')).resolves.toMatchObject({ rows: [[7]] });
    } finally {
      engine.close();
    }
  });

  it("answers the query's own time as its elapsed_ms, not the building of the views before it", async () => {
    const dataDir = await manyMarts('elapsed', 1000);
    const { setUp, first } = await setUpMs(dataDir);
    // A thousand views take hundreds of milliseconds to build, the query itself a few: its
    // elapsed_ms was both.
    expect(first.rows).toEqual([[7]]);
    expect(first.stats.elapsed_ms).toBeLessThan(setUp);
  });

  it('has a bound of its own: past it the query fails saying the views are still being built, and a retry runs', async () => {
    const dataDir = await manyMarts('bounded', 300);
    const engine = await createQueryEngine({
      config: testConfig(dataDir),
      layout: dataLayout(dataDir),
      // Building 300 views takes far longer than a millisecond.
      setUpMs: 1,
    });
    try {
      const busy = await engine.query('SELECT n FROM m299').catch((error: unknown) => error);
      expect(busy).toMatchObject({
        code: 'QUERY_BUSY',
        status: 503,
        message: expect.stringMatching(/still building its views of the lake's tables .* about \d+ s/),
      });
      // Retry-After is the message's figure, how long the rest may take (it was 5, a guess).
      const { message, retryAfterSeconds } = busy as InletError;
      expect(message).toContain(`about ${retryAfterSeconds} s`);
      // The views went on being built, and once they are, the query runs.
      const result = await vi.waitFor(() => engine.query('SELECT n FROM m299'), STEADY);
      expect(result.rows).toEqual([[7]]);
    } finally {
      engine.close();
    }
  });
});
