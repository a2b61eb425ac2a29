import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { bundledFixture } from '../../../test/bundled-fixture.ts';
import { stdoutOf } from '../../../test/child-processes.ts';
import { AS_NOBODY, capturingLogger, nobodyCanRun, tempDir } from '../../../test/helpers.ts';
import {
  createSourceHarness,
  lakeColumnTypes,
  type SourceHarness,
  syncError,
} from '../../../test/source-harness.ts';
import { parseConfig } from '../../config/index.ts';

let harness: SourceHarness | undefined;
let exports: { dir: string; cleanup(): void } | undefined;
afterEach(() => {
  harness?.close();
  exports?.cleanup();
  harness = undefined;
  exports = undefined;
});

/** Export files in a directory of their own, and a csv source reading them by absolute path. */
async function setup(
  tables: Array<Record<string, unknown>>,
  files: Record<string, string | Buffer>,
  options: Record<string, unknown> = {},
) {
  exports = tempDir('inlet-exports-');
  const { dir } = exports;
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  harness = await createSourceHarness([
    {
      name: 'crm',
      type: 'csv',
      tables: tables.map((t) => ({ ...t, path: join(dir, String(t.path)) })),
      ...options,
    },
  ]);
  return { h: harness, dir };
}

/** inlet sync crm copies table with these column types, and sql over it gives these rows. */
async function expectSyncedAs(
  h: SourceHarness,
  table: string,
  types: Record<string, string>,
  sql: string,
  rows: unknown[],
): Promise<void> {
  await h.sync('crm');
  expect(await lakeColumnTypes(h, table)).toEqual(types);
  expect(await h.query(sql)).toEqual(rows);
}

/**
 * Incremental tables of columns id and note, a file each split by its `delimiter` and written by
 * its `encode`: a row whose quoted note holds a line break, appended in two halves, waits whole for
 * the sync after its closing quote, the sync between importing nothing.
 */
async function expectHalfQuotedFieldWaits(
  files: Array<{
    path: string;
    delimiter: string;
    options?: Record<string, unknown>;
    encode?: (text: string) => string | Buffer;
  }>,
): Promise<void> {
  const text = (file: (typeof files)[number], csv: string) =>
    (file.encode ?? ((t: string) => t))(csv.replaceAll(',', file.delimiter));
  const { h, dir } = await setup(
    files.map((file) => ({ path: file.path, mode: 'incremental', ...file.options })),
    Object.fromEntries(files.map((file) => [file.path, text(file, 'id,note\n1,a\n')])),
  );
  const append = (csv: string) => {
    for (const file of files) appendFileSync(join(dir, file.path), text(file, csv));
  };
  expect((await h.sync('crm')).rows).toBe(files.length);
  append('2,"first line\nsecond');
  expect((await h.sync('crm')).rows).toBe(0);
  append(' line"\n');
  expect((await h.sync('crm')).rows).toBe(files.length);
  for (const file of files)
    expect(await h.query(`SELECT id, note FROM crm.${file.path.replace(/\..*/, '')} ORDER BY id`)).toEqual([
      { id: '1', note: 'a' },
      { id: '2', note: 'first line\nsecond line' },
    ]);
}

/** The message of the SOURCE_DATA_INVALID that inlet sync crm fails with. */
async function refusedData(h: SourceHarness): Promise<string> {
  const error = await h.sync('crm').catch((e: Error) => e);
  expect(error).toMatchObject({ code: 'SOURCE_DATA_INVALID' });
  return (error as Error).message;
}

/**
 * events.ndjson and users.json synced as first written (3 rows), then written again as `then` and
 * refused with SOURCE_DATA_INVALID: the harness and the message.
 */
async function refusedOnceRewritten(
  first: { events: string; users: string },
  then: { events: string; users: string },
): Promise<{ h: SourceHarness; message: string }> {
  const { h, dir } = await setup([{ path: 'events.ndjson' }, { path: 'users.json' }], {
    'events.ndjson': first.events,
    'users.json': first.users,
  });
  expect((await h.sync('crm')).rows).toBe(3);
  writeFileSync(join(dir, 'events.ndjson'), then.events);
  writeFileSync(join(dir, 'users.json'), then.users);
  return { h, message: await refusedData(h) };
}

