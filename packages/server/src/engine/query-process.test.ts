import { getEventListeners } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  API_TOKEN,
  basicAuth,
  queryApi,
  STEADY,
  segmentMessage,
  startTestInlet,
  tempDir,
  testConfig,
} from '../../test/helpers.ts';
import { busyEngine, engineProcesses, threadsAtWork } from '../../test/inlet-process.ts';
import { createReadLeases, dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createQueryProcess, type QueryStream } from './index.ts';

let inlet: Awaited<ReturnType<typeof startTestInlet>>;

beforeAll(async () => {
  // A small memory_limit and two queries at a time, so the engine's cap (memory_limit + 512 MB a
  // query) is passed by a value of about two gigabytes, well within the machine. Making it takes a
  // while on a loaded machine, hence the longer test budget below.
  inlet = await startTestInlet({ query: { memory_limit: '64MB', max_concurrent: 2, threads: 1 } });
});

afterAll(async () => {
  await inlet?.cleanup();
});

const post = (sql: string, extra: Record<string, unknown> = {}, format = 'json', signal?: AbortSignal) =>
  fetch(`${inlet.url}/api/query${format === 'csv' ? '?format=csv' : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify({ sql, ...extra }),
    signal,
  });

const cancel = (id: string) =>
  fetch(`${inlet.url}/api/query/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });

