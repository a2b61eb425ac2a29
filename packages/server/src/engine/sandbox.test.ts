import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { dataLayout, writeLakeTable } from '../lake/index.ts';
import { createQueryEngine, type QueryEngine } from './index.ts';

let engine: QueryEngine;
let outside: string;
const temp = tempDir();

beforeAll(async () => {
  const config = testConfig(join(temp.dir, 'data'));
  mkdirSync(dataLayout(config.data_dir).events, { recursive: true });
  outside = join(temp.dir, 'secret.csv');
  writeFileSync(outside, 'password\nhunter2\n');
  engine = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
});
afterAll(() => {
  engine.close();
  temp.cleanup();
});

describe('sandbox', () => {
  const lake = () => join(temp.dir, 'data', 'lake');
  const hostile = () => [
    `SELECT * FROM read_csv('${outside}')`,
    `SELECT * FROM '${outside}'`,
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    `SELECT * FROM glob('${lake()}/**')`,
    `COPY (SELECT 1) TO '${lake()}/x.csv'`,
    `COPY (SELECT 1) TO '/tmp/inlet-x.csv'`,
    `EXPORT DATABASE '${lake()}/export'`,
    "ATTACH ':memory:' AS other",
    "ATTACH '/tmp/inlet-x.duckdb' AS other",
    'INSTALL httpfs',
    'LOAD httpfs',
    'SET threads = 64',
    "SET memory_limit = '100GB'",
    'RESET enable_external_access',
    'PRAGMA database_list',
    "PRAGMA enable_profiling='json'",
    'CREATE TABLE t AS SELECT 1',
    'CREATE VIEW v AS SELECT 1',
    'DROP VIEW events',
    "INSERT INTO events (event_id) VALUES ('x')",
    'SELECT 1; SELECT 2',
    "SELECT * FROM query('SELECT 1')",
    "SELECT getenv('HOME')",
    'CALL pragma_version()',
    "EXPLAIN ANALYZE SELECT * FROM read_text('/etc/passwd')",
    '/* header */ EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1',
    "-- header\nEXPLAIN ANALYZE SELECT * FROM read_text('/etc/passwd')",
    '-- a\rEXPLAIN ANALYZE CREATE TABLE t AS\nSELECT 1',
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    'CHECKPOINT',
    // EXPLAIN's options before a statement that is not a read.
    `EXPLAIN (ANALYZE, FORMAT JSON) COPY (SELECT 1) TO '${lake()}/x.csv'`,
    "EXPLAIN (FORMAT JSON, ANALYZE) SELECT * FROM read_text('/etc/passwd')",
    // A string in the list whose ")" would end it for a regex but not for DuckDB, which ignores
    // ANALYZE's value and would run the COPY.
    `EXPLAIN (ANALYZE 'x) SELECT 1 --') COPY (SELECT 1) TO '${lake()}/x.csv'`,
    `EXPLAIN (ANALYZE /* ) SELECT 1 -- */) COPY (SELECT 1) TO '${lake()}/x.csv'`,
    // Table functions that change the instance for every later query (lock_configuration does not
    // stop them), write files, or run SQL given as text past these checks.
    "SELECT * FROM enable_logging('QueryLog')",
    `SELECT * FROM enable_logging(storage := 'file', storage_path := '${lake()}/logs')`,
    'FROM system.main.disable_peg_parser()',
    'SELECT * FROM range(3) r, enable_profiling() p',
    'SELECT (SELECT count(*) FROM truncate_duckdb_logs())',
    "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 42'))",
    'EXPLAIN ANALYZE SELECT * FROM enable_logging()',
  ];

  it('refuses every hostile statement with a clear 400', async () => {
    for (const sql of hostile()) {
      const error = await engine.query(sql).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, sql).toMatchObject({ status: 400 });
      expect((error as { code: string }).code, sql).toMatch(/QUERY_NOT_ALLOWED|QUERY_INVALID/);
    }
    expect(existsSync(join(lake(), 'logs'))).toBe(false);
    expect((await engine.query("SELECT current_setting('enable_logging') AS on")).rows).toEqual([[0]]);
  });

  it('binds no statement but a read: EXPORT DATABASE made its directory, in the lake or the WAL, before it was refused', async () => {
    // A directory named as the WAL's next segment stopped the collector (503 WAL_UNAVAILABLE, EISDIR).
    const layout = dataLayout(join(temp.dir, 'data'));
    mkdirSync(layout.walEvents, { recursive: true });
    const targets = [join(lake(), 'exported'), join(layout.walEvents, '0000000000000042.log')];
    for (const target of targets)
      for (const sql of [
        `EXPORT DATABASE '${target}'`,
        `-- keep\nEXPORT DATABASE '${target}' (FORMAT parquet)`,
        `COPY (SELECT 1 AS a, 2 AS b) TO '${target}' (FORMAT parquet, PARTITION_BY (a))`,
        `EXPLAIN COPY (SELECT 1 AS a, 2 AS b) TO '${target}' (FORMAT parquet, PARTITION_BY (a))`,
      ])
        await expect(engine.query(sql), sql).rejects.toMatchObject({
          code: 'QUERY_NOT_ALLOWED',
          message: expect.stringMatching(/^(EXPORT|COPY) statements are not allowed/),
        });
    for (const target of targets) expect(existsSync(target), target).toBe(false);
  });

  it('refuses IMPORT DATABASE, which DuckDB reads while it splits the text, as not allowed', async () => {
    // It was a QUERY_INVALID of "Failed to extract statements: Permission Error: …" outside the lake,
    // and in it (a directory DuckDB may read, with no schema.sql) a 503 QUERY_BUSY saying files of
    // the lake went away and to retry, which never helps.
    for (const sql of [
      `IMPORT DATABASE '${temp.dir}'`,
      `IMPORT DATABASE '${lake()}'`,
      `-- restore\nimport database '${join(lake(), 'events')}'`,
    ])
      await expect(engine.query(sql), sql).rejects.toMatchObject({
        code: 'QUERY_NOT_ALLOWED',
        message: `IMPORT statements are not allowed. Only SELECT, WITH, EXPLAIN, DESCRIBE, SHOW and SUMMARIZE are allowed.`,
      });
  });

  it('allows reads: SELECT, WITH, EXPLAIN, DESCRIBE, SHOW, SUMMARIZE', async () => {
    for (const sql of [
      'SELECT 1',
      'WITH a AS (SELECT 1 x) SELECT * FROM a',
      'EXPLAIN SELECT * FROM events',
      'DESCRIBE events',
      'SHOW TABLES',
      'SUMMARIZE SELECT 1 AS x',
      'FROM range(3)',
      'FROM generate_series(1, 3)',
      'SELECT * FROM unnest([1, 2])',
      "FROM json_each('[1]')",
      'FROM duckdb_columns()',
      'SELECT * FROM information_schema.columns',
      "PIVOT (SELECT 1 AS a, 'x' AS b) ON b IN ('x') USING sum(a)",
      // An editor's header comment before EXPLAIN.
      '/* weekly report */ EXPLAIN SELECT * FROM events',
      '-- why is this slow?\n  EXPLAIN ANALYZE SELECT count(*) FROM events',
      // Options, as Metabase and plan visualisers send them.
      'EXPLAIN (FORMAT JSON) SELECT * FROM events',
      "explain (format 'json') select 1",
      'EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM events',
      'EXPLAIN (FORMAT JSON) (SELECT 1)',
      'EXPLAIN (SELECT 1)',
    ]) {
      await expect(engine.query(sql), sql).resolves.toMatchObject({ columns: expect.any(Array) });
    }
  });

  it('runs a query whose numeric literal overflows a double (1e400), and still checks its functions', async () => {
    // json_serialize_sql writes such a literal as a bare Infinity, which is not JSON: the check
    // failed to parse its tree and the query ended as an error inlet did not foresee (a 500).
    const result = await engine.query("SELECT 1e400 AS a, -1e400 AS b, 'Infinity' AS c");
    expect(result.rows).toEqual([['Infinity', '-Infinity', 'Infinity']]);
    await expect(engine.query('SELECT 1e400 AS a FROM enable_profiling()')).rejects.toMatchObject({
      code: 'QUERY_NOT_ALLOWED',
    });
  });

  it('answers EXPLAIN (FORMAT JSON) with the plan as JSON, and says how to write options it cannot read', async () => {
    const plan = await engine.query('EXPLAIN (FORMAT JSON) SELECT count(*) FROM events');
    expect(plan.rows[0]?.[0]).toBe('physical_plan');
    expect(JSON.parse(String(plan.rows[0]?.[1]))).toEqual(expect.any(Array));
    await expect(
      engine.query('EXPLAIN (FORMAT JSON /* for the visualiser */) SELECT 1'),
    ).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringContaining('EXPLAIN (FORMAT JSON) SELECT'),
    });
  });

  it('says how to write a header comment it cannot read past before EXPLAIN, not that EXPLAIN is not allowed', async () => {
    // A block comment holding another /* (DuckDB nests them) was "EXPLAIN statements are not allowed".
    await expect(engine.query('/* see /* below */ */ EXPLAIN SELECT 1')).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringMatching(/^EXPLAIN is found here after line comments/),
    });
  });

  it("writes DATE 'infinity' and '-infinity' as such, not as days no date can be", async () => {
    // PostgreSQL's open-ended dates, which database sources copy: the Node bindings wrote them as
    // 5881580-07-11 and 5877642-06-24 (BC), the days just past DuckDB's greatest and least dates.
    const sql =
      "SELECT DATE 'infinity' AS a, DATE '-infinity' AS b, DATE '5881580-07-10' AS c, DATE '2026-12-03' AS d, 'x' AS e";
    expect((await engine.query(sql)).rows).toEqual([
      ['infinity', '-infinity', '5881580-07-10', '2026-12-03', 'x'],
    ]);
    const streamed = await engine.stream(sql, {}, async ({ chunks }) => {
      const all: unknown[] = [];
      for await (const chunk of chunks) all.push(...chunk);
      return all;
    });
    expect(streamed).toEqual([['infinity', '-infinity', '5881580-07-10', '2026-12-03', 'x']]);
  });

  it('returns DuckDB’s message for a bad query', async () => {
    await expect(engine.query('SELECT nope FROM events')).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringContaining('nope'),
    });
    await expect(engine.query('SELEC 1')).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringContaining('syntax error'),
    });
    for (const sql of ['-- only a comment', ' ; ; ', '/* nothing */'])
      await expect(engine.query(sql), sql).rejects.toMatchObject({
        code: 'QUERY_INVALID',
        message: expect.stringContaining('The query is empty'),
      });
    // DuckDB turns a PIVOT without an IN list into two statements; the message says what to write.
    // So it does after a header comment; text that only says PIVOT ( is two statements of another kind.
    for (const sql of [
      "PIVOT (SELECT 1 AS a, 'x' AS b) ON b USING sum(a)",
      '-- events by name\nPIVOT events ON name USING count(*)',
      // Inside a query too: this text is one statement, and was told it held two.
      "WITH t AS (SELECT 1 AS a, 'x' AS b) SELECT * FROM (PIVOT t ON b USING sum(a))",
      "WITH t AS (SELECT 1 AS a, 'x' AS b), p AS (PIVOT t ON b USING sum(a)) SELECT * FROM p",
    ])
      await expect(engine.query(sql), sql).rejects.toMatchObject({
        code: 'QUERY_NOT_ALLOWED',
        message: expect.stringContaining("ON col IN ('a', 'b')"),
      });
    await expect(engine.query("SELECT 'PIVOT (' AS a; SELECT 2")).rejects.toMatchObject({
      code: 'QUERY_NOT_ALLOWED',
      message: 'Send one statement at a time; this text holds 2.',
    });
    await expect(engine.query('SELECT 1 AS pivot; SELECT 2')).rejects.toMatchObject({
      message: 'Send one statement at a time; this text holds 2.',
    });
  });

  it('says where the tables are listed, and when a mart or a source table appears, for a table there is not', async () => {
    // DuckDB said only that it does not exist, and offered sqlite_master: a new user's query of
    // daily_active_users before any inlet run.
    for (const sql of ['SELECT * FROM daily_active_users', 'SELECT * FROM crm.customers']) {
      const error = await engine.query(sql).catch((e: unknown) => e);
      expect(error, sql).toMatchObject({ code: 'QUERY_INVALID', status: 400 });
      expect((error as Error).message, sql).toContain(
        "\nHint: SHOW ALL TABLES lists the tables and views there are (so does inlet catalog); a mart is there once inlet run has built it, and a source's table once inlet sync has copied it.",
      );
    }
  });

  it("guesses a missing table's name among the lake's tables only, never DuckDB's own catalog views", async () => {
    // SELECT * FROM sequences was asked 'Did you mean "pg_sequences"?', tables 'information_schema.tables'.
    for (const sql of ['SELECT * FROM sequences', 'SELECT * FROM settings', 'SELECT * FROM tables']) {
      const error = await engine.query(sql).catch((e: unknown) => e);
      expect(error, sql).toMatchObject({ code: 'QUERY_INVALID' });
      expect((error as Error).message, sql).not.toContain('Did you mean');
      expect((error as Error).message, sql).toContain('\nHint: SHOW ALL TABLES lists the tables');
    }
    const typo = await engine.query('SELECT * FROM evnts').catch((e: unknown) => e);
    expect((typo as Error).message).toContain('Did you mean "events"?');
  });

  it('says a query takes no parameters when it holds ? or $1, as a database driver sends them', async () => {
    for (const sql of ['SELECT ? AS x', 'SELECT * FROM events WHERE dt >= $1', 'SELECT $day AS x']) {
      const error = await engine.query(sql).catch((e: unknown) => e);
      expect(error, sql).toMatchObject({ code: 'QUERY_INVALID', status: 400 });
      expect((error as Error).message, sql).toContain('takes no parameters');
    }
    expect((await engine.query("SELECT '?' AS q, '$1' AS d")).rows).toEqual([['?', '$1']]);
  });

  it('refuses what the configuration stops as it runs as not allowed, not as an invalid query', async () => {
    await expect(engine.query('SELECT * FROM duckdb_extensions()')).rejects.toMatchObject({
      code: 'QUERY_NOT_ALLOWED',
      status: 400,
      message: expect.stringContaining("read only the lake's tables and views"),
    });
  });

  it("answers a lake file the query names that is not there with DuckDB's message, not as files that went away", async () => {
    // It was 503 QUERY_BUSY, "files of the lake went away … retry in a moment", for a path that was
    // never right, after three attempts.
    const missing = join(temp.dir, 'data', 'lake', 'events', 'no-such.parquet');
    await expect(engine.query(`SELECT * FROM '${missing}'`)).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      status: 400,
      message: expect.stringContaining(`No files found that match the pattern "${missing}"`),
    });
  });

  it('names a USE or RESET statement as written when it refuses it, not as SET', async () => {
    for (const [sql, word] of [
      ['USE memory', 'USE'],
      ['-- switch\nreset threads', 'RESET'],
      ['SET threads = 1', 'SET'],
    ]) {
      const error = await engine.query(String(sql)).catch((e: unknown) => e);
      expect(error, sql).toMatchObject({ code: 'QUERY_NOT_ALLOWED' });
      expect((error as Error).message, sql).toMatch(new RegExp(`^${word} statements are not allowed`));
    }
  });

  it('refuses a write to a table or view as not allowed, not with the binder error of a view', async () => {
    // DELETE FROM events answered QUERY_INVALID "Can only delete from base table", as if a table
    // could be written; INSERT, "events is not an table".
    for (const [sql, word] of [
      ['DELETE FROM events', 'DELETE'],
      ["update events set name = 'x'", 'UPDATE'],
      ['-- fix it\nINSERT INTO events SELECT * FROM events', 'INSERT'],
      ['TRUNCATE events', 'TRUNCATE'],
      ['DELETE FROM nosuch', 'DELETE'],
      // Behind a WITH clause they got DuckDB's binder message, as plain ones did.
      ['WITH x AS (SELECT 1) DELETE FROM events', 'DELETE'],
      ["with x as (select 1) update events set name = 'x'", 'UPDATE'],
      [
        `-- refill\nWITH RECURSIVE r(n) AS (SELECT 1), "odd (name" AS NOT MATERIALIZED (SELECT ')' AS p)
         INSERT INTO events SELECT * FROM events`,
        'INSERT',
      ],
      ['WITH x AS (SELECT 1) DELETE FROM nosuch', 'DELETE'],
      // And behind EXPLAIN, which answered with the binder's message too.
      ['EXPLAIN DELETE FROM events', 'DELETE'],
      ["explain analyze with x as (select 1) update events set name = 'x'", 'UPDATE'],
      ['EXPLAIN (FORMAT JSON) INSERT INTO events SELECT * FROM events', 'INSERT'],
    ]) {
      const error = await engine.query(String(sql)).catch((e: unknown) => e);
      expect(error, sql).toMatchObject({ code: 'QUERY_NOT_ALLOWED', status: 400 });
      expect((error as Error).message, sql).toMatch(new RegExp(`^${word} statements are not allowed`));
    }
    // A read whose table is missing is still an invalid query, whatever its CTEs are named.
    for (const sql of [
      'WITH x AS (SELECT 1) SELECT * FROM nosuch',
      'WITH "delete" AS (SELECT 1) FROM nosuch',
    ]) {
      await expect(engine.query(sql), sql).rejects.toMatchObject({ code: 'QUERY_INVALID' });
    }
  });

  it('names an INSTALL statement as written when it refuses it, not as LOAD', async () => {
    for (const [sql, word] of [
      ['INSTALL httpfs', 'INSTALL'],
      ['/* get it */ force  install httpfs', 'FORCE INSTALL'],
      ['LOAD httpfs', 'LOAD'],
      // Named before binding by its first words, it was an UPDATE, of rows.
      ['UPDATE EXTENSIONS', 'UPDATE EXTENSIONS'],
      ['update extensions (httpfs)', 'UPDATE EXTENSIONS'],
    ]) {
      const error = await engine.query(String(sql)).catch((e: unknown) => e);
      expect(error, sql).toMatchObject({ code: 'QUERY_NOT_ALLOWED' });
      expect((error as Error).message, sql).toMatch(new RegExp(`^${word} statements are not allowed`));
    }
  });

  it('points a query that reads files to a listing that holds every table, schema-qualified ones too', async () => {
    const error = await engine.query("SELECT * FROM query('SELECT 1')").catch((e: unknown) => e);
    const listing = /\(([A-Z ]+) lists them/.exec((error as Error).message)?.[1];
    expect(listing, (error as Error).message).toBeDefined();
    const dir = join(temp.dir, 'data', 'lake', 'sources', 'crm', 'plans');
    mkdirSync(dir, { recursive: true });
    const writer = await (await DuckDBInstance.create(':memory:')).connect();
    await writer.run(`COPY (SELECT 1 AS id) TO '${dir}/run-1.parquet'`);
    writer.closeSync();
    writeLakeTable(dir, { name: 'crm.plans', kind: 'source', files: '*.parquet' });
    const listed = JSON.stringify((await engine.query(String(listing))).rows);
    expect(listed).toContain('plans');
  });

  it('says to quote a source named as an SQL keyword when the query writes it bare', async () => {
    // left, order and full pass the config check, but DuckDB parses left.t only as "left".t.
    const dataDir = join(temp.dir, 'keywords');
    const config = testConfig(dataDir, {
      sources: ['left', 'order', 'full', 'crm'].map((name) => ({
        name,
        type: 'csv',
        tables: [{ path: join(temp.dir, 'x.csv'), name: 't' }],
      })),
    });
    mkdirSync(dataLayout(dataDir).events, { recursive: true });
    const dir = join(dataDir, 'lake', 'sources', 'left', 't');
    mkdirSync(dir, { recursive: true });
    const writer = await (await DuckDBInstance.create(':memory:')).connect();
    await writer.run(`COPY (SELECT 1 AS id) TO '${dir}/run-1.parquet'`);
    writer.closeSync();
    writeLakeTable(dir, { name: 'left.t', kind: 'source', files: '*.parquet' });
    const keywords = await createQueryEngine({ config, layout: dataLayout(dataDir) });
    try {
      const error = await keywords.query('SELECT id FROM left.t').catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'QUERY_INVALID',
        message: expect.stringContaining('Parser Error'),
      });
      expect((error as Error).message).toContain(
        '\nHint: "left" is a word DuckDB\'s SQL keeps for itself, so a source of that name needs quotes in SQL: write "left".t.',
      );
      const both = await keywords
        .query('SELECT * FROM order.t JOIN crm.t USING (id) JOIN full.t USING (id)')
        .catch((e: unknown) => e);
      expect((both as Error).message).toContain('Hint: "order", "full" are words');
      // A dollar-quoted string before it is only text; the name written bare after it still gets the hint.
      const afterString = await keywords.query('SELECT $$x$$ AS a, id FROM left.t').catch((e: unknown) => e);
      expect((afterString as Error).message).toContain('write "left".t.');
      // A quote in a quoted identifier opens no string, so the name after it is code.
      const afterQuote = await keywords
        .query(`SELECT 1 AS "it's", id FROM left.t WHERE id = 'a'`)
        .catch((e: unknown) => e);
      expect((afterQuote as Error).message).toContain('write "left".t.');
      // Written as the hint says, it runs.
      expect((await keywords.query('SELECT id FROM "left".t')).rows).toEqual([[1]]);
      // A syntax error elsewhere, with the keyword source quoted or an ordinary source bare: no hint.
      for (const sql of [
        'SELECT id FROM "left".t WHERE',
        'SELECT id FROM crm.t WHERE',
        "SELECT 'left.t' FROM",
        'SELECT 1 -- left.t\nFROM',
        'SELECT $$ left.t $$ FROM',
        "SELECT $q$ it's left.t $q$ FROM",
        "SELECT E'it\\'s left.t' FROM",
        'SELECT /* a /* b */ left.t */ 1 FROM',
        'SELECT 1 AS "my left.t" FROM',
      ]) {
        const other = await keywords.query(sql).catch((e: unknown) => e);
        expect(other, sql).toMatchObject({ code: 'QUERY_INVALID' });
        expect((other as Error).message, sql).not.toContain('Hint:');
      }
    } finally {
      keywords.close();
    }
  });

  it("adds a hint where DuckDB's JSON arrows bind otherwise than people expect", async () => {
    const from = `FROM (SELECT 'track' AS type, '{"plan":"pro","n":3}'::JSON AS properties)`;
    for (const where of [
      "type = 'track' AND properties->>'plan' = 'pro'",
      "type = 'x' OR properties->'plan' = '\"pro\"'",
      "NOT properties->'n'",
      "properties->>'n'::INT > 1",
    ]) {
      await expect(engine.query(`SELECT count(*) ${from} WHERE ${where}`), where).rejects.toMatchObject({
        code: 'QUERY_INVALID',
        message: expect.stringContaining('Hint: DuckDB binds -> and ->> more loosely'),
      });
    }
    // Written as the hint says, they run; a cast that fails for other reasons gets no hint.
    const fixed = await engine.query(
      `SELECT count(*) AS n ${from} WHERE type = 'track' AND (properties->>'plan') = 'pro' AND (properties->>'n')::INT > 1`,
    );
    expect(fixed.rows).toEqual([['1']]);
    const other = await engine.query(`SELECT (properties->>'plan')::INT ${from}`).catch((error) => error);
    expect(other).toMatchObject({ code: 'QUERY_INVALID', message: expect.stringContaining("'pro'") });
    expect(other.message).not.toContain('Hint:');
  });

  it('says that access_logs and app_logs appear with the first logs written, before any is', async () => {
    // DuckDB's own words asked whether duckdb_logs was meant, as if the name were a typo. The hint
    // named "a type: file source in inlet.yaml", whatever file --config named.
    for (const table of ['access_logs', 'app_logs']) {
      const error = await engine.query(`SELECT count(*) FROM ${table}`).catch((caught) => caught);
      expect(error).toMatchObject({
        code: 'QUERY_INVALID',
        message: expect.stringContaining(
          `Hint: ${table} appears once the first log lines are written to the lake: run inlet sync <source> for a source of type: file (or let inlet start tail it), or send logs to POST /logs (docs/logs.md).`,
        ),
      });
      // That hint alone: not also the one for any table that is not there.
      expect(error.message.match(/Hint:/g)).toHaveLength(1);
    }
    const other = await engine.query('SELECT count(*) FROM no_such_table').catch((error) => error);
    expect(other.message).not.toContain('first log lines');
  });

  it('reports a query that fails part-way through its rows, never a shorter result', async () => {
    // DuckDB's bindings end a failing stream like a finished one; the engine must notice.
    const late =
      "SELECT CASE WHEN range = 299999 THEN error('late failure') ELSE range END AS x FROM range(300000)";
    await expect(engine.query(late, { maxRows: 1_000_000 })).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringContaining('late failure'),
    });
    let streamed = 0;
    const exported = engine.stream(late, {}, async ({ chunks }) => {
      for await (const chunk of chunks) streamed += chunk.length;
    });
    // The rows already went out, but why it failed is still DuckDB's to say, for the log and stderr.
    await expect(exported).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringMatching(/^The query failed part-way through its rows.*late failure/s),
    });
    expect(streamed).toBeLessThan(300_000);
    // Failing in its first rows, before anything went out: DuckDB's reason, as a JSON query has it.
    const early = engine.stream("SELECT error('early failure') FROM range(10)", {}, async ({ chunks }) => {
      for await (const _ of chunks) streamed++;
    });
    await expect(early).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringContaining('early failure'),
    });
    // Cancelled mid-way through an export: reported as cancelled, not as an export that ended.
    let seen = 0;
    const cancelled = engine.stream(
      'SELECT range AS x FROM range(1000000000)',
      { id: 's1' },
      async ({ chunks }) => {
        for await (const chunk of chunks) {
          seen += chunk.length;
          if (seen > 10_000) engine.cancel('s1');
        }
      },
    );
    await expect(cancelled).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    // Under maxRows the failing row is never reached, so the first rows come back.
    await expect(engine.query(late, { maxRows: 10 })).resolves.toMatchObject({
      stats: { rows: 10, truncated: true },
    });
  });

  it('stops a query at its time limit and on cancel', async () => {
    const slow = 'SELECT count(*) FROM range(100000000000) a';
    const running = engine.query(slow, { id: 'q1' });
    // Usually running by then, so the cancel interrupts it mid-scan; asked again until it is known.
    await new Promise((resolve) => setTimeout(resolve, 200));
    while (!engine.cancel('q1')) await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(running).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    expect(engine.cancel('q1')).toBe(false);
    // A cancel that lands the moment the query is registered, before it runs, still stops it.
    const early = engine.query(slow, { id: 'q2' });
    while (!engine.cancel('q2')) await new Promise((resolve) => setImmediate(resolve));
    await expect(early).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
  });

  it('refuses a second query under a running query id, so the first stays cancellable', async () => {
    const first = engine.query('SELECT count(*) FROM range(100000000000) a', { id: 'dup' });
    await expect(engine.query('SELECT 1', { id: 'dup' })).rejects.toMatchObject({
      code: 'INVALID_FIELD',
      message: 'query_id: "dup" is already running; give each query an id of its own (a UUID, say).',
    });
    // Before, the second query took the id and removed it when it ended: no cancel reached the first.
    expect(engine.cancel('dup')).toBe(true);
    await expect(first).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    await expect(engine.query('SELECT 1 AS one', { id: 'dup' })).resolves.toMatchObject({ rows: [[1]] });
  });

  it('cancels a query still waiting for a slot', async () => {
    const config = testConfig(join(temp.dir, 'data'), { query: { max_concurrent: 1 } });
    const one = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
    try {
      const slow = one.query('SELECT count(*) FROM range(100000000000) a', { id: 'running' });
      const queued = one.query('SELECT 1', { id: 'queued' });
      expect(one.cancel('queued')).toBe(true);
      expect(one.cancel('running')).toBe(true);
      await Promise.all([
        expect(queued).rejects.toMatchObject({ code: 'QUERY_CANCELLED' }),
        expect(slow).rejects.toMatchObject({ code: 'QUERY_CANCELLED' }),
      ]);
    } finally {
      one.close();
    }
  });

  it('says to nest less, not to SET a setting it refuses, when an expression nests too deep', async () => {
    const error = await engine.query(`SELECT ${'1+'.repeat(2000)}1`).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'QUERY_INVALID' });
    expect((error as Error).message).toContain('Max expression depth limit of 1000 exceeded');
    expect((error as Error).message).not.toContain('SET max_expression_depth');
    expect((error as Error).message).toContain('nest');
    // Deeper than the parser's stack, DuckDB says only "memory exhausted".
    for (const sql of [
      `SELECT ${'('.repeat(100_000)}1${')'.repeat(100_000)}`,
      `SELECT ${'CASE WHEN true THEN '.repeat(5000)}1${' END'.repeat(5000)}`,
    ]) {
      const deep = await engine.query(sql).catch((e: unknown) => e);
      expect(deep).toMatchObject({
        code: 'QUERY_INVALID',
        message: expect.stringContaining('nests too deep'),
      });
    }
  });

  it('gives up the place in line of a query whose client went away while it waited for a slot', async () => {
    const config = testConfig(join(temp.dir, 'data'), { query: { max_concurrent: 1 } });
    const one = await createQueryEngine({ config, layout: dataLayout(config.data_dir) });
    try {
      const slow = one.query('SELECT count(*) FROM range(100000000000) a', { id: 'running' });
      const gone = new AbortController();
      const queued = one.query('SELECT 1', { signal: gone.signal });
      gone.abort();
      // Stopped while the slow query still runs: it never takes a slot for nobody.
      await expect(queued).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
      expect(one.cancel('running')).toBe(true);
      await expect(slow).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    } finally {
      one.close();
    }
  });
});
