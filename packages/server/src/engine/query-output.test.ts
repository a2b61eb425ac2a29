import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBPreparedStatement } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { holdingExport } from '../../test/holding-export.ts';
import type { InletConfigInput } from '../config/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createQueryEngine, type QueryEngine } from './index.ts';
import type { QueryOptions } from './query-types.ts';

let engine: QueryEngine;
const temp = tempDir();

beforeAll(async () => {
  const config = testConfig(join(temp.dir, 'data'), { timezone: 'Asia/Tokyo' });
  mkdirSync(dataLayout(config.data_dir).events, { recursive: true });
  engine = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
});
afterAll(() => {
  engine.close();
  temp.cleanup();
});

const streamed = (sql: string, opts: QueryOptions = {}) =>
  engine.stream(sql, opts, async ({ chunks }) => {
    const all: unknown[] = [];
    for await (const chunk of chunks) all.push(...chunk);
    return all;
  });

describe('query results', () => {
  it('follow the configured time zone, and write TIMESTAMPTZ values in it with their offset', async () => {
    const sql = `SELECT current_setting('TimeZone') AS tz,
      date_trunc('day', TIMESTAMPTZ '2026-12-03 20:00:00+00') AS day,
      TIMESTAMPTZ '2026-12-03 20:00:00.5+00' AS at,
      [TIMESTAMPTZ '2026-01-01 00:00:00+00'] AS list`;
    const expected = [
      'Asia/Tokyo',
      '2026-12-04 00:00:00+09',
      '2026-12-04 05:00:00.5+09',
      ['2026-01-01 09:00:00+09'],
    ];
    expect((await engine.query(sql)).rows).toEqual([expected]);
    expect(await streamed(sql)).toEqual([expected]);
  });

  it('name repeated columns apart, so no output keyed by name loses one', async () => {
    const result = await engine.query('SELECT 1 AS a, 2 AS a, 3 AS "a:1", 4 AS a');
    expect(result.columns.map((c) => c.name)).toEqual(['a', 'a:2', 'a:1', 'a:3']);
    const names = await engine.stream('SELECT 1 AS a, 2 AS a', {}, async ({ columns }) =>
      columns.map((c) => c.name),
    );
    expect(names).toEqual(['a', 'a:1']);
  });

  it('say which setting to change when a query runs out of memory, time or slots', async () => {
    // Read from prod.yaml, each said to raise the setting in inlet.yaml.
    const limited = async (query: Partial<InletConfigInput>['query']) => {
      const config = {
        ...testConfig(join(temp.dir, 'data'), { query }),
        configPath: join(temp.dir, 'prod.yaml'),
      };
      return createQueryEngine({ config, layout: dataLayout(config.data_dir) });
    };
    const small = await limited({ memory_limit: '64MB', threads: 1 });
    const hungry = 'SELECT range AS k, count(*) FROM range(10000000) GROUP BY k';
    try {
      for (const run of [() => small.query(hungry), () => small.stream(hungry, {}, async () => undefined)])
        await expect(run()).rejects.toMatchObject({
          code: 'QUERY_OUT_OF_MEMORY',
          status: 422,
          message: expect.stringMatching(
            /query\.memory_limit \(64MB\).*raise query\.memory_limit in prod\.yaml/,
          ),
        });
    } finally {
      small.close();
    }
    const quick = await limited({ timeout_ms: 50, max_concurrent: 1 });
    try {
      await expect(quick.query('SELECT count(*) FROM range(100000000000) a')).rejects.toMatchObject({
        code: 'QUERY_TIMEOUT',
        message: expect.stringContaining('raise query.timeout_ms in prod.yaml'),
      });
      const slow = Array.from({ length: 5 }, () =>
        quick.query('SELECT count(*) FROM range(100000000000) a').catch((error) => error),
      );
      await expect(quick.query('SELECT 1')).rejects.toMatchObject({
        code: 'QUERY_BUSY',
        message: expect.stringContaining('raise query.max_concurrent in prod.yaml'),
      });
      await Promise.all(slow);
    } finally {
      quick.close();
    }
  });

  it('give back the slot of a query whose connection could not be opened, so the next one runs', async () => {
    const config = testConfig(join(temp.dir, 'data'), { query: { max_concurrent: 1 } });
    const one = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
    // DuckDB refuses a connection only when out of memory or closing: no query can make it do so.
    const refused = vi
      .spyOn(DuckDBInstance.prototype, 'connect')
      .mockRejectedValueOnce(new Error('Out of Memory Error: could not allocate a connection'));
    try {
      await expect(one.query('SELECT 1')).rejects.toThrow('could not allocate a connection');
      expect(refused).toHaveBeenCalledTimes(1);
      // Kept by the query that failed, its slot left this one waiting in line for good.
      expect((await one.query('SELECT 2 AS n', { timeoutMs: 5_000 })).rows).toEqual([[2]]);
    } finally {
      refused.mockRestore();
      one.close();
    }
  });

  it('say to ask for fewer rows or CSV when the rows in hand leave no memory for DuckDB in its process', async () => {
    // In the query's process (query-process.ts) Node's rows and DuckDB's allocations share one cap.
    // When DuckDB is refused first, the stream ends part-way and the whole run that finds out why
    // is refused too: that said only to make one large value smaller, as if no rows were held.
    const refused = vi
      .spyOn(DuckDBPreparedStatement.prototype, 'runAndReadAll')
      .mockRejectedValueOnce(
        new Error('Out of Memory Error: failed to allocate data of size 32.0 MiB (bad allocation)'),
      );
    try {
      await expect(
        engine.query(
          "SELECT range, CASE WHEN range < 100000 THEN 'a' ELSE error('refused') END FROM range(200000)",
          { maxRows: 1_000_000 },
        ),
      ).rejects.toMatchObject({
        code: 'QUERY_OUT_OF_MEMORY',
        message: expect.stringMatching(
          /with [\d,]+ rows of its answer in hand.*fewer rows \(max_rows\).*CSV/,
        ),
      });
      expect(refused).toHaveBeenCalledTimes(1);
    } finally {
      refused.mockRestore();
    }
  });

  it('stop at the time limit a query is given, where it is less than query.timeout_ms', async () => {
    // What is left of its limit, after a query waited for queries run again after a crash
    // (query-process.ts); this engine's query.timeout_ms is a minute, twice the test's.
    await expect(
      engine.query('SELECT count(*) FROM range(100000000000) a', { timeoutMs: 200 }),
    ).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
  });

  it('say, in the note of rows cut at a shortened time limit, how long of it the query waited', {
    timeout: 60_000,
  }, async () => {
    // The rows below 300,000 flow at once; the last only when the scan of ten trillion rows is done.
    const sql = 'SELECT i FROM range(10000000000000) t(i) WHERE i < 300000 OR i = 9999999999999';
    // How many rows flow before DuckDB holds the rest back until its scan is done (8 s is well past
    // where its batches stop, even on a loaded machine: see cli/query.test.ts's TAIL_LIMIT_MS).
    let flowing = 0;
    await expect(
      engine.stream(sql, { timeoutMs: 8000 }, async ({ chunks }) => {
        for await (const chunk of chunks) flowing += chunk.length;
      }),
    ).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
    expect(flowing).toBeGreaterThan(0);
    // Given 8 s of this engine's minute, as a query is that waited 52 s for queries run again after a
    // crash (query-process.ts): its QUERY_TIMEOUT says so, and its note said nothing of it.
    const { stats } = await engine.query(sql, { timeoutMs: 8000, maxRows: flowing });
    expect(stats).toMatchObject({ rows: flowing, truncated: true });
    expect(stats.note).toMatch(
      /reached query\.timeout_ms \(60000 ms\) looking for more, so there may be none\. It waited 52000 ms of that, before it started, for queries run again after the query engine's process ended\.$/,
    );
  });

  it('give JSON columns as JSON: typed so, and their values parsed', async () => {
    const sql = `SELECT '{"plan":"pro","n":3}'::JSON AS properties, ['[1,2]'::JSON] AS list, NULL::JSON AS none`;
    const result = await engine.query(sql);
    expect(result.columns.map((c) => c.type)).toEqual(['JSON', 'JSON[]', 'JSON']);
    expect(result.rows).toEqual([[{ plan: 'pro', n: 3 }, [[1, 2]], null]]);
    expect(await streamed(sql)).toEqual(result.rows);
  });

  it('give a number inside JSON that a JavaScript number cannot hold as a string of its digits', async () => {
    const sql = `SELECT '{"order_id": 9007199254740993, "big": -1e400, "n": 1.10, "safe": 9007199254740991,
      "text": "12345678901234567890", "list": [12345678901234567890, 0.12345678901234567]}'::JSON AS j,
      '12345678901234567890'::JSON AS top`;
    const expected = [
      {
        order_id: '9007199254740993',
        big: '-1e400',
        n: 1.1,
        safe: 9007199254740991,
        text: '12345678901234567890',
        list: ['12345678901234567890', Number('0.12345678901234567')],
      },
      '12345678901234567890',
    ];
    expect((await engine.query(sql)).rows).toEqual([expected]);
    expect(await streamed(sql)).toEqual([expected]);
  });

  it('give JSON inside structs, arrays and maps as JSON too, typed as DuckDB types them', async () => {
    const sql = `SELECT {'p': '{"plan":"pro"}'::JSON, 'n': 1} AS s, ['[1]'::JSON, NULL]::JSON[2] AS a,
      MAP {'k': '{"a":1}'::JSON} AS m, {'x': ['2'::JSON]} AS deep`;
    const result = await engine.query(sql);
    expect(result.columns.map((c) => c.type)).toEqual([
      'STRUCT("p" JSON, "n" INTEGER)',
      'JSON[2]',
      'MAP(VARCHAR, JSON)',
      'STRUCT("x" JSON[])',
    ]);
    expect(result.rows).toEqual([
      [{ p: { plan: 'pro' }, n: 1 }, [[1], null], [{ key: 'k', value: { a: 1 } }], { x: [2] }],
    ]);
    expect(await streamed(sql)).toEqual(result.rows);
  });
  it('give JSON columns as their text when asked (jsonText), a JSON null apart from SQL NULL', async () => {
    // A CSV or a table writes a JSON value as its JSON text; parsed, the JSON null of
    // properties->'$.plan' was null as a missing key's SQL NULL is, and "a,b" lost its quotes.
    const sql = `SELECT 'null'::JSON AS j, NULL::JSON AS n, '"a,b"'::JSON AS s, '12'::JSON AS num,
      '{"a":  1}'::JSON AS o, '9007199254740993'::JSON AS big, ('{"x":null}'::JSON->'$.x') AS x,
      ['null'::JSON, NULL, '"b"'::JSON] AS l, {'f': '"c"'::JSON} AS st`;
    const expected = [
      'null',
      null,
      '"a,b"',
      '12',
      '{"a":  1}',
      '9007199254740993',
      'null',
      [null, null, 'b'],
      { f: 'c' },
    ];
    expect((await engine.query(sql, { jsonText: true })).rows).toEqual([expected]);
    expect(await streamed(sql, { jsonText: true })).toEqual([expected]);
    // Unasked, they come parsed, as JSON answers give them.
    expect((await engine.query(sql)).rows[0]?.slice(0, 6)).toEqual([
      null,
      null,
      'a,b',
      12,
      { a: 1 },
      '9007199254740993',
    ]);
  });
});

