import { mkdirSync } from 'node:fs';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { API_TOKEN, capturingLogger, queryEngineApp, tempDir, testConfig } from '../../test/helpers.ts';
import { walWithMissingSegment } from '../../test/lake-fixtures.ts';
import { createQueryEngine, type QueryEngine } from '../engine/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { createHttpApp } from './index.ts';
import { PIXEL } from './pixel-image.ts';

const cleanups = cleanupAfterEach();

/**
 * How many rows of sql DuckDB hands over before the engine's timeout: it holds rows back in batches,
 * so a scan whose last matching row comes late stops delivering where its batch ran out.
 */
async function rowsBeforeTimeout(engine: QueryEngine, sql: string): Promise<number> {
  let flowing = 0;
  await expect(
    engine.stream(sql, {}, async ({ chunks }) => {
      for await (const chunk of chunks) flowing += chunk.length;
    }),
  ).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
  return flowing;
}

/** POST /api/query with the token and a JSON body, through an app's inject. */
const queryVia =
  (app: { inject: FastifyInstance['inject'] }) =>
  (body: Record<string, unknown>, search = '') =>
    app.inject({
      method: 'POST',
      url: `/api/query${search}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      payload: JSON.stringify(body),
    });

async function setup(overrides: Parameters<typeof testConfig>[1] = {}, file: string | null = 'prod.yaml') {
  const temp = tempDir();
  // As read from prod.yaml: the notes and hints that name the file named inlet.yaml whatever was read.
  const config = {
    ...testConfig(temp.dir, overrides),
    configPath: file === null ? undefined : join(temp.dir, file),
  };
  const { engine, app } = await queryEngineApp(config, API_TOKEN);
  cleanups.push(async () => {
    await app.close();
    engine.close();
    temp.cleanup();
  });
  const query = queryVia(app);
  /** POST /api/query with the token, a body as sent and headers of the test's own (content-type first). */
  const post = (headers: Record<string, string>, payload: Buffer) =>
    app.inject({
      method: 'POST',
      url: '/api/query',
      headers: { 'content-type': 'application/json', ...headers, authorization: `Bearer ${API_TOKEN}` },
      payload,
    });
  return { engine, query, post, layout: dataLayout(config.data_dir), app };
}

describe('POST /api/query', () => {
  it('answers at most query.max_rows rows, whatever max_rows the request asks for', async () => {
    const { query } = await setup({ query: { max_rows: 5 } });
    const response = await query({ sql: 'FROM range(100)', max_rows: 50 });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ stats: { rows: 5, truncated: true } });
    const fewer = await query({ sql: 'FROM range(100)', max_rows: 3 });
    expect(fewer.json()).toMatchObject({ stats: { rows: 3, truncated: true } });
  });

  it('takes a max_rows beyond 2^53 as all the rows query.max_rows allows, and names a bad one as sent', async () => {
    const { query, post } = await setup({ query: { max_rows: 5 } });
    // parseJson keeps an integer beyond 2^53 as its digits, and max_rows was then refused as text.
    for (const huge of ['99999999999999999999', '1e400']) {
      const all = await post({}, Buffer.from(`{"sql": "FROM range(100)", "max_rows": ${huge}}`));
      expect([all.statusCode, all.json().rows.length, all.json().stats.note], huge).toEqual([
        200,
        5,
        expect.stringContaining("query.max_rows in prod.yaml (5 rows; a request's max_rows can lower it"),
      ]);
    }
    const said = (given: string) =>
      `max_rows: must be a whole number of rows, 0 or more, as a JSON number ("max_rows": 1000), not ${given}`;
    for (const [value, given] of [
      ['10', 'the text "10", in quotes: write it without them'],
      ['all', 'the text "all"'],
      [-1, '-1'],
      [2.5, '2.5'],
      [null, 'null'],
    ] as const) {
      const bad = await query({ sql: 'SELECT 1', max_rows: value });
      expect([bad.statusCode, bad.json().error], String(value)).toEqual([
        400,
        { code: 'INVALID_FIELD', message: said(given), field: 'max_rows' },
      ]);
    }
    const below = await post({}, Buffer.from('{"sql": "SELECT 1", "max_rows": -99999999999999999999}'));
    expect(below.json().error.message).toBe(said('-99999999999999999999'));
  });

  it('says the SQL goes inside a JSON object for a body that is SQL as text, where it named only a token', async () => {
    const { post } = await setup();
    for (const [type, sql] of [
      ['text/plain', 'SELECT 1'],
      ['application/json', '-- weekly\nSELECT 1'],
      ['application/json', 'with a as (select 1) from a'],
    ]) {
      const refused = await post({ 'content-type': type }, Buffer.from(sql));
      expect([refused.statusCode, refused.json().error.code], sql).toEqual([400, 'INVALID_JSON']);
      expect(refused.json().error.message, sql).toMatch(/^The body is not valid JSON: /);
      expect(refused.json().error.message, sql).toMatch(
        /; POST \/api\/query takes the SQL inside a JSON object/,
      );
    }
    // Broken JSON is told where it broke, and no more.
    const broken = await post({}, Buffer.from('{"sql": "SELECT 1"'));
    expect(broken.json().error.message).not.toContain('inside a JSON object');
  });

  it('refuses a body that names a field twice, naming it, where the last one was run without a word', async () => {
    // JSON.parse keeps the last: {"sql":"SELECT 1","sql":"SELECT 2"} ran SELECT 2, answered 200.
    const { post } = await setup();
    for (const [body, field] of [
      ['{"sql":"SELECT 1","sql":"SELECT 2"}', 'sql'],
      ['{"sql": "SELECT 1", "max_rows": 1, "\\u0073ql": "SELECT 2"}', 'sql'],
      ['{"max_rows": 5, "sql": "SELECT 1", "max_rows": 500}', 'max_rows'],
      ['{"sql": "SELECT 1", "query_id": "a", "query_id": "b"}', 'query_id'],
    ]) {
      const refused = await post({}, Buffer.from(body as string));
      expect([refused.statusCode, refused.json().error], body).toEqual([
        400,
        {
          code: 'INVALID_FIELD',
          field,
          message: `${field}: is given twice in the body; send each field once (JSON parsers keep one of the two, not always the same one)`,
        },
      ]);
    }
    // A key's text inside a string value is no repeat.
    const nested = await post({}, Buffer.from('{"sql": "SELECT \'\\"sql\\": 1\' AS sql", "max_rows": 1}'));
    expect([nested.statusCode, nested.json().rows]).toEqual([200, [['"sql": 1']]]);
  });

  it("names the limit that stopped an answer: inlet.yaml's query.max_rows, or the request's own max_rows", async () => {
    const { query } = await setup({ query: { max_rows: 5 } });
    const note = async (body: Record<string, unknown>) => (await query(body)).json().stats.note as string;
    const unasked = await note({ sql: 'FROM range(100)' });
    expect(unasked).toContain('query.max_rows in prod.yaml (5 rows)');
    expect(unasked).not.toContain('raise');
    expect(await note({ sql: 'FROM range(100)', max_rows: 50 })).toContain(
      "query.max_rows in prod.yaml (5 rows; a request's max_rows can lower it, not raise it)",
    );
    expect(await note({ sql: 'FROM range(100)', max_rows: 3 })).toContain("the request's max_rows (3 rows)");
    expect(await note({ sql: 'FROM range(100)', max_rows: 0 })).toContain("the request's max_rows (0 rows)");
    // Run on the defaults, it said "query.max_rows in the configuration file", a file there was not.
    const defaults = await setup({ query: { max_rows: 5 } }, null);
    expect((await defaults.query({ sql: 'FROM range(100)' })).json().stats.note).toContain(
      'The answer stops at query.max_rows, which a new ./inlet.yaml can set (5 rows);',
    );
    const unknown = await defaults.query({ sql: 'SELECT 1', timeout_ms: 5 });
    expect(unknown.json().error.message).toBe(
      'timeout_ms: is not a field of the body, which takes sql, max_rows and query_id; a query stops at query.timeout_ms, which a new ./inlet.yaml can set',
    );
  });

  it('answers a query stopped at query.timeout_ms with a 422, not a 408 that clients send again on their own', async () => {
    const { query } = await setup({ query: { timeout_ms: 200 } });
    const response = await query({ sql: 'SELECT count(*) FROM range(10000000000000)' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ error: { code: 'QUERY_TIMEOUT' } });
  });

  // Bytes as sent, so text outside ASCII (3 bytes a character here) does not pass the limit.
  it.each([
    ['ASCII', 'x'],
    ['text outside ASCII', '日'],
  ])('stops a JSON answer of %s at its byte limit, counted in bytes, marked truncated', async (_, char) => {
    const { engine } = await setup();
    const result = await engine.query(`SELECT repeat('${char}', 1000) AS text FROM range(100)`, {
      maxBytes: 10_000,
    });
    expect(result.stats).toMatchObject({ truncated: true });
    expect(result.rows.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify(result.rows))).toBeLessThanOrEqual(10_000);
  });

  it('says why a JSON answer stops short, even when its first row alone passes the byte limit', async () => {
    const { engine, query } = await setup({ query: { max_rows: 5 } });
    const wide = await engine.query("SELECT repeat('x', 30000) AS text, 1 AS n", { maxBytes: 10_000 });
    expect(wide.rows).toEqual([]);
    expect(wide.stats).toMatchObject({ truncated: true, note: expect.stringContaining('first row alone') });
    expect(wide.stats.note).toContain('format=csv');
    const some = await engine.query("SELECT repeat('x', 3000) AS text FROM range(10)", { maxBytes: 10_000 });
    expect(some.stats).toMatchObject({
      rows: 3,
      truncated: true,
      note: expect.stringContaining('after 3 rows'),
    });
    const counted = await query({ sql: 'FROM range(100)' });
    expect(counted.json().stats).toMatchObject({
      truncated: true,
      note: expect.stringContaining('query.max_rows in prod.yaml (5 rows)'),
    });
    expect((await query({ sql: 'FROM range(3)' })).json().stats).not.toHaveProperty('note');
  });

  it('sends a large JSON answer in pieces that make the same JSON, and a small one whole', async () => {
    const { engine, query } = await setup();
    const sql = "SELECT i, repeat('é', 300) AS text, [i, NULL] AS list FROM range(5000) t(i)";
    const response = await query({ sql });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['content-length']).toBeUndefined();
    const { columns, rows } = await engine.query(sql);
    expect(response.json()).toMatchObject({ columns, rows, stats: { rows: 5000, truncated: false } });
    const small = await query({ sql: 'SELECT 1 AS one' });
    expect(small.headers['content-length']).toBe(String(Buffer.byteLength(small.body)));
    expect(small.json()).toMatchObject({ columns: [{ name: 'one', type: 'INTEGER' }], rows: [[1]] });
  });

  it('keeps the sign of a -0.0 in a JSON answer and a CSV one, where JSON.stringify wrote 0', async () => {
    const { query } = await setup();
    const sql = "SELECT -0.0::DOUBLE AS z, 0.0::DOUBLE AS p, {'a': -0.0::DOUBLE} AS s, '\\ud800-0' AS t";
    const response = await query({ sql });
    expect(response.body).toContain('"rows":[[-0.0,0,{"a":-0.0},"\\\\ud800-0"]]');
    expect(Object.is(response.json().rows[0][0], -0)).toBe(true);
    expect((await query({ sql }, '?format=csv')).body).toBe('z,p,s,t\r\n-0.0,0,"{""a"":-0.0}",\\ud800-0\r\n');
  });

  it('writes a NUL character in a CSV value as \\u0000, as a JSON answer escapes it, not as a raw 0x00 byte', async () => {
    // pandas cut the field at the byte, PostgreSQL's COPY refused the file, and grep took it for binary.
    const { query } = await setup();
    const sql = "SELECT chr(0) || 'a' AS v, [chr(0) || 'b'] AS l, 'c' AS plain";
    expect((await query({ sql })).body).toContain('"rows":[["\\u0000a",["\\u0000b"],"c"]]');
    const csv = (await query({ sql }, '?format=csv')).body;
    expect(csv).toBe('v,l,plain\r\n\\u0000a,"[""\\u0000b""]",c\r\n');
    expect(csv).not.toContain('\0');
  });

  it('refuses a body declared in a charset other than UTF-8 with 415, as the collector does', async () => {
    // Read as UTF-8 whatever it declared, a Latin-1 'café' became 'caf\ufffd' in the SQL.
    const { post } = await setup();
    const send = (charset: string, payload: Buffer) =>
      post({ 'content-type': `application/json; charset=${charset}` }, payload);
    const sql = JSON.stringify({ sql: "SELECT 'café' AS c" });
    for (const charset of ['ISO-8859-1', '']) {
      const refused = await send(charset, Buffer.from(sql, 'latin1'));
      expect(refused.statusCode, charset).toBe(415);
      expect(refused.json().error, charset).toMatchObject({
        code: 'UNSUPPORTED_CONTENT_TYPE',
        message: expect.stringContaining('charset=utf-8'),
      });
    }
    const read = await send('UTF-8', Buffer.from(sql, 'utf8'));
    expect(read.json()).toMatchObject({ rows: [['café']] });
  });

  it("names the Content-Type it refused, or that there was none, as the collector does (curl -d sends a form's)", async () => {
    // Both were answered 'Unsupported Content-Type; send application/json or text/plain.', where
    // docs/errors.md says the message names the type that came.
    const { app, post } = await setup();
    const sql = Buffer.from('{"sql": "SELECT 1"}');
    const form = await post({ 'content-type': 'application/x-www-form-urlencoded' }, sql);
    expect([form.statusCode, form.json().error]).toEqual([
      415,
      {
        code: 'UNSUPPORTED_CONTENT_TYPE',
        message:
          'Content-Type application/x-www-form-urlencoded is not read here; send Content-Type: application/json (or text/plain) with a JSON body.',
      },
    ]);
    const untyped = await app.inject({
      method: 'POST',
      url: '/api/query',
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: sql,
    });
    expect([untyped.statusCode, untyped.json().error.message]).toEqual([
      415,
      'The request has no Content-Type header; send Content-Type: application/json (or text/plain) with a JSON body.',
    ]);
  });

  it('refuses a URL parameter it does not take, where ?fromat=csv answered JSON cut at query.max_rows', async () => {
    const { query } = await setup({ query: { max_rows: 5 } });
    for (const search of ['?fromat=csv', '?format=csv&max_rows=3']) {
      const name = search.includes('fromat') ? 'fromat' : 'max_rows';
      const refused = await query({ sql: 'FROM range(100)' }, search);
      expect([refused.statusCode, refused.json().error]).toEqual([
        400,
        {
          code: 'INVALID_FIELD',
          message: `${name}: is not a parameter of POST /api/query, which takes format (?format=csv); sql, max_rows and query_id go in the JSON body`,
          field: name,
        },
      ]);
    }
    expect((await query({ sql: 'FROM range(100)' }, '?format=csv')).body.split('\n')).toHaveLength(102);
  });

  it('reads a body that starts with a byte order mark, and says so of an empty one, as the collector does', async () => {
    const { post } = await setup();
    const json = { 'content-type': 'application/json' };
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"sql": "SELECT 1 AS one"}')]);
    const read = await post(json, bom);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ rows: [[1]] });
    const empty = await post(json, Buffer.alloc(0));
    expect(empty.json().error).toEqual({
      code: 'INVALID_JSON',
      message: 'The body is empty; send a JSON object.',
    });
  });

  it('reads a gzip or deflate body, and refuses another Content-Encoding with 415, as the collector does', async () => {
    // The encoding was ignored: a gzip body was answered INVALID_JSON "Unexpected token '\u001f'",
    // and a body sent as br was read as if plain.
    const { post } = await setup();
    const send = (encoding: string, payload: Buffer) => post({ 'content-encoding': encoding }, payload);
    const sql = Buffer.from(JSON.stringify({ sql: 'SELECT 42 AS n' }));
    for (const [encoding, payload] of [
      ['gzip', gzipSync(sql)],
      ['deflate', deflateSync(sql)],
    ] as const) {
      const read = await send(encoding, payload);
      expect([read.statusCode, read.json().rows], encoding).toEqual([200, [[42]]]);
    }
    const refused = await send('br', sql);
    expect([refused.statusCode, refused.json()]).toEqual([
      415,
      {
        error: {
          code: 'UNSUPPORTED_ENCODING',
          message: 'Content-Encoding br is not supported; send gzip, deflate or no encoding.',
        },
      },
    ]);
    const broken = await send('gzip', sql);
    expect([broken.statusCode, broken.json().error.code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('refuses a body over limits.request_bytes naming the limit in bytes, as the collector does', async () => {
    const { post } = await setup({ limits: { request_bytes: 1000 } });
    const big = Buffer.from(JSON.stringify({ sql: `SELECT '${'x'.repeat(2000)}'` }));
    const message =
      'The request body is larger than limits.request_bytes (1000 bytes, counted after decompression); send a shorter request or raise limits.request_bytes.';
    for (const [encoding, payload] of [
      ['identity', big],
      ['gzip', gzipSync(big)],
    ] as const) {
      const refused = await post({ 'content-encoding': encoding }, payload);
      expect([refused.statusCode, refused.json()], encoding).toEqual([
        413,
        { error: { code: 'BODY_TOO_LARGE', message } },
      ]);
    }
  });

  it('answers SQL holding a NUL character with a 400 that says so', async () => {
    const { query } = await setup();
    for (const sql of ['SELECT 1\u0000', "SELECT '\u0000'", '\u0000']) {
      const response = await query({ sql });
      expect(response.statusCode, JSON.stringify(sql)).toBe(400);
      expect(response.json().error, JSON.stringify(sql)).toMatchObject({
        code: 'QUERY_INVALID',
        message: expect.stringContaining('NUL'),
      });
    }
    expect((await query({ sql: 'SELECT 1 AS one' })).json()).toMatchObject({ rows: [[1]] });
  });

  it('writes an empty string in CSV as "" and NULL as nothing, so the two stay apart', async () => {
    const { query } = await setup();
    const response = await query(
      { sql: "SELECT '' AS empty, NULL::VARCHAR AS none, 'a' AS text" },
      '?format=csv',
    );
    expect(response.statusCode, response.body).toBe(200);
    expect(response.body).toBe('empty,none,text\r\n"",,a\r\n');
  });

  it("writes a JSON column's value in CSV as its JSON text, a JSON null apart from NULL, and parsed in JSON", async () => {
    // A JSON null came out as an empty field, as SQL NULL does, and the JSON string "a,b" as a,b.
    const { query } = await setup();
    const sql = `SELECT 'null'::JSON AS j, NULL::JSON AS n, '"a,b"'::JSON AS s, '12'::JSON AS num,
      '{"a":1}'::JSON AS o, ('{"x":null}'::JSON->'$.x') AS x, ('{"x":null}'::JSON->'$.y') AS y,
      ['null'::JSON, '"b,c"'::JSON] AS l, {'f': '"d"'::JSON, 'g': 'null'::JSON} AS st`;
    const csv = await query({ sql }, '?format=csv');
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.body).toBe(
      'j,n,s,num,o,x,y,l,st\r\nnull,,"""a,b""",12,"{""a"":1}",null,,"[null,""b,c""]","{""f"":""d"",""g"":null}"\r\n',
    );
    expect((await query({ sql })).json().rows).toEqual([
      [null, null, 'a,b', 12, { a: 1 }, null, null, [null, 'b,c'], { f: 'd', g: null }],
    ]);
  });

  it("refuses a value nested thousands deep with a 400 naming its column, not a 500, but sends a JSON column's text in CSV", async () => {
    const { query } = await setup();
    const deep = (levels: number) => `'${'['.repeat(levels)}${']'.repeat(levels)}'::JSON`;
    for (const [sql, searches] of [
      // A JSON column's value goes into CSV as its text, unparsed, however deep.
      [`SELECT 1 AS n, ${deep(10000)} AS doc`, ['']],
      [`SELECT 1 AS n, [${deep(10000)}] AS doc`, ['', '?format=csv']],
      [`SELECT 1 AS n, (${deep(3000)})::VARIANT AS doc`, ['', '?format=csv']],
      // Much deeper, DuckDB itself runs out of stack making the type (QUERY_ENGINE_CRASHED).
      [
        `SELECT 1 AS n, json_transform('1', '${'['.repeat(3000)}"INTEGER"${']'.repeat(3000)}') AS doc`,
        ['', '?format=csv'],
      ],
    ] as const)
      for (const search of searches) {
        const response = await query({ sql }, search);
        expect(response.statusCode, `${sql.slice(0, 40)} ${search}: ${response.body.slice(0, 300)}`).toBe(
          400,
        );
        expect(response.json().error).toMatchObject({
          code: 'QUERY_INVALID',
          message: expect.stringMatching(/nests .*deep.*::VARCHAR/),
        });
      }
    const json = await query({ sql: `SELECT ${deep(10000)} AS doc` });
    expect(json.json().error.message).toContain('column 1 ("doc")');
    const csv = await query({ sql: `SELECT ${deep(10000)} AS doc` }, '?format=csv');
    expect(csv.body).toBe(`doc\r\n${'['.repeat(10000)}${']'.repeat(10000)}\r\n`);
    // As deep as DuckDB's own expressions may nest, a value is answered as it is.
    const nested = await query({ sql: `SELECT ${deep(1000)} AS doc` });
    expect(nested.statusCode).toBe(200);
    expect(JSON.stringify(nested.json().rows[0][0])).toBe(`${'['.repeat(1000)}${']'.repeat(1000)}`);
  });

  it("exports every row as CSV, or as many as the request's max_rows says", async () => {
    const { query } = await setup({ query: { max_rows: 5 } });
    const all = await query({ sql: 'SELECT i FROM range(10000) t(i)' }, '?format=csv');
    expect(all.statusCode, all.body).toBe(200);
    expect(all.body.split('\r\n').slice(-2)).toEqual(['9999', '']);
    const few = await query({ sql: 'SELECT i FROM range(10000) t(i)', max_rows: 3 }, '?format=csv');
    expect(few.statusCode, few.body).toBe(200);
    expect(few.body).toBe('i\r\n0\r\n1\r\n2\r\n');
    const none = await query({ sql: 'SELECT i FROM range(10000) t(i)', max_rows: 0 }, '?format=csv');
    expect(none.body).toBe('i\r\n');
  });

  it('ends a CSV export once its max_rows rows are out, without waiting on rows it will not send', async () => {
    const { engine, query } = await setup({ query: { timeout_ms: 3000 } });
    // The first rows pass the filter at once; the one after them only when the scan of ten billion
    // rows is done. DuckDB hands over rows in batches, so where its rows stop coming is found first.
    const sql = 'SELECT i FROM range(10000000000) t(i) WHERE i < 300000 OR i = 9999999999';
    const flowing = await rowsBeforeTimeout(engine, sql);
    expect(flowing).toBeGreaterThan(0);
    const response = await query({ sql, max_rows: flowing }, '?format=csv');
    expect(response.statusCode).toBe(200);
    const lines = response.body.split('\r\n');
    expect(lines.length).toBe(flowing + 2);
    expect(lines.at(-2)).toBe(String(flowing - 1));
  });

  it('ends a CSV export with max_rows 0 at its header, without waiting on a first row', async () => {
    // A generous limit: only a query that waits for rows reaches it (an answer that planned the query
    // alone came in a second too, but a busy machine's views and planning could take longer).
    const { query } = await setup({ query: { timeout_ms: 10_000 } });
    // DuckDB holds the three rows back until its scan of ten trillion rows is done: never, here.
    const sql = 'SELECT i FROM range(10000000000000) t(i) WHERE i < 3 OR i = 9999999999999';
    const response = await query({ sql, max_rows: 0 }, '?format=csv');
    expect([response.statusCode, response.body]).toEqual([200, 'i\r\n']);
  });

  it('answers a JSON query with max_rows 0 with its columns alone, without waiting on a first row', async () => {
    const { query } = await setup({ query: { timeout_ms: 10_000 } });
    // As in the export above: the three rows come only when the scan of ten trillion rows is done.
    const sql = 'SELECT i FROM range(10000000000000) t(i) WHERE i < 3 OR i = 9999999999999';
    const response = await query({ sql, max_rows: 0 });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      columns: [{ name: 'i', type: 'BIGINT' }],
      rows: [],
      // Never run, so rows may have been left out: truncated, with a note that says why.
      stats: {
        rows: 0,
        truncated: true,
        note: expect.stringContaining('planned for its columns and not run'),
      },
    });
  });

  it('answers the max_rows rows it has when the query times out looking for one more', async () => {
    const { engine, query } = await setup({ query: { timeout_ms: 3000, max_rows: 1_000_000 } });
    // As in the export above: where DuckDB's rows stop coming is found first.
    const sql = 'SELECT i FROM range(10000000000) t(i) WHERE i < 300000 OR i = 9999999999';
    const flowing = await rowsBeforeTimeout(engine, sql);
    const response = await query({ sql, max_rows: flowing });
    expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
    const answer = response.json();
    expect(answer.rows).toHaveLength(flowing);
    expect(answer.stats).toMatchObject({
      truncated: true,
      note: expect.stringContaining('query.timeout_ms'),
    });
    // Fewer rows than max_rows at the time-out is no answer: it stays an error.
    const short = await query({ sql, max_rows: flowing + 1 });
    expect(short.json().error).toMatchObject({ code: 'QUERY_TIMEOUT' });
  });

  /**
   * A CSV export of sql that the client sees cut off ("response destroyed"), and the server's log
   * line that says why.
   */
  async function cutExport(sql: string, overrides: Parameters<typeof testConfig>[1] = {}) {
    const temp = tempDir();
    const config = testConfig(temp.dir, overrides);
    const layout = dataLayout(config.data_dir);
    mkdirSync(layout.events, { recursive: true });
    const engine = await createQueryEngine({ config, layout });
    const { logger, lines } = capturingLogger<{
      code?: string;
      error?: string;
      err?: unknown;
      rows?: number;
    }>();
    const app = createHttpApp({ config, logger, metrics: createMetrics(), engine, apiToken: API_TOKEN });
    cleanups.push(async () => {
      await app.close();
      engine.close();
      temp.cleanup();
    });
    await expect(
      app.inject({
        method: 'POST',
        url: '/api/query?format=csv',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
        payload: JSON.stringify({ sql }),
      }),
    ).rejects.toThrow('response destroyed');
    return lines.find((line) => line.msg.startsWith('a CSV export stopped part-way'));
  }

  it('logs a CSV export cut off by query.timeout_ms as its code and message, without a stack trace', async () => {
    // The first rows come at once, the last only after a scan of ten trillion rows, long past the
    // timeout: the client sees the export cut off, and the reason is in the log. Seconds: DuckDB
    // hands the first rows over in batches over its first second or so, later on a busy machine.
    const cut = await cutExport(
      'SELECT i FROM range(10000000000000) t(i) WHERE i < 300000 OR i = 9999999999999',
      { query: { timeout_ms: 5_000 } },
    );
    expect(cut).toMatchObject({ code: 'QUERY_TIMEOUT', error: expect.stringContaining('query.timeout_ms') });
    expect(cut?.rows).toBeGreaterThan(0);
    expect(cut?.err).toBeUndefined();
    expect(JSON.stringify(cut)).not.toContain('    at ');
  });

  it("logs DuckDB's reason for a CSV export that failed part-way, while the client sees it cut off", async () => {
    const cut = await cutExport(
      "SELECT (CASE WHEN range < 300000 THEN range::VARCHAR ELSE 'x' END)::INT AS n FROM range(500000)",
    );
    // It said only that the export was incomplete, not which value failed.
    expect(cut).toMatchObject({
      code: 'QUERY_INVALID',
      error: expect.stringContaining("Could not convert string 'x'"),
    });
    expect(cut?.rows).toBeGreaterThan(0);
  });

  it('cuts off a CSV export whose client stopped reading at query.timeout_ms, freeing its slot', async () => {
    // Paused on a client that reads nothing, the export waited on the socket, where no timeout or
    // cancel reached it: with max_concurrent 1, every later query waited for as long as the client
    // kept the connection open.
    const { app, query } = await setup({ query: { timeout_ms: 1000, max_concurrent: 1 } });
    await app.listen({ host: '127.0.0.1', port: 18502 });
    const body = JSON.stringify({ sql: "SELECT range, repeat('x', 100) AS pad FROM range(100000000)" });
    const stalled = connect(18502, '127.0.0.1');
    stalled.on('error', () => {});
    cleanups.push(() => void stalled.destroy());
    // It reads the answer's first bytes, so the export has its slot, and nothing more.
    const started = new Promise((resolve) =>
      stalled.once('data', () => {
        stalled.pause();
        resolve(undefined);
      }),
    );
    stalled.write(
      `POST /api/query?format=csv HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Authorization: Bearer ${API_TOKEN}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await started;
    // Sent after the export has its slot: it waits for it, and gets it once the export is cut off.
    const next = await query({ sql: 'SELECT 1 AS one' });
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({ rows: [[1]] });
  });

  it('takes ?format= in any case, and names the formats when it is neither', async () => {
    const { query } = await setup();
    const upper = await query({ sql: 'SELECT 1 AS one' }, '?format=CSV');
    expect(upper.statusCode, upper.body).toBe(200);
    expect(upper.body).toBe('one\r\n1\r\n');
    const bad = await query({ sql: 'SELECT 1 AS one' }, '?format=xlsx');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({
      code: 'INVALID_FIELD',
      message: expect.stringContaining('"xlsx"'),
    });
  });

  it('takes the API token under any spelling of the Bearer scheme, and nothing else', async () => {
    const { app } = await setup();
    const asking = (authorization: string) =>
      app.inject({
        method: 'POST',
        url: '/api/query',
        headers: { 'content-type': 'application/json', authorization },
        payload: JSON.stringify({ sql: 'SELECT 1' }),
      });
    // The scheme is case-insensitive (RFC 9110 §11.1), and spaces around the token are no part of it.
    for (const header of [
      `bearer ${API_TOKEN}`,
      `BEARER ${API_TOKEN}`,
      `Bearer  ${API_TOKEN}`,
      `Bearer ${API_TOKEN} `,
    ])
      expect((await asking(header)).statusCode, JSON.stringify(header)).toBe(200);
    for (const header of [
      `Bearer${API_TOKEN}`,
      `Basic ${API_TOKEN}`,
      `Bearer ${API_TOKEN}x`,
      'Bearer ',
      `${API_TOKEN}`,
    ])
      expect((await asking(header)).statusCode, JSON.stringify(header)).toBe(401);
  });

  it('refuses an empty query_id, which no DELETE /api/query/:id could name to cancel', async () => {
    const { query } = await setup();
    const response = await query({ sql: 'SELECT 1', query_id: '' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'INVALID_FIELD', field: 'query_id' });
  });

  it('refuses a field it does not take, rather than answer as if it were not there', async () => {
    const { query } = await setup();
    // Each was answered 200 as if absent: JSON in place of CSV, every row in place of 10, no limit.
    const refusals = [
      [
        { sql: 'SELECT 1', format: 'csv' },
        'format: is not a field of the body; ask for CSV with POST /api/query?format=csv',
      ],
      [
        { sql: 'SELECT 1', maxRows: 10 },
        'maxRows: is not a field of the body, which takes sql, max_rows and query_id',
      ],
      [
        { sql: 'SELECT 1', timeout_ms: 100 },
        'timeout_ms: is not a field of the body, which takes sql, max_rows and query_id; a query stops at query.timeout_ms in prod.yaml',
      ],
    ] as const;
    for (const [body, message] of refusals) {
      const response = await query(body);
      expect([response.statusCode, response.json().error], message).toEqual([
        400,
        { code: 'INVALID_FIELD', message, field: Object.keys(body)[1] },
      ]);
    }
  });

  it('refuses . and .. as a query_id, which a URL takes as its own path segments', async () => {
    // What a client's URL parser makes of DELETE /api/query/.. (escaped or not): never this query.
    expect(new URL('http://inlet/api/query/%2E%2E').pathname).toBe('/api/');
    const { query } = await setup();
    for (const id of ['.', '..']) {
      const response = await query({ sql: 'SELECT 1', query_id: id });
      expect(response.statusCode, id).toBe(400);
      expect(response.json().error, id).toMatchObject({ code: 'INVALID_FIELD', field: 'query_id' });
    }
    expect((await query({ sql: 'SELECT 1 AS one', query_id: '...' })).statusCode).toBe(200);
  });

  it('answers a query whose files keep going away under it with a retryable 503', async () => {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    const config = testConfig(temp.dir);
    // Listed, and gone by the time DuckDB opens it, every time it is planned again: a segment the
    // loader of another process deletes, as compaction deletes the Parquet files it merged.
    const gone = walWithMissingSegment(dataLayout(config.data_dir), 2);
    const { engine, app } = await queryEngineApp(config, API_TOKEN, {
      engine: { leases: { begin: () => () => undefined, retiring: gone.retiring }, onFileRace: gone.restore },
    });
    cleanups.push(async () => {
      await app.close();
      engine.close();
    });
    const query = queryVia(app);
    for (const search of ['', '?format=csv']) {
      gone.restore();
      const response = await query({ sql: 'SELECT count(*) AS n FROM events' }, search);
      expect(response.statusCode, response.body).toBe(503);
      expect(response.headers['retry-after']).toBeDefined();
      expect(response.json().error).toMatchObject({
        code: 'QUERY_BUSY',
        message: expect.stringContaining('retry'),
      });
    }
  });
});