describe('csv source', () => {
  it('reads a header and infers types from every row; leading zeros, Japanese, emoji and quoted newlines survive', async () => {
    const { h } = await setup([{ path: 'Accounts.csv' }], {
      'Accounts.csv':
        '\uFEFFId,会社名,郵便番号,売上,登録日,更新日時,有効,メモ\n' +
        '1,株式会社テスト🍣,0123456,1200.50,2026/11/20,2026-11-20 10:11:12,true,"カンマ, ""引用""\n改行"\n' +
        '2,,1000001,,2026/01/05,2026-01-05 00:00:00,false,""\n' +
        // A late row that only fits a wider type: inference sees every row.
        '3,三番,0000001,99999999999.25,2026/12/31,2026-12-31 23:59:59,true,x\n',
    });
    const result = await h.sync('crm');
    expect(result.tables).toEqual([{ table: 'accounts', rows: 3 }]);
    expect(await lakeColumnTypes(h, 'crm.accounts')).toEqual({
      Id: 'BIGINT',
      会社名: 'VARCHAR',
      郵便番号: 'VARCHAR',
      売上: 'DOUBLE',
      登録日: 'DATE',
      更新日時: 'TIMESTAMP',
      有効: 'BOOLEAN',
      メモ: 'VARCHAR',
    });
    expect(await h.query('SELECT * FROM crm.accounts ORDER BY Id')).toEqual([
      {
        Id: '1',
        会社名: '株式会社テスト🍣',
        郵便番号: '0123456',
        売上: 1200.5,
        登録日: '2026-11-20',
        更新日時: '2026-11-20 10:11:12',
        有効: true,
        メモ: 'カンマ, "引用"\n改行',
      },
      {
        Id: '2',
        会社名: null,
        郵便番号: '1000001',
        売上: null,
        登録日: '2026-01-05',
        更新日時: '2026-01-05 00:00:00',
        有効: false,
        メモ: null,
      },
      {
        Id: '3',
        会社名: '三番',
        郵便番号: '0000001',
        売上: 99999999999.25,
        登録日: '2026-12-31',
        更新日時: '2026-12-31 23:59:59',
        有効: true,
        メモ: 'x',
      },
    ]);
  });

  it('reads TSV, and types: forces a column type while parsing', async () => {
    const { h } = await setup([{ path: 'deals.tsv', types: { amount: 'DECIMAL(12,2)', code: 'VARCHAR' } }], {
      'deals.tsv': 'code\tamount\tname\n007\t1234.50\tA, B\n010\t0.10\t"quoted"\n',
    });
    await expectSyncedAs(
      h,
      'crm.deals',
      { code: 'VARCHAR', amount: 'DECIMAL(12,2)', name: 'VARCHAR' },
      'SELECT code, amount::VARCHAR AS amount, name FROM crm.deals ORDER BY code',
      [
        { code: '007', amount: '1234.50', name: 'A, B' },
        { code: '010', amount: '0.10', name: 'quoted' },
      ],
    );
  });

  it('names a types: column the file does not have, and the columns it has, for CSV and JSON', async () => {
    // DuckDB's binder error was all: "Column "nothere" in REPLACE list not found in FROM clause".
    const { h } = await setup(
      [
        { path: 'deals.csv', types: { nothere: 'INTEGER' } },
        { path: 'plans.ndjson', types: { id: 'BIGINT', nothere: 'INTEGER' } },
      ],
      { 'deals.csv': 'code,amount\n007,1\n', 'plans.ndjson': '{"id":1,"price":100}\n' },
    );
    const message = await refusedData(h);
    for (const [table, file, columns] of [
      ['deals', 'deals.csv', 'code, amount'],
      ['plans', 'plans.ndjson', 'id, price'],
    ])
      expect(message).toContain(
        `crm.${table}: types: names the column "nothere", which ${file} does not have; its columns are ${columns}. Correct the name under types: for this table in a new ./inlet.yaml (docs/csv.md).`,
      );
    expect(message).not.toMatch(/Binder Error|REPLACE/);
  });

  it('names a types: type DuckDB does not know and its column, for CSV and JSON, where DuckDB suggested another type', async () => {
    // It was: could not read deals.csv as csv (utf-8): Catalog Error: Type with name INTEGR does not exist! Did you mean "JSON"?
    const { h } = await setup(
      [
        { path: 'deals.csv', types: { code: 'VARCHAR', amount: 'integr' } },
        { path: 'plans.ndjson', types: { tags: 'Strng[]' } },
      ],
      { 'deals.csv': 'code,amount\n007,1\n', 'plans.ndjson': '{"id":1,"tags":["a"]}\n' },
    );
    const message = await refusedData(h);
    for (const [table, column, type] of [
      ['deals', 'amount', 'integr'],
      ['plans', 'tags', 'Strng[]'],
    ])
      expect(message).toContain(
        `crm.${table}: types: gives the column "${column}" the type ${type}, which DuckDB does not know; ` +
          'give it one such as VARCHAR, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP or DECIMAL(12,2) for this table in a new ./inlet.yaml (docs/csv.md).',
      );
    expect(message).not.toMatch(/Catalog Error|Did you mean/);
  });

  it('refuses a CSV header holding a NUL byte, naming the file and header, where the column became "a"', async () => {
    const { h } = await setup([{ path: 'deals.csv' }, { path: 'plans.csv', skip: 1 }], {
      'deals.csv': 'a\0b,c\n1,2\n',
      'plans.csv': 'exported today\r\nid,na\0me\r\n1,x\r\n',
    });
    const message = await refusedData(h);
    expect(message).toContain(
      `crm.deals: the header of deals.csv holds a NUL byte ("a\\u0000b,c"), which would cut a column's name short; remove it from the header (tr -d '\\000' does it for a whole file).`,
    );
    expect(message).toContain('crm.plans: the header of plans.csv holds a NUL byte ("id,na\\u0000me")');
  });

  it('types: reads a JSON number too long for a DOUBLE as VARCHAR or DECIMAL with every digit, and names a value that does not fit', async () => {
    const { h, dir } = await setup(
      [
        { path: 'accounts.ndjson', types: { account_no: 'VARCHAR', balance: 'DECIMAL(38,0)' } },
        { path: 'plans.json', types: { price: 'BIGINT' } },
      ],
      {
        'accounts.ndjson':
          '{"id":1,"account_no":12345678901234567890123,"balance":98765432109876543210}\n{"id":2,"account_no":"A-7","balance":1}\n',
        'plans.json': '[{"id":1,"price":100}]',
      },
    );
    // Cast after reading, they were the DOUBLE's "1.2345678901234568e+22" and 98765432109876540000.
    await expectSyncedAs(
      h,
      'crm.accounts',
      { id: 'BIGINT', account_no: 'VARCHAR', balance: 'DECIMAL(38,0)' },
      'SELECT id, account_no, balance::VARCHAR AS balance FROM crm.accounts ORDER BY id',
      [
        { id: '1', account_no: '12345678901234567890123', balance: '98765432109876543210' },
        { id: '2', account_no: 'A-7', balance: '1' },
      ],
    );
    writeFileSync(join(dir, 'plans.json'), '[{"id":1,"price":100},{"id":2,"price":"free"}]');
    const message = await refusedData(h);
    expect(message).toMatch(
      /crm\.plans: could not read plans\.json as json \(utf-8\)\. A column's type set by types: in a new \.\/inlet\.yaml does not fit one of its values: .*"free"\./,
    );
    expect(message).not.toMatch(/Try setting|ignore_errors/);
  });

  it('refuses a JSON number too large for a DOUBLE (1e400), stored as infinity before, and keeps it as text once types: says VARCHAR', async () => {
    const { h, dir } = await setup([{ path: 'readings.ndjson' }], {
      'readings.ndjson': '{"id":1,"value":1.5}\n{"id":2,"value":1e400}\n',
    });
    const message = await refusedData(h);
    expect(message).toContain(
      'crm.readings: column value of readings.ndjson holds a number beyond what a DOUBLE holds (such as 1e400), which would be stored as infinity; set types: { value: VARCHAR }',
    );
    h.close();
    harness = await createSourceHarness([
      {
        name: 'crm',
        type: 'csv',
        tables: [{ path: join(dir, 'readings.ndjson'), types: { value: 'VARCHAR' } }],
      },
    ]);
    await harness.sync('crm');
    expect(await harness.query('SELECT id, value FROM crm.readings ORDER BY id')).toEqual([
      { id: '1', value: '1.5' },
      { id: '2', value: '1e400' },
    ]);
  });

  it('refuses a JSON number too large for a DOUBLE (1e400) inside an object or a list, stored as infinity before', async () => {
    const { h } = await setup(
      [{ path: 'a.ndjson' }, { path: 'b.ndjson' }, { path: 'c.ndjson' }, { path: 'd.ndjson' }],
      {
        'a.ndjson': '{"id":1,"s":{"x":1.5}}\n{"id":2,"s":{"x":1e400}}\n',
        'b.ndjson': '{"id":1,"l":[1.5,-1e400]}\n',
        'c.ndjson': '{"id":1,"deep":{"my key":[{"v":[2.5]},{"v":[1e400]}]}}\n',
        // Finite numbers, and the text "Infinity", are taken.
        'd.ndjson': '{"id":1,"s":{"x":1.5,"t":"Infinity"},"l":[[1.5]]}\n',
      },
    );
    const message = await refusedData(h);
    for (const [table, column] of [
      ['a', 's'],
      ['b', 'l'],
      ['c', 'deep'],
    ])
      expect(message).toContain(
        `crm.${table}: column ${column} of ${table}.ndjson holds a number beyond what a DOUBLE holds (such as 1e400), which would be stored as infinity; set types: { ${column}: VARCHAR }`,
      );
    expect(message).not.toContain('crm.d:');
  });

  it('says a value does not fit the type types: sets, without the options DuckDB read with, and names the line of a row over 8 MB, quoting its start', async () => {
    const { h } = await setup(
      [{ path: 'deals.csv', types: { amount: 'BIGINT' } }, { path: 'notes.csv' }, { path: 'memos.csv' }],
      {
        'deals.csv': 'id,amount\n1,10\n2,abc\n',
        'notes.csv': `id,note\n1,short\n2,${'x'.repeat(9 * 1024 * 1024)}\n`,
        // A quoted field of two lines of 5 MB each: the row is over 8 MB, neither line is.
        'memos.csv': `id,memo\n1,short\n\n2,"${'é'.repeat(2_500_000)}\n${'y'.repeat(5_000_000)}"\n3,z\n`,
      },
    );
    const message = (await h.sync('crm').catch((e: Error) => e.message)) as string;
    expect(message).toContain(
      `crm.deals: could not read deals.csv as csv (utf-8). A column's type set by types: in a new ./inlet.yaml does not fit one of its values: set that column to VARCHAR, which takes any, or correct the value: ` +
        'Conversion Error: CSV Error on Line: 3\nOriginal Line: 2,abc\nError when converting column "amount"',
    );
    // DuckDB said "CSV Error on Line: 1" for each, the header's line.
    const advice =
      'If a quote there opens a field that should have ended sooner, correct it; a value that long is to be left out of the export or cut short, ' +
      'or the table exported as JSON lines (format: ndjson for this table in a new ./inlet.yaml), whose values may be longer. Nothing was imported and the table keeps its rows.';
    expect(message).toContain(
      `crm.notes: line 3 of notes.csv starts a row of 9,437,187 bytes, more than the 8,388,608 (8 MB) a row of a CSV or TSV file may hold; it starts "2,${'x'.repeat(198)}"…. ${advice}`,
    );
    expect(message).toContain(
      `crm.memos: line 4 of memos.csv starts a row of 10,000,006 bytes, more than the 8,388,608 (8 MB) a row of a CSV or TSV file may hold; it starts "2,\\"${'é'.repeat(197)}"…. ${advice}`,
    );
    // It went on with DuckDB's advice (nullstr = 'N/A') and 20 lines of the options it read with,
    // and with 10,000 characters of the 9 MB line.
    for (const noise of ['nullstr', 'sample_size', 'delimiter =', 'Set By User'])
      expect(message).not.toContain(noise);
    expect(message.length).toBeLessThan(2000);
  });

  it('decodes a Shift_JIS (CP932) export from Excel with Japanese, half-width kana and ①', async () => {
    const text = '顧客ID,会社名,担当者\r\n1,㈱テスト①,ﾔﾏﾀﾞ ﾀﾛｳ\r\n2,"東京都, 千代田区",鈴木 一郎\r\n';
    const { h } = await setup([{ path: 'customers_sjis.csv', name: 'customers', encoding: 'shift_jis' }], {
      'customers_sjis.csv': iconv.encode(text, 'cp932'),
    });
    await h.sync('crm');
    expect(await h.query('SELECT * FROM crm.customers ORDER BY 顧客ID')).toEqual([
      { 顧客ID: '1', 会社名: '㈱テスト①', 担当者: 'ﾔﾏﾀﾞ ﾀﾛｳ' },
      { 顧客ID: '2', 会社名: '東京都, 千代田区', 担当者: '鈴木 一郎' },
    ]);
  });

  // BIGINT values come back from the engine as strings (JSON numbers cannot hold them all).
  it('reads JSON lines and JSON arrays, nested values included', async () => {
    const { h } = await setup([{ path: 'events.ndjson' }, { path: 'users.json' }], {
      'events.ndjson':
        '{"id":1,"name":"日本 😀","tags":["a","b"],"at":"2026-11-20T10:00:00Z"}\n{"id":2,"name":null,"extra":{"k":1}}\n',
      'users.json': '[{"id": 1, "plan": "pro"}, {"id": 2, "plan": "free", "seats": 3}]',
    });
    expect((await h.sync('crm')).tables).toEqual([
      { table: 'events', rows: 2 },
      { table: 'users', rows: 2 },
    ]);
    expect(await h.query('SELECT id, name, tags, extra FROM crm.events ORDER BY id')).toEqual([
      { id: '1', name: '日本 😀', tags: ['a', 'b'], extra: null },
      { id: '2', name: null, tags: null, extra: { k: '1' } },
    ]);
    expect(await h.query('SELECT id, plan, seats FROM crm.users ORDER BY id')).toEqual([
      { id: '1', plan: 'pro', seats: null },
      { id: '2', plan: 'free', seats: '3' },
    ]);
  });

  it('says a CSV file read as JSON may be in another format, naming the export, not its copy in data/tmp', async () => {
    // It was: could not read bom.json as json (utf-8): … Malformed JSON in file "<data_dir>/tmp/sources/crm/bom/0-bom.json", …
    const { h, dir } = await setup([{ path: 'bom.json' }, { path: 'plain.ndjson' }], {
      'bom.json': '\ufeffid,name\n1,a\n',
      'plain.ndjson': 'id,name\n1,a\n',
    });
    const message = await refusedData(h);
    for (const [table, file, format] of [
      ['bom', 'bom.json', 'json'],
      ['plain', 'plain.ndjson', 'ndjson'],
    ]) {
      expect(message).toContain(
        `crm.${table}: could not read ${file} as ${format} (utf-8). It is not valid JSON where DuckDB says: an export cut short or written wrong, ` +
          'or a file in another format; if it is CSV or TSV, set format: for this table in a new ./inlet.yaml (docs/csv.md): ',
      );
      expect(message).toContain(`Malformed JSON in file "${join(dir, file)}"`);
    }
    expect(message).not.toContain('/tmp/sources/');
  });

  it('refuses a JSON export with a record that is not an object, naming its line, rather than reading it as one column "json"', async () => {
    const { h, message } = await refusedOnceRewritten(
      { events: '{"id":1,"kind":"view"}\n{"id":2,"kind":"click"}\n', users: '[{"id": 1, "plan": "pro"}]' },
      {
        events: '{"id":1,"kind":"view"}\n[1,2]\n{"id":3,"kind":"buy"}\n',
        users: '[{"id": 1, "plan": "pro"}, 42, {"id": 2, "plan": "free"}]',
      },
    );
    expect(message).toContain(
      'crm.events: line 2 of events.ndjson is [1,2], not a JSON object; each line must be a JSON object',
    );
    expect(message).toContain(
      'crm.users: line 1 of users.json is 42, not a JSON object; each record must be a JSON object',
    );
    expect(await lakeColumnTypes(h, 'crm.events')).toEqual({ id: 'BIGINT', kind: 'VARCHAR' });
    expect(await h.query('SELECT id, kind FROM crm.events ORDER BY id')).toEqual([
      { id: '1', kind: 'view' },
      { id: '2', kind: 'click' },
    ]);
  });

  it('refuses a JSON export with a record null by its line, where DuckDB read it as a row of NULLs', async () => {
    const { h, message } = await refusedOnceRewritten(
      {
        events: '{"id":1,"kind":"view"}\n{"id":2,"kind":"click","note":null}\n',
        users: '[{"id": 1, "plan": null}]',
      },
      {
        events: '{"id":1,"kind":"view"}\n{"id":2,"kind":"null"}\n null \n{"id":3}\n',
        users: '[\n  {"id": 1, "plan": null},\n  null\n]',
      },
    );
    expect(message).toContain(
      'crm.events: line 3 of events.ndjson is null, not a JSON object; each line must be a JSON object',
    );
    expect(message).toContain(
      'crm.users: line 3 of users.json is null, not a JSON object; each record must be a JSON object',
    );
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.events')).toEqual([{ n: 2 }]);
  });

  it('refuses a JSON export with a NUL character in a key by its line, where the column was named with it', async () => {
    // Imported, the lake's column was "a\u0000b", which every query showed as "a".
    const { h, dir } = await setup([{ path: 'events.ndjson' }], {
      'events.ndjson': '{"id":1,"note":"a NUL in a value \\u0000 is kept","k\\\\u0000":2}\n',
    });
    expect((await h.sync('crm')).rows).toBe(1);
    writeFileSync(join(dir, 'events.ndjson'), '{"id":1}\n{"id":2,\n"a\\u0000b" : 3}\n');
    expect(await refusedData(h)).toContain(
      'crm.events: line 3 of events.ndjson has a key with a NUL character ("a\\u0000b"), which would cut its column\'s name short at the NUL; remove the \\u0000 from that key, or the key.',
    );
    expect(await lakeColumnTypes(h, 'crm.events')).toEqual({
      id: 'BIGINT',
      note: 'VARCHAR',
      'k\\u0000': 'BIGINT',
    });
  });

  it('refuses a JSON export with an object holding a key twice by its line, in its own words', async () => {
    // Was: could not read events.ndjson as ndjson (utf-8): Invalid Input Error: JSON transform error
    // in file "/tmp/…/events.ndjson", in line 3: Object {"id":3,"id":4} has duplicate key "id"
    const { h } = await setup([{ path: 'events.ndjson' }, { path: 'users.json' }], {
      'events.ndjson': '{"id":1}\n{"id":2}\n{"id":3,"kind":"a","id":4}\n',
      'users.json': '[{"id": 1},\n {"id": 2, "plan": "pro", "plan": "free"}]',
    });
    const message = await refusedData(h);
    expect(message).toContain(
      'crm.events: line 3 of events.ndjson holds an object with the key "id" twice ({"id":3,"kind":"a","id":4}); each key is a column, so an object may hold it once: remove one of them. Nothing was imported and the table keeps its rows.',
    );
    expect(message).toContain(
      'crm.users: record 2 of users.json holds an object with the key "plan" twice ({"id":2,"plan":"pro","plan":"free"});',
    );
  });

  it('refuses a JSON record nested thousands of levels deep by its line, where DuckDB ended the process', async () => {
    // 20,000 levels: DuckDB's JSON reader recursed once a level and the process died of SIGSEGV.
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const { h, dir } = await setup([{ path: 'events.ndjson' }], {
      'events.ndjson': `{"id":1,"x":"[[[ in a string","y":${deep(100)}}\n`,
    });
    expect((await h.sync('crm')).rows).toBe(1);
    writeFileSync(join(dir, 'events.ndjson'), `{"id":1,"x":[]}\n{"id":2,"x":${deep(20_000)}}\n`);
    const message = await refusedData(h);
    expect(message).toContain(
      'crm.events: line 2 of events.ndjson nests objects or arrays more than 1000 levels deep',
    );
    expect(await h.query('SELECT id FROM crm.events')).toEqual([{ id: '1' }]);
  });

  it('incremental imports each new file once; full replaces; merge keeps the latest row per key', async () => {
    const { h, dir } = await setup(
      [
        { path: 'orders_*.csv', name: 'orders', mode: 'incremental' },
        { path: 'orders_*.csv', name: 'orders_all' },
        { path: 'orders_*.csv', name: 'orders_latest', mode: 'merge', primary_key: 'id', cursor: 'updated' },
      ],
      { 'orders_20261120.csv': 'id,status,updated\n1,new,2026-11-20 09:00:00\n2,new,2026-11-20 09:30:00\n' },
    );
    expect((await h.sync('crm')).rows).toBe(6);
    expect((await h.sync('crm')).tables).toEqual([
      { table: 'orders', rows: 0 },
      { table: 'orders_all', rows: 2 },
      { table: 'orders_latest', rows: 0 },
    ]);
    writeFileSync(
      join(dir, 'orders_20261121.csv'),
      'id,status,updated,note\n2,paid,2026-11-21 08:00:00,済\n3,new,2026-11-21 09:00:00,\n',
    );
    expect((await h.sync('crm')).tables).toEqual([
      { table: 'orders', rows: 2 },
      { table: 'orders_all', rows: 4 },
      { table: 'orders_latest', rows: 2 },
    ]);
    expect(await h.query('SELECT count(*)::INT AS n, count(note)::INT AS notes FROM crm.orders')).toEqual([
      { n: 4, notes: 1 },
    ]);
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.orders_all')).toEqual([{ n: 4 }]);
    expect(await h.query('SELECT id, status FROM crm.orders_latest ORDER BY id')).toEqual([
      { id: '1', status: 'new' },
      { id: '2', status: 'paid' },
      { id: '3', status: 'new' },
    ]);
  });

  it('imports nothing, keeping the rows, once the files imported are moved away, where every sync failed until the next file', async () => {
    // A drop directory emptied once its files are imported (archived, moved to done/) failed every
    // sync with SOURCE_FILE_NOT_FOUND "no file matches" until the next export arrived.
    const { h, dir } = await setup(
      [
        { path: 'orders_*.csv', name: 'orders', mode: 'incremental' },
        { path: 'orders_*.csv', name: 'orders_latest', mode: 'merge', primary_key: 'id', cursor: 'id' },
      ],
      { 'orders_1.csv': 'id,status\n1,new\n2,new\n' },
    );
    expect((await h.sync('crm')).rows).toBe(4);
    rmSync(join(dir, 'orders_1.csv'));
    const moved = await h.sync('crm');
    expect(moved.tables).toEqual([
      {
        table: 'orders',
        rows: 0,
        notes: [
          `crm.orders: no file matches ${join(dir, 'orders_*.csv')}, so nothing new was imported; ` +
            'the table keeps the rows of the file imported before, no longer there (moved away once imported, or path: changed)',
        ],
      },
      {
        table: 'orders_latest',
        rows: 0,
        notes: [expect.stringContaining('crm.orders_latest: no file matches')],
      },
    ]);
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.orders')).toEqual([{ n: 2 }]);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,status\n2,paid\n3,new\n');
    expect((await h.sync('crm')).rows).toBe(4);
    expect(await h.query('SELECT id, status FROM crm.orders_latest ORDER BY id')).toEqual([
      { id: '1', status: 'new' },
      { id: '2', status: 'paid' },
      { id: '3', status: 'new' },
    ]);
  });

  it('does not import a file again whose time alone changed (copied again, touched), and does one whose bytes changed', async () => {
    // rsync without -t, cp without -p or a re-download gives the drop directory's files new times:
    // incremental imported each again, in full, so every row of them was in crm.orders twice.
    const { h, dir } = await setup(
      [
        { path: 'orders_*.csv', name: 'orders', mode: 'incremental' },
        { path: 'orders_*.csv', name: 'orders_latest', mode: 'merge', primary_key: 'id', cursor: 'id' },
      ],
      { 'orders_1.csv': 'id,status\n1,new\n2,new\n' },
    );
    await h.sync('crm');
    const file = join(dir, 'orders_1.csv');
    utimesSync(file, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
    expect((await h.sync('crm')).tables).toEqual([
      { table: 'orders', rows: 0 },
      { table: 'orders_latest', rows: 0 },
    ]);
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.orders')).toEqual([{ n: 2 }]);
    writeFileSync(file, 'id,status\n1,new\n2,old\n');
    utimesSync(file, new Date('2026-12-02T00:00:00Z'), new Date('2026-12-02T00:00:00Z'));
    expect((await h.sync('crm')).tables).toEqual([
      { table: 'orders', rows: 2 },
      { table: 'orders_latest', rows: 2 },
    ]);
    expect(await h.query('SELECT status FROM crm.orders_latest ORDER BY id')).toEqual([
      { status: 'new' },
      { status: 'old' },
    ]);
  });

  it('imports only the lines added to a file that grew in place (>>), under the header it has', async () => {
    // A daily export that grows during the day was imported again in full each time it grew: every
    // row imported before was in crm.orders twice.
    const { h, dir } = await setup(
      [
        { path: 'orders.csv', mode: 'incremental', skip: 1 },
        { path: 'events.ndjson', mode: 'incremental' },
        { path: 'kunden.csv', mode: 'incremental', encoding: 'shift_jis' },
      ],
      {
        'orders.csv': 'Orders of 2026-12-06\nid,status\n1,new\n2,new\n',
        'events.ndjson': '{"id":1}\n',
        'kunden.csv': iconv.encode('番号,名前\n1,山田\n', 'cp932'),
      },
    );
    expect((await h.sync('crm')).rows).toBe(4);
    appendFileSync(join(dir, 'orders.csv'), '3,paid\n4,new\n');
    appendFileSync(join(dir, 'events.ndjson'), '{"id":2}\n');
    appendFileSync(join(dir, 'kunden.csv'), iconv.encode('2,佐藤\n', 'cp932'));
    expect((await h.sync('crm')).tables).toEqual([
      { table: 'orders', rows: 2 },
      { table: 'events', rows: 1 },
      { table: 'kunden', rows: 1 },
    ]);
    expect(await h.query('SELECT "名前" AS name FROM crm.kunden ORDER BY "番号"')).toEqual([
      { name: '山田' },
      { name: '佐藤' },
    ]);
    expect(await h.query('SELECT id, status FROM crm.orders ORDER BY id')).toEqual([
      { id: '1', status: 'new' },
      { id: '2', status: 'new' },
      { id: '3', status: 'paid' },
      { id: '4', status: 'new' },
    ]);
    expect(await h.query('SELECT id FROM crm.events ORDER BY id')).toEqual([{ id: '1' }, { id: '2' }]);
  });

  it('leaves a last line without its line break for a later sync, unless the file has not changed for a minute', async () => {
    const { h, dir } = await setup([{ path: 'orders_*.csv', name: 'orders', mode: 'incremental' }], {
      'orders_1.csv': 'id,status\n1,new\n2,pa',
    });
    const file = join(dir, 'orders_1.csv');
    expect((await h.sync('crm')).rows).toBe(1);
    appendFileSync(file, 'id\n3,ne');
    expect((await h.sync('crm')).rows).toBe(1);
    expect(await h.query('SELECT id, status FROM crm.orders ORDER BY id')).toEqual([
      { id: '1', status: 'new' },
      { id: '2', status: 'paid' },
    ]);
    // An export written without a line break at its end, or a writer that stopped there: once the
    // file has not changed for a minute, its last line is taken as written.
    const before = new Date(Date.now() - 120_000);
    utimesSync(file, before, before);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,status\n9,old');
    utimesSync(join(dir, 'orders_2.csv'), before, before);
    expect((await h.sync('crm')).rows).toBe(2);
    expect(await h.query('SELECT id, status FROM crm.orders ORDER BY id')).toEqual([
      { id: '1', status: 'new' },
      { id: '2', status: 'paid' },
      { id: '3', status: 'ne' },
      { id: '9', status: 'old' },
    ]);
    expect((await h.sync('crm')).rows).toBe(0);
  });

  it("names the file's own line of a fault in lines appended to it, not the line in the appended part", async () => {
    // The appended part is read under the file's header: a fault in it was named by its line there
    // (line 3 of orders.csv, where the file's line 7 is), and the user opened the file at a good line.
    const { h, dir } = await setup(
      [
        { path: 'orders.csv', mode: 'incremental', skip: 1 },
        { path: 'kunden.csv', mode: 'incremental', encoding: 'shift_jis' },
        { path: 'events.ndjson', mode: 'incremental' },
        { path: 'notes.csv', mode: 'incremental' },
        { path: 'typed.csv', mode: 'incremental', types: { id: 'BIGINT' } },
      ],
      {
        'orders.csv': 'Orders of 2026-12-06\nid,status\n1,new\n2,new\n',
        'kunden.csv': iconv.encode('番号,名前\n1,山田\n2,佐藤\n', 'cp932'),
        'events.ndjson': '{"id":1}\n{"id":2}\n',
        'notes.csv': 'id,note\n1,a\n2,b\n',
        'typed.csv': 'id,note\n1,a\n2,b\n',
      },
    );
    expect((await h.sync('crm')).rows).toBe(10);
    appendFileSync(join(dir, 'typed.csv'), '3,c\n4x,d\n');
    appendFileSync(join(dir, 'orders.csv'), '3,paid\n4,new\n5,new,late\n');
    appendFileSync(
      join(dir, 'kunden.csv'),
      Buffer.concat([iconv.encode('3,鈴木\n', 'cp932'), Buffer.from('4,株式会社テスト\n')]),
    );
    appendFileSync(join(dir, 'events.ndjson'), '{"id":3}\n[4]\n');
    appendFileSync(join(dir, 'notes.csv'), Buffer.from('3,c\n4,caf\xe9\n', 'latin1'));
    const message = await refusedData(h);
    expect(message).toContain('crm.orders: line 7 of orders.csv has 3 fields where the header has 2;');
    expect(message).toContain('crm.kunden: line 5 of kunden.csv holds bytes that are not shift_jis');
    expect(message).toContain('crm.events: line 4 of events.ndjson is [4], not a JSON object;');
    expect(message).toContain('crm.notes: line 5 of notes.csv is not UTF-8');
    // DuckDB's own line too.
    expect(message).toContain('crm.typed: could not read typed.csv as csv (utf-8)');
    expect(message).toContain('CSV Error on Line: 5\nOriginal Line: 4x,d');
  });

  it('leaves a quoted field whose line break is there but not its closing quote for a later sync, as a last line without its line break', async () => {
    // An export written while the sync ran, cut inside a quoted field that holds a line break: the
    // sync failed for a quote that nothing closes, though the writer was about to close it.
    const { h, dir } = await setup([{ path: 'notes_*.csv', name: 'notes', mode: 'incremental' }], {
      'notes_1.csv': 'id,note\n1,a\n',
      'notes_2.csv': 'id,note\n8,"a new file\ncut',
    });
    const file = join(dir, 'notes_1.csv');
    expect((await h.sync('crm')).rows).toBe(1);
    appendFileSync(file, '2,"first line\nsecond');
    expect((await h.sync('crm')).rows).toBe(0);
    appendFileSync(file, ' line"\n3,c\n');
    appendFileSync(join(dir, 'notes_2.csv'), ' short"\n');
    expect((await h.sync('crm')).rows).toBe(3);
    expect(await h.query('SELECT id, note FROM crm.notes ORDER BY id')).toEqual([
      { id: '1', note: 'a' },
      { id: '2', note: 'first line\nsecond line' },
      { id: '3', note: 'c' },
      { id: '8', note: 'a new file\ncut short' },
    ]);
    // A quote that stays open while the file does not change for a minute is a fault, named by its line.
    appendFileSync(file, '4,"never closed\nmore\n');
    expect((await h.sync('crm')).rows).toBe(0);
    const before = new Date(Date.now() - 120_000);
    utimesSync(file, before, before);
    expect(await refusedData(h)).toBe(
      'crm.notes: line 6 of notes_1.csv opens a quoted field (") that no quote closes before the end of the file. Close it; a quote inside a quoted field is written twice (""). Nothing was imported and the table keeps its rows.',
    );
  });

  it('says a TSV file of a full table with a quote left open was read without quoting, naming the line, where it said nothing', async () => {
    // A TSV file's quoting is DuckDB's guess: with one quote left open it read the file without
    // quoting, that quote and those of every quoted field kept as text, and the sync said nothing,
    // where an incremental table's lines wait for the quote and say so.
    const { h, dir } = await setup([{ path: 'notes.tsv' }, { path: 'log.tsv', mode: 'incremental' }], {
      'notes.tsv': 'id\tnote\n1\t"closed"\n2\t"never closed\n3\tc\n',
      'log.tsv': 'id\tnote\n1\ta\n2\t"open\n',
    });
    // Unchanged for a minute: an incremental table's lines wait no more, and are read the same way.
    const before = new Date(Date.now() - 120_000);
    utimesSync(join(dir, 'log.tsv'), before, before);
    const synced = await h.sync('crm');
    expect(synced.rows).toBe(5);
    expect(await h.query('SELECT id, note FROM crm.notes ORDER BY id')).toEqual([
      { id: '1', note: '"closed"' },
      { id: '2', note: '"never closed' },
      { id: '3', note: 'c' },
    ]);
    expect(synced.tables).toEqual([
      {
        table: 'notes',
        rows: 3,
        notes: [
          'crm.notes: line 3 of notes.tsv opens a quoted field (") that no quote closes before the end of the file, so the file was read without quoting, as a TSV file with a quote left open is: its quotes are kept as text. ' +
            'If its fields are quoted, close that one (a quote inside a quoted field is written twice, ""); if they are not, the quote is text and nothing is wrong.',
        ],
      },
      {
        table: 'log',
        rows: 2,
        notes: [
          expect.stringMatching(/^crm\.log: line 3 of log\.tsv opens a quoted field .* read without quoting/),
        ],
      },
    ]);
  });

  it.each([
    [
      'a closed quoted field holds a line break',
      {},
      'id\tnote\n1\t"two\nlines"\n2\t"never closed\n3\tc\n',
      4,
      /detect the CSV parsing dialect/,
    ],
    [
      'its quotes are kept in a typed column',
      { types: { note: 'BIGINT' } },
      'id\tnote\n1\t"5"\n2\t"7\n',
      3,
      /Could not convert string ""5"" to 'BIGINT'/,
    ],
  ])(
    'names the quote left open in a TSV file DuckDB could not read without quoting (%s), where it named only its own failure',
    async (_, options, text, line, duckDb) => {
      // Read without quoting, as DuckDB reads a TSV file with a quote left open, the file failed
      // with DuckDB's words for what that did (a row split by the line break of a closed quoted
      // field, a quoted number kept with its quotes) and not a word of the quote that caused it.
      const { h } = await setup([{ path: 'notes.tsv', ...options }], { 'notes.tsv': text });
      const message = await refusedData(h);
      expect(message).toMatch(duckDb);
      expect(
        message.startsWith(
          `crm.notes: line ${line} of notes.tsv opens a quoted field (") that no quote closes before the end of the file, so DuckDB read the file without quoting, as it reads a TSV file with a quote left open, and could not: `,
        ),
      ).toBe(true);
      expect(
        message.endsWith(
          'If its fields are quoted, close that one (a quote inside a quoted field is written twice, ""); if they are not, the quote is text, and what DuckDB says is wrong with the file. Nothing was imported and the table keeps its rows.',
        ),
      ).toBe(true);
    },
  );

  it.each([
    ['in the header', {}, 'id\t"note\n1\ta\n2\tb\n', 1],
    ['after spaces', {}, 'id\tnote\n1\ta\n2\t  "never closed\n', 3],
    ['in a column typed BLOB', { types: { note: 'BLOB' } }, 'id\tnote\n1\ta\n2\t"never closed\n', 3],
    ['after a doubled quote', {}, 'id\tnote\n1\t"""quoted"" text"\n2\t"never closed\n', 3],
    [
      'below a line skip: passes over',
      { skip: 1 },
      '"Orders, exported 2026-11-20\nid\tnote\n1\ta\n2\t"never\n',
      4,
    ],
  ])('says a TSV file with a quote left open %s was read without quoting', async (_, options, text, line) => {
    // Looked for only where a value or a column's name of what DuckDB read starts with a quote, as
    // one a quote left open opens does, where every TSV file was read once more to look for it.
    const { h } = await setup([{ path: 'notes.tsv', ...options }], { 'notes.tsv': text });
    const synced = await h.sync('crm');
    expect(synced.tables[0]?.notes).toEqual([
      expect.stringMatching(
        new RegExp(
          `^crm\\.notes: line ${line} of notes\\.tsv opens a quoted field .*, so the file was read without quoting`,
        ),
      ),
    ]);
  });

  it('leaves a half-written quoted field in a TSV file for a later sync, as in a CSV file of any delimiter', async () => {
    // A TSV export cut inside a quoted field that holds a line break: its part was cut at that line
    // break, DuckDB read it without quoting (id 2, note "first line, quote and all), and every sync
    // after failed on the rest of the field (second line", one field where the header has two).
    await expectHalfQuotedFieldWaits([
      { path: 'notes.tsv', delimiter: '\t' },
      { path: 'piped.csv', delimiter: '|', options: { delimiter: '|' } },
    ]);
  });

  it('leaves a half-written quoted field for a later sync in a file whose delimiter is not ASCII (；), in UTF-8 and in Shift_JIS', async () => {
    // The delimiter was looked for as one byte, its UTF-16 code: a quote after a full-width ；
    // opened no field, the part was cut at the line break inside it, and the sync failed for a
    // quote that nothing closes, though the writer was about to close it.
    await expectHalfQuotedFieldWaits([
      { path: 'notes.csv', delimiter: '；', options: { delimiter: '；' } },
      {
        path: 'memo.csv',
        delimiter: '；',
        options: { delimiter: '；', encoding: 'shift_jis' },
        encode: (text) => iconv.encode(text, 'shift_jis'),
      },
    ]);
  });

  it.each([
    ['shift_jis', 'ポ'],
    ['gbk', '億'],
    ['gb18030', '億'],
    ['big5', '四'],
    ['cp950', '尚'],
  ])(
    'reads a %s file split by "|" whose %s ends in the byte of "|" by its characters when it looks for a quote left open',
    async (encoding, char) => {
      // ポ is 0x83 0x7C in Shift_JIS, 億 0x83 0x7C in GBK and GB18030, 四 0xA5 0x7C and 尚 0xA9 0x7C
      // in Big5, and 0x7C is "|": the check for a quoted field still being written took the second
      // byte for a delimiter. A quote after the character, text, opened a field there, and its rows
      // waited for a closing quote nothing would write; in ポ"|"… that quote closed the field, the
      // quote that does open one was missed, and the sync failed on the half-written row.
      const encode = (text: string) => iconv.encode(text, encoding);
      const { h, dir } = await setup([{ path: 'goods.csv', mode: 'incremental', delimiter: '|', encoding }], {
        'goods.csv': encode('id|name|note\n1|a|b\n'),
      });
      const file = join(dir, 'goods.csv');
      expect((await h.sync('crm')).rows).toBe(1);
      appendFileSync(file, encode(`2|${char}"x|y\n3|c|d\n`));
      expect((await h.sync('crm')).rows).toBe(2);
      appendFileSync(file, encode(`4|${char}"|"first line\nsecond`));
      expect((await h.sync('crm')).tables[0]).toMatchObject({
        rows: 0,
        notes: [expect.stringMatching(/^crm\.goods: line 5 of goods\.csv opens a quoted field/)],
      });
      appendFileSync(file, encode(' line"\n'));
      expect((await h.sync('crm')).rows).toBe(1);
      expect(await h.query('SELECT id, name, note FROM crm.goods ORDER BY id')).toEqual([
        { id: '1', name: 'a', note: 'b' },
        { id: '2', name: `${char}"x`, note: 'y' },
        { id: '3', name: 'c', note: 'd' },
        { id: '4', name: `${char}"`, note: 'first line\nsecond line' },
      ]);
    },
  );

  it('says of a TSV file whose lines wait for a quote what becomes of them, read without quoting, where it said the sync would fail', async () => {
    // DuckDB guesses a TSV file's quoting, and reads one with a quote left open without it: the
    // note said the sync would then fail naming the quote, and the lines were imported, quote and all.
    const { h, dir } = await setup([{ path: 'notes.tsv', mode: 'incremental' }], {
      'notes.tsv': 'id\tnote\n1\ta\n',
    });
    const file = join(dir, 'notes.tsv');
    await h.sync('crm');
    appendFileSync(file, '2\t"stray quote\n3\tb\n');
    expect((await h.sync('crm')).tables[0]?.notes).toEqual([
      'crm.notes: line 3 of notes.tsv opens a quoted field (") that no quote closes yet, so it and the lines after it wait for the closing quote, as a row still being written. ' +
        'If the quote is stray, correct the line (a quote inside a field is written twice, ""): the lines wait until the file has not changed for a minute, or until more than 8 MB follow the quote, ' +
        'and are then read as a TSV file with a quote left open is, without quoting: the quote is kept as text.',
    ]);
    const before = new Date(Date.now() - 120_000);
    utimesSync(file, before, before);
    expect((await h.sync('crm')).rows).toBe(2);
    expect(await h.query('SELECT id, note FROM crm.notes ORDER BY id')).toEqual([
      { id: '1', note: 'a' },
      { id: '2', note: '"stray quote' },
      { id: '3', note: 'b' },
    ]);
  });

  it('names a quote left open in a file that keeps growing once more than a row may hold follows it, rather than waiting for it', async () => {
    // A stray quote in a log appended to every few seconds: the file never stays still for a
    // minute, so its rows after the quote waited, with no word, for as long as it grew.
    const { h, dir } = await setup([{ path: 'notes.csv', mode: 'incremental' }], {
      'notes.csv': 'id,note\n1,a\n',
    });
    const file = join(dir, 'notes.csv');
    expect((await h.sync('crm')).rows).toBe(1);
    appendFileSync(file, '2,"stray quote\n3,b\n');
    expect((await h.sync('crm')).rows).toBe(0);
    appendFileSync(file, `${'4,c\n'.repeat(2_200_000)}`);
    expect(await refusedData(h)).toMatch(/^crm\.notes: line 3 of notes\.csv opens a quoted field/);
  });

  it('does not read again a file whose lines wait for a quote while its size and time are unchanged, saying the wait found when it changed', async () => {
    // Each sync read such a file again, from its start to its end and then to the quote, only to
    // say the same wait, though its size and modification time said it had not changed.
    const { h, dir } = await setup([{ path: 'notes.csv', mode: 'incremental' }], {
      'notes.csv': 'id,note\n1,a\n',
    });
    const file = join(dir, 'notes.csv');
    const waitsOnLine = (line: number) => [
      expect.stringMatching(new RegExp(`^crm\\.notes: line ${line} of notes\\.csv opens a quoted field`)),
    ];
    expect((await h.sync('crm')).rows).toBe(1);
    appendFileSync(file, '2,"first line\nsecond');
    // A time in whole seconds, which utimes gives back exactly: a Date's milliseconds can come back
    // a nanosecond short (0.123 s is no binary fraction), another millisecond to the stamp.
    const seconds = Math.floor(Date.now() / 1000);
    utimesSync(file, seconds, seconds);
    expect((await h.sync('crm')).tables[0]).toMatchObject({ rows: 0, notes: waitsOnLine(3) });
    // Its bytes changed under the same size and time, which only reading it would show: the sync
    // still says the wait it found, so it did not read the file.
    writeFileSync(file, 'id,note\n1,a\n2,_first line\nsecond');
    utimesSync(file, seconds, seconds);
    expect((await h.sync('crm')).tables[0]).toMatchObject({ rows: 0, notes: waitsOnLine(3) });
    // Once it grows, it is read again.
    writeFileSync(file, 'id,note\n1,a\n2,"first line\nsecond');
    appendFileSync(file, ' line"\n3,"x\ny');
    expect((await h.sync('crm')).tables[0]).toMatchObject({ rows: 1, notes: waitsOnLine(5) });
  });

  it('takes a file renamed (logrotate, mv) for the file it was by its bytes, importing only lines added since, and says so', async () => {
    // orders.csv rotated to orders-20261205.csv, a new orders.csv begun: the renamed file was
    // imported again in full, every row of it twice in crm.orders, and the new one was said to be
    // rewritten.
    const { h, dir } = await setup([{ path: 'orders*.csv', name: 'orders', mode: 'incremental' }], {
      'orders.csv': 'id,status\n1,new\n2,new\n',
    });
    expect((await h.sync('crm')).rows).toBe(2);
    const rotated = join(dir, 'orders-20261205.csv');
    renameSync(join(dir, 'orders.csv'), rotated);
    // The writer still had it open: a line added after the rename.
    appendFileSync(rotated, '3,paid\n');
    writeFileSync(join(dir, 'orders.csv'), 'id,status\n4,new\n');
    const { logger, lines } = capturingLogger<{ path?: string }>();
    expect((await h.sync('crm', undefined, logger)).rows).toBe(2);
    expect(lines.filter((line) => line.level === 40)).toEqual([]);
    expect(lines.filter((line) => line.path === rotated).map((line) => line.msg)).toEqual([
      'crm.orders: orders-20261205.csv starts with the lines imported from orders.csv, which is gone or no longer starts with them, ' +
        'so it is that file renamed (logrotate, mv): only the lines after them are imported',
    ]);
    // Renamed once more, and a file of the same bytes as none imported: nothing twice.
    renameSync(rotated, join(dir, 'orders-old.csv'));
    expect((await h.sync('crm')).rows).toBe(0);
    expect(await h.query('SELECT id, count(*)::INT AS n FROM crm.orders GROUP BY id ORDER BY id')).toEqual([
      { id: '1', n: 1 },
      { id: '2', n: 1 },
      { id: '3', n: 1 },
      { id: '4', n: 1 },
    ]); // A file gone that held only its header is no file renamed: every file starts so.
    writeFileSync(join(dir, 'orders-h.csv'), 'id,status\n');
    await h.sync('crm');
    rmSync(join(dir, 'orders-h.csv'));
    writeFileSync(join(dir, 'orders-n.csv'), 'id,status\n5,new\n');
    const later = capturingLogger<{ path?: string }>();
    expect((await h.sync('crm', undefined, later.logger)).rows).toBe(1);
    expect(later.lines.filter((line) => line.path !== undefined)).toEqual([]);
  });

  it('leaves a file just created and still empty for a later sync, and refuses one left empty for a minute', async () => {
    // An export begun (> orders_2.csv) but not yet written when the sync ran failed that sync as empty.
    const { h, dir } = await setup([{ path: 'orders_*.csv', name: 'orders', mode: 'incremental' }], {
      'orders_1.csv': 'id,status\n1,new\n',
      'orders_2.csv': '',
    });
    expect((await h.sync('crm')).rows).toBe(1);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,status\n2,new\n');
    expect((await h.sync('crm')).rows).toBe(1);
    writeFileSync(join(dir, 'orders_3.csv'), '');
    expect((await h.sync('crm')).rows).toBe(0);
    const before = new Date(Date.now() - 120_000);
    utimesSync(join(dir, 'orders_3.csv'), before, before);
    expect(await refusedData(h)).toMatch(/^crm\.orders: orders_3\.csv is empty \(no header, no rows\)/);
    expect(await h.query('SELECT id FROM crm.orders ORDER BY id')).toEqual([{ id: '1' }, { id: '2' }]);
  });

  it('imports a file rewritten or cut short in place again in full, naming it in a warning that says how to follow one renamed', async () => {
    // A path: naming one file cannot tell a rewrite from logrotate's rename, whose renamed file it
    // does not match: the lines written to it since the last sync were lost, the warning saying
    // nothing of it.
    const { h, dir } = await setup([{ path: 'orders.csv', mode: 'incremental' }], {
      'orders.csv': 'id,status\n1,new\n2,new\n',
    });
    await h.sync('crm');
    const file = join(dir, 'orders.csv');
    writeFileSync(file, 'id,status\n1,paid\n2,new\n3,new\n');
    const { logger, lines } = capturingLogger<{ path?: string }>();
    expect((await h.sync('crm', undefined, logger)).rows).toBe(3);
    expect(lines.filter((line) => line.level === 40).map((line) => [line.path, line.msg])).toEqual([
      [
        file,
        'crm.orders: orders.csv no longer starts with the lines imported from it (rewritten or cut short in place), so it is imported again in full, as a new file, and the rows imported from it before stay in the table; ' +
          'an export rewritten in place belongs in mode: merge, with a primary_key (docs/csv.md); ' +
          'if it was renamed instead (logrotate, mv), the lines written to it since the last sync are not read, as path: matches no other name: ' +
          `give path: a pattern that matches the renamed files too (${join(dir, 'orders*.csv')}, with name: orders), whose new ones are then taken for it renamed`,
      ],
    ]);
    writeFileSync(file, 'id,status\n1,paid\n');
    expect((await h.sync('crm')).rows).toBe(1);
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.orders')).toEqual([{ n: 6 }]);
  });

  it("leaves a symbolic link among a table's files out of its queries and names it at each sync, where the table could not be queried", async () => {
    // ln -s /backups/part.parquet lake/sources/crm/orders/: the view's glob took the link in, which
    // the query engine may not read, so every query of crm.orders failed (TABLE_UNAVAILABLE, advising
    // merge keys), with nothing naming the link.
    const { h, dir } = await setup([{ path: 'orders_*.csv', name: 'orders', mode: 'incremental' }], {
      'orders_1.csv': 'id,status\n1,new\n2,new\n',
    });
    await h.sync('crm');
    const tableDir = join(h.layout.lake, 'sources', 'crm', 'orders');
    const [part] = readdirSync(tableDir).filter((name) => name.startsWith('part-'));
    copyFileSync(join(tableDir, part as string), join(dir, 'backup.parquet'));
    const link = join(tableDir, 'part-00000001-00009.parquet');
    symlinkSync(join(dir, 'backup.parquet'), link);
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.orders')).toEqual([{ n: 2 }]);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,status\n3,new\n');
    const { logger, lines } = capturingLogger<{ path?: string }>();
    expect((await h.sync('crm', undefined, logger)).rows).toBe(1);
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.orders')).toEqual([{ n: 3 }]);
    expect(lines.filter((line) => line.level === 40).map((line) => [line.path, line.msg])).toEqual([
      [
        link,
        `${link} is a symbolic link, which inlet does not read (the query engine reads files inside the lake alone), so its rows are not queried; copy the file itself into the lake, or move the link out`,
      ],
    ]);
  });

  it('merge reads only the lines added to a file that grew, and leaves a half-written last line for later', async () => {
    // A grown file was read in full at each sync (every row of it stored again, the table growing
    // by the whole file), its last line too while it was being written: a row cut short
    // (2,pa) became the latest version of its key.
    const { h, dir } = await setup(
      [{ path: 'orders.csv', mode: 'merge', primary_key: 'id', cursor: 'updated' }],
      { 'orders.csv': 'id,status,updated\n1,new,1\n2,new,1\n' },
    );
    const file = join(dir, 'orders.csv');
    expect((await h.sync('crm')).rows).toBe(2);
    appendFileSync(file, '1,paid,2\n2,pa');
    expect((await h.sync('crm')).rows).toBe(1);
    expect(await h.query('SELECT id, status FROM crm.orders ORDER BY id')).toEqual([
      { id: '1', status: 'paid' },
      { id: '2', status: 'new' },
    ]);
    appendFileSync(file, 'id,2\n');
    expect((await h.sync('crm')).rows).toBe(1);
    expect(await h.query('SELECT id, status FROM crm.orders ORDER BY id')).toEqual([
      { id: '1', status: 'paid' },
      { id: '2', status: 'paid' },
    ]);
    // Rewritten in place (a snapshot export), it is read in full, as before.
    writeFileSync(file, 'id,status,updated\n1,refunded,3\n2,paid,2\n');
    expect((await h.sync('crm')).rows).toBe(2);
    expect(await h.query('SELECT id, status FROM crm.orders ORDER BY id')).toEqual([
      { id: '1', status: 'refunded' },
      { id: '2', status: 'paid' },
    ]);
  });

  it('says what a csv merge table with a boolean deleted_column or rows without a key can do, where it said to use a query: it cannot have', async () => {
    // Both said to copy the table with a query:, which a csv source has not.
    const { h } = await setup(
      [
        {
          path: 'flags.csv',
          mode: 'merge',
          primary_key: 'id',
          cursor: 'updated',
          deleted_column: 'is_deleted',
        },
        { path: 'keyless.csv', mode: 'merge', primary_key: 'id', cursor: 'updated' },
      ],
      {
        'flags.csv': 'id,updated,is_deleted\n1,2026-12-01,false\n2,2026-12-01,true\n',
        'keyless.csv': 'id,updated\n1,2026-12-01\n,2026-12-02\n',
      },
    );
    const message = await h.sync('crm').then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toContain(
      'crm.flags: deleted_column "is_deleted" is a boolean; it must be NULL for live rows (a deleted_at time). ' +
        'Remove deleted_column and leave the deleted rows out in a model (WHERE NOT is_deleted), or export the deletion as a time, empty while the row is live.',
    );
    expect(message).toContain(
      'crm.keyless: 1 row of this run has no primary_key (id is NULL), and the merge view, which shows one row per key, would hide all but one of them; ' +
        'nothing of this run was committed. Give every row of the export its key, or set a primary_key every row has.',
    );
    expect(message).not.toContain('query:');
  });

  it("says to rename a csv merge table's column __inlet_file in the export, where it said to use a query: it cannot have", async () => {
    const { h } = await setup([{ path: 'filed.ndjson', mode: 'merge', primary_key: 'id', cursor: 'u' }], {
      'filed.ndjson': '{"__inlet_file":"a","id":1,"u":1}\n',
    });
    await expect(h.sync('crm')).rejects.toMatchObject({
      code: 'SOURCE_SCHEMA_INVALID',
      message: expect.stringContaining(
        `crm.filed: the column "__inlet_file" has the name inlet's merge view gives the file each row comes from; rename it in the export (its header, or a JSON file's key)`,
      ),
    });
  });

  it('merge shows the later row of one file among versions of a key with the same cursor, at every query', async () => {
    // Ranked by cursor and file alone, such versions came in no order: each query showed another
    // mix of the file's first and second versions.
    const keys = 20_000;
    const rows = (v: string) => Array.from({ length: keys }, (_, i) => `${i},${v},2026-01-01\n`).join('');
    const { h, dir } = await setup(
      [{ path: 'contacts_*.csv', name: 'contacts', mode: 'merge', primary_key: 'id', cursor: 'at' }],
      { 'contacts_0.csv': `id,v,at\n${rows('old')}${rows('new')}` },
    );
    await h.sync('crm');
    const versions = 'SELECT v, count(*)::INTEGER AS n FROM crm.contacts WHERE id < 20000 GROUP BY v';
    for (let i = 0; i < 3; i++) expect(await h.query(versions)).toEqual([{ v: 'new', n: keys }]);
    // The eighth file's run merges the small files, keeping one version a key as the view ranks them.
    for (let file = 1; file < 8; file++) {
      writeFileSync(join(dir, `contacts_${file}.csv`), `id,v,at\n${keys + file},other,2026-01-01\n`);
      await h.sync('crm');
    }
    expect(
      readdirSync(join(h.layout.lake, 'sources', 'crm', 'contacts'), { recursive: true }),
    ).toContainEqual(expect.stringMatching(/-m0000\.parquet$/));
    expect(await h.query(versions)).toEqual([{ v: 'new', n: keys }]);
  });

  it('types the columns by the rows once an export with rows follows one with only its header', async () => {
    // The header-only export of a day without orders was copied as a table of no rows with every
    // column VARCHAR, and read together with it, every later file's numbers and dates were text too.
    const { h, dir } = await setup(
      [
        { path: 'orders_*.csv', name: 'orders', mode: 'incremental' },
        { path: 'orders_*.csv', name: 'orders_latest', mode: 'merge', primary_key: 'id', cursor: 'day' },
      ],
      { 'orders_1.csv': 'id,day,amount\n' },
    );
    expect((await h.sync('crm')).rows).toBe(0);
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.orders')).toEqual([{ n: 0 }]);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,day,amount\n1,2026-11-20,1.5\n');
    expect((await h.sync('crm')).rows).toBe(2);
    for (const table of ['crm.orders', 'crm.orders_latest']) {
      expect(await lakeColumnTypes(h, table)).toEqual({ id: 'BIGINT', day: 'DATE', amount: 'DOUBLE' });
      expect(await h.query(`SELECT id, day, amount FROM ${table}`)).toEqual([
        { id: '1', day: '2026-11-20', amount: 1.5 },
      ]);
    }
  });

  it('types a column by the files that hold values in it, not by a file where it is empty in every row', async () => {
    // closed_on was empty in every row of the first export, so DuckDB typed it VARCHAR, and read with
    // that file, the dates of every later export were text too; an export where amount is empty in
    // every row made the numbers imported before text the same way.
    const { h, dir } = await setup(
      [
        { path: 'orders_*.csv', name: 'orders', mode: 'incremental' },
        { path: 'orders_*.csv', name: 'orders_latest', mode: 'merge', primary_key: 'id', cursor: 'id' },
      ],
      { 'orders_1.csv': 'id,closed_on,amount\n1,,1.5\n2,,2.5\n' },
    );
    expect((await h.sync('crm')).rows).toBe(4);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,closed_on,amount\n3,2026-11-20,\n4,,\n');
    expect((await h.sync('crm')).rows).toBe(4);
    writeFileSync(join(dir, 'orders_3.csv'), 'id,closed_on,amount\n5,2026-11-21,7.25\n');
    expect((await h.sync('crm')).rows).toBe(2);
    for (const table of ['crm.orders', 'crm.orders_latest']) {
      expect(await lakeColumnTypes(h, table)).toEqual({ id: 'BIGINT', closed_on: 'DATE', amount: 'DOUBLE' });
      expect(await h.query(`SELECT id, closed_on, amount FROM ${table} ORDER BY id`)).toEqual([
        { id: '1', closed_on: null, amount: 1.5 },
        { id: '2', closed_on: null, amount: 2.5 },
        { id: '3', closed_on: '2026-11-20', amount: null },
        { id: '4', closed_on: null, amount: null },
        { id: '5', closed_on: '2026-11-21', amount: 7.25 },
      ]);
    }
  });

  it('types a column empty in one file by what the files with values share, when they differ (BIGINT and DOUBLE)', async () => {
    const { h, dir } = await setup([{ path: 'orders_*.csv', name: 'orders', mode: 'incremental' }], {
      'orders_1.csv': 'id,amount\n1,5\n',
    });
    await h.sync('crm');
    writeFileSync(join(dir, 'orders_2.csv'), 'id,amount\n2,7.25\n');
    await h.sync('crm');
    writeFileSync(join(dir, 'orders_3.csv'), 'id,amount\n3,\n');
    await h.sync('crm');
    expect(await lakeColumnTypes(h, 'crm.orders')).toEqual({ id: 'BIGINT', amount: 'DOUBLE' });
    expect(await h.query('SELECT id, amount FROM crm.orders ORDER BY id')).toEqual([
      { id: '1', amount: 5 },
      { id: '2', amount: 7.25 },
      { id: '3', amount: null },
    ]);
  });

  it('refuses a new file whose column type the rows imported before cannot share, keeping the table readable', async () => {
    // Each run infers its own files' types: day was a DATE, then a number. The run was committed and
    // every query of the table failed from then on (BIGINT -> DATE cannot be cast).
    const { h, dir } = await setup([{ path: 'orders_*.csv', name: 'orders', mode: 'incremental' }], {
      'orders_1.csv': 'id,flag,day\n1,true,2026-11-20\n',
    });
    expect((await h.sync('crm')).rows).toBe(1);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,flag,day\n2,1,20261121\n');
    for (let attempt = 0; attempt < 2; attempt++)
      await expect(h.sync('crm')).rejects.toMatchObject({
        code: 'SOURCE_SCHEMA_INVALID',
        message: expect.stringMatching(
          /^crm\.orders: column "day" is DATE in the rows copied before and BIGINT in this run's.*types: \{ day: DATE \}/,
        ),
      });
    expect(await h.query('SELECT id, day FROM crm.orders')).toEqual([{ id: '1', day: '2026-11-20' }]);
    // A column whose types do convert (BOOLEAN and BIGINT) is no reason to refuse.
    writeFileSync(join(dir, 'orders_2.csv'), 'id,flag,day\n2,1,2026-11-21\n');
    expect((await h.sync('crm')).rows).toBe(1);
    expect(await h.query('SELECT id, flag, day FROM crm.orders ORDER BY id')).toEqual([
      { id: '1', flag: '1', day: '2026-11-20' },
      { id: '2', flag: '1', day: '2026-11-21' },
    ]);
  });

  it('refuses a new file whose merge cursor reads as text where it read as a time before, naming the types: that keeps it a time', async () => {
    // TIMESTAMP and VARCHAR read together as text, so the run was committed, and the view ranked
    // each key's versions by text: "2026-11-20 09:00:00" from before above "2026/11/21 10:00" now.
    const table = {
      path: 'orders_*.csv',
      name: 'orders',
      mode: 'merge',
      primary_key: 'id',
      cursor: 'updated',
    };
    const { h, dir } = await setup([table], {
      'orders_1.csv': 'id,status,updated\n1,open,2026-11-20 09:00:00\n',
    });
    expect((await h.sync('crm')).rows).toBe(1);
    writeFileSync(join(dir, 'orders_2.csv'), 'id,status,updated\n1,paid,2026/11/21 10:00 JST\n');
    await expect(h.sync('crm')).rejects.toMatchObject({
      code: 'SOURCE_SCHEMA_INVALID',
      message: expect.stringMatching(
        /^crm\.orders: cursor column "updated" is TIMESTAMP in the rows copied before and VARCHAR in this run's; text orders otherwise .*a file: types: \{ updated: TIMESTAMP \}/,
      ),
    });
    expect(await h.query('SELECT id, status FROM crm.orders')).toEqual([{ id: '1', status: 'open' }]);
  });

  it('says to set delimiter when a .csv file is split by ";" or tabs, not commas, and reads it once set', async () => {
    // Read with the default comma, a European Excel export became one column "id;name;amount",
    // each row one value: a sync that succeeded with a table of nothing a query could use.
    const files = { 'kunden.csv': 'id;name;amount\n1;"Müller; Hans";1,5\n', 'tabs.csv': 'id\tname\n1\ta\n' };
    const { h } = await setup([{ path: 'kunden.csv' }, { path: 'tabs.csv' }], files);
    const error = await syncError(h, 'crm');
    expect(error).toMatchObject({ code: 'SOURCE_DATA_INVALID' });
    expect(error.message).toContain(
      'crm.kunden: the header of kunden.csv holds no "," but is split into columns by ";"; set delimiter: ";" for this table in a new ./inlet.yaml (docs/csv.md), or delimiter: "," for a file of one column. Nothing was imported and the table keeps its rows.',
    );
    expect(error.message).toContain(
      'crm.tabs: the header of tabs.csv holds no "," but is split into columns by "\\t"',
    );
    harness?.close();
    exports?.cleanup();
    const again = await setup(
      [
        { path: 'kunden.csv', delimiter: ';' },
        { path: 'tabs.csv', delimiter: '\t' },
        // A file of one column whose name holds a ";" is read as it is, once the delimiter is said.
        { path: 'notes.csv', delimiter: ',' },
      ],
      { ...files, 'notes.csv': 'remark; free text\nhello; world\n' },
    );
    expect((await again.h.sync('crm')).rows).toBe(3);
    expect(await again.h.query('SELECT name, amount FROM crm.kunden')).toEqual([
      { name: 'Müller; Hans', amount: '1,5' },
    ]);
    expect(await again.h.query('SELECT name FROM crm.tabs')).toEqual([{ name: 'a' }]);
    expect(await again.h.query('SELECT "remark; free text" AS r FROM crm.notes')).toEqual([
      { r: 'hello; world' },
    ]);
  });

  it('says a file split by ";" among files split by "," is to be exported with ",", where it said to set delimiter: ";" for them all', async () => {
    const { h } = await setup([{ path: 'p_*.csv', name: 'p' }], {
      'p_1.csv': 'id,a\n1,x\n',
      'p_2.csv': 'id;a\n2;y\n',
    });
    expect(await refusedData(h)).toBe(
      'crm.p: the header of p_2.csv holds no "," but is split into columns by ";"; p_1.csv of the same table is split by ",", and the files of a table share one delimiter: ' +
        'export p_2.csv split by ",", or give the files split by ";" a table of their own, with a path: that matches them only (docs/csv.md). Nothing was imported and the table keeps its rows.',
    );
  });

  it('says to set encoding when a file is not UTF-8, naming the first line that is not, and reads it once set', async () => {
    const latin = Buffer.from('id,name\n1,ok\n2,caf\xe9\n3,ok\n', 'latin1');
    const { h } = await setup([{ path: 'clients.csv' }], { 'clients.csv': latin });
    const error = await h.sync('crm').catch((e: Error) => e);
    // DuckDB's own words named the header ("CSV Error on Line: 2", "Original Line: id,name").
    expect(error).toMatchObject({
      code: 'SOURCE_DATA_INVALID',
      message:
        'crm.clients: line 3 of clients.csv is not UTF-8 (byte 0xE9 at character 6); set encoding for this table in a new ./inlet.yaml ' +
        '(windows-1252 for a Western Excel export, shift_jis for a Japanese one, or any encoding iconv-lite knows; docs/csv.md). ' +
        'Nothing was imported and the table keeps its rows.',
    });
    // DuckDB's advice (ignore_errors, encoding='UTF-16'), the options it read with and the SQL
    // inlet ran followed, 30 lines naming settings inlet.yaml does not have.
    const message = (error as Error).message;
    for (const noise of [
      'Possible Solution',
      'ignore_errors',
      "encoding='UTF-16'",
      'read_csv',
      'delimiter =',
      'Original Line',
    ])
      expect(message).not.toContain(noise);
    harness?.close();
    exports?.cleanup();
    const again = await setup([{ path: 'clients.csv', encoding: 'windows-1252' }], { 'clients.csv': latin });
    await again.h.sync('crm');
    expect(await again.h.query('SELECT name FROM crm.clients ORDER BY id')).toEqual([
      { name: 'ok' },
      { name: 'café' },
      { name: 'ok' },
    ]);
  });

  it('reads a JSON or JSON lines export that starts with a UTF-8 byte order mark, as Windows programs write', async () => {
    // DuckDB refused it: "byte order mark (BOM) is not supported" for the JSON lines file, and the
    // .json array was said to hold "a record that is not a JSON object".
    const { h } = await setup([{ path: 'events.ndjson' }, { path: 'users.json' }], {
      'events.ndjson': '\uFEFF{"id":1,"kind":"view"}\r\n{"id":2,"kind":"click"}\r\n',
      'users.json': '\uFEFF[{"id": 1, "plan": "pro"}]',
    });
    expect((await h.sync('crm')).tables).toEqual([
      { table: 'events', rows: 2 },
      { table: 'users', rows: 1 },
    ]);
    expect(await h.query('SELECT id, kind FROM crm.events ORDER BY id')).toEqual([
      { id: '1', kind: 'view' },
      { id: '2', kind: 'click' },
    ]);
    expect(await h.query('SELECT id, plan FROM crm.users')).toEqual([{ id: '1', plan: 'pro' }]);
  });

  it('says a JSON lines export is not UTF-8 by its first line that is not, where DuckDB named the line after it', async () => {
    const latin = Buffer.from('{"id":1,"name":"ok"}\n{"id":2,"name":"caf\xe9"}\n', 'latin1');
    const { h } = await setup([{ path: 'clients.ndjson' }], { 'clients.ndjson': latin });
    // Was: could not read clients.ndjson as ndjson (utf-8): … "at byte 7 in line 3: invalid UTF-8 encoding in string."
    expect(await refusedData(h)).toBe(
      'crm.clients: line 2 of clients.ndjson is not UTF-8 (byte 0xE9 at character 20); set encoding for this table in a new ./inlet.yaml ' +
        '(windows-1252 for a Western Excel export, shift_jis for a Japanese one, or any encoding iconv-lite knows; docs/csv.md). ' +
        'Nothing was imported and the table keeps its rows.',
    );
  });

  it('refuses a file with a quote left open, naming its line, where its quoted fields were read with their quotes', async () => {
    // DuckDB took the file for one without quoting: "a ""quoted"" value" arrived as written, quotes
    // and all, and the sync said it copied two rows.
    const cut = 'id,name\n1,"a ""quoted"" value"\n2,"cut short\n';
    const { h } = await setup([{ path: 'notes.csv' }], { 'notes.csv': cut });
    await expect(h.sync('crm')).rejects.toMatchObject({
      code: 'SOURCE_DATA_INVALID',
      message:
        'crm.notes: line 3 of notes.csv opens a quoted field (") that no quote closes before the end of the file. Close it; a quote inside a quoted field is written twice (""). Nothing was imported and the table keeps its rows.',
    });
    harness?.close();
    exports?.cleanup();
    const again = await setup([{ path: 'notes.csv' }], { 'notes.csv': `${cut.trimEnd()}"\n` });
    await again.h.sync('crm');
    expect(await again.h.query('SELECT name FROM crm.notes ORDER BY id')).toEqual([
      { name: 'a "quoted" value' },
      { name: 'cut short' },
    ]);
  });

  it('takes a quote inside a field for text, never for an open quote, naming what does break the file', async () => {
    // A quote opens only at a field's start, as RFC 4180 and DuckDB read it: O"Brien's was counted
    // as opening one, and a file with a short line was blamed on a quote left open on line 2.
    const names = 'id,name,city\n1,O"Brien,Cork\n2,"Kelly, Ann",Galway\n3,Ryan\n';
    const { h } = await setup([{ path: 'names.csv' }], { 'names.csv': names });
    await expect(h.sync('crm')).rejects.toMatchObject({
      code: 'SOURCE_DATA_INVALID',
      message: expect.stringMatching(
        /^crm\.names: line 4 of names\.csv has 2 fields where the header has 3;/,
      ),
    });
  });

  it('names the line of a file with bytes that are not the encoding set, which decoding turned into other characters and U+FFFD', async () => {
    // A UTF-8 export without a byte order mark read as shift_jis became "譬ｪ蠑丈ｼ夂､ｾ繝�…", with success.
    const { h } = await setup([{ path: 'accounts.csv', encoding: 'shift_jis' }], {
      'accounts.csv': Buffer.concat([
        iconv.encode('id,name\n1,株式会社テスト\n', 'cp932'),
        Buffer.from('2,株式会社テスト\n', 'utf8'),
      ]),
    });
    const message = await refusedData(h);
    expect(message).toContain(
      'crm.accounts: line 3 of accounts.csv holds bytes that are not shift_jis, as a file in another encoding does',
    );
  });

  it('says a UTF-8 export with its byte order mark is UTF-8 when encoding says shift_jis, and reads it once removed', async () => {
    // Decoded as Shift_JIS, 東京 arrived as 譚ｱ莠ｬ and the column id as "�ｻｿid", and the sync succeeded.
    const utf8 = Buffer.from('\ufeffid,名前\n1,東京\n', 'utf8');
    const { h } = await setup([{ path: 'clients.csv', encoding: 'shift_jis' }], { 'clients.csv': utf8 });
    await expect(h.sync('crm')).rejects.toMatchObject({
      code: 'SOURCE_DATA_INVALID',
      message:
        'crm.clients: clients.csv is UTF-8 (it starts with a UTF-8 byte order mark, as Excel\'s "CSV UTF-8" export does), not shift_jis; remove encoding: shift_jis from this table in a new ./inlet.yaml (docs/csv.md). Nothing was imported and the table keeps its rows.',
    });
    harness?.close();
    exports?.cleanup();
    const again = await setup([{ path: 'clients.csv' }], { 'clients.csv': utf8 });
    await again.h.sync('crm');
    expect(await again.h.query('SELECT id, 名前 FROM crm.clients')).toEqual([{ id: '1', 名前: '東京' }]);
  });

  it("says a UTF-16 export (Excel's Unicode Text) is UTF-16 and to set encoding, not that a line is short, and reads it once set", async () => {
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      iconv.encode('id\tname\r\n1\t日本\r\n2\tcafé\r\n', 'utf-16le'),
    ]);
    const { h } = await setup([{ path: 'report.tsv' }], { 'report.tsv': utf16 });
    const message = await refusedData(h);
    expect(message).toMatch(/^crm\.report: report\.tsv is UTF-16.*set encoding: utf-16le/);
    harness?.close();
    exports?.cleanup();
    const again = await setup([{ path: 'report.tsv', encoding: 'utf-16le' }], { 'report.tsv': utf16 });
    await again.h.sync('crm');
    expect(await again.h.query('SELECT id, name FROM crm.report ORDER BY id')).toEqual([
      { id: '1', name: '日本' },
      { id: '2', name: 'café' },
    ]);
  });

  it('names the line whose line break is not that of the lines before it, and reads a cell broken with LF in CRLF rows', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},n${i}`);
    const { h } = await setup([{ path: 'joined.csv' }, { path: 'excel.csv' }], {
      'joined.csv': `id,name\r\n${rows.join('\r\n')}\r\n50,unix\n51,windows\r\n`,
      'excel.csv': 'id,note\r\n1,"two\nlines"\r\n2,one\r\n',
    });
    // DuckDB's words were "Error when sniffing file", and inlet's advice to check delimiter:, header:,
    // skip: and encoding:, none of which is the cause.
    await expect(h.sync('crm')).rejects.toMatchObject({
      code: 'SOURCE_DATA_INVALID',
      message: expect.stringContaining(
        'crm.joined: line 52 of joined.csv ends in LF where the lines before it end in CRLF, as a file joined or edited by Windows and Unix programs does, and DuckDB reads one kind a file; save it with one kind (dos2unix, or unix2dos, does it).',
      ),
    });
    expect(await h.query('SELECT note FROM crm.excel ORDER BY id')).toEqual([
      { note: 'two\nlines' },
      { note: 'one' },
    ]);
  });

  it('names the line whose field count differs from the header, never taking a wide last line for the header', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => `${i},n${i}\n`).join('');
    // DuckDB guessed lines to skip and took the last, wider line for the header: 0 rows, no error.
    const { h } = await setup([{ path: 'wide_end.csv' }], { 'wide_end.csv': `id,name\n${rows}101,a,b,c\n` });
    await expect(h.sync('crm')).rejects.toMatchObject({
      code: 'SOURCE_DATA_INVALID',
      message:
        'crm.wide_end: line 102 of wide_end.csv has 4 fields where the header has 2; every line needs as many ' +
        '(a field that holds "," must be in double quotes). If the file uses another delimiter, set delimiter: ' +
        'for this table in a new ./inlet.yaml; if lines above the header are not data, set skip: (docs/csv.md).',
    });
    harness?.close();
    exports?.cleanup();
    const short = await setup([{ path: 'short.csv', encoding: 'shift_jis' }], {
      'short.csv': iconv.encode(`id,名前,x\n1,一,1\n2,二\n`, 'shift_jis'),
    });
    await expect(short.h.sync('crm')).rejects.toMatchObject({
      message: expect.stringMatching(
        /^crm\.short: line 3 of short\.csv has 2 fields where the header has 3;/,
      ),
    });
    harness?.close();
    exports?.cleanup();
    // One field is "1 field", not "1 fields".
    const single = await setup([{ path: 'single.csv' }], { 'single.csv': 'id,name\n1,one\n2\n' });
    await expect(single.h.sync('crm')).rejects.toMatchObject({
      message: expect.stringMatching(
        /^crm\.single: line 3 of single\.csv has 1 field where the header has 2;/,
      ),
    });
  });

  it('refuses an empty export by name, keeping the rows a full table had', async () => {
    // DuckDB read a 0-byte file as a table of one column "column0" and no rows, and blank lines as
    // one row of NULLs: a failed export wiped the table it replaced.
    const { h, dir } = await setup([{ path: 'plans.csv' }], { 'plans.csv': 'id,name\n1,free\n2,pro\n' });
    expect((await h.sync('crm')).rows).toBe(2);
    for (const empty of ['', '\r\n\n  \n', '\ufeff\n']) {
      writeFileSync(join(dir, 'plans.csv'), empty);
      await expect(h.sync('crm')).rejects.toMatchObject({
        code: 'SOURCE_DATA_INVALID',
        message: expect.stringMatching(
          /^crm\.plans: plans\.csv is empty \(no header, no rows\).*the table keeps its rows/,
        ),
      });
      expect(await h.query('SELECT id, name FROM crm.plans ORDER BY id')).toEqual([
        { id: '1', name: 'free' },
        { id: '2', name: 'pro' },
      ]);
    }
    // Its header alone is a table of no rows, as before.
    writeFileSync(join(dir, 'plans.csv'), 'id,name\n');
    expect((await h.sync('crm')).rows).toBe(0);
    expect(await h.query('SELECT count(*)::INT AS n FROM crm.plans')).toEqual([{ n: 0 }]);
  });

  it('refuses an empty JSON export in full mode, and passes over an empty JSON lines file of a directory', async () => {
    // DuckDB read an empty JSON file as a table of one column "json" and no rows: a failed export
    // replaced a full table with it, and an empty day file added a column "json" to an incremental one.
    const { h, dir } = await setup(
      [{ path: 'plans.ndjson' }, { path: 'day_*.ndjson', name: 'events', mode: 'incremental' }],
      { 'plans.ndjson': '{"id":1,"name":"free"}\n', 'day_1.ndjson': '{"id":1,"kind":"view"}\n' },
    );
    expect((await h.sync('crm')).rows).toBe(2);
    writeFileSync(join(dir, 'plans.ndjson'), '\n');
    writeFileSync(join(dir, 'day_2.ndjson'), '');
    const message = await refusedData(h);
    expect(message).toMatch(/crm\.plans: plans\.ndjson is empty.*the table keeps its rows/);
    expect(message).toMatch(/Copied: events \(0 rows\)/);
    expect(await h.query('SELECT id, name FROM crm.plans')).toEqual([{ id: '1', name: 'free' }]);
    writeFileSync(join(dir, 'day_3.ndjson'), '{"id":3,"kind":"click"}\n');
    writeFileSync(join(dir, 'plans.ndjson'), '{"id":2,"name":"pro"}\n');
    expect((await h.sync('crm')).rows).toBe(2);
    expect(await lakeColumnTypes(h, 'crm.events')).toEqual({ id: 'BIGINT', kind: 'VARCHAR' });
    expect(await h.query('SELECT id, kind FROM crm.events ORDER BY id')).toEqual([
      { id: '1', kind: 'view' },
      { id: '3', kind: 'click' },
    ]);
  });

  it('takes a JSON array of no records ([]) for an empty export: refused in full mode, no row in incremental', async () => {
    const { h, dir } = await setup(
      [{ path: 'plans.json' }, { path: 'day_*.json', name: 'events', mode: 'incremental' }],
      { 'plans.json': '[{"id":1,"name":"free"}]', 'day_1.json': '[{"id":1,"kind":"view"}]' },
    );
    expect((await h.sync('crm')).rows).toBe(2);
    writeFileSync(join(dir, 'plans.json'), ' [ ]\n');
    writeFileSync(join(dir, 'day_2.json'), '[]');
    const message = await refusedData(h);
    expect(message).toMatch(/crm\.plans: plans\.json is empty \(no records\).*the table keeps its rows/);
    expect(message).toMatch(/Copied: events \(0 rows\)/);
    expect(await h.query('SELECT id, name FROM crm.plans')).toEqual([{ id: '1', name: 'free' }]);
    expect(await lakeColumnTypes(h, 'crm.events')).toEqual({ id: 'BIGINT', kind: 'VARCHAR' });
  });

  it('passes over blank lines in a one-column export, as in a wider one, instead of adding empty rows', async () => {
    // DuckDB reads a blank line of a one-column file as a row whose value is NULL: a list of e-mail
    // addresses with a blank line in it and two at its end (as Excel leaves them) had three rows too many.
    const { h } = await setup(
      [{ path: 'emails.csv' }, { path: 'codes.tsv', header: false }, { path: 'pairs.csv' }],
      {
        'emails.csv': '\uFEFFemail\r\na@example.com\r\n\r\nb@example.com\r\n\r\n\r\n',
        'codes.tsv': '0012\n\n0034\n\n',
        'pairs.csv': 'a,b\n1,\n,\n\n2,3\n',
      },
    );
    expect((await h.sync('crm')).tables).toEqual([
      { table: 'emails', rows: 2 },
      { table: 'codes', rows: 2 },
      { table: 'pairs', rows: 3 },
    ]);
    expect(await h.query('SELECT email FROM crm.emails')).toEqual([
      { email: 'a@example.com' },
      { email: 'b@example.com' },
    ]);
  });

  it('skip: passes over lines above the header', async () => {
    const { h } = await setup([{ path: 'report.csv', skip: 2 }], {
      'report.csv': '売上レポート\n出力日: 2026/12/01, 全店\nid,amount\n1,100\n2,250\n',
    });
    await h.sync('crm');
    expect(await lakeColumnTypes(h, 'crm.report')).toEqual({ id: 'BIGINT', amount: 'BIGINT' });
    expect(await h.query('SELECT id, amount FROM crm.report ORDER BY id')).toEqual([
      { id: '1', amount: '100' },
      { id: '2', amount: '250' },
    ]);
    expect(() =>
      parseConfig({ sources: [{ name: 'crm', type: 'csv', tables: [{ path: 'a.csv', skip: -1 }] }] }),
    ).toThrow(/sources\[0\]\.tables\[0\]\.skip:/);
  });

  it.each([
    [
      'a TSV file whose title opens a quote',
      'orders.tsv',
      '"Orders, exported 2026-12-01\nid\tnote\n1\ta\n2\tb\n',
    ],
    [
      'a CSV file whose title opens a quote',
      'orders.csv',
      '"Orders, exported 2026-12-01\nid,note\n1,a\n2,b\n',
    ],
    [
      'a CSV file whose title quotes a word',
      'orders.csv',
      '"Orders" exported 2026-12-01\nid,note\n1,a\n2,"b"\n',
    ],
    ['an incremental CSV file whose title opens a quote', 'orders.csv', '"Orders\nid,note\n1,a\n2,b\n'],
  ])(
    'imports the rows below the lines skip: passes over in %s, where a quote there lost them',
    async (what, path, text) => {
      // DuckDB's skip passes over records, not lines: a quote on a skipped line opened a field that
      // ran to the end of the file, which it skipped whole (0 rows, or its sniffer failed), and a new
      // file of an incremental table waited for that quote to close, as a row being written.
      const mode = what.startsWith('an incremental') ? 'incremental' : 'full';
      const { h } = await setup([{ path, skip: 1, mode }], { [path]: text });
      const synced = await h.sync('crm');
      expect(synced.rows).toBe(2);
      expect(synced.tables[0]?.notes ?? []).toEqual([]);
      expect(await h.query('SELECT id, note FROM crm.orders ORDER BY id')).toEqual([
        { id: '1', note: 'a' },
        { id: '2', note: 'b' },
      ]);
    },
  );

  it('says a file has fewer lines than skip: passes over, or only blank ones after them, and keeps the rows', async () => {
    const { h, dir } = await setup([{ path: 'report.csv', skip: 2 }], {
      'report.csv': 'Sales report\nExported 2026-12-01\nid,amount\n1,100\n',
    });
    await h.sync('crm');
    writeFileSync(join(dir, 'report.csv'), 'Sales report\nExported 2026-12-02\n');
    const message = await refusedData(h);
    expect(message).toContain(
      'crm.report: report.csv has only 2 lines and skip: is 2, so nothing is left to read; skip: counts the lines above the header',
    );
    writeFileSync(join(dir, 'report.csv'), 'Sales report\nExported 2026-12-02\n\n \r\n');
    expect(((await h.sync('crm').catch((e: Error) => e)) as Error).message).toContain(
      'crm.report: the lines of report.csv after the 2 that skip: passes over are blank',
    );
    expect(await h.query('SELECT id, amount FROM crm.report')).toEqual([{ id: '1', amount: '100' }]);
  });

  it('says to raise memory_limit when a wide export does not fit, and reads it once raised', async () => {
    // 800 columns (a survey export): DuckDB's CSV reader and Parquet writer hold buffers per column.
    const columns = Array.from({ length: 800 }, (_, i) => i);
    const lines = [columns.map((i) => `q${i}`).join(',')];
    for (let row = 0; row < 2000; row++) lines.push(columns.map((i) => row * i).join(','));
    const files = { 'survey.csv': `${lines.join('\n')}\n` };
    const { h } = await setup([{ path: 'survey.csv' }], files, { memory_limit: '64MB' });
    const failed = h.sync('crm');
    await expect(failed).rejects.toMatchObject({ code: 'SOURCE_DATA_INVALID' });
    const message = await failed.catch((error: Error) => error.message);
    expect(message).toMatch(
      /^crm\.survey: could not read survey\.csv as csv \(utf-8\): Out of Memory Error: /,
    );
    expect(message).toContain(
      'ran out of its memory_limit of 64MB; a table with thousands of columns needs more: set memory_limit (e.g. 1GB) on source "crm" in a new ./inlet.yaml',
    );
    expect(message).not.toContain('SET threads');
    harness?.close();
    exports?.cleanup();
    const again = await setup([{ path: 'survey.csv' }], files, { memory_limit: '512MB' });
    await again.h.sync('crm');
    expect(await again.h.query('SELECT count(*)::INT AS n, max(q799)::INT AS top FROM crm.survey')).toEqual([
      { n: 2000, top: 1999 * 799 },
    ]);
  });

  it('stops copying a large export when the sync is stopped, where it copied it to the end and kept it', async () => {
    // A workflow's timeout or Ctrl-C stopped the sync only once DuckDB had read the whole file: a
    // run that timed out went on for as long as the copy took, and imported the file all the same.
    const lines = ['id,name,note'];
    for (let row = 0; row < 1_500_000; row++) lines.push(`${row},name ${row % 1000},a note of row ${row}`);
    const { h } = await setup([{ path: 'big.csv' }], { 'big.csv': `${lines.join('\n')}\n` });
    const stop = new AbortController();
    const syncing = h.sync('crm', stop.signal);
    syncing.catch(() => undefined);
    // Stopped once DuckDB has begun writing the table's Parquet.
    const staging = join(h.layout.lake, 'sources', 'crm', 'big', '.run-00000001');
    while (!existsSync(staging) || readdirSync(staging).length === 0)
      await new Promise((resolve) => setTimeout(resolve, 5));
    stop.abort();
    await expect(syncing).rejects.toMatchObject({ code: 'SYNC_CANCELLED' });
    await expect(h.query('SELECT count(*) AS n FROM crm.big')).rejects.toThrow();
  }, 60_000);

  it('imports a JSON export with lone surrogate escapes as U+FFFD, keeping escaped pairs and backslashes', async () => {
    // A program that cut a string inside an emoji wrote half of it; DuckDB refuses the half.
    const lines = [
      '{"id":1,"a":"cut \\ud83d","\\udc00":"low alone"}',
      '{"id":2,"a":"pair \\ud83d\\ude00, typed \\\\ud83d, and \\\\\\ud83d"}',
    ];
    const { h } = await setup([{ path: 'dump.ndjson' }, { path: 'dump.json', name: 'dump_array' }], {
      'dump.ndjson': `${lines.join('\n')}\n`,
      'dump.json': `[${lines.join(',')}]`,
    });
    await h.sync('crm');
    const expected = [
      { id: '1', a: 'cut \ufffd', low: 'low alone' },
      { id: '2', a: 'pair 😀, typed \\ud83d, and \\\ufffd', low: null },
    ];
    for (const table of ['crm.dump', 'crm.dump_array'])
      expect(await h.query(`SELECT id, a, "\ufffd" AS low FROM ${table} ORDER BY id`)).toEqual(expected);
  });

  it('names a symbolic link that leads back to itself, named by path: or matched by a pattern, and keeps the rows', async () => {
    const { h, dir } = await setup(
      [{ path: 'day_*.csv', name: 'days', mode: 'incremental' }, { path: 'loop.csv' }],
      { 'day_1.csv': 'id\n1\n' },
    );
    symlinkSync('day_3.csv', join(dir, 'day_2.csv'));
    symlinkSync('day_2.csv', join(dir, 'day_3.csv'));
    symlinkSync('loop.csv', join(dir, 'loop.csv'));
    const error = await h.sync('crm').catch((e: Error) => e);
    // The pattern failed with Node's "ELOOP: too many symbolic links encountered, stat '…'", and
    // the path said "no file matches" a link that is there.
    expect(error).toMatchObject({ code: 'SOURCE_FILE_UNREADABLE' });
    expect((error as Error).message).toContain(
      `crm.days: inlet cannot read ${join(dir, 'day_2.csv')} (a symbolic link that leads back to itself); point the link at the export file, or remove it.`,
    );
    expect((error as Error).message).toContain(
      `crm.loop: inlet cannot read ${join(dir, 'loop.csv')} (a symbolic link`,
    );
    rmSync(join(dir, 'day_2.csv'));
    rmSync(join(dir, 'day_3.csv'));
    // loop.csv still fails the run; the pattern's table is copied.
    await expect(h.sync('crm')).rejects.toThrow(/Copied: days \(1 row\)/);
    expect(await h.query('SELECT id FROM crm.days')).toEqual([{ id: '1' }]);
  });

  it('names a link to a file that is gone, and a named pipe, where it said no file matches a path that is there', async () => {
    const { h, dir } = await setup(
      [
        { path: 'clients.csv', name: 'clients' },
        { path: 'pipe.csv', name: 'pipe' },
      ],
      {},
    );
    symlinkSync(join(dir, 'moved.csv'), join(dir, 'clients.csv'));
    execFileSync('mkfifo', [join(dir, 'pipe.csv')]);
    const error = await h.sync('crm').catch((e: Error) => e);
    // Each was "crm.x: no file matches …; check path: (it is relative to inlet.yaml)."
    expect(error).toMatchObject({ code: 'SOURCE_FILE_NOT_FOUND' });
    for (const [path, why] of [
      [
        'clients.csv',
        `is a symbolic link to ${join(dir, 'moved.csv')}, which does not exist; point the link at the export file, or remove it.`,
      ],
      [
        'pipe.csv',
        'is no regular file (a named pipe, a socket or a device), and inlet imports export files; write the export to a file and point path: at it.',
      ],
    ] as const)
      expect((error as Error).message).toContain(
        `crm.${path.replace('.csv', '')}: ${join(dir, path)} ${why}`,
      );
  });

  it('refuses a gzip export as such, where it said its header held a NUL byte, and keeps the rows', async () => {
    const { h, dir } = await setup(
      [{ path: 'orders_*', name: 'orders', format: 'csv', mode: 'incremental' }],
      {
        'orders_1.csv': 'id\n1\n',
      },
    );
    await h.sync('crm');
    writeFileSync(join(dir, 'orders_2.csv.gz'), gzipSync('id\n2\n'));
    expect(await refusedData(h)).toContain(
      'crm.orders: orders_2.csv.gz is compressed with gzip, which a csv source does not read; unpack it (gunzip -k orders_2.csv.gz) and point path: at the file that gives. Nothing was imported and the table keeps its rows.',
    );
    expect(await h.query('SELECT id FROM crm.orders')).toEqual([{ id: '1' }]);
    expect(() =>
      parseConfig({ sources: [{ name: 'crm', type: 'csv', tables: [{ path: 'orders.csv.gz' }] }] }),
    ).toThrow(
      'sources[0].tables[0].format: "orders.csv.gz" is compressed with gzip, which a csv source does not read; unpack it (gunzip -k) and point path: at the file that gives',
    );
  });

  it('names a missing file, a directory given as path, a path under a file, and a bad option', async () => {
    const { h, dir } = await setup([{ path: 'nothing_*.csv', name: 'nothing' }], {});
    await expect(h.sync('crm')).rejects.toMatchObject({
      code: 'SOURCE_FILE_NOT_FOUND',
      message: expect.stringContaining('nothing_*.csv'),
    });
    mkdirSync(join(dir, 'exports'));
    const folder = await createSourceHarness([
      { name: 'crm', type: 'csv', tables: [{ path: join(dir, 'exports'), format: 'csv' }] },
    ]);
    try {
      // It said "no file matches" a path that is there.
      await expect(folder.sync('crm')).rejects.toMatchObject({
        code: 'SOURCE_FILE_NOT_FOUND',
        message: `crm.exports: ${join(dir, 'exports')} is a directory; path: names a file, or the files of a directory with a pattern such as ${join(dir, 'exports', '*.csv')}.`,
      });
    } finally {
      folder.close();
    }
    // A path under a file failed SOURCE_DATA_INVALID "crm.x: ENOTDIR: not a directory, stat '…'".
    writeFileSync(join(dir, 'export.csv'), 'id\n1\n');
    for (const path of ['export.csv/x.csv', 'export.csv/*.csv']) {
      const under = await createSourceHarness([
        { name: 'crm', type: 'csv', tables: [{ path: join(dir, path), name: 'x' }] },
      ]);
      try {
        await expect(under.sync('crm')).rejects.toMatchObject({
          code: 'SOURCE_FILE_NOT_FOUND',
          message: `crm.x: no file matches ${join(dir, path)}; check this table's path.`,
        });
      } finally {
        under.close();
      }
    }
    expect(() =>
      parseConfig({ sources: [{ name: 'crm', type: 'csv', tables: [{ path: 'a.xlsx' }] }] }),
    ).toThrow(/sources\[0\]\.tables\[0\]\.format: cannot tell the format/);
    expect(() =>
      parseConfig({
        sources: [{ name: 'crm', type: 'csv', tables: [{ path: 'a.csv', encoding: 'klingon' }] }],
      }),
    ).toThrow(/sources\[0\]\.tables\[0\]\.encoding:/);
    expect(() =>
      parseConfig({ sources: [{ name: 'crm', type: 'csv', tables: [{ path: 'x_*.csv' }] }] }),
    ).toThrow(/sources\[0\]\.tables\[0\]\.name:/);
    const withMemory = (memory_limit: string) => () =>
      parseConfig({ sources: [{ name: 'crm', type: 'csv', tables: [{ path: 'a.csv' }], memory_limit }] });
    expect(withMemory('lots')).toThrow(/sources\[0\]\.memory_limit: must be a size such as 512MB or 2GB/);
    expect(withMemory('16MB')).toThrow(/sources\[0\]\.memory_limit: must be at least 64MB/);
    expect(withMemory('1.5GiB')).not.toThrow();
  });
});