describe('infinite timestamps', () => {
  it('of every precision are written infinity and -infinity, not as dates far off', async () => {
    const sql = `SELECT '-infinity'::TIMESTAMP_NS AS ns, 'infinity'::TIMESTAMP_NS AS ns2,
      'infinity'::TIMESTAMP_MS AS ms, '-infinity'::TIMESTAMP_MS AS ms2,
      'infinity'::TIMESTAMP_S AS s, '-infinity'::TIMESTAMP_S AS s2,
      ['infinity'::TIMESTAMP_NS] AS list, TIMESTAMP_NS '2026-01-01 00:00:00.123456789' AS finite`;
    const expected = [
      '-infinity',
      'infinity',
      'infinity',
      '-infinity',
      'infinity',
      '-infinity',
      ['infinity'],
      '2026-01-01 00:00:00.123456789',
    ];
    expect((await engine.query(sql)).rows).toEqual([expected]);
    expect(await streamed(sql)).toEqual([expected]);
  });
});

describe('intervals', () => {
  it('are written as DuckDB writes them (1 day, -00:05:00), not as an object of months, days and micros', async () => {
    const sql = `SELECT INTERVAL 1 DAY AS a, INTERVAL '1 year 2 months 3 seconds' AS b, INTERVAL (-5) MINUTE AS c,
      [INTERVAL 90 MINUTE] AS list, age(TIMESTAMP '2026-12-04', TIMESTAMP '2026-12-01 12:00') AS d`;
    const expected = ['1 day', '1 year 2 months 00:00:03', '-00:05:00', ['01:30:00'], '2 days 12:00:00'];
    expect((await engine.query(sql)).rows).toEqual([expected]);
    expect(await streamed(sql)).toEqual([expected]);
  });
});

