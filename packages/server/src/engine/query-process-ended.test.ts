import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { killedAfterwards } from '../../test/child-processes.ts';
import { API_TOKEN, configIn, queryApi, tempDir, testConfig } from '../../test/helpers.ts';
import { BIN, busyEngine, engineProcesses, exited, threadsAtWork } from '../../test/inlet-process.ts';
import type { InletError } from '../errors/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createQueryProcess } from './index.ts';

describe('an engine process that cannot start', () => {
  it('fails the start with QUERY_ENGINE_CRASHED naming how it ended', async () => {
    const { dir, cleanup } = tempDir();
    try {
      // An entry point that ends at once, as a process whose native library cannot load would.
      const script = join(dir, 'ends.mjs');
      writeFileSync(script, 'process.exit(3);\n');
      const starting = createQueryProcess({
        config: testConfig(dir),
        layout: dataLayout(dir),
        logger: createSilentLogger(),
        script: pathToFileURL(script),
      });
      await expect(starting).rejects.toMatchObject({
        code: 'QUERY_ENGINE_CRASHED',
        message: expect.stringMatching(/ended as it started \(exit code 3\)/),
      });
    } finally {
      cleanup();
    }
  });
});

/**
 * An engine process with a time limit of 8 s that crashed (SIGSEGV) running two queries, first and
 * second, which run to that limit: once fn is called they are run again one at a time, and its
 * fresh process is started.
 */
async function withQueriesInLine(
  fn: (
    engine: Awaited<ReturnType<typeof createQueryProcess>>,
    line: { first: Promise<unknown>; second: Promise<unknown>; settled: string[]; latest: () => number },
  ) => Promise<void>,
) {
  const { dir, cleanup } = tempDir();
  const others = new Set(engineProcesses());
  const engine = await createQueryProcess({
    config: testConfig(dir, { query: { threads: 1, max_concurrent: 2, timeout_ms: 8_000 } }),
    layout: dataLayout(dir),
    logger: createSilentLogger(),
  });
  const ours = () => engineProcesses().filter((pid) => !others.has(pid));
  try {
    const [crashed] = ours();
    if (crashed === undefined) throw new Error('no query engine process');
    const settled: string[] = [];
    const counting = (id: string) =>
      engine
        .query(`SELECT count(*) FROM range(100000000000) ${id}`, { id })
        .catch((error: unknown) => error)
        .finally(() => settled.push(id));
    const first = counting('first');
    const second = counting('second');
    await threadsAtWork(crashed, 2);
    process.kill(crashed, 'SIGSEGV');
    // The fresh process is started for the first of them to run again: the line has begun.
    while (ours().every((pid) => pid === crashed)) await new Promise((r) => setTimeout(r, 20));
    const latest = () => ours().at(-1) ?? crashed;
    await fn(engine, { first, second, settled, latest });
    expect((await engine.query('SELECT 2 AS two')).rows).toEqual([[2]]);
  } finally {
    engine.close();
    cleanup();
  }
}

