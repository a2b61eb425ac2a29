import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSourceCases } from '../../../test/database-source-cases.ts';
import {
  lakeColumnTypes,
  mergeTable,
  sourceEntry,
  syncError,
  TEST_MYSQL_URL,
  uniqueName,
  withSourceHarness,
} from '../../../test/source-harness.ts';
import { parseConfig } from '../../config/index.ts';
import { readLakeTable } from '../../lake/index.ts';
import { connectMysql } from './mysql-client.ts';

const db = uniqueName('inlet_t');
let conn: mysql.Connection;
const sql = async (text: string) => {
  await conn.query(text);
};

beforeAll(async () => {
  conn = await mysql.createConnection({ uri: TEST_MYSQL_URL, charset: 'UTF8MB4_UNICODE_CI' });
  await sql(`CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
  await sql(`USE ${db}`);
  // Zero dates are what legacy MySQL data holds; strict mode would refuse to insert one.
  await sql("SET SESSION sql_mode = ''");
  await sql(`CREATE TABLE types (
    id INT PRIMARY KEY, tiny TINYINT, flag BOOLEAN, small SMALLINT, med MEDIUMINT, big BIGINT,
    ubig BIGINT UNSIGNED, amount DECIMAL(12,2), wide DECIMAL(65,10), d DOUBLE, name TEXT, code VARCHAR(20),
    day DATE, dt DATETIME(6), ts TIMESTAMP(3) NULL, t TIME, doc JSON, raw BLOB, mood ENUM('happy','sad'),
    bits BIT(10), uid CHAR(36)) CHARACTER SET utf8mb4`);
  // The session's zone is +09:00: a TIMESTAMP is stored in UTC and must arrive in the lake as UTC.
  await sql("SET time_zone = '+09:00'");
  await sql(`INSERT INTO types VALUES
    (1, -128, TRUE, -32768, 8388607, 9223372036854775807, 18446744073709551615, -1234567890.12,
     12345678901234567890.0123456789, 0.1, '日本語テキスト 🎉 "quoted", comma\\nnewline', '', '2026-11-20',
     '2026-11-20 10:11:12.123456', '2026-11-20 10:11:12.654', '-838:59:59', '{"a": "日本"}', X'00FF10',
     'happy', b'1000000001', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '0000-00-00', NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL)`);
  await sql('CREATE TABLE events (id BIGINT PRIMARY KEY, kind VARCHAR(20))');
  await sql("INSERT INTO events SELECT seq, 'view' FROM seq_1_to_500");
  await sql(`CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50), plan VARCHAR(10),
    updated_at DATETIME(3) NOT NULL, deleted_at DATETIME NULL) CHARACTER SET utf8mb4`);
  await sql(`INSERT INTO customers VALUES (1, '佐藤', 'free', '2026-11-01 00:00:00', NULL),
    (2, '鈴木', 'pro', '2026-11-01 00:00:01', NULL), (3, '高橋', 'free', '2026-11-01 00:00:02', NULL)`);
});

afterAll(async () => {
  await sql(`DROP DATABASE IF EXISTS ${db}`);
  await conn.end();
});

const source = sourceEntry({ name: 'shop', type: 'mysql', url: TEST_MYSQL_URL });

describe('mysql source', () => {
  databaseSourceCases({
    sourceName: 'shop',
    source,
    sql,
    table: (name) => `${db}.${name}`,
    timestamp: (utc) => `'${utc}'`,
    customersPrimaryKey: ['id'],
    async createVisitsWithBadValue() {
      await sql("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'");
      await sql(`CREATE TABLE ${db}.visits (id INT PRIMARY KEY, day DATE, pad VARCHAR(200))`);
      await sql(
        `INSERT INTO ${db}.visits SELECT seq, IF(seq = 10, '2026-02-31', '2026-02-01'), REPEAT('x', 200) FROM seq_1_to_30000`,
      );
      await sql("SET SESSION sql_mode = ''");
    },
    badVisitsValue: /.*2026-02-31.*SELECT …, CAST\(day AS CHAR\) AS day FROM/,
    healthyTable: { name: 'events', rows: 500 },
    lineComments: { hash: '#', dash: '--' },
    textDecimalType: 'DECIMAL(50,2)',
    // MariaDB's Sequence engine: seq_1_to_500 is a table of the numbers 1 to 500.
    numbers: (first, last) => `(SELECT seq AS n FROM seq_${first}_to_${last}) AS numbers`,
    literal: (text) =>
      `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\r', '\\r').replaceAll('\n', '\\n')}'`,
    longText: 'LONGTEXT',
    jsonTypes: ['JSON'],
    repeat: (text, n) => `REPEAT(${text}, ${n})`,
    timestampTypes: { naive: 'DATETIME', zoned: 'TIMESTAMP NULL' },
    retype: (table, column, type) => `ALTER TABLE ${table} MODIFY ${column} ${type}`,
    floatTypes: { single: 'FLOAT', double: 'DOUBLE' },
    comment: {
      table: (table, text) => `ALTER TABLE ${table} COMMENT = ${conn.escape(text)}`,
      column: (table, column, type, text) =>
        `ALTER TABLE ${table} MODIFY ${column} ${type} COMMENT ${conn.escape(text)}`,
    },
    queryColumnsHaveComments: false,
    server: 'MySQL',
    quote: (name) => `\`${name}\``,
    async createReader(readable) {
      const user = uniqueName('reader').slice(0, 32);
      // Both hosts: a client on 127.0.0.1 may be matched as localhost by the server.
      const hosts = [`'${user}'@'%'`, `'${user}'@'localhost'`];
      for (const host of hosts) {
        await sql(`CREATE USER ${host} IDENTIFIED BY 'reader-pw'`);
        await sql(`GRANT SELECT ON ${readable} TO ${host}`);
      }
      const url = new URL(TEST_MYSQL_URL);
      url.username = user;
      url.password = 'reader-pw';
      url.pathname = `/${db}`;
      return {
        user,
        url: url.href,
        async grant(table) {
          for (const host of hosts) await sql(`GRANT SELECT ON ${table} TO ${host}`);
        },
        async drop() {
          for (const host of hosts) await sql(`DROP USER IF EXISTS ${host}`);
        },
      };
    },
    lockedRead: {
      async hold() {
        const name = uniqueName('inlet_lock');
        const holder = await mysql.createConnection({ uri: TEST_MYSQL_URL });
        await holder.query('SELECT GET_LOCK(?, 0)', [name]);
        let held = true;
        return {
          query: (from) => `SELECT id, GET_LOCK('${name}', 600) AS locked FROM ${from}`,
          async dropReader() {
            const [rows] = await conn.query(
              "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%'",
              [`SELECT * FROM (%GET_LOCK('${name}'%`],
            );
            const ids = (rows as Array<{ id: number }>).map((row) => row.id);
            for (const id of ids) await conn.query(`KILL ${Number(id)}`);
            return ids.length;
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
      withPassword: 'mysql://root:s3cret-Pa55@127.0.0.1:1/test',
      shown: 'mysql://root@127.0.0.1:1/test',
    },
  });

  it('says that a postgres:// url belongs to a source of type: postgres', () => {
    expect(() =>
      parseConfig({
        sources: [{ name: 'shop', type: 'mysql', url: 'postgresql://u:s3cret@h/db', tables: [] }],
      }),
    ).toThrow(
      'sources[0].url: is a postgresql:// URL, which a type: mysql source does not take; a PostgreSQL database is a source of type: postgres (or give a mysql:// URL such as mysql://inlet@db.internal:3306/app)',
    );
  });

  it('says to percent-encode a password with a % that starts no escape, rather than "URI malformed"', async () => {
    await withSourceHarness(
      [source([{ table: `${db}.types` }], { url: 'mysql://root:s3cret%Pa55@127.0.0.1:1/test' })],
      async (h) => {
        const error = await syncError(h, 'shop');
        expect(error).toMatchObject({ code: 'SOURCE_CONNECTION_FAILED' });
        expect(error.message).toContain('the url is not a valid URL.');
        expect(error.message).toContain('% as %25');
        expect(JSON.stringify(error)).not.toContain('s3cret');
      },
    );
  });

  it('copies every type faithfully, with Japanese and emoji, bytes, JSON, UTC times and NULL', async () => {
    await withSourceHarness([source([{ table: `${db}.types` }])], async (h) => {
      expect((await h.sync('shop')).rows).toBe(2);
      expect(await lakeColumnTypes(h, 'shop.types')).toEqual({
        id: 'INTEGER',
        tiny: 'TINYINT',
        flag: 'BOOLEAN',
        small: 'SMALLINT',
        med: 'INTEGER',
        big: 'BIGINT',
        ubig: 'UBIGINT',
        amount: 'DECIMAL(12,2)',
        wide: 'VARCHAR',
        d: 'DOUBLE',
        name: 'VARCHAR',
        code: 'VARCHAR',
        day: 'DATE',
        dt: 'TIMESTAMP',
        ts: 'TIMESTAMP WITH TIME ZONE',
        t: 'VARCHAR',
        doc: 'JSON',
        raw: 'BLOB',
        mood: 'VARCHAR',
        bits: 'UBIGINT',
        uid: 'VARCHAR',
      });
      const [row, empty] = await h.query('SELECT * REPLACE (hex(raw) AS raw) FROM shop.types ORDER BY id');
      expect(row).toEqual({
        id: 1,
        tiny: -128,
        flag: true,
        small: -32768,
        med: 8388607,
        big: '9223372036854775807',
        ubig: '18446744073709551615',
        amount: '-1234567890.12',
        wide: '12345678901234567890.0123456789',
        d: 0.1,
        name: '日本語テキスト 🎉 "quoted", comma\nnewline',
        code: '',
        day: '2026-11-20',
        dt: '2026-11-20 10:11:12.123456',
        ts: '2026-11-20 01:11:12.654+00',
        t: '-838:59:59',
        doc: { a: '日本' },
        raw: '00FF10',
        mood: 'happy',
        bits: '513',
        uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      });
      // The zero date became NULL like the rest of the empty row.
      expect(Object.values(empty ?? {}).filter((v) => v !== null)).toEqual([2]);
    });
  });

  it('copies JSON values holding commas and quotes, from a JSON column and from JSON functions', async () => {
    // MariaDB's JSON is text tagged json; its values went into the spool unquoted, and the first
    // object of two keys failed the table as a CSV line with an unterminated quote.
    await sql('CREATE TABLE docs (id INT PRIMARY KEY, doc JSON)');
    await sql(`INSERT INTO docs VALUES (1, '{"a": 1, "b": [1, 2], "c": "x, y"}'), (2, '"a,b"')`);
    await withSourceHarness(
      [
        source([
          { table: `${db}.docs` },
          { name: 'built', query: `SELECT id, JSON_OBJECT('k', 'v,"w"', 'n', id) AS o FROM ${db}.docs` },
        ]),
      ],
      async (h) => {
        expect((await h.sync('shop')).rows).toBe(4);
        expect(await h.query('SELECT id, doc FROM shop.docs ORDER BY id')).toEqual([
          { id: 1, doc: { a: 1, b: [1, 2], c: 'x, y' } },
          { id: 2, doc: 'a,b' },
        ]);
        expect(await h.query("SELECT id, o->>'k' AS k FROM shop.built ORDER BY id")).toEqual([
          { id: 1, k: 'v,"w"' },
          { id: 2, k: 'v,"w"' },
        ]);
      },
    );
  });

  it('keeps an empty binary value empty, apart from NULL', async () => {
    // Bytes travel as hex, and the hex of no bytes went out as an unquoted empty field: NULL.
    await sql('CREATE TABLE blobs (id INT PRIMARY KEY, raw VARBINARY(8), doc BLOB)');
    await sql("INSERT INTO blobs VALUES (1, '', ''), (2, NULL, NULL), (3, X'00', X'FF')");
    await withSourceHarness([source([{ table: `${db}.blobs` }])], async (h) => {
      expect((await h.sync('shop')).rows).toBe(3);
      expect(
        await h.query('SELECT id, hex(raw) AS raw, hex(doc) AS doc FROM shop.blobs ORDER BY id'),
      ).toEqual([
        { id: 1, raw: '', doc: '' },
        { id: 2, raw: null, doc: null },
        { id: 3, raw: '00', doc: 'FF' },
      ]);
    });
  });

  it('copies an unsigned tinyint(1) above 127 as true, where the table failed', async () => {
    // A tinyint(1) UNSIGNED holds up to 255 and reads as BOOLEAN like a signed one; parsed as a
    // TINYINT, 200 did not fit and failed the whole table.
    await sql('CREATE TABLE flags (id INT PRIMARY KEY, f TINYINT(1) UNSIGNED)');
    await sql('INSERT INTO flags VALUES (1, 255), (2, 200), (3, 1), (4, 0), (5, NULL)');
    await withSourceHarness([source([{ table: `${db}.flags` }])], async (h) => {
      expect((await h.sync('shop')).rows).toBe(5);
      expect(await h.query('SELECT id, f FROM shop.flags ORDER BY id')).toEqual([
        { id: 1, f: true },
        { id: 2, f: true },
        { id: 3, f: true },
        { id: 4, f: false },
        { id: 5, f: null },
      ]);
      expect(await lakeColumnTypes(h, 'shop.flags')).toMatchObject({ f: 'BOOLEAN' });
    });
  });

  it('copies a FLOAT as the value the column holds, not the six digits MySQL shows of it', async () => {
    // As text, MySQL and MariaDB write a FLOAT to six significant digits: 123456.78 (held as
    // 123456.78125) arrived as 123457. As a cursor it then skipped 123456.9, a row added later.
    await sql('CREATE TABLE floats (id INT, f FLOAT)');
    await sql('INSERT INTO floats VALUES (1, 123456.78), (2, 16777217), (3, 0.1), (4, NULL)');
    await sql('CREATE TABLE gauges (id INT, f FLOAT)');
    await sql('INSERT INTO gauges VALUES (1, 123456.78), (2, NULL)');
    await withSourceHarness(
      [source([{ table: `${db}.floats` }, { table: `${db}.gauges`, mode: 'incremental', cursor: 'f' }])],
      async (h) => {
        expect((await h.sync('shop')).rows).toBe(6);
        expect(await h.query('SELECT id, f::DOUBLE AS f FROM shop.floats ORDER BY id')).toEqual([
          { id: 1, f: 123456.78125 },
          { id: 2, f: 16777216 },
          { id: 3, f: 0.10000000149011612 },
          { id: 4, f: null },
        ]);
        await sql('INSERT INTO gauges VALUES (3, 123456.9)');
        expect((await h.sync('shop')).tables).toContainEqual({ table: 'gauges', rows: 1 });
        expect((await h.sync('shop')).tables).toContainEqual({ table: 'gauges', rows: 0 });
        expect(await h.query('SELECT id FROM shop.gauges ORDER BY id')).toEqual([
          { id: 1 },
          { id: 2 },
          { id: 3 },
        ]);
      },
    );
  });

  it('incremental and merge mode order a TIME cursor as MySQL does, past 99 hours and below zero', async () => {
    // The lake keeps TIME as text, where '100:00:00' < '20:00:00' and '-10:00:00' > '-02:00:00':
    // the run saved 20:00:00 and the next one copied 100:00:00 again, and the merged view kept
    // the version at 20:00:00.
    await sql('CREATE TABLE laps (id INT, t TIME)');
    await sql(
      "INSERT INTO laps VALUES (1, '-10:00:00'), (2, '-02:00:00'), (3, '20:00:00'), (4, '100:00:00')",
    );
    await sql('CREATE TABLE rotas (id INT PRIMARY KEY, t TIME, note VARCHAR(10))');
    await sql("INSERT INTO rotas VALUES (1, '20:00:00', 'first')");
    await withSourceHarness(
      [
        source([
          { table: `${db}.laps`, mode: 'incremental', cursor: 't' },
          mergeTable(`${db}.rotas`, { cursor: 't' }),
        ]),
      ],
      async (h) => {
        expect((await h.sync('shop')).tables).toContainEqual({ table: 'laps', rows: 4 });
        await sql("UPDATE rotas SET t = '100:00:00', note = 'second' WHERE id = 1");
        await sql("INSERT INTO laps VALUES (5, '100:00:01')");
        const second = (await h.sync('shop')).tables;
        expect(second).toContainEqual({ table: 'laps', rows: 1 });
        expect((await h.sync('shop')).tables).toContainEqual({ table: 'laps', rows: 0 });
        expect(await h.query('SELECT id FROM shop.laps ORDER BY id')).toEqual(
          [1, 2, 3, 4, 5].map((id) => ({ id })),
        );
        expect(await h.query('SELECT note FROM shop.rotas')).toEqual([{ note: 'second' }]);
      },
    );
  });

  it('refuses a BOOLEAN or BIT(1) cursor, which cannot order rows, naming the types that can', async () => {
    // A tinyint(1) cursor was saved as true, which MySQL reads as the number 0 in the next WHERE.
    await sql('CREATE TABLE toggles (id INT PRIMARY KEY, on_off BOOLEAN, bit_flag BIT(1))');
    await sql("INSERT INTO toggles VALUES (1, TRUE, b'1'), (2, FALSE, b'0')");
    await withSourceHarness(
      [
        source([{ table: `${db}.toggles`, mode: 'incremental', cursor: 'on_off' }]),
        { ...source([{ table: `${db}.toggles`, mode: 'incremental', cursor: 'bit_flag' }]), name: 'bits' },
      ],
      async (h) => {
        await expect(h.sync('shop')).rejects.toMatchObject({
          code: 'SOURCE_SCHEMA_INVALID',
          message: expect.stringMatching(/cursor "on_off" has the type tinyint\(1\).*numbers, dates, times/),
        });
        await expect(h.sync('bits')).rejects.toMatchObject({
          code: 'SOURCE_SCHEMA_INVALID',
          message: expect.stringMatching(/cursor "bit_flag" has the type bit\(1\)/),
        });
      },
    );
  });

  it('copies a date or datetime with a zero day or month as NULL, as a zero date, and the other rows', async () => {
    // Without NO_ZERO_IN_DATE MySQL keeps 2026-02-00 and 2026-00-10; neither is a date, and one
    // failed the whole table. The session's zone is +09:00, so the TIMESTAMP is 01:11:12 UTC.
    await sql('CREATE TABLE partial_dates (id INT, day DATE, moment DATETIME, stamp TIMESTAMP NULL)');
    await sql(`INSERT INTO partial_dates VALUES (1, '2026-02-00', '2026-02-00 10:11:12', NULL),
      (2, '2026-00-10', '2026-00-10 00:00:00', NULL), (3, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
      (4, '2026-02-01', '2026-02-01 10:11:12', '2026-02-01 10:11:12')`);
    await withSourceHarness([source([{ table: `${db}.partial_dates` }])], async (h) => {
      expect((await h.sync('shop')).rows).toBe(4);
      expect(
        await h.query(
          'SELECT id, day::VARCHAR AS day, moment::VARCHAR AS moment, epoch(stamp)::INT AS stamp FROM shop.partial_dates ORDER BY id',
        ),
      ).toEqual([
        { id: 1, day: null, moment: null, stamp: null },
        { id: 2, day: null, moment: null, stamp: null },
        { id: 3, day: null, moment: null, stamp: null },
        { id: 4, day: '2026-02-01', moment: '2026-02-01 10:11:12', stamp: 1769908272 },
      ]);
      expect(await lakeColumnTypes(h, 'shop.partial_dates')).toMatchObject({
        day: 'DATE',
        moment: 'TIMESTAMP',
      });
    });
  });

  it('refuses a BOOLEAN or BIT(1) deleted_column, whose false is not NULL and would hide every row', async () => {
    await sql(
      'CREATE TABLE flagged (id INT PRIMARY KEY, updated_at DATETIME, is_deleted BOOLEAN, gone BIT(1))',
    );
    await sql("INSERT INTO flagged VALUES (1, '2026-11-01', FALSE, b'0'), (2, '2026-11-01', TRUE, b'1')");
    await withSourceHarness(
      [
        source([mergeTable(`${db}.flagged`, { deleted_column: 'is_deleted' })]),
        { ...source([mergeTable(`${db}.flagged`, { deleted_column: 'gone' })]), name: 'bits' },
      ],
      async (h) => {
        await expect(h.sync('shop')).rejects.toMatchObject({
          code: 'SOURCE_SCHEMA_INVALID',
          message: expect.stringMatching(/deleted_column "is_deleted" is a boolean/),
        });
        await expect(h.sync('bits')).rejects.toMatchObject({
          code: 'SOURCE_SCHEMA_INVALID',
          message: expect.stringMatching(/deleted_column "gone" is a boolean/),
        });
      },
    );
  });

  it('keeps the comments of the columns copied only, not of a MariaDB INVISIBLE column SELECT * leaves out', async () => {
    await sql(
      `CREATE TABLE ${db}.hidden (id INT COMMENT 'Shown', secret INT INVISIBLE COMMENT 'Not copied') COMMENT 'Has a hidden column'`,
    );
    await sql(`INSERT INTO ${db}.hidden (id, secret) VALUES (1, 2)`);
    await withSourceHarness([source([{ table: `${db}.hidden` }])], async (h) => {
      await h.sync('shop');
      const { description, columns } = readLakeTable(join(h.layout.lake, 'sources', 'shop', 'hidden')) ?? {};
      expect({ description, columns }).toEqual({
        description: 'Has a hidden column',
        columns: { id: 'Shown' },
      });
    });
  });

  it('hands over the rows of a wide result in batches of about 2 MB, not of a thousand rows', async () => {
    // A thousand rows of 1,000 columns held ~32 MB of strings a batch, five batches in flight.
    const connection = await connectMysql({ url: TEST_MYSQL_URL, statementTimeoutMs: 60_000 });
    try {
      const sizes: number[] = [];
      let rows = 0;
      for await (const batch of connection.rows(
        "SELECT seq, REPEAT('x', 100000) AS pad FROM seq_1_to_300",
        new Map([
          ['seq', 'text'],
          ['pad', 'text'],
        ]),
      )) {
        rows += batch.length;
        sizes.push(batch.reduce((sum, row) => sum + (row[1]?.length ?? 0), 0));
      }
      expect(rows).toBe(300);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(2 * 1024 * 1024 + 100_000);
    } finally {
      await connection.close();
    }
  });

  it('refuses LOCAL INFILE and writes on its connections', async () => {
    // The server may ask the client for a file with LOAD DATA LOCAL; inlet's connections refuse.
    const connection = await connectMysql({ url: TEST_MYSQL_URL, statementTimeoutMs: 10_000 });
    try {
      await expect(
        connection.query(`LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE ${db}.events`),
      ).rejects.toThrow(/local infile/i);
      // Every session is read-only.
      await expect(connection.query(`DELETE FROM ${db}.events`)).rejects.toThrow(/READ ONLY/);
    } finally {
      await connection.close();
    }
  });
});