describe('struct fields named __proto__', () => {
  it('are kept as fields of the answer, or refused with why, never dropped or a crash', async () => {
    // A source's JSON turned into a struct can hold any key; the bindings gather fields in a
    // plain object, where this name sets the object's prototype.
    const sql = `SELECT {'__proto__': {'a': 1}, 'b': 2} AS s, {'__proto__': NULL::INT, 'c': 3} AS n,
      [{'__proto__': [1, 2]}] AS list, '{"__proto__": {"x": 1}}'::JSON AS j`;
    const result = await engine.query(sql);
    expect(JSON.stringify(result.rows)).toBe(
      '[[{"__proto__":{"a":1},"b":2},{"__proto__":null,"c":3},[{"__proto__":[1,2]}],{"__proto__":{"x":1}}]]',
    );
    expect(JSON.stringify(await streamed(sql))).toBe(JSON.stringify(result.rows));
    // A union's member of that name: the bindings' lookup of its type found the prototype (a 500).
    const union = `SELECT union_value("__proto__" := 1)::UNION("__proto__" INT, b VARCHAR) AS u,
      [union_value(b := 'x')::UNION("__proto__" INT, b VARCHAR)] AS list`;
    const expected = [[{ tag: '__proto__', value: 1 }, [{ tag: 'b', value: 'x' }]]];
    expect((await engine.query(union)).rows).toEqual(expected);
    expect(await streamed(union)).toEqual(expected);
    // Inside a VARIANT, the bindings' walker read such a struct's prototype as a field (a 500,
    // "Unsupported type: ANY") or dropped the field.
    const variant = `SELECT {'__proto__': {'x': 1}, 'b': 2}::VARIANT AS s, {'__proto__': [1, 2]}::VARIANT AS l,
      {'__proto__': NULL::INT, 'b': 2}::VARIANT AS n, [{'a': 1.5}::VARIANT, 'x'::VARIANT] AS plain`;
    // The bindings keep no place for that field among the others: it comes last.
    const variants =
      '[[{"b":2,"__proto__":{"x":1}},{"__proto__":[1,2]},{"b":2,"__proto__":null},[{"a":"1.5"},"x"]]]';
    expect(JSON.stringify((await engine.query(variant)).rows)).toBe(variants);
    expect(JSON.stringify(await streamed(variant))).toBe(variants);
    // A number or text under that name is dropped by the bindings before inlet sees it.
    await expect(engine.query(`SELECT {'__proto__': 1, 'b': 2} AS s`)).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringContaining('__proto__'),
    });
  });
});