describe('a query that comes while the queries of a crashed engine process run again', () => {
  it(
    'waits for them no longer than its own time limit, then fails with QUERY_BUSY, not after the whole line',
    {
      timeout: 120_000,
    },
    () =>
      // It waited for every query in line to run alone, each up to query.timeout_ms, and none of that
      // counted against its own limit: here it answered only once the second query had run again.
      withQueriesInLine(async (engine, { first, second, settled }) => {
        const newcomer = await engine.query('SELECT 1 AS one').catch((error: unknown) => error);
        expect(newcomer).toMatchObject({
          code: 'QUERY_BUSY',
          message: expect.stringMatching(
            /^The query waited all of query\.timeout_ms \(8000 ms\) for queries .* run again one at a time .*, and did not start; the (one|2) still in line may take up to \d+ s more \(each up to that limit\): retry then\.$/,
          ),
        });
        // Retry-After is what the line may still take, as the message says: the second's whole limit
        // at least while it has not run (it had not settled), at most both queries' (8 s each); it was
        // 1 s, a guess, after which a retry waited for the line again.
        const { retryAfterSeconds, message } = newcomer as InletError;
        expect(message).toContain(`up to ${retryAfterSeconds} s more`);
        expect(retryAfterSeconds).toBeGreaterThan(1);
        expect(retryAfterSeconds).toBeLessThanOrEqual(16);
        // Answered while the second still waited for its turn or ran, not after it.
        expect(settled).not.toContain('second');
        engine.cancel('second');
        expect(await first).toMatchObject({ code: 'QUERY_TIMEOUT' });
        expect(await second).toMatchObject({ code: 'QUERY_CANCELLED' });
      }),
  );

  it(
    'starts once they are done, and its time-out says how long of its limit it waited',
    {
      timeout: 120_000,
    },
    () =>
      withQueriesInLine(async (engine, { first, second }) => {
        const newcomer = engine
          .query('SELECT count(*) FROM range(100000000000) n')
          .catch((error: unknown) => error);
        // The line ends at once, and the newcomer runs, in the fresh process, until its limit.
        engine.cancel('first');
        engine.cancel('second');
        expect(await first).toMatchObject({ code: 'QUERY_CANCELLED' });
        expect(await second).toMatchObject({ code: 'QUERY_CANCELLED' });
        expect(await newcomer).toMatchObject({
          code: 'QUERY_TIMEOUT',
          message: expect.stringMatching(
            /^The query ran longer than query\.timeout_ms \(8000 ms\).* It waited \d+ ms of that, before it started, for queries run again after the query engine's process ended\.$/,
          ),
        });
      }),
  );

  it(
    'says how long of its limit it waited in an export that times out after its first rows were sent',
    {
      timeout: 120_000,
    },
    () =>
      // A JSON answer's QUERY_TIMEOUT said so; an export's, which comes with its chunks (or its stop,
      // to a consumer that stopped reading) once its rows flow, did not.
      withQueriesInLine(async (engine, { first, second }) => {
        const waited =
          /It waited \d+ ms of that, before it started, for queries run again after the query engine's process ended\.$/;
        // Its consumer reads the first chunk, then stops reading (a client that reads slowly) until
        // the time limit stops the export, then reads on to its end: the error.
        const late = engine.stream(
          'SELECT n FROM range(100000000000) t(n)',
          {},
          async ({ chunks, stopped }) => {
            const reader = chunks[Symbol.asyncIterator]();
            const rows = (await reader.next()).value?.length ?? 0;
            if (!stopped.aborted) await new Promise((resolve) => stopped.addEventListener('abort', resolve));
            const failed = await (async () => {
              while (!(await reader.next()).done);
            })().catch((error: unknown) => error);
            return { rows, failed, stopped: stopped.reason as unknown };
          },
        );
        engine.cancel('first');
        engine.cancel('second');
        expect(await first).toMatchObject({ code: 'QUERY_CANCELLED' });
        expect(await second).toMatchObject({ code: 'QUERY_CANCELLED' });
        const { rows, failed, stopped } = await late;
        expect(rows).toBeGreaterThan(0);
        expect(failed).toMatchObject({ code: 'QUERY_TIMEOUT', message: expect.stringMatching(waited) });
        expect(stopped).toMatchObject({ code: 'QUERY_TIMEOUT', message: expect.stringMatching(waited) });
      }),
  );
});

describe('a query that waited for queries run again, caught in a second crash', () => {
  it(
    'is run again with the whole of its time limit, as the query beside it is',
    {
      timeout: 120_000,
    },
    () =>
      // It kept what was left of its limit after its first wait, while the query crashed beside it got
      // all of it: its time-out said it had waited part of a limit it had been given again.
      withQueriesInLine(async (engine, { first, second, latest }) => {
        const waiter = engine
          .query('SELECT count(*) FROM range(100000000000) waiter', { id: 'waiter' })
          .catch((error: unknown) => error);
        engine.cancel('first');
        engine.cancel('second');
        expect(await first).toMatchObject({ code: 'QUERY_CANCELLED' });
        expect(await second).toMatchObject({ code: 'QUERY_CANCELLED' });
        // The waiter runs in the fresh process; another query joins it, and that process crashes too.
        const pid = latest();
        await threadsAtWork(pid, 1);
        const beside = engine
          .query('SELECT count(*) FROM range(100000000000) beside', { id: 'beside' })
          .catch((error: unknown) => error);
        await threadsAtWork(pid, 2);
        process.kill(pid, 'SIGSEGV');
        const answer = await waiter;
        engine.cancel('beside');
        expect(answer).toMatchObject({ code: 'QUERY_TIMEOUT' });
        expect((answer as Error).message).toMatch(/^The query ran longer than query\.timeout_ms \(8000 ms\)/);
        expect((answer as Error).message).not.toMatch(/It waited/);
        expect(await beside).toMatchObject({ code: expect.stringMatching(/QUERY_CANCELLED|QUERY_TIMEOUT/) });
      }),
  );
});

