import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { holdingExport, MILLION_GROUPS } from '../../test/holding-export.ts';
import { engineProcesses } from '../../test/inlet-process.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createQueryProcess } from './index.ts';

describe('an answer larger than the engine’s process may hold', () => {
  /** A process limited as the server's is (query.memory_limit 64MB, one query at a time). */
  const smallProcess = (dir: string, script?: URL) =>
    createQueryProcess({
      config: testConfig(dir, {
        query: { memory_limit: '64MB', max_concurrent: 1, threads: 1, max_rows: 1_000_000 },
      }),
      layout: dataLayout(dir),
      logger: createSilentLogger(),
      script,
    });

  /** Node in that process, not DuckDB, runs out of the limited memory as it holds ~190 MB of JSON rows. */
  const tooLarge = async (engine: Awaited<ReturnType<typeof smallProcess>>) => {
    await expect(engine.query("SELECT range, repeat('x', 200) FROM range(900000)")).rejects.toMatchObject({
      code: 'QUERY_OUT_OF_MEMORY',
      message: expect.stringMatching(/fewer rows \(max_rows\).*CSV/),
    });
    expect((await engine.query('SELECT 1 AS one')).rows).toEqual([[1]]);
  };

  it('fails with QUERY_OUT_OF_MEMORY saying how to get the rows, and the next query runs', {
    timeout: 180_000,
  }, async () => {
    // It ends the process, which was a QUERY_ENGINE_CRASHED ("retry") before.
    const { dir, cleanup } = tempDir();
    const engine = await smallProcess(dir);
    try {
      await tooLarge(engine);
    } finally {
      engine.close();
      cleanup();
    }
  });

  it('answers in a process that holds address space at rest it does not use, as Node 24 does', {
    timeout: 180_000,
  }, async () => {
    // Node 24 reserves 512 MB writable for V8's code at start, which the data limit counts: a limit
    // of the cap alone was passed before the first query, refused as LAKE_UNREADABLE. This process
    // reserves 600 MB (an ArrayBuffer never written) on any Node, then starts the engine as usual.
    const { dir, cleanup } = tempDir();
    const script = join(dir, 'reserves.mjs');
    writeFileSync(
      script,
      `globalThis.reserved = new ArrayBuffer(600 * 2 ** 20);\nawait import(${JSON.stringify(new URL('./query-process-boot.js', import.meta.url).href)});\n`,
    );
    const engine = await smallProcess(dir, pathToFileURL(script));
    try {
      expect((await engine.query('SELECT 1 AS one')).rows).toEqual([[1]]);
      // The limit still holds: a value of a gigabyte is refused in its query. (Not the large JSON
      // answer above: with 600 MB of ArrayBuffer held, V8 collects garbage sooner, and on Node 22
      // that answer fit.)
      await expect(engine.query("SELECT length(repeat('x', 1000000000)) AS n")).rejects.toMatchObject({
        code: 'QUERY_OUT_OF_MEMORY',
      });
      expect((await engine.query('SELECT 2 AS two')).rows).toEqual([[2]]);
    } finally {
      engine.close();
      cleanup();
    }
  });
});

describe('a machine where the memory of the engine’s process cannot be limited', () => {
  it('stops the process past its cap as before, saying so once in the log', {
    timeout: 180_000,
  }, async () => {
    const { dir, cleanup } = tempDir();
    const warnings: string[] = [];
    const engine = await createQueryProcess({
      config: testConfig(dir, { query: { memory_limit: '64MB', max_concurrent: 2, threads: 1 } }),
      layout: dataLayout(dir),
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) }),
      prlimit: join(dir, 'no-prlimit-here'),
    });
    try {
      expect(warnings).toEqual([
        expect.stringMatching(/memory cannot be limited .*Install util-linux \(prlimit\)/),
      ]);
      for (let i = 0; i < 2; i++) {
        await expect(engine.query("SELECT length(repeat('x', 1000000000)) AS n")).rejects.toMatchObject({
          code: 'QUERY_OUT_OF_MEMORY',
          message: expect.stringMatching(/more than its cap of \d+ MB .* and was stopped/),
        });
        // A fresh process answers the next query, and the log does not say it again.
        expect((await engine.query('SELECT 1 AS one')).rows).toEqual([[1]]);
      }
      expect(warnings.filter((line) => /cannot be limited/.test(line))).toHaveLength(1);
    } finally {
      engine.close();
      cleanup();
    }
  });
});

