import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { basicAuth, queryApi, startTestInlet, tempDir, testConfig, WRITE_KEY } from '../../test/helpers.ts';
import { lakeRejects } from '../../test/lake-fixtures.ts';
import { createQueryEngine } from '../engine/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createSilentLogger } from '../log/index.ts';
import { createMetrics } from '../metrics/index.ts';
import { createLogIntake } from '../sources/file-log/index.ts';
import { segmentName } from '../wal/index.ts';
import { createHttpApp } from './index.ts';
import { LOG_BODY_BYTES, LOG_RECORDS_PER_REQUEST } from './logs-routes.ts';

const cleanups = cleanupAfterEach();

const NGINX_LINE =
  '198.51.100.4 - - [10/Oct/2026:13:55:36 +0900] "GET /pricing?plan=pro HTTP/1.1" 200 812 "https://www.google.com/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15" 0.031';

async function setup(overrides: Parameters<typeof testConfig>[1] = {}, dir?: string) {
  const temp = dir === undefined ? tempDir() : { dir, cleanup: () => {} };
  const config = testConfig(temp.dir, overrides);
  const layout = dataLayout(config.data_dir);
  const logs = createLogIntake({ config, layout, logger: createSilentLogger(), metrics: createMetrics() });
  const app = createHttpApp({
    config,
    logger: createSilentLogger(),
    metrics: createMetrics(),
    logs,
    apiToken: 'x',
  });
  const engine = await createQueryEngine({ config, layout });
  let running = true;
  const stop = async () => {
    if (!running) return;
    running = false;
    await app.close();
    await logs.stop();
  };
  cleanups.push(async () => {
    await stop();
    engine.close();
    temp.cleanup();
  });
  const post = (body: string | Buffer | Readable, headers: Record<string, string> = {}, query = '') =>
    app.inject({
      method: 'POST',
      url: `/logs${query}`,
      headers: { 'content-type': 'application/json', authorization: basicAuth(), ...headers },
      payload: body,
    });
  const query = async (sql: string) => {
    await logs.runOnce({ sealNow: true });
    return (await engine.query(sql)).rows;
  };
  return { dir: temp.dir, layout, post, query, stop };
}

/** JSON lines POSTed to a new intake: its answer, the rows sql reads back, and the rejects' reasons. */
async function sendLines(lines: string, sql: string) {
  const { post, query, layout } = await setup();
  const answer = (await post(lines, { 'content-type': 'application/x-ndjson' })).json();
  return { answer, rows: await query(sql), reasons: httpLogRejects(layout).map((r) => r.reason) };
}

/** The records POST /logs kept as rejects, in the order written, each with its reason and raw text. */
const httpLogRejects = (layout: ReturnType<typeof dataLayout>) => lakeRejects(layout, 'http_logs');