describe('dates and timestamps before year 1', () => {
  it('are written as DuckDB writes them, 1 BC too, not as a year 0000 no calendar has', async () => {
    // The Node bindings count years from year 1 back by one, except year 0 (1 BC), which they wrote
    // as 0000; each value is compared with DuckDB's own text of it.
    const bc = "DATE '0001-12-31 (BC)'";
    const values = [
      bc,
      "DATE '0001-01-01 (BC)'",
      "DATE '0044-03-15 (BC)'",
      "'-0044-03-15'::DATE",
      "DATE 'infinity'",
      "DATE '-infinity'",
      `${bc}::TIMESTAMP + INTERVAL '23:59:59.5'`,
      "DATE '0044-03-15 (BC)'::TIMESTAMP + INTERVAL 12 HOUR",
      "TIMESTAMP '-infinity'",
      `${bc}::TIMESTAMP::TIMESTAMP_S`,
      `(${bc}::TIMESTAMP + INTERVAL 5 MILLISECOND)::TIMESTAMP_MS`,
    ];
    const sql = `SELECT ${values.map((value, i) => `${value} AS v${i}, (${value})::VARCHAR AS t${i}`).join(', ')},
      [${bc}] AS list, {'at': ${bc}::TIMESTAMP} AS struct`;
    for (const rows of [(await engine.query(sql)).rows, await streamed(sql)]) {
      const row = rows[0] as unknown[];
      expect(values.map((_, i) => row[2 * i])).toEqual(values.map((_, i) => row[2 * i + 1]));
      expect(row.slice(-2)).toEqual([['0001-12-31 (BC)'], { at: '0001-12-31 (BC) 00:00:00' }]);
    }
  });

  it('with a time zone keep (BC) on the date, before the time and its offset', async () => {
    const sql = `SELECT (DATE '0001-12-31 (BC)'::TIMESTAMP + INTERVAL 12 HOUR)::TIMESTAMPTZ AS a,
      TIMESTAMPTZ 'infinity' AS b, TIMESTAMPTZ '-infinity' AS c`;
    // Asia/Tokyo's offset then was its local mean time, +09:18:59.
    const expected = ['0001-12-31 (BC) 12:00:00+09:18:59', 'infinity', '-infinity'];
    expect((await engine.query(sql)).rows).toEqual([expected]);
    expect(await streamed(sql)).toEqual([expected]);
  });
});