describe('DELETE /api/query/:id', () => {
  it('cancels the running query whatever body the DELETE carries, where one that was no JSON was refused', async () => {
    const { app } = await setup();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/api/query`;
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    // Each was refused (400 INVALID_JSON, 415 UNSUPPORTED_CONTENT_TYPE, 400 BAD_REQUEST, 415
    // UNSUPPORTED_ENCODING), and the query ran on to its timeout.
    const bodies: Array<[Record<string, string>, string]> = [
      [{ 'content-type': 'application/json' }, '{'],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'reason=slow'],
      [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip'],
      [{ 'content-type': 'application/json', 'content-encoding': 'br' }, 'not brotli'],
    ];
    for (const [i, [headers, body]] of bodies.entries()) {
      const id = `slow-${i}`;
      const running = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ sql: 'SELECT count(*) FROM range(100000000000)', query_id: id }),
      });
      // Asked until the query is known (404 before it registers), however slow the machine.
      let cancel: Response | undefined;
      for (let tries = 0; tries < 500 && (cancel === undefined || cancel.status === 404); tries++) {
        if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 10));
        cancel = await fetch(`${url}/${id}`, { method: 'DELETE', headers: { ...headers, ...auth }, body });
      }
      expect([cancel?.status, await cancel?.json()], JSON.stringify(headers)).toEqual([
        202,
        { cancelled: id },
      ]);
      const answer = (await (await running).json()) as { error: { code: string } };
      expect(answer.error.code, JSON.stringify(headers)).toBe('QUERY_CANCELLED');
    }
    // The token is still checked first.
    const refused = await fetch(`${url}/slow-0`, { method: 'DELETE', body: '{' });
    expect(refused.status).toBe(401);
  });

  it('says a DELETE without an id needs the query_id after it, where it said to send POST', async () => {
    const { app } = await setup();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    // As curl -X DELETE "$URL/api/query/$ID" sends it with $ID unset.
    for (const path of ['/api/query/', '/api/query', '//api/query//']) {
      const cancel = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'DELETE', headers: auth });
      expect([cancel.status, cancel.headers.get('allow'), await cancel.json()], path).toEqual([
        405,
        'POST',
        {
          error: {
            code: 'METHOD_NOT_ALLOWED',
            message:
              'DELETE /api/query needs the id of the query to cancel after it: DELETE /api/query/<query_id>, the query_id its POST /api/query gave (an unset variable?).',
          },
        },
      ]);
    }
    const get = await fetch(`http://127.0.0.1:${port}/api/query/`, { headers: auth });
    expect((await get.json()).error.message).toBe(
      '/api/query does not take GET; send POST (see the HTTP API in README.md).',
    );
  });
});