describe('POST /logs (Fluent Bit http output)', () => {
  it('limits records per write key and requests per address, with Retry-After', async () => {
    const { post } = await setup({ limits: { per_ip_per_second: 0, per_write_key_per_second: 3 } });
    const lines = (n: number) =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ message: `line ${i}` })).join('\n');
    const ndjson = { 'content-type': 'application/x-ndjson' };
    expect((await post(lines(2), ndjson)).statusCode).toBe(200);
    const limited = await post(lines(2), ndjson);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    const perIp = await setup({ limits: { per_ip_per_second: 1, per_write_key_per_second: 0 } });
    expect((await perIp.post(lines(1), ndjson)).statusCode).toBe(200);
    expect((await perIp.post(lines(1), ndjson)).statusCode).toBe(429);
  });

  it('takes format json with a double json_date_key, gzip, and sorts access lines from app records', async () => {
    const { post, query } = await setup();
    const records = [
      { date: 1791608136.25, level: 'info', message: 'user signed in', user_id: 42, ip: '203.0.113.1' },
      { date: 1791608137.5, log: NGINX_LINE },
      {
        date: '2026-10-10T04:55:38Z',
        remote: '198.51.100.9',
        host: 'shop.example.com',
        method: 'POST',
        path: '/cart?x=1',
        code: '201',
        size: '5',
        referer: '-',
        agent: 'curl/8.5.0',
      },
    ];
    const response = await post(
      gzipSync(JSON.stringify(records)),
      { 'content-encoding': 'gzip' },
      '?source=shop',
    );
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ accepted: 3, rejected: 0 });
    expect(await query('SELECT ts::VARCHAR, level, message, fields::VARCHAR, source FROM app_logs')).toEqual([
      ['2026-10-10 04:55:36.25+00', 'info', 'user signed in', '{"user_id":42}', 'shop'],
    ]);
    expect(
      await query(
        'SELECT ts::VARCHAR, host, method, path, query, status, browser, response_time_ms, is_bot, visitor_hash IS NOT NULL FROM access_logs ORDER BY ts',
      ),
    ).toEqual([
      ['2026-10-10 04:55:36+00', null, 'GET', '/pricing', 'plan=pro', 200, 'Safari', 31, false, true],
      ['2026-10-10 04:55:38+00', 'shop.example.com', 'POST', '/cart', 'x=1', 201, null, null, true, true],
    ]);
  });

  it("reads the records of Fluent Bit's apache and nginx parsers without storing the client's address", async () => {
    const { post, query } = await setup();
    const agent = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
    // Fluent Bit's apache/apache2 parsers: the client's address (%h) is `host`; its nginx parser:
    // `remote` is the client and `host` the ident, `-`. Both keep a line's `-` as written.
    const apache = {
      host: '203.0.113.9',
      user: '-',
      method: 'GET',
      path: '/a',
      code: '304',
      size: '-',
      referer: '-',
      agent,
    };
    const nginx = {
      remote: '203.0.113.9',
      host: '-',
      user: '-',
      method: 'GET',
      path: '/n',
      code: '200',
      size: '5',
      referer: '-',
      agent,
    };
    const response = await post(JSON.stringify([apache, nginx].map((r) => ({ date: 1791608136, ...r }))));
    expect(response.json()).toEqual({ accepted: 2, rejected: 0 });
    const rows = await query(
      'SELECT path, host, bytes, referrer, visitor_hash FROM access_logs ORDER BY path',
    );
    expect(rows.map((row) => row.slice(0, 4))).toEqual([
      ['/a', null, '0', null],
      ['/n', null, '5', null],
    ]);
    // The same client and user agent: the same visitor, hashed from the address, as from a line.
    const hashes = rows.map((row) => row[4]);
    expect(hashes[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(hashes[1]).toBe(hashes[0]);
    expect(JSON.stringify(await query('SELECT * FROM access_logs'))).not.toContain('203.0.113.9');
  });

  it('stores a Docker json-file record whose log is an nginx or Apache (common) access line in access_logs', async () => {
    const { post, query } = await setup();
    // What Fluent Bit's docker parser sends of the nginx and httpd images' stdout and stderr.
    const docker = (log: string, stream = 'stdout') => ({
      log: `${log}\n`,
      stream,
      time: '2026-10-10T04:55:40.5Z',
    });
    const records = [
      docker(
        '172.17.0.1 - - [10/Oct/2026:04:55:36 +0000] "GET /n?x=1 HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"',
      ),
      // httpd's CustomLog /proc/self/fd/1 common: no referrer, no user agent.
      docker('172.17.0.1 - - [10/Oct/2026:04:55:37 +0000] "GET /a HTTP/1.1" 304 -'),
      docker('2026/10/10 04:55:38 [notice] 1#1: start worker processes', 'stderr'),
    ];
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 3, rejected: 0 });
    expect(
      await query('SELECT ts::VARCHAR, path, query, status, bytes, user_agent FROM access_logs ORDER BY ts'),
    ).toEqual([
      ['2026-10-10 04:55:36+00', '/n', 'x=1', 200, '615', 'curl/8.5.0'],
      ['2026-10-10 04:55:37+00', '/a', null, 304, '0', null],
    ]);
    expect(await query("SELECT message, fields->>'stream' FROM app_logs")).toEqual([
      ['2026/10/10 04:55:38 [notice] 1#1: start worker processes', 'stderr'],
    ]);
  });

  it('stores a line Docker split into several records as one, where each part was a row', async () => {
    const { post, query } = await setup();
    // Fluent Bit's docker parser without docker_mode sends each 16 KiB part of a long line as it is.
    const date = Date.now() / 1000;
    const docker = (log: string, stream = 'stdout') => ({ date, log, stream });
    const big = JSON.stringify({ level: 'error', msg: 'big', payload: 'x'.repeat(40_000) });
    const records = [
      docker('{"msg":"before"}\n'),
      docker(big.slice(0, 16_384)),
      docker(big.slice(16_384, 32_768)),
      docker(`${big.slice(32_768)}\n`),
      // A part whose rest is in another request stays as it is.
      docker('cut', 'stderr'),
    ];
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 3, rejected: 0 });
    expect(
      await query(
        "SELECT message, level, length(json_extract_string(fields, '$.payload'))::INTEGER, fields->>'stream' FROM app_logs ORDER BY message",
      ),
    ).toEqual([
      ['before', null, null, 'stdout'],
      ['big', 'error', 40_000, 'stdout'],
      ['cut', null, null, 'stderr'],
    ]);
  });

  it("joins a split line's parts per stream, where another stream's record between them stored each part as a row", async () => {
    const { post, query } = await setup();
    // Docker's json-file log holds stdout and stderr in one file, so stderr lines can come between
    // the parts of a stdout line; each record has its own time (Fluent Bit's date key).
    const date = Date.parse('2026-12-01T00:00:00Z') / 1000;
    const docker = (second: number, log: string, stream = 'stdout') => ({ date: date + second, log, stream });
    const big = JSON.stringify({ level: 'error', msg: 'big', payload: 'x'.repeat(40_000) });
    const records = [
      docker(1, big.slice(0, 16_384)),
      docker(2, 'slow query\n', 'stderr'),
      docker(3, big.slice(16_384, 32_768)),
      docker(4, 'retrying\n', 'stderr'),
      docker(5, `${big.slice(32_768)}\n`),
    ];
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 3, rejected: 0 });
    // The joined line has its first part's time.
    expect(
      await query(
        "SELECT ts::VARCHAR, message, length(json_extract_string(fields, '$.payload'))::INTEGER, fields->>'stream' FROM app_logs ORDER BY ts",
      ),
    ).toEqual([
      ['2026-12-01 00:00:01+00', 'big', 40_000, 'stdout'],
      ['2026-12-01 00:00:02+00', 'slow query', null, 'stderr'],
      ['2026-12-01 00:00:04+00', 'retrying', null, 'stderr'],
    ]);
  });

  it("rejects a Docker record whose log is an access line with an unreadable time or size, as a file's line is, not an app log", async () => {
    const { post, query, layout } = await setup();
    const docker = (log: string) => ({ log: `${log}\n`, stream: 'stdout', time: '2026-10-10T04:55:40.5Z' });
    const records = [
      docker('172.17.0.1 - - [10/Oct/2026:13:55:36 CST] "GET /cst HTTP/1.1" 200 615 "-" "curl/8.5.0"'),
      docker('172.17.0.1 - - [10/Oct/2026:13:55:37 CST] "GET /common HTTP/1.1" 200 -'),
      docker('172.17.0.1 - - [10/Oct/2026:04:55:38 +0000] "GET /big HTTP/1.1" 200 100000000000000000000'),
      docker('172.17.0.1 - - [10/Oct/2026:04:55:39 +0000] "GET /ok HTTP/1.1" 200 5'),
    ];
    // They went to app_logs as messages, filed at their arrival.
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 1, rejected: 3 });
    expect(await query('SELECT path FROM access_logs')).toEqual([['/ok']]);
    expect(existsSync(join(layout.lake, 'app_logs'))).toBe(false);
    expect(httpLogRejects(layout).map((r) => r.reason)).toEqual([
      'log: bad timestamp [10/Oct/2026:13:55:36 CST]',
      'log: bad timestamp [10/Oct/2026:13:55:37 CST]',
      'log: bytes 100000000000000000000 is not a byte count (a whole number up to 9007199254740991)',
    ]);
  });

  it('stores the path, query and host of an absolute-form request (sent through a proxy), not the whole URL as the path', async () => {
    const { post, query } = await setup();
    const proxied = NGINX_LINE.replace(
      'GET /pricing?plan=pro',
      'GET http://shop.example.com/pricing?plan=pro',
    );
    const records = [
      { date: 1791608136, log: proxied },
      {
        date: 1791608137,
        remote: '198.51.100.9',
        method: 'GET',
        path: 'http://Docs.example.com/a?b=1',
        code: 200,
      },
      { date: 1791608138, request: 'GET https://api.example.com/v1 HTTP/1.1', status: 204, host: 'edge-1' },
    ];
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 3, rejected: 0 });
    expect(await query('SELECT host, path, query FROM access_logs ORDER BY ts')).toEqual([
      ['shop.example.com', '/pricing', 'plan=pro'],
      ['docs.example.com', '/a', 'b=1'],
      // A host the record names stands.
      ['edge-1', '/v1', null],
    ]);
  });

  it("reads Fluent Bit's json_date_key as UTC whatever inlet.yaml's timezone, java_sql_timestamp included", async () => {
    // Fluent Bit writes the date in UTC, java_sql_timestamp without saying so: read in the timezone of
    // inlet.yaml (Asia/Tokyo), every record was filed 9 hours early.
    const { post, query } = await setup({ timezone: 'Asia/Tokyo' });
    const records = [
      { date: '2026-10-10 04:55:36.250000', message: 'app' },
      { date: '2026-10-10 04:55:37.500000', method: 'GET', path: '/a', code: '200', agent: 'curl/8.5.0' },
      { date: '2026-10-10T04:55:38.000000Z', message: 'iso8601' },
    ];
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 3, rejected: 0 });
    const utc = "strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g')";
    expect(await query(`SELECT ${utc}, message FROM app_logs ORDER BY ts`)).toEqual([
      ['2026-10-10 04:55:36.250', 'app'],
      ['2026-10-10 04:55:38.000', 'iso8601'],
    ]);
    expect(await query(`SELECT ${utc}, path FROM access_logs`)).toEqual([['2026-10-10 04:55:37.500', '/a']]);
  });

  it("keeps the microseconds of Fluent Bit's double date and of a record's own time, through the WAL to the lake", async () => {
    const { post, query } = await setup({ timezone: 'Asia/Tokyo' });
    const records = [
      { date: 1796378400.123456, message: 'double' },
      { time: '2026-12-04 19:00:01.654321', message: 'own time, in timezone' },
      { date: 1796378402.000001, method: 'GET', path: '/a', code: '200' },
    ];
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 3, rejected: 0 });
    expect(await query('SELECT epoch_us(ts), message FROM app_logs ORDER BY ts')).toEqual([
      ['1796378400123456', 'double'],
      ['1796378401654321', 'own time, in timezone'],
    ]);
    expect(await query('SELECT epoch_us(ts), path FROM access_logs')).toEqual([['1796378402000001', '/a']]);
  });

  it("reads a record's own time without an offset in inlet.yaml's timezone, in an access line's brackets too", async () => {
    const { post, query } = await setup({ timezone: 'Asia/Tokyo' });
    const records = [
      { time: '2026-12-04 19:00:00', message: 'app' },
      { log: '198.51.100.4 - - [2026-12-04 19:00:01] "GET /line HTTP/1.1" 200 3 "-" "curl/8.5.0"' },
      { time: '2026-12-04T19:00:02', method: 'GET', path: '/fields', code: 200 },
    ];
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 3, rejected: 0 });
    const utc = "strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S')";
    expect(await query(`SELECT ${utc}, message FROM app_logs`)).toEqual([['2026-12-04 10:00:00', 'app']]);
    expect(await query(`SELECT ${utc}, path FROM access_logs ORDER BY ts`)).toEqual([
      ['2026-12-04 10:00:01', '/line'],
      ['2026-12-04 10:00:02', '/fields'],
    ]);
  });

  it('keeps the digits of integers beyond 2^53 in format json and json_lines', async () => {
    const { post, query } = await setup();
    const record =
      '{"date":"2026-10-10T00:00:00Z","msg":"a","trace_id":12345678901234567891,"order_id":1234567890123456789}';
    expect((await post(record, { 'content-type': 'application/x-ndjson' })).json()).toEqual({
      accepted: 1,
      rejected: 0,
    });
    expect((await post(`[${record}]`)).json()).toEqual({ accepted: 1, rejected: 0 });
    expect(await query("SELECT trace_id, fields->>'order_id' FROM app_logs")).toEqual([
      ['12345678901234567891', '1234567890123456789'],
      ['12345678901234567891', '1234567890123456789'],
    ]);
  });

  it('stores a chunk Fluent Bit sends again once, gzipped or not, after a restart too, and answers it as before', async () => {
    const first = await setup();
    const body = [
      JSON.stringify({ date: 1791608136.25, level: 'info', message: 'user signed in' }),
      JSON.stringify({ date: 1791608137.5, log: NGINX_LINE }),
      'not json',
    ].join('\n');
    const ndjson = { 'content-type': 'application/x-ndjson' };
    const answers = [
      await first.post(gzipSync(body), { ...ndjson, 'content-encoding': 'gzip' }),
      await first.post(body, ndjson),
    ];
    // Another source's chunk with the same bytes is its own.
    const other = await first.post(body, ndjson, '?source=other');
    // A retry sent while the first is still being written waits for its answer.
    const slow = body.replace('signed in', 'waited');
    const both = await Promise.all([first.post(slow, ndjson), first.post(slow, ndjson)]);
    expect(both.map((answer) => answer.json())).toEqual([
      { accepted: 2, rejected: 1 },
      { accepted: 2, rejected: 1 },
    ]);
    await first.query('SELECT 1');
    await first.stop();
    const second = await setup({}, first.dir);
    answers.push(await second.post(body, ndjson));
    for (const answer of [...answers, other]) {
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toEqual({ accepted: 2, rejected: 1 });
    }
    // A body differing in one record is stored.
    expect((await second.post(body.replace('signed in', 'signed out'), ndjson)).json()).toEqual({
      accepted: 2,
      rejected: 1,
    });
    expect(await second.query('SELECT source, message FROM app_logs ORDER BY source, message')).toEqual([
      ['http', 'user signed in'],
      ['http', 'user signed out'],
      ['http', 'user waited'],
      ['other', 'user signed in'],
    ]);
    expect(
      await second.query('SELECT source, count(*)::INT FROM access_logs GROUP BY ALL ORDER BY 1'),
    ).toEqual([
      ['http', 3],
      ['other', 1],
    ]);
    expect(httpLogRejects(second.layout).length).toBe(4);
  });

  it('stores many concurrent chunks once each, their concurrent retries nothing, and knows them after a restart', async () => {
    const first = await setup();
    const bodies = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify([{ date: 1791608136 + i, message: `chunk ${i}` }]),
    );
    // Every chunk and a retry of it at once: the ledger's lines share fsyncs, each answer after its own.
    const answers = await Promise.all([...bodies, ...bodies].map((body) => first.post(body)));
    for (const answer of answers) expect(answer.json()).toEqual({ accepted: 1, rejected: 0 });
    await first.query('SELECT 1');
    await first.stop();
    const second = await setup({}, first.dir);
    const again = await Promise.all(bodies.map((body) => second.post(body)));
    for (const answer of again) expect(answer.json()).toEqual({ accepted: 1, rejected: 0 });
    expect(await second.query('SELECT count(*)::INT, count(DISTINCT message)::INT FROM app_logs')).toEqual([
      [30, 30],
    ]);
  });

  it('stores the same body twice when a record in it has no time of its own: two happenings, not a retry', async () => {
    const { post, query } = await setup();
    const json = { 'content-type': 'application/json' };
    const untimed = JSON.stringify([
      { date: 1791608136.25, message: 'backup started' },
      { level: 'error', message: 'disk full' },
    ]);
    for (let i = 0; i < 2; i++)
      expect((await post(untimed, json)).json()).toEqual({ accepted: 2, rejected: 0 });
    expect(await query('SELECT message, count(*)::INT FROM app_logs GROUP BY ALL ORDER BY 1')).toEqual([
      ['backup started', 2],
      ['disk full', 2],
    ]);
  });

  it('takes json_lines, keeps a bad line as a reject and still answers 200', async () => {
    const { post, query, layout } = await setup();
    const body = `{"date":"2026-10-10T00:00:00Z","msg":"a"}\nnot json\n[1]\n{"time":"2026-10-10 09:00:00+09:00","msg":"b"}\n`;
    const response = await post(body, { 'content-type': 'application/x-ndjson' });
    expect(response.json()).toEqual({ accepted: 2, rejected: 2 });
    expect(await query('SELECT message FROM app_logs ORDER BY message')).toEqual([['a'], ['b']]);
    const rejects = httpLogRejects(layout);
    expect(rejects.map((r) => [r.reason.slice(0, 14), r.raw])).toEqual([
      ['not valid JSON', 'not json'],
      ['record is not ', '[1]'],
    ]);
  });

  it("takes json_lines sent as application/json, as Fluent Bit's format json_lines sends it", async () => {
    const { post, query, layout } = await setup();
    // Fluent Bit 1.x, and 3.x's HTTP client, label format json_lines application/json.
    const body = `{"date":"2026-10-10T00:00:00Z","msg":"a"}\r\nnot json\n{"date":"2026-10-10T00:00:01Z","msg":"b"}\n`;
    const response = await post(body, { 'content-type': 'application/json' });
    expect([response.statusCode, response.json()]).toEqual([200, { accepted: 2, rejected: 1 }]);
    expect(await query('SELECT message FROM app_logs ORDER BY message')).toEqual([['a'], ['b']]);
    expect(httpLogRejects(layout).map((r) => r.raw)).toEqual(['not json']);
    // A document broken across lines is still not JSON lines: refused whole, as before.
    const broken = await post('[\n{"msg": "a"},\n');
    expect([broken.statusCode, broken.json().error.code]).toEqual([400, 'INVALID_JSON']);
  });

  it('takes a JSON body that starts with a byte order mark, gzipped or not, as JSON lines already were', async () => {
    const { post, query } = await setup();
    // PowerShell 5's Set-Content -Encoding utf8 writes one; the answer named an invisible character.
    const bom = '\uFEFF';
    const answers = [
      await post(`${bom}[{"date":"2026-10-10T00:00:00Z","msg":"array"}]`),
      await post(gzipSync(`${bom}[\n  {"date":"2026-10-10T00:00:01Z","msg":"gzipped"}\n]`), {
        'content-encoding': 'gzip',
      }),
      await post(
        `${bom}{"date":"2026-10-10T00:00:02Z","msg":"s1"}{"date":"2026-10-10T00:00:03Z","msg":"s2"}`,
      ),
    ];
    expect(answers.map((answer) => [answer.statusCode, answer.json()])).toEqual([
      [200, { accepted: 1, rejected: 0 }],
      [200, { accepted: 1, rejected: 0 }],
      [200, { accepted: 2, rejected: 0 }],
    ]);
    expect(await query('SELECT message FROM app_logs ORDER BY ts')).toEqual([
      ['array'],
      ['gzipped'],
      ['s1'],
      ['s2'],
    ]);
  });

  it('refuses a UTF-16 body, with or without a byte order mark, saying so and to send UTF-8', async () => {
    const { post, query, layout } = await setup();
    // What PowerShell 5's > and Out-File write: the answer was "not valid JSON" naming U+FFFD or a NUL,
    // and as JSON lines each line a reject in an answer of 200.
    const array = '[{"date":"2026-10-10T00:00:00Z","msg":"one"}]';
    const lines = '{"msg":"a"}\r\n{"msg":"b"}\r\n';
    const le = (text: string) => Buffer.from(text, 'utf16le');
    const be = (text: string) => le(text).swap16();
    const bodies: [Buffer, Record<string, string>][] = [
      [le(`\uFEFF${array}`), {}],
      [le(array), {}],
      [be(`\uFEFF${array}`), {}],
      [be(array), {}],
      [gzipSync(le(`\uFEFF${array}`)), { 'content-encoding': 'gzip' }],
      [le(`\uFEFF${lines}`), { 'content-type': 'application/x-ndjson' }],
      [le(lines), { 'content-type': 'application/x-ndjson' }],
      [le(lines), {}],
    ];
    for (const [body, headers] of bodies) {
      const answer = await post(body, headers);
      expect([answer.statusCode, answer.json().error]).toEqual([
        400,
        {
          code: 'INVALID_JSON',
          message:
            'The body is UTF-16 text, not UTF-8; send the JSON encoded as UTF-8 (save the file as UTF-8, or in PowerShell use Out-File -Encoding utf8).',
        },
      ]);
    }
    // Nothing of them stored, as record or reject; the same text in UTF-8 is taken.
    expect((await post(array)).json()).toEqual({ accepted: 1, rejected: 0 });
    expect(await query('SELECT message FROM app_logs')).toEqual([['one']]);
    expect(existsSync(join(layout.rejects, 'http_logs'))).toBe(false);
  });

  it('takes format json_stream, objects one after another with nothing between, as Fluent Bit sends it', async () => {
    const { post, query } = await setup();
    const body =
      '{"date":1791590400.5,"msg":"s1 {\\"x\\": [1]}"}{"date":1791590401,"msg":"s2","n":{"a":[{}]}}';
    const response = await post(body);
    expect([response.statusCode, response.json()]).toEqual([200, { accepted: 2, rejected: 0 }]);
    expect(await query('SELECT message FROM app_logs ORDER BY message')).toEqual([['s1 {"x": [1]}'], ['s2']]);
    // Objects with something else between them, or broken inside, are no stream: refused whole.
    for (const bad of ['{"msg":"a"} x {"msg":"b"}', '{"msg":"a"}{"msg":b}', '{"msg":"a"}{"msg":"b"'])
      expect((await post(bad)).json().error.code).toBe('INVALID_JSON');
  });

  it('shows the log WAL on /metrics as inlet_log_wal_bytes, apart from the events WAL', async () => {
    // Nothing is loaded while the test looks, so the records stay in the WAL.
    const inlet = await startTestInlet({ loader: { interval_ms: 3_600_000 } });
    cleanups.push(inlet.cleanup);
    const before = await (await fetch(`${inlet.url}/metrics`)).text();
    expect(before).toMatch(/^inlet_log_wal_bytes 0$/m);
    const response = await fetch(`${inlet.url}/logs?source=api`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: JSON.stringify([{ date: 1791608136, level: 'error', msg: 'payment failed' }]),
    });
    expect(response.status).toBe(200);
    const metrics = await (await fetch(`${inlet.url}/metrics`)).text();
    expect(Number(/^inlet_log_wal_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^inlet_wal_bytes 0$/m);
  });

  it('counts a log WAL segment repaired at start and its corrupt records on /metrics, as for events', async () => {
    const temp = tempDir();
    cleanups.push(temp.cleanup);
    const config = testConfig(temp.dir);
    const layout = dataLayout(config.data_dir);
    const dir = join(config.data_dir, 'wal', 'logs');
    mkdirSync(dir, { recursive: true });
    // A complete line whose checksum is wrong, then a torn tail (a write cut short by a crash).
    writeFileSync(join(dir, segmentName(1)), '{"c":"00000000","e":{"k":"app","r":{}}}\n{"c":"12');
    const metrics = createMetrics();
    const logs = createLogIntake({ config, layout, logger: createSilentLogger(), metrics });
    cleanups.push(() => logs.stop());
    await logs.runOnce({ sealNow: true });
    expect(metrics.render()).toMatch(/^inlet_wal_recovered_segments_total 1$/m);
    // The torn tail, cut off by recovery, is no skipped record; the bad checksum is corruption.
    expect(metrics.render()).toMatch(/^inlet_wal_corrupt_records_total\{reason="corrupt"\} 1$/m);
    expect(metrics.render()).toMatch(/^inlet_wal_corrupt_records_total\{reason="torn"\} 0$/m);
    expect(httpLogRejects(layout).map((r) => r.reason)).toEqual(['log WAL record: checksum mismatch']);
  });

  it('keeps a record nested thousands of levels deep as a reject, not a 500, in a JSON array or JSON lines', async () => {
    // JSON.parse takes 5,000 levels; JSON.stringify of them overflowed the stack.
    const { post, query, layout } = await setup();
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const array = `[{"date":"2026-10-10T00:00:00Z","msg":"deep","x":${deep}},{"date":"2026-10-10T00:00:01Z","msg":"a"}]`;
    expect((await post(array)).json()).toEqual({ accepted: 1, rejected: 1 });
    const lines = `{"date":"2026-10-10T00:00:02Z","msg":"deep","x":${deep}}\n${deep}\n{"date":"2026-10-10T00:00:03Z","msg":"b"}\n`;
    expect((await post(lines, { 'content-type': 'application/x-ndjson' })).json()).toEqual({
      accepted: 1,
      rejected: 2,
    });
    expect(await query('SELECT message FROM app_logs ORDER BY message')).toEqual([['a'], ['b']]);
    const rejects = httpLogRejects(layout);
    expect(rejects.map((r) => r.reason)).toEqual(
      Array(3).fill('record nests objects or arrays more than 64 levels deep'),
    );
    // What is kept of a record is cut at 64 levels, so the reject file can be written and read.
    expect(rejects.map((r) => r.raw.includes('"msg":"deep"'))).toEqual([true, true, false]);
    expect(rejects[0]?.raw).toContain('"[nested too deeply]"');
  });

  it('rejects a record holding a number beyond a 64-bit float, naming the field, rather than store it as null', async () => {
    // 1e400 reads as infinity: fields.n was stored as null with a 200, as if the sender had sent null.
    const { post, query, layout } = await setup();
    const array =
      '[{"date":"2026-10-10T00:00:00Z","msg":"huge","n":1e400},{"date":"2026-10-10T00:00:01Z","msg":"a","n":1}]';
    expect((await post(array)).json()).toEqual({ accepted: 1, rejected: 1 });
    const lines =
      '{"date":"2026-10-10T00:00:02Z","msg":"huge","user":{"scores":[1,-1e400]}}\n{"method":"GET","path":"/","code":200,"size":1e999}\n';
    expect((await post(lines, { 'content-type': 'application/x-ndjson' })).json()).toEqual({
      accepted: 0,
      rejected: 2,
    });
    expect(await query('SELECT message, fields FROM app_logs')).toEqual([['a', { n: 1 }]]);
    const rejects = httpLogRejects(layout);
    expect(
      rejects.map((r) => r.reason.split(' is a number beyond what a 64-bit float holds')[0]).sort(),
    ).toEqual(['record.n', 'record.size', 'record.user.scores[1]']);
  });

  it('rejects an access record whose own time cannot be read, naming it, as an app record with it is', async () => {
    const { post, query, layout } = await setup();
    // Fluent Bit's nginx parser fields: the record was filed at its arrival, under today, silently.
    const access = { remote: '198.51.100.9', method: 'GET', code: '200', size: '5', date: 1791608136 };
    const records = [
      { ...access, path: '/zone', time: '2026-10-10 13:55:36 CST' },
      { ...access, path: '/epoch', time: 1e16 },
      { ...access, path: '/ok', time: '10/Oct/2026:13:55:37 +0900' },
      { ...access, path: '/date' },
      { msg: 'app', time: '2026-10-10 13:55:36 CST' },
    ];
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 2, rejected: 3 });
    expect(await query('SELECT path, ts::VARCHAR FROM access_logs ORDER BY path')).toEqual([
      ['/date', '2026-10-10 04:55:36+00'],
      ['/ok', '2026-10-10 04:55:37+00'],
    ]);
    expect(httpLogRejects(layout).map((r) => r.reason.slice(0, 60))).toEqual([
      'unrecognised timestamp "2026-10-10 13:55:36 CST"',
      // (Past 2^53, the number is kept as its digits, as every such integer is, and named so.)
      'the time field "time", 10000000000000000, is no time: an epo',
      'unrecognised timestamp "2026-10-10 13:55:36 CST"',
    ]);
  });

  it('rejects an access record whose size or code access_logs cannot hold, rather than fail the records loaded with it', async () => {
    const lines =
      '{"method":"GET","path":"/big","code":200,"size":1e20}\n{"method":"GET","path":"/ok","code":200,"size":5}\n' +
      '{"method":"GET","path":"/odd","code":2.5}\n{"method":"GET","path":"/neg","code":200,"size":"-5"}\n';
    const { answer, rows, reasons } = await sendLines(
      lines,
      'SELECT path, status, bytes::INT FROM access_logs',
    );
    expect(answer).toEqual({ accepted: 1, rejected: 3 });
    expect(rows).toEqual([['/ok', 200, 5]]);
    expect(reasons).toEqual([
      'bytes 100000000000000000000 is not a byte count (a whole number up to 9007199254740991)',
      'status 2.5 is not an HTTP status code',
      // A negative size was stored as it came.
      'bytes -5 is not a byte count (a whole number up to 9007199254740991)',
    ]);
  });

  it('rejects an access record whose code or size is no number, naming the field and value, where it stored NULL', async () => {
    const lines =
      '{"method":"GET","path":"/abc","code":"abc","size":5}\n{"method":"GET","path":"/ok","code":"200","size":"5"}\n' +
      '{"method":"GET","path":"/size","code":200,"size":"lots"}\n{"method":"GET","path":"/dash","code":"-","size":"-"}\n' +
      '{"method":"GET","path":"/bool","status":true}\n';
    const { answer, rows, reasons } = await sendLines(
      lines,
      'SELECT path, status, bytes::INT FROM access_logs ORDER BY path',
    );
    expect(answer).toEqual({ accepted: 2, rejected: 3 });
    // A line's `-` is still no status, and no body.
    expect(rows).toEqual([
      ['/dash', null, 0],
      ['/ok', 200, 5],
    ]);
    expect(reasons).toEqual([
      'status "abc" is not an HTTP status code',
      'bytes "lots" is not a byte count (a whole number up to 9007199254740991)',
      'status true is not an HTTP status code',
    ]);
  });

  it('rejects an access record whose response time is no number, naming the field and what to send, where it stored NULL', async () => {
    const lines =
      '{"method":"GET","path":"/abc","code":200,"request_time":"abc"}\n{"method":"GET","path":"/s","code":200,"request_time":"0.123"}\n' +
      '{"method":"GET","path":"/ms","code":200,"duration_ms":"slow"}\n{"method":"GET","path":"/n","code":200,"response_time_ms":12.5}\n' +
      '{"method":"GET","path":"/bool","code":200,"response_time_ms":true}\n{"method":"GET","path":"/dash","code":200,"request_time":"-"}\n';
    const { answer, rows, reasons } = await sendLines(
      lines,
      'SELECT path, response_time_ms FROM access_logs ORDER BY path',
    );
    expect(answer).toEqual({ accepted: 3, rejected: 3 });
    // A numeric string is a number; a `-` (nginx's for a time it has not) is no time.
    expect(rows).toEqual([
      ['/dash', null],
      ['/n', 12.5],
      ['/s', 123],
    ]);
    expect(reasons).toEqual([
      'request_time "abc" is not a response time; send a number of seconds (0.123), or leave the field out',
      'duration_ms "slow" is not a response time; send a number of milliseconds (123), or leave the field out',
      'response_time_ms true is not a response time; send a number of milliseconds (123), or leave the field out',
    ]);
  });

  it('rejects an access record whose response time is negative, naming the field, where it stored -1000 ms', async () => {
    const lines =
      '{"method":"GET","path":"/neg","code":200,"request_time":-1}\n{"method":"GET","path":"/str","code":200,"duration_ms":"-5"}\n' +
      '{"method":"GET","path":"/zero","code":200,"request_time":0}\n';
    const { answer, rows, reasons } = await sendLines(
      lines,
      'SELECT path, response_time_ms FROM access_logs ORDER BY path',
    );
    expect(answer).toEqual({ accepted: 1, rejected: 2 });
    expect(rows).toEqual([['/zero', 0]]);
    expect(reasons).toEqual([
      'request_time -1 is not a response time; send a number of seconds (0.123), or leave the field out',
      'duration_ms -5 is not a response time; send a number of milliseconds (123), or leave the field out',
    ]);
  });

  it('writes records spanning 1,000 days, each into its day, a bounded number of days a copy', async () => {
    // One PARTITION_BY over 800 days or more ran DuckDB out of memory, and the log loader retried
    // that segment forever: nothing sent after it reached the lake. (A backfill: no age limit.)
    const { post, query } = await setup({ limits: { max_event_age_days: 0 } });
    const day = (i: number) => new Date(Date.UTC(2023, 0, 1) + i * 86_400_000).toISOString();
    const records = Array.from({ length: 1000 }, (_, i) => ({ ts: day(i), msg: `m${i}` }));
    expect((await post(JSON.stringify(records))).json()).toEqual({ accepted: 1000, rejected: 0 });
    expect(
      await query(
        'SELECT count(*)::INT, count(DISTINCT dt)::INT, count(*) FILTER (WHERE dt <> ts::DATE)::INT FROM app_logs',
      ),
    ).toEqual([[1000, 1000, 0]]);
  });

  it('files a record older than limits.max_event_age_days at its arrival', async () => {
    const { post, query } = await setup({ limits: { max_event_age_days: 30 } });
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 20 * 86_400_000).toISOString();
    const body = JSON.stringify([
      { ts: old, msg: 'old' },
      { ts: recent, msg: 'recent' },
    ]);
    expect((await post(body)).json()).toEqual({ accepted: 2, rejected: 0 });
    const rows = await query(
      'SELECT message, ts > now() - INTERVAL 1 HOUR AS arrival FROM app_logs ORDER BY message',
    );
    expect(rows).toEqual([
      ['old', true],
      ['recent', false],
    ]);
  });

  it('loads records with lone surrogates in field names and values, as U+FFFD', async () => {
    // JSON.parse accepts "\ud800"; DuckDB refuses it, and a refused row held back its whole batch.
    const { post, query } = await setup();
    const body = `{"date":"2026-10-10T00:00:00Z","msg":"a\\ud800","\\udc00":"x\\udbff","ok":"😀"}\n{"date":"2026-10-10T00:00:01Z","msg":"b"}\n`;
    expect((await post(body, { 'content-type': 'application/x-ndjson' })).json()).toEqual({
      accepted: 2,
      rejected: 0,
    });
    expect(await query('SELECT message, fields::VARCHAR FROM app_logs ORDER BY message')).toEqual([
      ['a\ufffd', '{"\ufffd":"x\ufffd","ok":"😀"}'],
      ['b', null],
    ]);
  });

  it('accepts the write key as Basic user, Bearer, X-Inlet-Key or ?key= and refuses others', async () => {
    const { post } = await setup();
    const one = JSON.stringify([{ msg: 'x' }]);
    expect((await post(one)).statusCode).toBe(200);
    expect((await post(one, { authorization: `Bearer ${WRITE_KEY}` })).statusCode).toBe(200);
    // Schemes are case-insensitive (RFC 9110): curl users write bearer and basic too.
    expect((await post(one, { authorization: `bearer  ${WRITE_KEY}` })).statusCode).toBe(200);
    expect((await post(one, { authorization: basicAuth().replace('Basic', 'basic') })).statusCode).toBe(200);
    expect((await post(one, { authorization: '', 'x-inlet-key': WRITE_KEY })).statusCode).toBe(200);
    expect((await post(one, { authorization: '' }, `?key=${WRITE_KEY}`)).statusCode).toBe(200);
    // A key given twice is taken the first time, as the pixel and the beacon take theirs: it was a 401.
    expect((await post(one, { authorization: '' }, `?key=${WRITE_KEY}&key=wk_wrong_key`)).statusCode).toBe(
      200,
    );
    expect((await post(one, { authorization: '' }, `?key=wk_wrong_key&key=${WRITE_KEY}`)).statusCode).toBe(
      401,
    );
    const missing = await post(one, { authorization: '' });
    expect([missing.statusCode, missing.json().error.code]).toEqual([401, 'MISSING_WRITE_KEY']);
    const wrong = await post(one, { authorization: basicAuth('wk_wrong_key') });
    expect([wrong.statusCode, wrong.json().error.code]).toEqual([401, 'UNKNOWN_WRITE_KEY']);
  });

  it('says a JSON body with nothing in it is empty, gzipped or not, and what to send', async () => {
    const { post } = await setup();
    // Each was "The body is not valid JSON: Unexpected end of JSON input".
    const what =
      "send log records, a JSON array of them (Fluent Bit's format json), or one a line with Content-Type: application/x-ndjson (format json_lines).";
    const empties = [
      [Buffer.alloc(0), {}, `The body is empty; ${what}`],
      [Buffer.from(' \n'), { 'content-type': 'text/plain' }, `The body is empty; ${what}`],
      [
        gzipSync(Buffer.alloc(0)),
        { 'content-encoding': 'gzip' },
        `The body is empty once decompressed; ${what}`,
      ],
    ] as const;
    for (const [body, headers, message] of empties) {
      const response = await post(body, headers);
      expect([response.statusCode, response.json().error]).toEqual([400, { code: 'INVALID_JSON', message }]);
    }
    // JSON lines with no line hold no record, and are answered so.
    const lines = await post(gzipSync(''), {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    expect(lines.json()).toEqual({ accepted: 0, rejected: 0 });
  });

  it('refuses a body that is one JSON string with 400 naming it, where it was read as JSON lines', async () => {
    const { post, query, layout } = await setup();
    // A string was taken for JSON lines: "hi" answered 200 with a reject, and a record encoded
    // twice (a JSON string holding the JSON) was stored as if sent as it should be.
    for (const [body, type] of [
      ['"hi"', 'application/json'],
      [JSON.stringify(JSON.stringify({ date: '2026-10-10T00:00:00Z', msg: 'twice' })), 'application/json'],
      ['"hi"', 'text/plain'],
    ] as const) {
      const refused = await post(body, { 'content-type': type });
      expect([refused.statusCode, refused.json().error]).toEqual([
        400,
        {
          code: 'INVALID_FIELD',
          field: 'body',
          message:
            'body: is a JSON string; send a JSON array of log records (objects), or JSON lines, one object a line',
        },
      ]);
    }
    // JSON lines stay JSON lines, under either type.
    const lines = '{"date":"2026-10-10T00:00:01Z","msg":"a"}\n{"date":"2026-10-10T00:00:02Z","msg":"b"}\n';
    for (const type of ['application/x-ndjson', 'application/json'])
      expect((await post(lines, { 'content-type': type })).json()).toEqual({ accepted: 2, rejected: 0 });
    // (The second is the first sent again, and stored once.)
    expect(await query('SELECT message FROM app_logs ORDER BY ALL')).toEqual([['a'], ['b']]);
    expect(existsSync(join(layout.rejects, 'http_logs'))).toBe(false);
  });

  it('takes ?source= given twice the first time, as ?key=, where it was refused as a bad name', async () => {
    const { post, query } = await setup();
    const twice = await post('[{"msg":"twice"}]', {}, '?source=shop&source=other');
    expect([twice.statusCode, twice.json()]).toEqual([200, { accepted: 1, rejected: 0 }]);
    expect(await query('SELECT source, message FROM app_logs')).toEqual([['shop', 'twice']]);
  });

  it('refuses bodies it cannot read with a 4xx that names the problem', async () => {
    const { post } = await setup();
    const invalid = await post('{"msg":');
    expect([invalid.statusCode, invalid.json().error.code]).toEqual([400, 'INVALID_JSON']);
    const scalar = await post('42');
    expect([scalar.statusCode, scalar.json().error.code]).toEqual([400, 'INVALID_FIELD']);
    const source = await post('[]', {}, '?source=Bad-Name');
    expect([source.statusCode, source.json().error.code]).toEqual([400, 'INVALID_FIELD']);
    // Docs starts with a letter, and was told "starting with a letter".
    const capital = await post('[]', {}, '?source=Docs');
    expect([capital.statusCode, capital.json().error.message]).toEqual([
      400,
      'source: must start with a lower-case letter and hold only lower-case letters, digits and _ (at most 63)',
    ]);
    // deflate, zlib-wrapped or raw (as some clients send it; raw was a 400), and inflated past the limit.
    const one = JSON.stringify([{ msg: 'deflated' }]);
    for (const pack of [deflateSync, deflateRawSync]) {
      expect((await post(pack(one), { 'content-encoding': 'deflate' })).json()).toEqual({
        accepted: 1,
        rejected: 0,
      });
      const inflated = await post(pack(`[${' '.repeat(LOG_BODY_BYTES)}]`), { 'content-encoding': 'deflate' });
      expect([inflated.statusCode, inflated.json().error.code]).toEqual([413, 'BODY_TOO_LARGE']);
      expect(inflated.json().error.message).toContain('counted after decompression');
    }
    const gzip = await post('not gzip', { 'content-encoding': 'gzip' });
    expect([gzip.statusCode, gzip.json().error.code]).toEqual([400, 'BAD_REQUEST']);
    // Announced larger than the limit and not gzip: refused before anything decodes it.
    const oversized = await post(Buffer.alloc(LOG_BODY_BYTES + 1, 'x'), { 'content-encoding': 'gzip' });
    expect([oversized.statusCode, oversized.json().error.code]).toEqual([413, 'BODY_TOO_LARGE']);
    // It names the limit in bytes, as the collector's and the query API's do, and counts it decoded.
    const tooLarge =
      'The request body is larger than the 16 MB (16777216 bytes, counted after decompression) a log request may carry; send fewer records a request.';
    expect(oversized.json().error.message).toBe(tooLarge);
    const plain = await post(Buffer.alloc(LOG_BODY_BYTES + 1, 'x'));
    expect([plain.statusCode, plain.json().error.message]).toEqual([413, tooLarge]);
    // Past the limit once decoded, then broken: the decoder's late error must not go unheard.
    let broken = false;
    const bomb = Readable.from(
      (async function* () {
        yield gzipSync(Buffer.alloc(LOG_BODY_BYTES + 1024, ' '));
        await sleep(50);
        yield Buffer.from('garbage');
        // Asked for more: the garbage has gone on to the decoder.
        broken = true;
      })(),
    );
    // Framed as a streamed body is over a socket: app.inject sends a stream with neither header.
    const bombed = await post(bomb, { 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' });
    expect([bombed.statusCode, bombed.json().error.code]).toEqual([413, 'BODY_TOO_LARGE']);
    for (let i = 0; i < 200 && !broken; i++) await sleep(10);
    expect(broken).toBe(true);
    const msgpack = await post('x', { 'content-type': 'application/msgpack' });
    expect([msgpack.statusCode, msgpack.json().error.code]).toEqual([415, 'UNSUPPORTED_CONTENT_TYPE']);
    // It names the types /logs takes, JSON lines among them (Fluent Bit's format json_lines).
    expect(msgpack.json().error.message).toBe(
      'Content-Type application/msgpack is not read by /logs; send Content-Type: application/json (format json), application/x-ndjson (format json_lines) or text/plain.',
    );
    expect((await post('[]')).json()).toEqual({ accepted: 0, rejected: 0 });
  });

  it('refuses more records in one request than it takes with 413, where 16 MB of {} lines failed with a 500', async () => {
    // Each record is a row of some 200 bytes in the WAL: 5 million {} lines made more text than a
    // JavaScript string holds (RangeError: Invalid string length), and 1.8 GB of memory on the way.
    const { post, query } = await setup({ limits: { per_write_key_per_second: 0 } });
    const over = LOG_RECORDS_PER_REQUEST + 1;
    for (const [body, type] of [
      ['{}\n'.repeat(over), 'application/x-ndjson'],
      [`[${Array(over).fill('{}').join(',')}]`, 'application/json'],
    ] as const) {
      const refused = await post(body, { 'content-type': type });
      expect([refused.statusCode, refused.json()], type).toEqual([
        413,
        {
          error: {
            code: 'BODY_TOO_LARGE',
            message: `The request carries more than ${LOG_RECORDS_PER_REQUEST.toLocaleString('en-US')} log records, the most one request takes; send fewer records a request.`,
          },
        },
      ]);
    }
    const full = await post('{"message":"x"}\n'.repeat(LOG_RECORDS_PER_REQUEST), {
      'content-type': 'application/x-ndjson',
    });
    expect([full.statusCode, full.json()]).toEqual([200, { accepted: LOG_RECORDS_PER_REQUEST, rejected: 0 }]);
    expect(await query('SELECT count(*)::INTEGER AS n FROM app_logs')).toEqual([[LOG_RECORDS_PER_REQUEST]]);
  });

  it('refuses a charset other than UTF-8 with 415, as the collector does', async () => {
    const { post, query } = await setup();
    const latin1 = await post(Buffer.from('[{"msg":"café"}]', 'latin1'), {
      'content-type': 'application/json; charset=ISO-8859-1',
    });
    expect([latin1.statusCode, latin1.json().error.code, latin1.json().error.message]).toEqual([
      415,
      'UNSUPPORTED_CONTENT_TYPE',
      'Content-Type declares charset=iso-8859-1; send the body as UTF-8 (charset=utf-8).',
    ]);
    const lines = await post(Buffer.from('{"msg":"café"}\n', 'latin1'), {
      'content-type': 'application/x-ndjson; charset=latin1',
    });
    expect([lines.statusCode, lines.json().error.code]).toEqual([415, 'UNSUPPORTED_CONTENT_TYPE']);
    const empty = await post('[{"msg":"x"}]', { 'content-type': 'application/json; charset=' });
    expect([empty.statusCode, empty.json().error.message]).toEqual([
      415,
      'Content-Type has charset= with no name after it; send charset=utf-8, or leave charset out (UTF-8 is assumed).',
    ]);
    const utf8 = await post('[{"msg":"café"}]', { 'content-type': 'application/json; charset=UTF-8' });
    expect(utf8.json()).toEqual({ accepted: 1, rejected: 0 });
    expect(await query('SELECT message FROM app_logs')).toEqual([['café']]);
  });
});

describe('inlet start with log sources', () => {
  it("files a record more than a day ahead at its arrival, and a site's own max_event_age_days wins, as for events", async () => {
    // A year 2199 clock was filed under dt=2199-…, and sites[].max_event_age_days was passed over.
    const inlet = await startTestInlet({
      sites: [
        { id: 'docs', write_key: WRITE_KEY, max_event_age_days: 0 },
        { id: 'shop', write_key: 'wk_shop_4d1e', max_event_age_days: 30 },
      ],
      limits: { max_event_age_days: 365 },
      wal: { seal_after_ms: 100 },
      loader: { interval_ms: 100 },
    });
    cleanups.push(inlet.cleanup);
    const day = 86_400_000;
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    const post = async (key: string, records: object[]) =>
      (
        await fetch(`${inlet.url}/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', authorization: basicAuth(key) },
          body: records.map((r) => JSON.stringify(r)).join('\n'),
        })
      ).json();
    expect(
      await post(WRITE_KEY, [
        { ts: at(40 * day), msg: 'docs ahead 40 days' },
        { ts: '2199-01-01T00:00:00Z', msg: 'docs in 2199' },
        { ts: at(2 * 3_600_000), msg: 'docs ahead two hours' },
        { ts: 1, msg: 'docs in 1970' },
      ]),
    ).toEqual({ accepted: 4, rejected: 0 });
    expect(
      await post('wk_shop_4d1e', [
        { ts: at(-40 * day), msg: 'shop 40 days back' },
        { ts: at(-20 * day), msg: 'shop 20 days back' },
      ]),
    ).toEqual({ accepted: 2, rejected: 0 });
    const sql = `SELECT message, abs(epoch(ts) - epoch(now())) < 600 AS arrival, year(ts) = 1970 AS in_1970
      FROM app_logs ORDER BY message`;
    let rows: unknown[] = [];
    for (let i = 0; i < 200 && rows.length < 6; i++) {
      await sleep(50);
      rows = await queryApi(inlet.url, sql).catch(() => []);
    }
    expect(rows).toEqual([
      { message: 'docs ahead 40 days', arrival: true, in_1970: false },
      { message: 'docs ahead two hours', arrival: false, in_1970: false },
      { message: 'docs in 1970', arrival: false, in_1970: true },
      { message: 'docs in 2199', arrival: true, in_1970: false },
      { message: 'shop 20 days back', arrival: false, in_1970: false },
      { message: 'shop 40 days back', arrival: true, in_1970: false },
    ]);
  });

  it('tails a configured file and takes /logs over a real socket, both queryable', async () => {
    const files = tempDir();
    cleanups.push(files.cleanup);
    const path = join(files.dir, 'access.log');
    writeFileSync(path, `${NGINX_LINE}\n`);
    const inlet = await startTestInlet({
      sources: [
        { name: 'web', type: 'file', path, format: 'nginx_combined', poll_ms: 50, batch_seconds: 0.1 },
      ] as never,
      wal: { seal_after_ms: 100 },
      loader: { interval_ms: 100 },
    });
    cleanups.push(inlet.cleanup);
    appendFileSync(path, `${NGINX_LINE.replace('/pricing', '/docs')}\n`);
    const response = await fetch(`${inlet.url}/logs?source=api`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: JSON.stringify([{ date: 1791608136, level: 'error', msg: 'payment failed' }]),
    });
    expect(response.status).toBe(200);
    const rows = async () => {
      try {
        return [
          await queryApi(inlet.url, 'SELECT path, source FROM access_logs ORDER BY path'),
          await queryApi(inlet.url, 'SELECT message, source FROM app_logs'),
        ];
      } catch {
        return [[], []];
      }
    };
    let seen = await rows();
    for (let i = 0; i < 200 && (seen[0]?.length !== 2 || seen[1]?.length !== 1); i++) {
      await sleep(50);
      seen = await rows();
    }
    expect(seen).toEqual([
      [
        { path: '/docs', source: 'web' },
        { path: '/pricing', source: 'web' },
      ],
      [{ message: 'payment failed', source: 'api' }],
    ]);
  });
});