describe('TIMESTAMPTZ values beyond the range of a JavaScript Date', () => {
  it('are written in the configured time zone as DuckDB writes them, not in UTC', async () => {
    // Past year 275760 DuckDB keeps to the zone's present rules, daylight saving time included.
    const dataDir = join(temp.dir, 'new-york');
    const config = testConfig(dataDir, { timezone: 'America/New_York' });
    mkdirSync(dataLayout(dataDir).events, { recursive: true });
    const newYork = await createQueryEngine({ config, layout: dataLayout(dataDir) });
    try {
      const values = [
        '2026-07-01 00:00:00',
        '275761-01-01 00:00:00',
        '294000-01-01 12:34:56.5',
        '294000-07-01 00:00:00',
        '294247-01-01 00:00:00',
      ];
      const sql = `SELECT ${values.map((at, i) => `TIMESTAMPTZ '${at}+00' AS v${i}, TIMESTAMPTZ '${at}+00'::VARCHAR AS t${i}`).join(', ')}`;
      const row = (await newYork.query(sql)).rows[0] as unknown[];
      expect(values.map((_, i) => row[2 * i])).toEqual(values.map((_, i) => row[2 * i + 1]));
      expect(row[6]).toBe('294000-06-30 20:00:00-04');
    } finally {
      newYork.close();
    }
    // Before year -271821, the zone's first offset: Asia/Tokyo's local mean time, its seconds kept.
    const sql = `SELECT TIMESTAMPTZ '294000-07-01 00:00:00+00' AS future, TIMESTAMPTZ '-290000-01-01 00:00:00+00' AS past`;
    const expected = ['294000-07-01 09:00:00+09', '290001-01-01 (BC) 09:18:59+09:18:59'];
    expect((await engine.query(sql)).rows).toEqual([expected]);
    expect(await streamed(sql)).toEqual([expected]);
  });
});

describe('FLOAT values', () => {
  it('are written as the shortest number that is that float, as DuckDB writes them, not widened', async () => {
    // Widened to a double, a REAL column's 0.1 came out as 0.10000000149011612.
    const values = ['0.1', '3.4e38', '-2.5e-7', '16777217', '1.17549435e-38', '123.456', '1e-45', '0'];
    const sql = `SELECT ${values.map((v, i) => `(${v})::FLOAT AS f${i}, (${v})::FLOAT::VARCHAR AS t${i}`).join(', ')},
      [0.1::FLOAT] AS list, 'nan'::FLOAT AS nan`;
    for (const rows of [(await engine.query(sql)).rows, await streamed(sql)]) {
      const row = rows[0] as unknown[];
      expect(values.map((_, i) => row[2 * i])).toEqual(values.map((_, i) => Number(row[2 * i + 1])));
      expect(row.slice(-2)).toEqual([[0.1], 'NaN']);
    }
  });
});

