import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSourceCases } from '../../../test/database-source-cases.ts';
import {
  lakeColumnTypes,
  mergeTable,
  sourceEntry,
  syncError,
  TEST_PG_URL,
  uniqueName,
  withSourceHarness,
} from '../../../test/source-harness.ts';
import { parseConfig } from '../../config/index.ts';

const schema = uniqueName('inlet_t');
const client = new pg.Client({ connectionString: TEST_PG_URL });
const sql = (text: string) => client.query(text);

beforeAll(async () => {
  await client.connect();
  await sql(`CREATE SCHEMA ${schema}`);
  await sql(`SET search_path = ${schema}`);
  await sql("CREATE TYPE mood AS ENUM ('happy', 'sad')");
  await sql(`CREATE TABLE types (
    id int PRIMARY KEY, small smallint, big bigint, amount numeric(12,2), exact numeric, flag boolean,
    name text, code varchar(10), day date, ts timestamp, tstz timestamptz, doc json, docb jsonb, uid uuid,
    tags text[], nums int[], prices numeric(8,3)[], raw bytea, mood mood, span interval, score float8, addr inet)`);
  await sql(`INSERT INTO types VALUES
    (1, -32768, 9223372036854775807, -1234567890.12, 3.141592653589793238462643383279502884197, true,
     E'日本語テキスト 🎉 "quoted", comma\nnewline', '', '2026-11-20', '2026-11-20 10:11:12.123456',
     '2026-11-20 10:11:12.654321+09', '{"a": "日本"}', '{"b": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
     ARRAY['東京', 'a"b', NULL, ''], ARRAY[1, 2, 3], ARRAY[1.5, 12345.678], '\\x00ff10', 'happy',
     '1 year 2 mons -3 days 04:05:06.5', 0.1, '192.168.0.1'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
  await sql('CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric(10,2))');
  await sql("INSERT INTO orders SELECT i, 'お客様' || i, i * 1.25 FROM generate_series(1, 1000) AS i");
  await sql(`CREATE TABLE customers (id int PRIMARY KEY, name text, plan text,
    updated_at timestamptz NOT NULL, deleted_at timestamptz, is_deleted boolean DEFAULT false)`);
  await sql(`INSERT INTO customers VALUES
    (1, '佐藤', 'free', '2026-11-01 00:00:00+00', NULL), (2, '鈴木', 'pro', '2026-11-01 00:00:01+00', NULL),
    (3, '高橋', 'free', '2026-11-01 00:00:02+00', NULL)`);
});

afterAll(async () => {
  await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

const pgLiteral = (text: string) => `'${text.replaceAll("'", "''")}'`;
const source = sourceEntry({ name: 'app', type: 'postgres', url: TEST_PG_URL });
/** A source copying the table once per cursor, as by_<cursor>, in incremental mode. */
const incrementalByEach = (table: string, cursors: string[]) =>
  source(cursors.map((cursor) => ({ table, name: `by_${cursor}`, mode: 'incremental', cursor })));

describe('postgres source', () => {
  databaseSourceCases({
    sourceName: 'app',
    source,
    sql,
    table: (name) => `${schema}.${name}`,
    timestamp: (utc) => `'${utc}+00'`,
    customersPrimaryKey: 'id',
    async createVisitsWithBadValue() {
      await sql(
        `CREATE TABLE ${schema}.visits AS SELECT i AS id, CASE WHEN i = 10 THEN '294250-01-01'::timestamp ELSE '2026-01-01'::timestamp END AS ts, repeat('x', 200) AS pad FROM generate_series(1, 30000) AS i`,
      );
    },
    badVisitsValue: /.*294250/,
    healthyTable: { name: 'orders', rows: 1000 },
    lineComments: { dash: '--' },
    textDecimalType: 'numeric',
    numbers: (first, last) => `generate_series(${first}, ${last}) AS n`,
    literal: (text) =>
      `E'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\r', '\\r').replaceAll('\n', '\\n')}'`,
    longText: 'text',
    jsonTypes: ['json', 'jsonb'],
    repeat: (text, n) => `repeat(${text}, ${n})`,
    timestampTypes: { naive: 'timestamp', zoned: 'timestamptz' },
    retype: (table, column, type) => `ALTER TABLE ${table} ALTER COLUMN ${column} TYPE ${type}`,
    floatTypes: { single: 'real', double: 'double precision' },
    comment: {
      table: (table, text) => `COMMENT ON TABLE ${table} IS ${pgLiteral(text)}`,
      column: (table, column, _type, text) => `COMMENT ON COLUMN ${table}.${column} IS ${pgLiteral(text)}`,
    },
    queryColumnsHaveComments: true,
    server: 'PostgreSQL',
    quote: (name) => `"${name}"`,
    async createReader(readable) {
      const user = uniqueName('inlet_reader');
      await sql(`CREATE ROLE ${user} LOGIN PASSWORD 'reader-pw'`);
      await sql(`GRANT USAGE ON SCHEMA ${schema} TO ${user}`);
      await sql(`GRANT SELECT ON ${readable} TO ${user}`);
      const url = new URL(TEST_PG_URL);
      url.username = user;
      url.password = 'reader-pw';
      return {
        user,
        url: url.href,
        grant: async (table) => void (await sql(`GRANT SELECT ON ${table} TO ${user}`)),
        async drop() {
          await sql(`DROP OWNED BY ${user}`);
          await sql(`DROP ROLE ${user}`);
        },
      };
    },
    lockedRead: {
      async hold() {
        const key = Math.floor(Math.random() * 1e9);
        const holder = new pg.Client({ connectionString: TEST_PG_URL });
        await holder.connect();
        await holder.query('SELECT pg_advisory_lock($1)', [key]);
        let held = true;
        return {
          query: (from) =>
            `SELECT id, (SELECT 1 FROM pg_advisory_lock_shared(${key})) AS locked FROM ${from}`,
          async dropReader() {
            const { rows } = await client.query(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'inlet' AND query LIKE $1",
              [`COPY %pg_advisory_lock_shared(${key})%`],
            );
            return rows.length;
          },
          async release() {
            if (!held) return;
            held = false;
            await holder.end();
          },
        };
      },
    },
    unreachableUrl: {
      withPassword: 'postgres://postgres:s3cret-Pa55@127.0.0.1:1/test',
      shown: 'postgres://postgres@127.0.0.1:1/test',
    },
  });

  it('copies every type faithfully: numbers, decimals, text with Japanese and emoji, times, json, uuid, arrays, bytes, enums, NULL', async () => {
    await withSourceHarness([source([{ table: `${schema}.types` }])], async (h) => {
      const result = await h.sync('app');
      expect(result).toEqual({ source: 'app', rows: 2, tables: [{ table: 'types', rows: 2 }] });
      expect(await lakeColumnTypes(h, 'app.types')).toEqual({
        id: 'INTEGER',
        small: 'SMALLINT',
        big: 'BIGINT',
        amount: 'DECIMAL(12,2)',
        exact: 'VARCHAR',
        flag: 'BOOLEAN',
        name: 'VARCHAR',
        code: 'VARCHAR',
        day: 'DATE',
        ts: 'TIMESTAMP',
        tstz: 'TIMESTAMP WITH TIME ZONE',
        doc: 'JSON',
        docb: 'JSON',
        uid: 'UUID',
        tags: 'VARCHAR[]',
        nums: 'INTEGER[]',
        prices: 'DECIMAL(8,3)[]',
        raw: 'BLOB',
        mood: 'VARCHAR',
        span: 'VARCHAR',
        score: 'DOUBLE',
        addr: 'VARCHAR',
      });
      const [row, empty] = await h.query(
        'SELECT * REPLACE (hex(raw) AS raw, span::INTERVAL::VARCHAR AS span) FROM app.types ORDER BY id',
      );
      expect(row).toEqual({
        id: 1,
        small: -32768,
        big: '9223372036854775807',
        amount: '-1234567890.12',
        exact: '3.141592653589793238462643383279502884197',
        flag: true,
        name: '日本語テキスト 🎉 "quoted", comma\nnewline',
        code: '',
        day: '2026-11-20',
        ts: '2026-11-20 10:11:12.123456',
        tstz: '2026-11-20 01:11:12.654321+00',
        doc: { a: '日本' },
        docb: { b: [1, 2] },
        uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        tags: ['東京', 'a"b', null, ''],
        nums: [1, 2, 3],
        prices: ['1.500', '12345.678'],
        raw: '00FF10',
        mood: 'happy',
        span: '1 year 2 months -3 days 04:05:06.5',
        score: 0.1,
        addr: '192.168.0.1',
      });
      expect(Object.values(empty ?? {}).filter((v) => v !== null)).toEqual([2]);
    });
  });

  it('copies json values with lone surrogate escapes as U+FFFD, keeping escaped pairs and escaped backslashes', async () => {
    // PostgreSQL's json type keeps "\ud800" as written (jsonb refuses it); DuckDB refuses it, and
    // one such value failed the whole table.
    await sql(`CREATE TABLE ${schema}.docs (id int PRIMARY KEY, doc json, docs json[])`);
    await sql(`INSERT INTO ${schema}.docs VALUES
      (1, '{"a": "x\\ud800", "\\udc00": 1}', ARRAY['{"b": "\\udbff"}']::json[]),
      (2, '{"a": "\\ud83d\\ude00 and \\\\ud800 typed"}', NULL),
      (3, '{"a": "plain"}', NULL)`);
    await withSourceHarness([source([{ table: `${schema}.docs` }])], async (h) => {
      expect((await h.sync('app')).rows).toBe(3);
      expect(
        await h.query(
          "SELECT id, doc->>'a' AS a, json_keys(doc) AS keys, docs::VARCHAR AS docs FROM app.docs ORDER BY id",
        ),
      ).toEqual([
        { id: 1, a: 'x\ufffd', keys: ['a', '\ufffd'], docs: '[{"b": "\\ufffd"}]' },
        { id: 2, a: '😀 and \\ud800 typed', keys: ['a'], docs: null },
        { id: 3, a: 'plain', keys: ['a'], docs: null },
      ]);
    });
  });

  it('copies dates before Christ, and NaN in numeric(p,s) as NULL, and names a column whose values the lake cannot hold', async () => {
    // DECIMAL has no NaN; DuckDB's TIMESTAMP ends in 294247 and its lists have one dimension.
    await sql(
      `CREATE TABLE ${schema}.edges (id int PRIMARY KEY, price numeric(8,2), day date, at timestamp, tz timestamptz)`,
    );
    await sql(`INSERT INTO ${schema}.edges VALUES
      (1, 'NaN', '0044-03-15 BC', '4713-01-01 12:30:00 BC', '0001-06-01 00:00:00+00 BC'),
      (2, 12.5, '2026-11-20', '2026-11-20 10:00', 'infinity'),
      (3, NULL, NULL, NULL, NULL)`);
    await sql(
      `CREATE TABLE ${schema}.eras (id int PRIMARY KEY, days date[], ats timestamp[], tzs timestamptz[], prices numeric(6,2)[], amounts numeric[])`,
    );
    await sql(`INSERT INTO ${schema}.eras VALUES
      (1, ARRAY['0044-03-15 BC', '2026-11-20']::date[], ARRAY['4713-01-01 12:30:00.5 BC', 'infinity']::timestamp[],
          ARRAY['0001-06-01 00:00:00+00 BC', '2026-11-20 10:00:00+09']::timestamptz[], ARRAY[1.5, 'NaN']::numeric(6,2)[],
          ARRAY[1, 'NaN']::numeric[]),
      (2, ARRAY['2026-11-20']::date[], ARRAY[]::timestamp[], NULL, ARRAY[2.25]::numeric(6,2)[], ARRAY[3.5]::numeric[])`);
    await sql(`CREATE TABLE ${schema}.far (id int PRIMARY KEY, seen_at timestamp)`);
    await sql(`INSERT INTO ${schema}.far VALUES (1, '2026-11-20 10:00'), (2, '294276-12-31 23:59:59')`);
    await sql(`CREATE TABLE ${schema}.grid (id int PRIMARY KEY, cells int[])`);
    await sql(`INSERT INTO ${schema}.grid VALUES (1, '{1,2}'), (2, '{{1,2},{3,4}}')`);
    const named = (name: string, tables: unknown[]) => ({ ...source(tables), name });
    await withSourceHarness(
      [
        source([{ table: `${schema}.edges` }, { table: `${schema}.eras` }]),
        named('far', [{ table: `${schema}.far` }]),
        named('grid', [{ table: `${schema}.grid` }]),
        named('fixed', [
          { name: 'far_text', query: `SELECT id, seen_at::text AS seen_at FROM ${schema}.far` },
          { name: 'grid_json', query: `SELECT id, array_to_json(cells) AS cells FROM ${schema}.grid` },
        ]),
      ],
      async (h) => {
        expect((await h.sync('app')).rows).toBe(5);
        // The same in arrays: eras kept, and a NaN in numeric(p,s)[] is NULL (numeric[] keeps its text).
        expect(
          await h.query(
            'SELECT id, days::VARCHAR AS days, ats::VARCHAR AS ats, tzs::VARCHAR AS tzs, prices::VARCHAR AS prices, amounts::VARCHAR AS amounts FROM app.eras ORDER BY id',
          ),
        ).toEqual([
          {
            id: 1,
            days: "['0044-03-15 (BC)', 2026-11-20]",
            ats: "['4713-01-01 (BC) 12:30:00.5', infinity]",
            tzs: "['0001-06-01 (BC) 00:00:00+00', '2026-11-20 01:00:00+00']",
            prices: '[1.50, NULL]',
            amounts: '[1, NaN]',
          },
          { id: 2, days: '[2026-11-20]', ats: '[]', tzs: null, prices: '[2.25]', amounts: '[3.5]' },
        ]);
        expect(
          await h.query(
            'SELECT id, price::VARCHAR AS price, year(day) AS y, day::VARCHAR AS day, "at"::VARCHAR AS "at", tz::VARCHAR AS tz FROM app.edges ORDER BY id',
          ),
        ).toEqual([
          {
            id: 1,
            price: null,
            // DuckDB counts years astronomically: 44 BC is year -43.
            y: '-43',
            day: '0044-03-15 (BC)',
            at: '4713-01-01 (BC) 12:30:00',
            tz: '0001-06-01 (BC) 00:00:00+00',
          },
          {
            id: 2,
            price: '12.50',
            y: '2026',
            day: '2026-11-20',
            at: '2026-11-20 10:00:00',
            tz: 'infinity',
          },
          { id: 3, price: null, y: null, day: null, at: null, tz: null },
        ]);
        await expect(h.sync('far')).rejects.toThrow(
          'far.far: a value could not be written to the lake: column seen_at (timestamp without time zone) holds "294276-12-31 23:59:59", which the lake\'s TIMESTAMP cannot hold; copy that column as text with a query: for this table (e.g. SELECT …, seen_at::text AS seen_at FROM …)',
        );
        await expect(h.sync('grid')).rejects.toThrow(
          'grid.grid: a value could not be written to the lake: column cells (integer[]) holds a multi-dimensional array, and the lake keeps arrays as lists of one dimension; copy it as JSON with a query: for this table (e.g. SELECT …, array_to_json(cells) AS cells FROM …)',
        );
        // What the messages advise works.
        expect((await h.sync('fixed')).rows).toBe(4);
        expect(await h.query('SELECT seen_at FROM fixed.far_text ORDER BY id')).toEqual([
          { seen_at: '2026-11-20 10:00:00' },
          { seen_at: '294276-12-31 23:59:59' },
        ]);
        expect(await h.query('SELECT cells::VARCHAR AS cells FROM fixed.grid_json ORDER BY id')).toEqual([
          { cells: '[1,2]' },
          { cells: '[[1,2],[3,4]]' },
        ]);
      },
    );
  });

  it('copies the other tables of a source when one fails, then fails naming it', async () => {
    await sql(`CREATE TABLE ${schema}.beyond (id int PRIMARY KEY, seen_at timestamp)`);
    await sql(`INSERT INTO ${schema}.beyond VALUES (1, '294276-12-31 23:59:59')`);
    await withSourceHarness(
      [
        source([
          { table: `${schema}.beyond` },
          { table: `${schema}.orders` },
          { table: `${schema}.nowhere` },
        ]),
      ],
      async (h) => {
        const error = await syncError(h, 'app');
        expect(error).toMatchObject({ code: 'SOURCE_DATA_INVALID' });
        const message = error.message;
        expect(message).toMatch(
          /^2 of 3 tables of "app" were not copied: app\.beyond: a value could not be written/,
        );
        expect(message).toContain(`app.nowhere: PostgreSQL has no table ${schema}.nowhere`);
        expect(message).toMatch(/Copied: orders \(1000 rows\)\.$/);
        expect(await h.query('SELECT count(*)::INT AS n FROM app.orders')).toEqual([{ n: 1000 }]);
        const text = h.metrics.render();
        expect(text).toContain('inlet_source_rows_total{source="app",table="orders"} 1000\n');
        expect(text).toContain('inlet_source_table_failures_total{source="app",table="beyond"} 1\n');
        expect(text).toContain('inlet_source_table_failures_total{source="app",table="nowhere"} 1\n');
      },
    );
  });

  it('incremental mode copies each row once past Infinity and NaN in a real or double precision cursor', async () => {
    // PostgreSQL orders NaN above Infinity, and Infinity above every number.
    await sql(`CREATE TABLE ${schema}.gauges (r real, d double precision, note text)`);
    await sql(`INSERT INTO ${schema}.gauges VALUES (0.5, 0.5, 'a'), (1.1, 0.1, 'b')`);
    await withSourceHarness([incrementalByEach(`${schema}.gauges`, ['r', 'd'])], async (h) => {
      expect((await h.sync('app')).rows).toBe(4);
      await sql(`INSERT INTO ${schema}.gauges VALUES ('Infinity', 'Infinity', 'c')`);
      expect((await h.sync('app')).rows).toBe(2);
      expect((await h.sync('app')).rows).toBe(0);
      await sql(`INSERT INTO ${schema}.gauges VALUES ('NaN', 'NaN', 'd')`);
      expect((await h.sync('app')).rows).toBe(2);
      expect((await h.sync('app')).rows).toBe(0);
      // Saved as the cursor, NaN let no later row through (WHERE d > 'NaN'): 0 rows, for good.
      await sql(`INSERT INTO ${schema}.gauges VALUES (2.5, 2.5, 'e'), ('Infinity', 'Infinity', 'f')`);
      expect((await h.sync('app')).rows).toBe(2);
      expect((await h.sync('app')).rows).toBe(0);
      for (const name of ['by_r', 'by_d'])
        expect(await h.query(`SELECT list(note ORDER BY note) AS notes FROM app.${name}`)).toEqual([
          { notes: ['a', 'b', 'c', 'd', 'e'] },
        ]);
    });
  });

  it('copies an Infinity that comes after NaN was copied, once, in a double precision or numeric cursor', async () => {
    // NaN sorts above Infinity: saved as the cursor, NaN kept out (WHERE d > 'NaN') every Infinity
    // that came after it, which was then never copied.
    await sql(`CREATE TABLE ${schema}.meter_readings (d double precision, n numeric, note text)`);
    await sql(`INSERT INTO ${schema}.meter_readings VALUES (1, 1, 'a'), ('NaN', 'NaN', 'b')`);
    await withSourceHarness([incrementalByEach(`${schema}.meter_readings`, ['d', 'n'])], async (h) => {
      expect((await h.sync('app')).rows).toBe(4);
      await sql(`INSERT INTO ${schema}.meter_readings VALUES ('Infinity', 'Infinity', 'c'), (2, 2, 'd')`);
      expect((await h.sync('app')).rows).toBe(4);
      expect((await h.sync('app')).rows).toBe(0);
      await sql(
        `INSERT INTO ${schema}.meter_readings VALUES ('Infinity', 'Infinity', 'e'), ('NaN', 'NaN', 'f')`,
      );
      expect((await h.sync('app')).rows).toBe(0);
      for (const name of ['by_d', 'by_n'])
        expect(await h.query(`SELECT list(note ORDER BY note) AS notes FROM app.${name}`)).toEqual([
          { notes: ['a', 'b', 'c', 'd'] },
        ]);
    });
  });

  it('copies a NaN of a numeric(p,s) cursor once, as the NULL the lake keeps of it, not again on every sync', async () => {
    // DECIMAL has no NaN: the row is copied with a NULL cursor, the saved position stays at 2, and
    // PostgreSQL, which sorts NaN above every number, matched it again on each run (WHERE c > '2').
    await sql(`CREATE TABLE ${schema}.scores (id int PRIMARY KEY, c numeric(10,2))`);
    await sql(`INSERT INTO ${schema}.scores VALUES (1, 1), (2, 2), (3, 'NaN')`);
    await withSourceHarness(
      [
        source([
          { table: `${schema}.scores`, mode: 'incremental', cursor: 'c' },
          mergeTable(`${schema}.scores`, { name: 'score_versions', cursor: 'c' }),
        ]),
      ],
      async (h) => {
        expect((await h.sync('app')).rows).toBe(6);
        await sql(`INSERT INTO ${schema}.scores VALUES (4, 5)`);
        await h.sync('app');
        await h.sync('app');
        expect(await h.query('SELECT list(id ORDER BY id) AS ids FROM app.scores')).toEqual([
          { ids: [1, 2, 3, 4] },
        ]);
        expect(await h.query('SELECT list(id ORDER BY id) AS ids FROM app.score_versions')).toEqual([
          { ids: [1, 2, 3, 4] },
        ]);
      },
    );
  });

  it('copies the rows after a timestamp cursor reached infinity, and the changes after a numeric one reached NaN', async () => {
    // Saved as the cursor, 'infinity' let no later row through (WHERE ts > 'infinity'), nor NaN a
    // later change (WHERE version >= 'NaN'): every sync after it copied nothing, with success.
    await sql(
      `CREATE TABLE ${schema}.stamped (id int PRIMARY KEY, ts timestamptz, version numeric, note text)`,
    );
    await sql(`INSERT INTO ${schema}.stamped VALUES (1, '2026-01-01', 1, 'a'), (2, 'infinity', 'NaN', 'b')`);
    await withSourceHarness(
      [
        source([
          { table: `${schema}.stamped`, mode: 'incremental', cursor: 'ts' },
          mergeTable(`${schema}.stamped`, { name: 'versions', cursor: 'version' }),
        ]),
      ],
      async (h) => {
        await h.sync('app');
        await sql(`INSERT INTO ${schema}.stamped VALUES (3, '2026-01-02', 2, 'c')`);
        await sql(`UPDATE ${schema}.stamped SET version = 3, note = 'a2' WHERE id = 1`);
        await h.sync('app');
        await h.sync('app');
        expect(await h.query('SELECT list(id ORDER BY id) AS ids FROM app.stamped')).toEqual([
          { ids: [1, 2, 3] },
        ]);
        expect(await h.query('SELECT id, note FROM app.versions ORDER BY id')).toEqual([
          { id: 1, note: 'a2' },
          { id: 2, note: 'b' },
          { id: 3, note: 'c' },
        ]);
      },
    );
  });

  it('incremental and merge mode order an interval cursor as PostgreSQL does, not as its text', async () => {
    // The lake keeps an interval as text, where '10:00:00' > '1 day' and '-2 days' > '-10 days': the
    // run saved 10:00:00 and the next one copied 1 day again, and the merged view kept the older version.
    await sql(`CREATE TABLE ${schema}.spans (id int, span interval)`);
    await sql(
      `INSERT INTO ${schema}.spans VALUES (1, '-10 days'), (2, '-2 days'), (3, '10:00:00'), (4, '1 day')`,
    );
    await sql(`CREATE TABLE ${schema}.stints (id int PRIMARY KEY, span interval, note text)`);
    await sql(`INSERT INTO ${schema}.stints VALUES (1, '10:00:00', 'first')`);
    await withSourceHarness(
      [
        source([
          { table: `${schema}.spans`, mode: 'incremental', cursor: 'span' },
          mergeTable(`${schema}.stints`, { cursor: 'span' }),
        ]),
      ],
      async (h) => {
        expect((await h.sync('app')).tables).toContainEqual({ table: 'spans', rows: 4 });
        await sql(`UPDATE ${schema}.stints SET span = '1 day', note = 'second'`);
        await sql(`INSERT INTO ${schema}.spans VALUES (5, '1 mon')`);
        expect((await h.sync('app')).tables).toContainEqual({ table: 'spans', rows: 1 });
        expect((await h.sync('app')).tables).toContainEqual({ table: 'spans', rows: 0 });
        expect(await h.query('SELECT id FROM app.spans ORDER BY id')).toEqual(
          [1, 2, 3, 4, 5].map((id) => ({ id })),
        );
        expect(await h.query('SELECT note FROM app.stints')).toEqual([{ note: 'second' }]);
      },
    );
  });

  it('refuses a boolean, enum or inet cursor, which the lake cannot order as PostgreSQL does', async () => {
    await sql(`CREATE TYPE ${schema}.level AS ENUM ('low', 'high')`);
    await sql(`CREATE TABLE ${schema}.alerts (id int, urgent boolean, level ${schema}.level, host inet)`);
    await sql(
      `INSERT INTO ${schema}.alerts VALUES (1, true, 'high', '10.0.0.9'), (2, false, 'low', '10.0.0.10')`,
    );
    const byCursor = (cursor: string) => ({
      ...source([{ table: `${schema}.alerts`, mode: 'incremental', cursor }]),
      name: `by_${cursor}`,
    });
    await withSourceHarness([byCursor('urgent'), byCursor('level'), byCursor('host')], async (h) => {
      for (const [cursor, type] of [
        ['urgent', 'boolean'],
        ['level', `${schema}.level`],
        ['host', 'inet'],
      ])
        await expect(h.sync(`by_${cursor}`)).rejects.toMatchObject({
          code: 'SOURCE_SCHEMA_INVALID',
          message: expect.stringContaining(
            // It said "is a inet", "is a integer[]", "is a interval".
            `cursor "${cursor}" has the type ${type}, whose values inlet cannot order`,
          ),
        });
    });
  });

  it('refuses a boolean deleted_column and a cursor that is not a column, naming the columns', async () => {
    await withSourceHarness(
      [
        source([mergeTable(`${schema}.customers`, { name: 'flagged', deleted_column: 'is_deleted' })]),
        { ...source([{ table: `${schema}.orders`, mode: 'incremental', cursor: 'created' }]), name: 'typo' },
      ],
      async (h) => {
        await expect(h.sync('app')).rejects.toMatchObject({
          code: 'SOURCE_SCHEMA_INVALID',
          message: expect.stringMatching(/deleted_column "is_deleted" is a boolean/),
        });
        await expect(h.sync('typo')).rejects.toMatchObject({
          code: 'SOURCE_SCHEMA_INVALID',
          message: expect.stringMatching(/cursor "created" is not a column.*id, customer, total/),
        });
      },
    );
  });

  it('refuses a table without columns by name, and copies the other tables of the source', async () => {
    // PostgreSQL allows a table of no columns; the spool reader was then handed columns={} and
    // failed with a DuckDB parser error about its own SQL.
    await sql(`CREATE TABLE ${schema}.nothing ()`);
    await sql(`INSERT INTO ${schema}.nothing DEFAULT VALUES`);
    await withSourceHarness(
      [source([{ table: `${schema}.nothing` }, { table: `${schema}.orders` }])],
      async (h) => {
        const error = await syncError(h, 'app');
        expect(error).toMatchObject({ code: 'SOURCE_SCHEMA_INVALID' });
        const message = error.message;
        expect(message).toContain('app.nothing: the result has no columns');
        expect(message).not.toMatch(/Parser Error/);
        expect(message).toMatch(/Copied: orders \(1000 rows\)\.$/);
      },
    );
  });

  it('refuses columns whose names differ only in case, which the lake takes for one', async () => {
    // DuckDB renamed the second to ID_1 without a word, and a primary_key "ID" ranked by "id".
    await sql(`CREATE TABLE ${schema}.cased (id int, "ID" int, updated_at timestamptz)`);
    await sql(`INSERT INTO ${schema}.cased VALUES (1, 10, now())`);
    await withSourceHarness([source([mergeTable(`${schema}.cased`, { primary_key: 'ID' })])], async (h) => {
      await expect(h.sync('app')).rejects.toMatchObject({
        code: 'SOURCE_SCHEMA_INVALID',
        message: expect.stringMatching(/app\.cased: the column "ID" appears twice .*differ only in case/),
      });
    });
  });

  it('refuses a merge table with a column named as the file column of its view, which it could not be queried by', async () => {
    // Synced with success, the table was then left out of every query: DuckDB refused the view's
    // filename='__inlet_file' over a column of that name.
    await sql(`CREATE TABLE ${schema}.filed (id int, "__inlet_file" text, updated_at timestamptz)`);
    await sql(`INSERT INTO ${schema}.filed VALUES (1, 'a.csv', now())`);
    await withSourceHarness(
      [
        source([mergeTable(`${schema}.filed`)]),
        {
          ...source([
            {
              name: 'filed',
              query: `SELECT id, "__inlet_file" AS file, updated_at FROM ${schema}.filed`,
              mode: 'merge',
              primary_key: 'id',
              cursor: 'updated_at',
            },
          ]),
          name: 'renamed',
        },
      ],
      async (h) => {
        await expect(h.sync('app')).rejects.toMatchObject({
          code: 'SOURCE_SCHEMA_INVALID',
          message: expect.stringContaining(
            `app.filed: the column "__inlet_file" has the name inlet's merge view gives the file each row comes from`,
          ),
        });
        await h.sync('renamed');
        expect(await h.query('SELECT id, file FROM renamed.filed')).toEqual([{ id: 1, file: 'a.csv' }]);
      },
    );
  });

  it('copies a custom query under its name, visible as <source>.<name>', async () => {
    await withSourceHarness(
      [
        source([
          // PostgreSQL nests /* comments: the query was refused as one that "starts with ORDERS".
          {
            query: `/* the top /* ten */ orders */ SELECT customer, total FROM ${schema}.orders WHERE id <= 10;`,
            name: 'top_orders',
          },
        ]),
      ],
      async (h) => {
        await h.sync('app');
        expect(await h.query('SELECT count(*)::INT AS n, min(customer) AS c FROM app.top_orders')).toEqual([
          { n: 10, c: 'お客様1' },
        ]);
      },
    );
  });

  it("names each mistake in a source's config: a url that is not one, a query without a name, a merge table without a primary_key, an entry with neither table nor query, a table: with two dots", () => {
    expect(() =>
      parseConfig({ sources: [{ name: 'app', type: 'postgres', url: 'mysql://u:s3cret@h/db', tables: [] }] }),
    ).toThrow(
      'sources[0].url: is a mysql:// URL, which a type: postgres source does not take; a MySQL or MariaDB database is a source of type: mysql (or give a postgres:// URL such as postgres://inlet@db.internal:5432/app)',
    );
    expect(() =>
      parseConfig({ sources: [{ name: 'app', type: 'postgres', url: 'db.internal:5432/app', tables: [] }] }),
    ).toThrow(/sources\[0\]\.url: must be a connection URL such as postgres:/);
    expect(() =>
      parseConfig({ sources: [source([{ query: 'SELECT 1' }, { table: 'a', mode: 'merge' }])] }),
    ).toThrow(/sources\[0\]\.tables\[0\]\.name: a query needs a name[\s\S]*tables\[1\]\.primary_key/);
    // An entry with neither was told "give either table or query, not both", as if it had both.
    expect(() => parseConfig({ sources: [source([{ name: 'orders', mode: 'full' }])] })).toThrow(
      /sources\[0\]\.tables\[0\]\.table: is required, or query: instead; add table: with the table to copy \(schema\.table\), or query: with a SELECT/,
    );
    expect(() =>
      parseConfig({ sources: [source([{ table: 'orders', query: 'SELECT 1', name: 'o' }])] }),
    ).toThrow(/sources\[0\]\.tables\[0\]\.table: give either table or query, not both/);
    // Sent as three names, refused by PostgreSQL as "cross-database references are not implemented".
    expect(() => parseConfig({ sources: [source([{ table: 'app.order.items', name: 'items' }])] })).toThrow(
      /sources\[0\]\.tables\[0\]\.table: "app\.order\.items" has more than one dot; write schema\.table, and copy a table whose name holds a dot with query:/,
    );
  });

  it('refuses a query: with a /* comment nothing closes, where PostgreSQL quoted inlet\'s wrapper (") AS q LIMIT 0")', () => {
    expect(() => parseConfig({ sources: [source([{ name: 'q', query: 'SELECT 1 AS a /* note' }])] })).toThrow(
      'sources[0].tables[0].query: opens a /* comment that no */ closes ("/* note"); close it with */, or write the comment after -- on its own line',
    );
    // Nested, the inner */ closes only the inner comment: it was taken for closed.
    expect(() =>
      parseConfig({ sources: [source([{ name: 'q', query: 'SELECT 1 AS a /* a /* b */ c' }])] }),
    ).toThrow('sources[0].tables[0].query: opens a /* comment that no */ closes ("/* a /* b */ c")');
    // Closed comments, and /* in quoted text, a quoted name, a dollar-quoted string or a -- comment.
    for (const query of [
      'SELECT 1 AS a /* note */',
      "SELECT '/*' AS a, 'it''s' AS b",
      'SELECT 1 AS "/*"',
      'SELECT $x$ /* $x$ AS a',
      'SELECT 1 AS a -- /* note',
      "SELECT 1 AS a /* don't /* it's */ */, 'x' AS b",
    ])
      expect(() => parseConfig({ sources: [source([{ name: 'q', query }])] }), query).not.toThrow();
  });

  it('refuses a query: of two statements, where PostgreSQL said only "syntax error at or near ";""', () => {
    expect(() =>
      parseConfig({
        sources: [source([{ name: 'q', query: 'SELECT * FROM accounts; SELECT * FROM plans' }])],
      }),
    ).toThrow(
      'sources[0].tables[0].query: holds more than one statement ("SELECT * FROM plans" follows the ; after the first); ' +
        'give one SELECT a table, and each other its own entry with a name:, or join them in one (UNION ALL, JOIN)',
    );
    // A ; that ends it, with blanks and comments after, and one in quoted text, a name or a comment.
    for (const query of [
      'SELECT 1 AS a;',
      'SELECT 1 AS a; -- the active ones',
      'SELECT 1 AS a; /* a /* b */ c */ ;',
      'SELECT \';\' AS a, 1 AS "b;c"',
      'SELECT $x$ ; $x$ AS a',
      'SELECT 1 AS a -- ; SELECT 2\n',
      "SELECT E'it\\'s; not' AS a",
    ])
      expect(() => parseConfig({ sources: [source([{ name: 'q', query }])] }), query).not.toThrow();
    // MySQL's strings take \' for a quote.
    const mysql = { name: 'shop', type: 'mysql', url: 'mysql://u@db/shop' };
    for (const query of ["SELECT 'it\\'s; not' AS a", 'SELECT "a\\"; b" AS a'])
      expect(
        () => parseConfig({ sources: [{ ...mysql, tables: [{ name: 'q', query }] }] }),
        query,
      ).not.toThrow();
    expect(() =>
      parseConfig({ sources: [{ ...mysql, tables: [{ name: 'q', query: "SELECT 'a\\''; SELECT 2" }] }] }),
    ).toThrow('holds more than one statement ("SELECT 2" follows');
  });
});