// Root reads any file, so the sync runs as nobody, in the fixture that syncs one source.
const FIXTURE = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'file-log', 'sync-source.ts');

describe.skipIf(!nobodyCanRun(FIXTURE))('csv source: permissions', () => {
  it('says which file or directory it may not read, not that a file could not be parsed', async () => {
    exports = tempDir('inlet-exports-');
    const { dir } = exports;
    chmodSync(dir, 0o755);
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o777 });
    chmodSync(dataDir, 0o777);
    writeFileSync(join(dir, 'closed.csv'), 'id\n1\n');
    chmodSync(join(dir, 'closed.csv'), 0o000);
    mkdirSync(join(dir, 'private'), { mode: 0o700 });
    writeFileSync(join(dir, 'private', 'a.csv'), 'id\n1\n');
    const sync = async (table: Record<string, unknown>) => {
      const source = { name: 'crm', type: 'csv', tables: [table] };
      const out = await stdoutOf(
        process.execPath,
        [await bundledFixture(FIXTURE), dataDir, JSON.stringify(source)],
        AS_NOBODY,
      );
      return (JSON.parse(out) as { error?: { code: string; message: string } }).error;
    };
    // It was SOURCE_DATA_INVALID "crm.closed: EACCES: permission denied, open '…'"; and a file in a
    // directory inlet may not enter, or a pattern there, matched no file.
    for (const [table, path] of [
      [{ path: join(dir, 'closed.csv') }, join(dir, 'closed.csv')],
      [{ path: join(dir, 'closed.csv'), encoding: 'shift_jis' }, join(dir, 'closed.csv')],
      [{ path: join(dir, 'private', 'a.csv') }, join(dir, 'private', 'a.csv')],
      [{ path: join(dir, 'private', '*.csv'), name: 'a' }, join(dir, 'private')],
    ] as const)
      expect(await sync(table)).toEqual({
        code: 'SOURCE_FILE_UNREADABLE',
        message: expect.stringContaining(
          `: inlet may not read ${path} (permission denied); give the user inlet runs as read permission on it`,
        ),
      });
  }, 180_000);
});