describe('an export that ends before its scan does', () => {
  it('leaves DuckDB scanning nothing once it has ended', async () => {
    // The rows below 300,000 flow at once; the last only when the scan of ten billion rows is done.
    const sql = 'SELECT i FROM range(10000000000) t(i) WHERE i < 300000 OR i = 9999999999';
    const config = testConfig(join(temp.dir, 'data'), { query: { timeout_ms: 3000 } });
    const timed = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
    try {
      // How many rows flow before DuckDB holds the rest back until its scan is done.
      let flowing = 0;
      await expect(
        timed.stream(sql, {}, async ({ chunks }) => {
          for await (const chunk of chunks) flowing += chunk.length;
        }),
      ).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
      expect(flowing).toBeGreaterThan(0);
      // An export of exactly those rows (max_rows, or a client gone) ends while DuckDB scans on for
      // the next chunk. That scan went on, a core busy, after the connection was closed (the result
      // DuckDB's bindings leave to the garbage collector kept its context alive), and whenever the
      // collector came to the result, the main thread waited for the scan to end: inlet query
      // stood still for over a minute in a test on a busy machine.
      const written = await timed.stream(sql, {}, async ({ chunks }) => {
        let rows = 0;
        for await (const chunk of chunks) {
          rows += chunk.length;
          if (rows >= flowing) break;
        }
        return rows;
      });
      expect(written).toBe(flowing);
      const before = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const used = process.cpuUsage(before);
      // CPU time, not wall time: an idle process uses next to none however busy the machine is,
      // and the scan left running used about a second of it in that second.
      expect((used.user + used.system) / 1000).toBeLessThan(300);
    } finally {
      timed.close();
    }
  });
});

describe('an answer or export that ends before its result does', () => {
  it('gives back the memory its query held, so the next query fits', async () => {
    const config = testConfig(join(temp.dir, 'data'), { query: { memory_limit: '64MB', threads: 1 } });
    const small = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
    // A million groups take most of 64MB, and are held while their rows are read out.
    const groups = 'SELECT range AS k, count(*) AS n FROM range(1000000) GROUP BY k';
    const count = `SELECT count(*) AS n FROM (${groups})`;
    try {
      expect((await small.query(count)).rows).toEqual([['1000000']]);
      // Its first rows only: an export stopped at the request's max_rows (or its client gone), and
      // a JSON answer cut off at max_rows. The next query failed QUERY_OUT_OF_MEMORY after either,
      // the groups held until the garbage collector came to the result.
      await small.stream(groups, {}, async ({ chunks }) => {
        for await (const _ of chunks) break;
      });
      expect((await small.query(count)).rows).toEqual([['1000000']]);
      expect((await small.query(groups, { maxRows: 10 })).stats.truncated).toBe(true);
      expect((await small.query(count)).rows).toEqual([['1000000']]);
    } finally {
      small.close();
    }
  });
});

/** A million groups take most of 64MB. */
const groups = (n: number) => `SELECT range AS k, count(*) AS n FROM range(${n}) GROUP BY k`;

/** Two queries at a time, which share 64MB. */
const twoQueriesIn64MB = (query: { timeout_ms?: number } = {}) =>
  testConfig(join(temp.dir, 'data'), {
    query: { memory_limit: '64MB', threads: 1, max_concurrent: 2, ...query },
  });