describe('a query that ran out of memory beside another in the engine’s process', () => {
  it('runs once more alone and answers, and the log names it and says why', {
    timeout: 120_000,
  }, async () => {
    // The server's log said nothing of it, where a crash's queries run again are logged.
    const { dir, cleanup } = tempDir();
    const lines: { level: number; msg: string; query_id?: string; error?: string }[] = [];
    const engine = await createQueryProcess({
      config: testConfig(dir, { query: { memory_limit: '64MB', threads: 1, max_concurrent: 2 } }),
      layout: dataLayout(dir),
      logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
      // Not ALONE_WAIT_MS: the warning says how long the engine's process waits, which said 5 s always.
      aloneWaitMs: 60_000,
    });
    const told = () => lines.find((line) => /runs once more, alone/.test(line.msg));
    try {
      // An export paused after its first rows holds most of 64MB: the query beside it runs out.
      const { release, done: holding } = await holdingExport(engine);
      const answer = engine.query(`SELECT count(*) AS n FROM (${MILLION_GROUPS})`, {
        id: 'beside-the-export',
      });
      while (told() === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await holding;
      expect((await answer).rows).toEqual([['1000000']]);
      expect(told()).toMatchObject({
        level: 40,
        query_id: 'beside-the-export',
        error: expect.stringMatching(/query\.memory_limit/),
        msg: expect.stringMatching(
          /ran out of query\.memory_limit beside other queries.*still running after 60 s, it gives up/,
        ),
      });
    } finally {
      engine.close();
      cleanup();
    }
  });
});

describe('an idle engine process that keeps the memory of a large answer', () => {
  // A rule far smaller than the server's own (RECYCLE): 1 MB over rest, which the first query's own
  // allocations and the DuckDB code it touched pass for sure (16 MB failed once on a loaded machine,
  // the process having given back most of a ~40 MB answer in time).
  const recycle = { aboveBytes: 2 ** 20, forMs: 200, everyMs: 50 };
  const largeAnswer = "SELECT range, repeat('x', 200) FROM range(200000)";

  /** An engine under `rule`, counting its recycles and unasked exits, and its own processes (mine). */
  const recyclingEngine = async (dir: string, rule: typeof recycle, logger = createSilentLogger()) => {
    const others = new Set(engineProcesses());
    const counts = { recycled: 0, ended: 0 };
    const engine = await createQueryProcess({
      config: testConfig(dir, { query: { max_rows: 1_000_000, threads: 1 } }),
      layout: dataLayout(dir),
      logger,
      recycle: rule,
      onRecycle: () => {
        counts.recycled += 1;
      },
      onExit: () => {
        counts.ended += 1;
      },
    });
    return { engine, counts, mine: () => engineProcesses().filter((pid) => !others.has(pid)) };
  };

  it('is replaced by a fresh one, quietly, and the next query runs in it', { timeout: 180_000 }, async () => {
    const { dir, cleanup } = tempDir();
    const lines: { level: number; msg: string }[] = [];
    const { engine, counts, mine } = await recyclingEngine(
      dir,
      recycle,
      pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
    );
    try {
      const [before] = mine();
      expect((await engine.query(largeAnswer)).rows).toHaveLength(200_000);
      for (let i = 0; i < 600 && counts.recycled === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(counts.recycled).toBe(1);
      expect((await engine.query('SELECT 1 AS one')).rows).toEqual([[1]]);
      expect(mine()).not.toContain(before);
      expect(mine()).toHaveLength(1);
      expect(counts.ended).toBe(0);
      expect(lines.filter((line) => line.level >= 40)).toEqual([]);
      expect(lines.map((line) => line.msg)).toContainEqual(
        expect.stringMatching(/kept \d+ MB after its queries \(\d+ MB at rest\).*a fresh one replaces it/),
      );
    } finally {
      engine.close();
      cleanup();
    }
  });

  it('is not replaced while an export runs in it', { timeout: 180_000 }, async () => {
    const { dir, cleanup } = tempDir();
    const { engine, counts, mine } = await recyclingEngine(dir, { ...recycle, aboveBytes: 0 });
    try {
      const [before] = mine();
      let rows = 0;
      await engine.stream(largeAnswer, {}, async (stream) => {
        for await (const chunk of stream.chunks) {
          rows += chunk.length;
          // Many times the rule's period with the export open (and the process above its rest).
          if (rows === chunk.length) await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
      });
      expect(rows).toBe(200_000);
      expect(counts.recycled).toBe(0);
      expect(mine()).toEqual([before]);
    } finally {
      engine.close();
      cleanup();
    }
  });
});