describe('a route of a role this process does not run', () => {
  it('answers 404 naming the role that serves it and where to send it, not "no route"', async () => {
    const { app } = await setup();
    // A web-role process (inlet start --role web): an SDK pointed at it by mistake.
    const track = await app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { 'content-type': 'application/json' },
      payload: '{"event":"x","userId":"u"}',
    });
    expect(track.statusCode).toBe(404);
    expect(track.json()).toEqual({
      error: {
        code: 'NOT_FOUND',
        message:
          'POST /v1/track is served by the collector role, which this inlet process does not run (started with --role); send it to the process that runs the collector (inlet start, or inlet start --role collector).',
      },
    });
    // The pixel's refusal is the GIF, as its others are: an <img> showed the JSON as a broken image.
    for (const method of ['GET', 'HEAD'] as const) {
      const pixel = await app.inject({ method, url: '/p.gif?k=wk_x&n=open' });
      expect([pixel.statusCode, pixel.headers['content-type'], pixel.headers['x-inlet-error']]).toEqual([
        404,
        'image/gif',
        'NOT_FOUND',
      ]);
      expect(pixel.headers['x-inlet-error-message']).toMatch(
        new RegExp(`^${method} /p\\.gif is served by the collector role`),
      );
      expect(pixel.rawPayload).toEqual(method === 'GET' ? PIXEL : Buffer.alloc(0));
    }
    const posted = await app.inject({ method: 'POST', url: '/p.gif' });
    expect(posted.json().error.message).toMatch(/^POST \/p\.gif is served by the collector role/);
    // A collector-only process asked for the query API.
    const temp = tempDir();
    const collector = createHttpApp({
      config: testConfig(temp.dir),
      logger: createSilentLogger(),
      metrics: createMetrics(),
      apiToken: API_TOKEN,
    });
    cleanups.push(async () => {
      await collector.close();
      temp.cleanup();
    });
    const query = await collector.inject({ method: 'POST', url: '/api/query', payload: { sql: 'SELECT 1' } });
    expect([query.statusCode, query.json().error.message]).toEqual([
      404,
      'POST /api/query is served by the web role, which this inlet process does not run (started with --role); send it to the process that runs the web role (inlet start, or inlet start --role web).',
    ]);
    // A path no role serves is still just unknown.
    const unknown = await app.inject({ method: 'POST', url: '/v1/nope' });
    expect(unknown.json().error.message).toBe('No route POST /v1/nope; see the HTTP API in README.md.');
  });
});