describe('stopping inlet start while its query engine runs', () => {
  /** Whether the process still runs (not ended, nor a zombie not yet reaped), a few seconds after its server ended. */
  const lingers = async (pid: number) => {
    for (let i = 0; i < 100; i++) {
      try {
        if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) return false;
      } catch {
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  };
  // Ctrl-C in a terminal signals the whole process group (SIGINT), as do systemd, docker and
  // timeout(1) (SIGTERM); a supervisor may also signal the server alone.
  it.each([
    ['SIGINT', 'the process group', 18110],
    ['SIGTERM', 'the process group', 18111],
    ['SIGINT', 'the server alone', 18112],
    ['SIGTERM', 'the server alone', 18113],
  ] as const)(
    'on %s to %s: exits 0, no warning that the engine ended, no process left',
    {
      timeout: 120_000,
    },
    async (signal, to, port) => {
      const { dir, cleanup } = tempDir();
      try {
        const config = configIn(dir, `data_dir: ./data\nserver: { host: 127.0.0.1, port: ${port} }\n`);
        const child = killedAfterwards(
          spawn(process.execPath, [BIN, 'start', '--config', config], {
            env: { ...process.env, INLET_API_TOKEN: API_TOKEN, INLET_LOG_LEVEL: 'warn' },
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true,
          }),
        );
        let out = '';
        child.stdout?.on('data', (chunk) => {
          out += chunk;
        });
        child.stderr?.on('data', (chunk) => {
          out += chunk;
        });
        const code = new Promise<number | null>((resolve) =>
          child.once('exit', (exitCode) => resolve(exitCode)),
        );
        const pid = child.pid as number;
        try {
          let rows: Record<string, unknown>[] | undefined;
          while (rows === undefined) {
            if (child.exitCode !== null) throw new Error(`inlet exited at start:\n${out}`);
            rows = await queryApi(`http://127.0.0.1:${port}`, 'SELECT 1 AS one').catch(async () => {
              await new Promise((resolve) => setTimeout(resolve, 100));
              return undefined;
            });
          }
          expect(rows).toEqual([{ one: 1 }]);
          const engines = engineProcesses(pid);
          expect(engines).toHaveLength(1);
          // A query runs as it stops: the server waits for its answer before it closes the engine.
          const running = fetch(`http://127.0.0.1:${port}/api/query`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
            body: JSON.stringify({ sql: 'SELECT count(*) FROM range(800000000) a WHERE a.range % 7 = 3' }),
          }).catch(() => undefined);
          await busyEngine(pid);
          process.kill(to === 'the process group' ? -pid : pid, signal);
          expect(await code).toBe(0);
          expect(out).not.toMatch(/query engine's process ended|starting another/);
          expect(await Promise.all(engines.map(lingers))).toEqual([false]);
          await running;
        } finally {
          if (child.exitCode === null) process.kill(-pid, 'SIGKILL');
          await exited(child);
        }
      } finally {
        cleanup();
      }
    },
  );
});

/** The next query is answered (once the process is started again), by a process other than ended. */
async function expectFreshProcess(
  engine: Awaited<ReturnType<typeof createQueryProcess>>,
  others: Set<number>,
  ended: number,
) {
  let answer: unknown;
  for (let i = 0; i < 100 && answer === undefined; i++)
    answer = await engine.query('SELECT 3 AS three').then(
      (result) => result.rows,
      async () => new Promise((resolve) => setTimeout(resolve, 100)),
    );
  expect(answer).toEqual([[3]]);
  expect(engineProcesses().filter((pid) => !others.has(pid))).not.toContain(ended);
}

describe('an engine process that answers nothing while a query runs in it', () => {
  it('is ended, its query fails with QUERY_ENGINE_CRASHED saying so, and the next query gets a fresh one', {
    timeout: 120_000,
  }, async () => {
    // Stopped (SIGSTOP), it left the query waiting for good: curl gave up after 30 s.
    const { dir, cleanup } = tempDir();
    const others = new Set(engineProcesses());
    const lines: { level: number; msg: string }[] = [];
    const engine = await createQueryProcess({
      config: testConfig(dir, { query: { threads: 1 } }),
      layout: dataLayout(dir),
      logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
      unresponsiveMs: 1_000,
    });
    try {
      const [stopped] = engineProcesses().filter((pid) => !others.has(pid));
      if (stopped === undefined) throw new Error('no query engine process');
      // A query that answers at once runs while the process answers pings, and ends no process.
      expect((await engine.query('SELECT 1 AS one')).rows).toEqual([[1]]);
      process.kill(stopped, 'SIGSTOP');
      const error = await engine.query('SELECT 2 AS two').catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'QUERY_ENGINE_CRASHED',
        message: expect.stringMatching(
          /^The query engine's process answered nothing for \d+ s while this query ran/,
        ),
      });
      expect(lines.map((line) => line.msg)).toContainEqual(
        expect.stringContaining("the query engine's process answered nothing while queries ran in it"),
      );
      await expectFreshProcess(engine, others, stopped);
    } finally {
      engine.close();
      cleanup();
    }
  });
});

