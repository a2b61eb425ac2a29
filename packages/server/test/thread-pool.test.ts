import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { threadPoolWarning } from '../src/cli/start.ts';
import { API_TOKEN, basicAuth, segmentMessage, tempDir } from './helpers.ts';
import { engineProcesses, exited, inletConfigFile, startInletProcess } from './inlet-process.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

/**
 * The CPU ticks each thread of a process has used, by thread id; with priority, each but its main
 * thread (which takes the cancels) is set to it first.
 */
function threadTicks(pid: number, priority?: number): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const task of readdirSync(`/proc/${pid}/task`).map(Number)) {
    try {
      if (priority !== undefined && task !== pid) setPriority(task, priority);
      const fields = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks.set(task, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread has ended
    }
  }
  return ticks;
}

describe("libuv's thread pool, which DuckDB's work and the WAL's fsyncs share", () => {
  it('is set large enough by the inlet command that acknowledgements do not wait for long queries', async () => {
    // One DuckDB thread a query: the queries hold as many threads as before, and spin half as many.
    const { config, url } = await inletConfigFile(temp.dir, 'query: { threads: 1 }\n');
    const child = await startInletProcess(config, url, API_TOKEN);
    if (child.pid === undefined) throw new Error('inlet did not start');
    while (engineProcesses(child.pid).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const [engine = 0] = engineProcesses(child.pid);
    const before = threadTicks(engine);
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
      // Until each query runs on a thread of its own (a fixed wait of 500 ms was not always enough
      // on a busy machine), at the lowest priority: the spinning threads yield the cores to other tests.
      const spinning = () =>
        [...threadTicks(engine, 19)].filter(
          ([task, ticks]) => task !== engine && ticks >= (before.get(task) ?? 0) + 5,
        ).length;
      while (spinning() < 4) await new Promise((resolve) => setTimeout(resolve, 20));
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
