import { afterAll, describe, expect, it } from 'vitest';
import { threadPoolWarning } from '../src/cli/start.ts';
import { API_TOKEN, basicAuth, segmentMessage, tempDir, testConfig } from './helpers.ts';
import { exited, inletConfigFile, startInletProcess } from './inlet-process.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe("libuv's thread pool, which DuckDB's work and the WAL's fsyncs share", () => {
  it('is set large enough by the inlet command that acknowledgements do not wait for long queries', async () => {
    const { config, url } = await inletConfigFile(temp.dir);
    const child = await startInletProcess(config, url, API_TOKEN);
    const api = (path: string, init: RequestInit) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${API_TOKEN}`,
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
      });
    const finished: string[] = [];
    try {
      // As many long queries as query.max_concurrent lets run, each on a thread of the pool for
      // as long as it runs (many seconds, unless cancelled).
      const queries = Array.from({ length: 4 }, (_, i) =>
        api('/api/query', {
          method: 'POST',
          body: JSON.stringify({
            sql: 'SELECT sum(hash(i)) FROM range(5000000000) t(i)',
            query_id: `long-${i}`,
          }),
        }).then(async (response) => {
          finished.push(`query ${i}: ${response.status}`);
          await response.text();
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const answer = await fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify(segmentMessage('while-querying')),
        signal: AbortSignal.timeout(10_000),
      }).then(
        (response) => String(response.status),
        () => 'no answer in 10 s',
      );
      finished.push(`event: ${answer}`);
      // With libuv's default of 4 threads the event waited for the queries to end (17 s).
      expect(finished).toEqual(['event: 200']);
      for (let i = 0; i < 4; i++)
        expect((await api(`/api/query/long-${i}`, { method: 'DELETE' })).status).toBeLessThan(300);
      await Promise.all(queries);
      expect(finished.slice(1).sort()).toEqual([0, 1, 2, 3].map((i) => `query ${i}: 499`));
    } finally {
      // Not SIGTERM: a failed run leaves the long queries running, and a clean stop waits for them.
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('gets a warning at start when it is too small for the configured DuckDB work', () => {
    const config = testConfig(temp.dir);
    const all = ['collector', 'loader', 'web', 'scheduler'] as const;
    expect(threadPoolWarning(config, all, undefined)).toMatch(
      /UV_THREADPOOL_SIZE is 4: .*query\.max_concurrent: 4.*at least 11/,
    );
    expect(threadPoolWarning(config, all, '16')).toBeUndefined();
    const busy = testConfig(temp.dir, { query: { max_concurrent: 20 } });
    expect(threadPoolWarning(busy, all, '16')).toMatch(/UV_THREADPOOL_SIZE is 16: .*at least 27/);
    // A collector alone runs no DuckDB work; a web process acknowledges nothing.
    expect(threadPoolWarning(busy, ['collector'], undefined)).toBeUndefined();
    expect(threadPoolWarning(busy, ['web', 'loader'], undefined)).toBeUndefined();
  });
});