describe('a query that ran out of memory beside another', () => {
  it('runs once more alone, once the other is done, and answers; one too large alone says so', {
    timeout: 60_000,
  }, async () => {
    const config = twoQueriesIn64MB();
    let toldAlone: () => void = () => {};
    const shared = await createQueryEngine({
      config,
      layout: dataLayout(config.data_dir),
      onRunAlone: () => toldAlone(),
    });
    /** The query failed, as it did before, or is to run once more alone. */
    const failedOnce = (answer: Promise<unknown>) =>
      Promise.race([
        answer.catch(() => undefined),
        new Promise<void>((resolve) => {
          toldAlone = resolve;
        }),
      ]);
    const holding = () => holdingExport(shared);
    try {
      // Alone, the same query fits.
      expect((await shared.query(`SELECT count(*) AS n FROM (${groups(1_000_000)})`)).rows).toEqual([
        ['1000000'],
      ]);
      for (const run of [
        () => shared.query(`SELECT count(*) AS n FROM (${groups(1_000_000)})`).then((r) => r.rows),
        () =>
          shared.stream(`SELECT count(*) AS n FROM (${groups(1_000_000)})`, {}, async ({ chunks }) => {
            const rows: unknown[] = [];
            for await (const chunk of chunks) rows.push(...chunk);
            return rows;
          }),
      ]) {
        const other = await holding();
        // It failed with QUERY_OUT_OF_MEMORY at once before, the memory it needed held by the export.
        const answer = run();
        await failedOnce(answer);
        other.release();
        await other.done;
        expect(await answer).toEqual([['1000000']]);
      }
      // Too large alone too: the error says it was run alone, and names the setting.
      const other = await holding();
      const tooLarge = shared.query(`SELECT count(*) AS n FROM (${groups(3_000_000)})`);
      await failedOnce(tooLarge);
      other.release();
      await other.done;
      await expect(tooLarge).rejects.toMatchObject({
        code: 'QUERY_OUT_OF_MEMORY',
        message: expect.stringMatching(/query\.memory_limit \(64MB\)[\s\S]*run once more alone/),
      });
    } finally {
      shared.close();
    }
  });

  it('is cancelled by its query_id as it is about to run once more alone', {
    timeout: 60_000,
  }, async () => {
    const config = twoQueriesIn64MB();
    let cancelled: boolean | undefined;
    const shared: QueryEngine = await createQueryEngine({
      config,
      layout: dataLayout(config.data_dir),
      onRunAlone: (_error, id) => {
        cancelled = shared.cancel(id ?? '');
      },
    });
    try {
      const other = await holdingExport(shared);
      const answer = shared.query(`SELECT count(*) AS n FROM (${groups(1_000_000)})`, { id: 'between' });
      // Between its two runs no query was under its id: the cancel found none, and it ran again.
      const settled = answer.then(
        () => 'answered',
        (error: { code?: string }) => error.code,
      );
      while (cancelled === undefined) await Promise.race([settled, new Promise((r) => setTimeout(r, 10))]);
      other.release();
      await other.done;
      expect(cancelled).toBe(true);
      expect(await settled).toBe('QUERY_CANCELLED');
    } finally {
      shared.close();
    }
  });

  it('does not hold new queries up while an export beside it is not read: it gives up after a while', {
    timeout: 60_000,
  }, async () => {
    const config = twoQueriesIn64MB({ timeout_ms: 20_000 });
    let toldAlone = false;
    const shared = await createQueryEngine({
      config,
      layout: dataLayout(config.data_dir),
      aloneWaitMs: 200,
      onRunAlone: () => {
        toldAlone = true;
      },
    });
    try {
      // A client that stopped reading its export: nothing else started until the export's time limit
      // cut it off, every query waiting behind the one to run alone.
      const other = await holdingExport(shared);
      let exportEnded = false;
      const exported = other.done.finally(() => {
        exportEnded = true;
      });
      const tooMuch = shared.query(`SELECT count(*) AS n FROM (${groups(1_000_000)})`);
      const settled = tooMuch.catch((error: unknown) => error);
      while (!toldAlone) await Promise.race([settled, new Promise((r) => setTimeout(r, 10))]);
      expect((await shared.query('SELECT 42 AS n')).rows).toEqual([[42]]);
      expect(exportEnded).toBe(false);
      expect(await settled).toMatchObject({
        code: 'QUERY_OUT_OF_MEMORY',
        message: expect.stringMatching(/still running[\s\S]*retry it in a moment/),
      });
      other.release();
      await exported;
    } finally {
      shared.close();
    }
  });
});
