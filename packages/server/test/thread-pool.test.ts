import { afterAll, describe, expect, it } from 'vitest';
import { threadPoolWarning } from '../src/cli/start.ts';
import { API_TOKEN, basicAuth, segmentMessage, tempDir } from './helpers.ts';
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
      // As many long queries as query.max_concurrent lets run, each on a thread of the query
      // engine's process for as long as it runs (many seconds, unless cancelled).
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

  it('gets a warning at start when it is too small for the DuckDB work in its own process', () => {
    const all = ['collector', 'loader', 'web', 'scheduler'] as const;
    // A load, a model build, a table copy and a catalog look, and 4 threads for files.
    expect(threadPoolWarning(all, undefined)).toMatch(/UV_THREADPOOL_SIZE is 4: .*at least 8/);
    expect(threadPoolWarning(all, '8')).toBeUndefined();
    // People's SQL runs in the query engine's own process: however many queries
    // query.max_concurrent lets run at once, they take no thread of the server's pool.
    expect(threadPoolWarning(all, '16')).toBeUndefined();
    expect(threadPoolWarning(['collector', 'web'], '5')).toBeUndefined();
    expect(threadPoolWarning(['collector', 'web'], '4')).toMatch(/at least 5/);
    // A collector alone runs no DuckDB work; a web process acknowledges nothing.
    expect(threadPoolWarning(['collector'], undefined)).toBeUndefined();
    expect(threadPoolWarning(['web', 'loader'], undefined)).toBeUndefined();
  });
});