describe('a query stopped while DuckDB plans it, which it cannot interrupt', () => {
  it('fails with its time limit at once, saying why, and the next query gets a fresh process', {
    timeout: 120_000,
  }, async () => {
    // Expressions nested 900 deep: DuckDB plans them for 6–20 s here and hears an interrupt only
    // after, so the answer to a query past query.timeout_ms came that much late.
    const { dir, cleanup } = tempDir();
    const others = new Set(engineProcesses());
    const lines: { level: number; msg: string }[] = [];
    const engine = await createQueryProcess({
      config: testConfig(dir, { query: { threads: 1, timeout_ms: 300 } }),
      layout: dataLayout(dir),
      logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
      stuckMs: 500,
    });
    try {
      const [first] = engineProcesses().filter((pid) => !others.has(pid));
      if (first === undefined) throw new Error('no query engine process');
      const deep = `SELECT ${'('.repeat(900)}1${'+1)'.repeat(900)} AS n`;
      const error = await engine.query(deep).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'QUERY_TIMEOUT',
        message: expect.stringMatching(
          /^The query ran longer than query\.timeout_ms \(300 ms\).* DuckDB went on planning it regardless .* Write the expression flatter/,
        ),
      });
      expect(lines.map((line) => line.msg)).toContainEqual(
        expect.stringContaining("a query stopped in the query engine's process went on regardless"),
      );
      await expectFreshProcess(engine, others, first);
    } finally {
      engine.close();
      cleanup();
    }
  });

  it('is not ended for a query that stops when asked', { timeout: 60_000 }, async () => {
    const { dir, cleanup } = tempDir();
    const others = new Set(engineProcesses());
    const engine = await createQueryProcess({
      config: testConfig(dir, { query: { threads: 1, timeout_ms: 300 } }),
      layout: dataLayout(dir),
      logger: createSilentLogger(),
      // Seconds, not 500 ms: an interrupted scan on a busy machine (a load of 20 on 2 cores) took
      // longer than that to stop, and the process was ended as stuck.
      stuckMs: 3_000,
    });
    try {
      const [first] = engineProcesses().filter((pid) => !others.has(pid));
      const error = await engine.query('SELECT count(*) FROM range(100000000000)').catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'QUERY_TIMEOUT',
        message: expect.not.stringContaining('DuckDB went on'),
      });
      // Past stuckMs, when a stuck query's process is ended.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      expect((await engine.query('SELECT 4 AS four')).rows).toEqual([[4]]);
      expect(engineProcesses().filter((pid) => !others.has(pid))).toEqual([first]);
    } finally {
      engine.close();
      cleanup();
    }
  });
});

describe('an engine process signalled with the server (its process group)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'keeps running on %s: no warning, and it answers the next query',
    {
      timeout: 60_000,
    },
    async (signal) => {
      const { dir, cleanup } = tempDir();
      const warnings: string[] = [];
      const others = new Set(engineProcesses());
      const mine = () => engineProcesses().filter((pid) => !others.has(pid));
      const engine = await createQueryProcess({
        config: testConfig(dir),
        layout: dataLayout(dir),
        logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) }),
      });
      try {
        const [pid] = mine();
        process.kill(pid as number, signal);
        expect((await engine.query('SELECT 1 AS one')).rows).toEqual([[1]]);
        expect(mine()).toEqual([pid]);
        expect(warnings).toEqual([]);
      } finally {
        engine.close();
        cleanup();
      }
    },
  );
});