/** DELETE /api/query/:id until the query is found running (it may not have arrived yet). */
async function cancelWhenRunning(id: string, answer: Promise<Response>): Promise<void> {
  let settled = false;
  answer.finally(() => {
    settled = true;
  });
  while (!settled) {
    const answer = await cancel(id);
    if (answer.status === 202) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sendEvent = (id: string) =>
  fetch(`${inlet.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth() },
    body: JSON.stringify({ batch: [segmentMessage(id)] }),
  });

/** A CSV export's answer read until its second row (n = 1) has come, and the reader to go on with. */
async function readToSecondRow(answer: Response) {
  expect(answer.status).toBe(200);
  const reader = (answer.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!/\n1\r?\n/.test(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  return { reader, text };
}
describe('people’s SQL in a process of its own', { timeout: 180_000 }, () => {
  it('answers a value past the memory cap with QUERY_OUT_OF_MEMORY, and the server keeps going', async () => {
    const answer = await post("SELECT length(repeat('x', 1000000000)) AS n");
    expect(answer.status).toBe(422);
    const body = (await answer.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUERY_OUT_OF_MEMORY');
    expect(body.error.message).toMatch(
      /query\.memory_limit 64MB \+ 512 MB for each of query\.max_concurrent's 2 queries/,
    );
    expect(body.error.message).toMatch(/less data per value|make such values smaller/);
    // The collector, in the server's process, still takes events, and the next query runs.
    expect((await sendEvent('after-oom')).status).toBe(200);
    expect(await queryApi(inlet.url, 'SELECT 41 + 1 AS n')).toEqual([{ n: 42 }]);
  });

  for (const [what, culpritSql] of [
    ['one large value', "SELECT length(repeat('x', 1000000000)) AS n"],
    ['a value that grows', "SELECT length(array_to_string(range(300000000), ',')) AS n"],
    ['a long list', 'SELECT len(list(range(100000000))) AS n'],
  ])
    it(`fails only the query past the memory cap (${what}): a query beside it answers its rows`, async () => {
      // Both failed before: the culprit's memory stopped the process and every query in it.
      const restarts = engineProcesses();
      let besideDone = false;
      const beside = post('SELECT count(*) AS n FROM range(10000000000) a').finally(() => {
        besideDone = true;
      });
      await busyEngine();
      const culprit = await post(culpritSql);
      expect(besideDone).toBe(false);
      expect(culprit.status).toBe(422);
      const body = (await culprit.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('QUERY_OUT_OF_MEMORY');
      expect(body.error.message).toMatch(/make such values smaller|narrow it/);
      const answer = await beside;
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { rows: unknown[][] }).rows).toEqual([['10000000000']]);
      // The same process answered both, and answers the next query.
      expect(engineProcesses()).toEqual(restarts);
      expect(await queryApi(inlet.url, 'SELECT 3 AS three')).toEqual([{ three: 3 }]);
    });

  it('fails the queries of an engine process that crashed with QUERY_ENGINE_CRASHED, then answers again', async () => {
    const running = post('SELECT count(*) FROM range(100000000000) a', { query_id: 'crash-victim' });
    // Once the query runs in the engine's process, that process ends as a fault in DuckDB would end it.
    const pid = await busyEngine();
    process.kill(pid, 'SIGSEGV');
    const answer = await running;
    expect(answer.status).toBe(503);
    const body = (await answer.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUERY_ENGINE_CRASHED');
    expect(body.error.message).toMatch(/SIGSEGV/);
    expect(await queryApi(inlet.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('answers a query that ran beside one that crashed DuckDB, which alone gets QUERY_ENGINE_CRASHED', async () => {
    // Both failed before: the segfault ended the process, and every query in it with it.
    const restarts = engineProcesses();
    const beside = post('SELECT count(*) AS n FROM range(10000000000) a');
    await busyEngine();
    const culprit = post('SELECT lead(x, -9223372036854775808) OVER () FROM (VALUES (1)) t(x)');
    const answer = await beside;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { rows: unknown[][] }).rows).toEqual([['10000000000']]);
    const failed = await culprit;
    expect(failed.status).toBe(503);
    const body = (await failed.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUERY_ENGINE_CRASHED');
    expect(body.error.message).toMatch(/signal SIGSEGV.*again when it was run once more on its own/);
    // Ended twice (beside the other query, then alone), and started again each time.
    expect(engineProcesses()).not.toEqual(restarts);
    expect(await queryApi(inlet.url, 'SELECT 5 AS five')).toEqual([{ five: 5 }]);
  });

  it('answers a query cancelled while it waits to run again after a crash at once, not after the one ahead of it', async () => {
    const ahead = post('SELECT count(*) FROM range(100000000000) a', { query_id: 'rerun-ahead' });
    const crashed = await busyEngine();
    const waiting = post('SELECT count(*) FROM range(100000000000) b', { query_id: 'rerun-waiting' });
    await threadsAtWork(crashed, 2);
    process.kill(crashed, 'SIGSEGV');
    // Both are run again, one at a time: the one ahead runs alone in a fresh process, the other waits.
    while (engineProcesses().every((pid) => pid === crashed)) await new Promise((r) => setTimeout(r, 20));
    await busyEngine();
    let aheadDone = false;
    ahead.finally(() => {
      aheadDone = true;
    });
    expect((await cancel('rerun-waiting')).status).toBe(202);
    // It was answered only once the query ahead had run to its end (its time limit, here).
    const answer = await waiting;
    expect(aheadDone).toBe(false);
    expect(answer.status).toBe(499);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('QUERY_CANCELLED');
    expect((await cancel('rerun-ahead')).status).toBe(202);
    expect((await ahead).status).toBe(499);
    expect(await queryApi(inlet.url, 'SELECT 6 AS six')).toEqual([{ six: 6 }]);
  });

  it('runs again a CSV export that had sent nothing when the process crashed, and answers it whole', async () => {
    const beside = post('SELECT count(*) AS n FROM range(10000000000) a');
    const crashed = await busyEngine();
    // Its one row comes when its count is done: no column has gone out yet.
    const exported = post('SELECT count(*) AS n FROM range(10000000000) b', {}, 'csv');
    await threadsAtWork(crashed, 2);
    process.kill(crashed, 'SIGSEGV');
    const answer = await exported;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await answer.text()).toMatch(/^n\r?\n10000000000\r?\n$/);
    expect((await beside).status).toBe(200);
  });

  it('cuts off a CSV export that had sent rows when the process crashed, so the client sees it failed', async () => {
    const answer = await post('SELECT range AS n FROM range(1000000000)', {}, 'csv');
    const { reader } = await readToSecondRow(answer);
    const [pid] = engineProcesses();
    process.kill(pid as number, 'SIGSEGV');
    // Not an end, which a client would take for the whole export: the response breaks off.
    const rest = (async () => {
      for (;;) if ((await reader.read()).done) return 'ended';
    })();
    await expect(rest).rejects.toThrow();
    expect(await queryApi(inlet.url, 'SELECT 8 AS eight')).toEqual([{ eight: 8 }]);
  });

  it('starts the process again after an internal error of DuckDB, which its query gets saying so; a query beside it answers', async () => {
    // DuckDB 1.5.6 fails this with "INTERNAL Error: Failed to bind column reference" (duckdb#21890).
    // After such an error while a query runs, DuckDB refuses every later query ("FATAL Error: …
    // database has been invalidated") until it is started again.
    const before = engineProcesses();
    const beside = post('SELECT count(*) AS n FROM range(10000000000) a');
    await busyEngine();
    const answer = await post(
      'SELECT val FROM (VALUES (1), (2)) tbl(val) GROUP BY val HAVING (SELECT count(*) FROM (VALUES (1), (2)) tbl2(v) WHERE TRY(tbl.val + tbl.val) > 0) > 0',
    );
    expect(answer.status).toBe(400);
    const body = (await answer.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('QUERY_INVALID');
    expect(body.error.message).toMatch(
      /^INTERNAL Error: Failed to bind column reference[\s\S]*That is a fault in DuckDB[\s\S]*ended and is started again by itself/,
    );
    const other = await beside;
    expect(other.status).toBe(200);
    expect(((await other.json()) as { rows: unknown[][] }).rows).toEqual([['10000000000']]);
    expect(engineProcesses()).not.toEqual(before);
    // DuckDB's words quoted by the query itself are its own error: the process stays.
    const now = engineProcesses();
    const own = await post("SELECT error('INTERNAL Error: made up') AS x");
    expect(own.status).toBe(400);
    const ownBody = (await own.json()) as { error: { message: string } };
    expect(ownBody.error.message).toMatch(/INTERNAL Error: made up/);
    expect(ownBody.error.message).not.toMatch(/fault in DuckDB/);
    expect(await queryApi(inlet.url, 'SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
    expect(engineProcesses()).toEqual(now);
  });

  it('streams a CSV export that can be cancelled part-way', async () => {
    const answer = await post('SELECT range AS n FROM range(1000000000)', { query_id: 'export-1' }, 'csv');
    const { reader, text } = await readToSecondRow(answer);
    expect(text).toMatch(/^n\r?\n0\r?\n1\r?\n/);
    // Rows arrived while the query still runs: the export is streamed, not gathered first.
    expect((await cancel('export-1')).status).toBe(202);
    let received = 0;
    await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += value.length;
      }
    })().catch(() => undefined);
    // A billion rows are ~10 GB of CSV; the cancelled export stopped long before.
    expect(received).toBeLessThan(1e9);
    expect(await queryApi(inlet.url, 'SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });

  it('cancels a running JSON query', async () => {
    const running = post('SELECT count(*) FROM range(100000000000) a', { query_id: 'to-cancel' });
    await cancelWhenRunning('to-cancel', running);
    const answer = await running;
    expect(answer.status).toBe(499);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('QUERY_CANCELLED');
  });
});

/** A query engine's process over an empty data folder, closed once fn is done. */
async function withEngine(fn: (engine: Awaited<ReturnType<typeof createQueryProcess>>) => Promise<void>) {
  const { dir, cleanup } = tempDir();
  const engine = await createQueryProcess({
    config: testConfig(dir),
    layout: dataLayout(dir),
    logger: createSilentLogger(),
  });
  try {
    await fn(engine);
  } finally {
    engine.close();
    cleanup();
  }
}

/** A stream's consumer that reads every row. */
async function allRows({ chunks }: QueryStream): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const chunk of chunks) all.push(...chunk);
  return all;
}

describe('a caller’s signal', () => {
  it('keeps no listener of the engine’s after a query or an export is done', { timeout: 60_000 }, () =>
    // Each query left one (its wait for queries run again after a crash), each export two: a signal
    // that outlives its queries gathered them, and Node warned of a leak past ten.
    withEngine(async (engine) => {
      const { signal } = new AbortController();
      expect((await engine.query('SELECT 1 AS one', { signal })).rows).toEqual([[1]]);
      expect(getEventListeners(signal, 'abort')).toEqual([]);
      expect(await engine.stream('SELECT 2 AS two', { signal }, allRows)).toEqual([[2]]);
      expect(getEventListeners(signal, 'abort')).toEqual([]);
      await expect(engine.query('SELECT nope', { signal })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
      expect(getEventListeners(signal, 'abort')).toEqual([]);
    }),
  );
});

describe('a query id used again', () => {
  it(
    'is taken for the next query at once, when the query or export under it is done',
    {
      timeout: 60_000,
    },
    () =>
      // The id was the job's until the engine's process said the job was over, after the answer: the
      // next query under it, sent at once, got INVALID_FIELD "is already running".
      withEngine(async (engine) => {
        const id = 'one-id-after-another';
        for (let i = 0; i < 5; i++) {
          expect(await engine.stream('SELECT 2 AS two', { id }, allRows)).toEqual([[2]]);
          expect((await engine.query('SELECT 1 AS one', { id })).rows).toEqual([[1]]);
          expect((await engine.query('SELECT 1 AS one', { id })).rows).toEqual([[1]]);
        }
      }),
  );
});

describe('read leases across the processes', () => {
  it('keeps a WAL segment the loader retires while a query runs until the query is done', async () => {
    // The engine's process had no lease of the server's loader: a segment loaded while a query ran
    // was deleted under it, and the query failed with QUERY_BUSY ("No files found that match").
    const { dir, cleanup } = tempDir();
    const lake = createReadLeases();
    // The real leases, telling when the query takes its own.
    let leaseTaken: () => void = () => {};
    const taken = new Promise<void>((resolve) => {
      leaseTaken = resolve;
    });
    const leases = {
      ...lake,
      begin() {
        const end = lake.begin();
        leaseTaken();
        return end;
      },
    };
    const engine = await createQueryProcess({
      config: testConfig(dir),
      layout: dataLayout(dir),
      logger: createSilentLogger(),
      leases,
    });
    try {
      const segment = join(dir, 'loaded-segment.log');
      writeFileSync(segment, '');
      const running = engine.query('SELECT sum(i) FROM range(1000000000000) t(i)', { id: 'long' });
      const answered = running.then(
        () => 'answered',
        (error: { code?: string }) => error.code,
      );
      // The query is on its way or running: the segment it may list stays until it is done. Waited
      // for, not 200 ms: on a busy machine the query could take its lease after the segment was retired.
      await Promise.race([taken, answered]);
      await leases.retire(segment);
      expect(existsSync(segment)).toBe(true);
      expect(engine.cancel('long')).toBe(true);
      expect(await answered).toBe('QUERY_CANCELLED');
      await vi.waitFor(() => expect(existsSync(segment)).toBe(false), STEADY);
    } finally {
      engine.close();
      cleanup();
    }
  });
});
