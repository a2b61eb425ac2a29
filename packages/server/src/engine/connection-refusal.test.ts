import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { InletError } from '../errors/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createQueryEngine, createQueryProcess } from './index.ts';

const temp = tempDir();
afterEach(() => vi.restoreAllMocks());
afterAll(() => temp.cleanup());

async function engineOf(maxConcurrent: number) {
  const config = testConfig(join(temp.dir, `data-${maxConcurrent}`), {
    query: { max_concurrent: maxConcurrent, timeout_ms: 120_000 },
  });
  mkdirSync(dataLayout(config.data_dir).events, { recursive: true });
  return createQueryEngine({ config, layout: dataLayout(config.data_dir) });
}

describe('a query DuckDB will not open a connection for', () => {
  it('fails QUERY_BUSY saying when to retry, by the query running beside it, and the next query runs', async () => {
    const engine = await engineOf(2);
    // DuckDB refuses a connection (its C API drops why: "Failed to connect") only when it cannot get
    // the memory for one, which no query can be made to bring about here: the second connect is refused.
    const connect = DuckDBInstance.prototype.connect;
    let calls = 0;
    vi.spyOn(DuckDBInstance.prototype, 'connect').mockImplementation(function (this: DuckDBInstance) {
      calls++;
      return calls === 2 ? Promise.reject(new Error('Failed to connect')) : connect.call(this);
    });
    const slow = engine.query('SELECT count(*) FROM range(100000000000)', { id: 'slow' });
    try {
      const refused = await engine.query('SELECT 1').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(InletError);
      const { code, message, retryAfterSeconds } = refused as InletError;
      expect(code).toBe('QUERY_BUSY');
      expect(message).toMatch(
        /^DuckDB could not open a connection for the query \(Failed to connect\), which it refuses only when it cannot get the memory for one, so nothing of the query ran; one of those running has run about (\d+) s and may take as long again: retry in about \1 s, when it may have given its memory back\. /,
      );
      expect(retryAfterSeconds).toBe(Number(/retry in about (\d+) s/.exec(message)?.[1]));
      expect(calls).toBe(2);
      expect((await engine.query('SELECT 2 AS n')).rows).toEqual([[2]]);
    } finally {
      engine.cancel('slow');
      await slow.catch(() => undefined);
      engine.close();
    }
  });

  it('says to retry in a moment when no other query runs, for a CSV export too', async () => {
    const engine = await engineOf(1);
    vi.spyOn(DuckDBInstance.prototype, 'connect').mockRejectedValueOnce(new Error('Failed to connect'));
    try {
      await expect(engine.stream('SELECT 1', {}, async () => undefined)).rejects.toMatchObject({
        code: 'QUERY_BUSY',
        retryAfterSeconds: 1,
        message: expect.stringContaining('so nothing of the query ran; retry in a moment.'),
      });
    } finally {
      engine.close();
    }
  });

  it('fails QUERY_BUSY saying inlet is stopping when the engine was closed before the query started', async () => {
    const engine = await engineOf(1);
    engine.close();
    // No stand-in: DuckDB's Node bindings refuse a connection to a closed instance.
    await expect(engine.query('SELECT 1')).rejects.toMatchObject({
      code: 'QUERY_BUSY',
      retryAfterSeconds: 1,
      message:
        'The query engine was closed before the query could start (Failed to connect: instance closed), so nothing of it ran: inlet is stopping. Retry in a moment, once it has started again.',
    });
  });

  it('fails QUERY_BUSY in the query engine’s process too, as the server and inlet query get it', {
    timeout: 60_000,
  }, async () => {
    // The process's entry point, with DuckDB refusing each instance's second connection: the
    // engine's admin connection is its first, the query's its second (the allocator's small instance
    // connects once). The error crosses to this process as inlet query and the server see it.
    const script = join(temp.dir, 'refuses.mjs');
    const duckdb = pathToFileURL(createRequire(import.meta.url).resolve('@duckdb/node-api')).href;
    const boot = new URL('./query-process-boot.js', import.meta.url).href;
    writeFileSync(
      script,
      `const { DuckDBInstance } = await import(${JSON.stringify(duckdb)});
const connect = DuckDBInstance.prototype.connect;
const connects = new WeakMap();
DuckDBInstance.prototype.connect = function () {
  connects.set(this, (connects.get(this) ?? 0) + 1);
  return connects.get(this) === 2 ? Promise.reject(new Error('Failed to connect')) : connect.call(this);
};
await import(${JSON.stringify(boot)});
`,
    );
    const dir = join(temp.dir, 'process');
    const config = testConfig(dir);
    mkdirSync(dataLayout(dir).events, { recursive: true });
    const engine = await createQueryProcess({
      config,
      layout: dataLayout(dir),
      logger: createSilentLogger(),
      oneQuery: true,
      script: pathToFileURL(script),
    });
    try {
      await expect(engine.query('SELECT 1')).rejects.toMatchObject({
        code: 'QUERY_BUSY',
        retryAfterSeconds: 1,
        message: expect.stringMatching(
          /^DuckDB could not open a connection for the query \(Failed to connect\), .* retry in a moment\./,
        ),
      });
      expect((await engine.query('SELECT 2 AS n')).rows).toEqual([[2]]);
    } finally {
      engine.close();
    }
  });
});
