import { describe, expect, it } from 'vitest';
import { parseJsonLine } from './app-record.ts';
import { parseLogTime } from './log-timestamp.ts';
import { createRegexAccessParser, createRegexAppParser } from './regex-log-parser.ts';

describe('json_lines', () => {
  it('takes the known keys into columns, keeps the rest as fields and drops client IPs', () => {
    const result = parseJsonLine(
      JSON.stringify({
        time: '2026-10-10T13:55:36.123+09:00',
        level: 'WARN',
        msg: 'slow query',
        logger: 'db',
        service: { name: 'billing' },
        hostname: 'web-1',
        trace_id: 'abc',
        duration_ms: 1234,
        user: { id: 7 },
        remote_addr: '203.0.113.5',
      }),
    );
    expect(result).toEqual({
      ok: true,
      value: {
        tsMs: Date.parse('2026-10-10T04:55:36.123Z'),
        level: 'warn',
        message: 'slow query',
        logger: 'db',
        service: 'billing',
        host: 'web-1',
        traceId: 'abc',
        spanId: null,
        fields: { duration_ms: 1234, user: { id: 7 } },
      },
    });
  });

  it('keeps the digits of integers beyond 2^53 (64-bit ids, numeric trace ids), as the event intake does', () => {
    // JSON.parse reads 1234567890123456789 as 1234567890123456800: two ids became one, with no word.
    const result = parseJsonLine(
      '{"msg":"x","trace_id":12345678901234567891,"order":{"id":1234567890123456789,"ids":[-9007199254740993,9007199254740991]}}',
    );
    expect(result.ok && [result.value.traceId, result.value.fields]).toEqual([
      '12345678901234567891',
      { order: { id: '1234567890123456789', ids: ['-9007199254740993', 9007199254740991] } },
    ]);
    // A time in epoch nanoseconds is such an integer too, and still a time.
    const ns = parseJsonLine('{"msg":"x","ts":1791000000123456789}');
    expect(ns.ok && ns.value.tsMs).toBe(1791000000123.456);
  });

  it('refuses a line holding a number beyond a 64-bit float, naming the field, rather than keep it as null', () => {
    expect(parseJsonLine('{"msg":"x","a b":{"n":1e400}}')).toEqual({
      ok: false,
      reason:
        'record["a b"].n is a number beyond what a 64-bit float holds (1e400 reads as infinity, and would be stored as null); send it as a string',
    });
    expect(parseJsonLine('{"msg":"x","n":1e300}').ok).toBe(true);
  });

  it('drops client addresses nested in a record too: pino-http, Elastic Common Schema, forwarded headers', () => {
    // Only top-level keys were dropped, so pino-http's req.remoteAddress and an x-forwarded-for
    // header kept the raw client IP in fields, where access_logs never stores one.
    const record = {
      time: 1791608136000,
      msg: 'request completed',
      req: {
        method: 'GET',
        url: '/a',
        remoteAddress: '::ffff:203.0.113.5',
        remotePort: 51234,
        headers: {
          host: 'docs.example.com',
          'x-forwarded-for': '203.0.113.5, 10.0.0.1',
          'X-Real-IP': '203.0.113.5',
        },
      },
      'client.ip': '203.0.113.5',
      source: { ip: '2001:db8::5', port: 443 },
      http: { request: { headers: [{ 'true-client-ip': '203.0.113.5' }] } },
      res: { statusCode: 200 },
    };
    const result = parseJsonLine(JSON.stringify(record));
    expect(result.ok && result.value.fields).toEqual({
      req: { method: 'GET', url: '/a', remotePort: 51234, headers: { host: 'docs.example.com' } },
      source: { port: 443 },
      http: { request: { headers: [{}] } },
      res: { statusCode: 200 },
    });
  });

  it("drops a regex group named client (Apache's error log) and the other common address names", () => {
    // `[client 192.0.2.1:51234]` taken as (?<client>…) kept the address in fields, as did
    // remote_host (Apache's %h), ECS's nested client.address and the Forwarded header.
    const parse = createRegexAppParser(
      String.raw`^\[(?<ts>[^\]]+)\] \[(?<module>\w+):(?<level>\w+)\] \[pid (?<pid>\d+)\] \[client (?<client>[^\]]+)\] (?<message>.*)$`,
      'UTC',
    );
    const result = parse(
      '[2026-10-10 13:55:36] [core:error] [pid 1234] [client 192.0.2.1:51234] AH00126: Invalid URI in request',
    );
    expect(result.ok && result.value.fields).toEqual({ module: 'core', pid: '1234' });
    const record = parseJsonLine(
      JSON.stringify({
        msg: 'x',
        remote_host: '192.0.2.1',
        client: { address: '192.0.2.1', port: 51234, user: { name: 'ann' } },
        source: { address: '192.0.2.1' },
        headers: {
          forwarded: 'for=192.0.2.1',
          'x-client-ip': '192.0.2.1',
          'X-Original-Forwarded-For': '192.0.2.1',
        },
      }),
    );
    expect(record.ok && record.value.fields).toEqual({
      client: { port: 51234, user: { name: 'ann' } },
      source: {},
      headers: {},
    });
  });

  it('keeps a client that names no address (an app or a customer), and drops one that is an address', () => {
    // "client" is also what apps call the customer or the calling app: dropped whatever it held.
    const fieldsOf = (client: string) => {
      const result = parseJsonLine(JSON.stringify({ msg: 'x', client }));
      return result.ok && result.value.fields;
    };
    expect(fieldsOf('mobile-app')).toEqual({ client: 'mobile-app' });
    expect(fieldsOf('acme-corp')).toEqual({ client: 'acme-corp' });
    for (const address of [
      '192.0.2.1',
      '192.0.2.1:51234',
      '2001:db8::1',
      '[2001:db8::1]:443',
      '::ffff:192.0.2.1',
    ])
      expect(fieldsOf(address), address).toBeNull();
  });

  it('reads Elastic Common Schema records, dotted keys flat or nested: log.level, log.logger, host.hostname, trace.id', () => {
    // Python's ecs-logging nests log.logger, ecs-pino-format nests host.hostname: the logger was left
    // in fields, and the host column held the host object as JSON text.
    const result = parseJsonLine(
      JSON.stringify({
        '@timestamp': '2026-10-10T04:55:36.123Z',
        'log.level': 'info',
        message: 'hi',
        log: { logger: 'app.db', origin: { function: 'main' } },
        host: { hostname: 'web-1', architecture: 'x86_64' },
        'trace.id': 't1',
        span: { id: 's1' },
        ecs: { version: '1.6.0' },
      }),
    );
    expect(result.ok && result.value).toEqual({
      tsMs: Date.parse('2026-10-10T04:55:36.123Z'),
      level: 'info',
      message: 'hi',
      logger: 'app.db',
      service: null,
      host: 'web-1',
      traceId: 't1',
      spanId: 's1',
      fields: {
        log: { origin: { function: 'main' } },
        host: { architecture: 'x86_64' },
        ecs: { version: '1.6.0' },
      },
    });
    // A host object without a name is no host name: it stays a field.
    const other = parseJsonLine('{"msg":"x","host":{"architecture":"arm64"}}');
    expect(other.ok && [other.value.host, other.value.fields]).toEqual([
      null,
      { host: { architecture: 'arm64' } },
    ]);
  });

  it('takes a known key holding null or "" for absent, and keeps the rest of a service object', () => {
    const result = parseJsonLine(
      '{"ts":"","time":null,"timestamp":"2026-10-10T04:55:36Z","level":null,"msg":"","service":{"name":"billing","version":"1.4.2"}}',
    );
    expect(result.ok && result.value).toMatchObject({
      tsMs: Date.parse('2026-10-10T04:55:36Z'),
      level: null,
      message: null,
      service: 'billing',
      fields: { service: { version: '1.4.2' } },
    });
  });

  it("drops the line break Docker's json-file log ends each message with", () => {
    // Kept, no message equalled the text it showed: where message = 'listening' found nothing.
    const line = '{"log":"listening\\n","stream":"stdout","time":"2026-10-10T13:55:36.123456789Z"}';
    expect(parseJsonLine(line)).toMatchObject({
      ok: true,
      value: {
        tsMs: Date.parse('2026-10-10T13:55:36.123Z') + 0.456,
        message: 'listening',
        fields: { stream: 'stdout' },
      },
    });
    // Only the one that ends the message: the lines of a stack trace stay as they are.
    expect(parseJsonLine('{"msg":"failed\\n  at x\\r\\n"}')).toMatchObject({
      value: { message: 'failed\n  at x' },
    });
    expect(parseJsonLine('{"msg":"\\n"}')).toMatchObject({ value: { message: null } });
  });

  it("reads a Docker json-file record whose log is the app's own JSON as that record, as Fluent Bit's docker parser and json decoder do", () => {
    const docker = (log: unknown) =>
      JSON.stringify({ log: `${JSON.stringify(log)}\n`, stream: 'stderr', time: '2026-10-10T13:55:36.5Z' });
    // Kept as text, the level, message and fields of a containerised app were out of reach.
    expect(parseJsonLine(docker({ level: 'warn', msg: 'hi', user_id: 42, ip: '203.0.113.1' }))).toEqual({
      ok: true,
      value: {
        tsMs: Date.parse('2026-10-10T13:55:36.5Z'),
        level: 'warn',
        message: 'hi',
        logger: null,
        service: null,
        host: null,
        traceId: null,
        spanId: null,
        fields: { stream: 'stderr', user_id: 42 },
      },
    });
    // The app's own time wins over Docker's, which is not left among the fields.
    expect(parseJsonLine(docker({ level: 30, ts: 1791608136250, msg: 'up' }))).toMatchObject({
      value: { tsMs: 1791608136250, level: 'info', message: 'up', fields: { stream: 'stderr' } },
    });
    // A log that is only like JSON, or a JSON value no object, stays the message.
    for (const text of ['{not json}', '[1,2]', '{"a":1} trailing'])
      expect(parseJsonLine(JSON.stringify({ log: `${text}\n`, stream: 'stdout' }))).toMatchObject({
        value: { message: text, fields: { stream: 'stdout' } },
      });
    // A record with its own message keeps log as a field, as before.
    expect(parseJsonLine(JSON.stringify({ message: 'm', log: '{"a":1}' }))).toMatchObject({
      value: { message: 'm', fields: { log: '{"a":1}' } },
    });
  });

  it("maps pino's numeric levels and epoch milliseconds", () => {
    const result = parseJsonLine('{"level":50,"time":1791608136000,"pid":1,"msg":"boom"}');
    expect(result.ok && result.value).toMatchObject({
      level: 'error',
      tsMs: 1791608136000,
      message: 'boom',
      fields: { pid: 1 },
    });
  });

  it('keeps a record without a time (the reader supplies one) and escaped characters intact', () => {
    const result = parseJsonLine(String.raw`{"message":"line1\nline2 \"q\" \u65e5"}`);
    expect(result.ok && result.value).toMatchObject({
      tsMs: undefined,
      message: 'line1\nline2 "q" 日',
      fields: null,
    });
  });

  it('refuses bad JSON, non-objects and unreadable times with a reason', () => {
    expect(parseJsonLine('{"a":')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^not valid JSON/),
    });
    expect(parseJsonLine('[1,2]')).toEqual({ ok: false, reason: 'JSON line is not an object' });
    expect(parseJsonLine('"text"')).toEqual({ ok: false, reason: 'JSON line is not an object' });
    expect(parseJsonLine('{"ts":"last tuesday"}')).toEqual({
      ok: false,
      reason: 'unrecognised timestamp "last tuesday"',
    });
  });
});

it('names the time field of an epoch number no unit makes a time of, and says how the unit is told', () => {
  const advice =
    'is no time: an epoch number is read by its size (seconds below 1e11, milliseconds below 1e14, microseconds below 1e17, nanoseconds above), and as';
  const write =
    'write the time as seconds, milliseconds, microseconds or nanoseconds since 1970-01-01 UTC, or as ISO 8601 text';
  // Each was "unrecognised timestamp 10000000000000000", naming neither the field nor why.
  for (const [line, reason] of [
    [
      '{"ts": 1e16}',
      `the time field "ts", 10000000000000000, ${advice} microseconds this one is 2286-11-20, after 2199; ${write}`,
    ],
    // Beyond 2^53, kept as its digits, and named as the line wrote them: it was quoted, as if a
    // string, and a number past 1e21 is no 1e+23 either.
    [
      '{"time": 12345678901234567}',
      `the time field "time", 12345678901234567, ${advice} microseconds this one is 2361-03-21, after 2199; ${write}`,
    ],
    [
      '{"ts": 100000000000000000000000, "msg": "x"}',
      `the time field "ts", 100000000000000000000000, ${advice} nanoseconds this one is after 2199; ${write}`,
    ],

    [
      '{"@timestamp": 99999999999}',
      `the time field "@timestamp", 99999999999, ${advice} seconds this one is 5138-11-16, after 2199; ${write}`,
    ],
    [
      '{"timestamp": -5}',
      `the time field "timestamp", -5, ${advice} seconds this one is before 1970; ${write}`,
    ],
    ['{"ts": 1e30}', `the time field "ts", 1e+30, ${advice} nanoseconds this one is after 2199; ${write}`],
  ])
    expect(parseJsonLine(line as string), line).toEqual({ ok: false, reason });
  // By size: 1e15 is microseconds (2001-09-09), 1733306400123456789 nanoseconds; 0 is a time, the
  // first second of 1970, as Fluent Bit takes it.
  for (const [line, iso] of [
    ['{"ts": 0}', '1970-01-01T00:00:00.000Z'],
    ['{"ts": 5}', '1970-01-01T00:00:05.000Z'],
    ['{"ts": 1e15}', '2001-09-09T01:46:40.000Z'],
    ['{"ts": 1733306400123456789}', '2024-12-04T10:00:00.123Z'],
  ] as const) {
    const parsed = parseJsonLine(line);
    expect(parsed.ok && new Date(parsed.value.tsMs as number).toISOString(), line).toBe(iso);
  }
});

describe('regex', () => {
  it('fills access columns from named groups, request line included', () => {
    const parse = createRegexAccessParser(
      String.raw`^(?<host>\S+) (?<remote_addr>\S+) \[(?<ts>[^\]]+)\] "(?<request>[^"]*)" (?<status>\d+) (?<bytes>\d+) (?<request_time_us>\d+)$`,
      'UTC',
    );
    const result = parse(
      'docs.example.com 198.51.100.3 [2026-10-10T13:55:36+09:00] "GET /a?x=1 HTTP/1.1" 404 12 2500',
    );
    expect(result.ok && result.value).toMatchObject({
      host: 'docs.example.com',
      remoteAddr: '198.51.100.3',
      tsMs: Date.parse('2026-10-10T04:55:36Z'),
      method: 'GET',
      path: '/a',
      query: 'x=1',
      status: 404,
      bytes: 12,
      responseTimeMs: 2.5,
    });
    expect(parse('nope')).toEqual({ ok: false, reason: 'does not match the pattern' });
  });

  it('turns groups into an app record with schema: app', () => {
    const parse = createRegexAppParser(
      String.raw`^(?<ts>\S+ \S+) \[(?<level>\w+)\] (?<module>\w+): (?<message>.*)$`,
      'Asia/Tokyo',
    );
    const result = parse('2026-10-10 13:55:36,001 [ERROR] payments: card declined');
    expect(result.ok && result.value).toMatchObject({
      tsMs: Date.parse('2026-10-10T04:55:36.001Z'),
      level: 'error',
      message: 'card declined',
      fields: { module: 'payments' },
    });
  });

  it('reads an absolute-form request or path group as its host, path and query', () => {
    const parse = createRegexAccessParser(
      String.raw`^(?<remote_addr>\S+) "(?<method>\S+) (?<path>\S+)" (?<status>\d+) "(?<request>[^"]*)"$`,
      'UTC',
    );
    expect(parse('198.51.100.3 "GET http://a.example.com/x?y=1" 200 "-"')).toMatchObject({
      ok: true,
      value: { host: 'a.example.com', path: '/x', query: 'y=1' },
    });
    const byRequest = createRegexAccessParser(
      String.raw`^(?<remote_addr>\S+) "(?<request>[^"]*)" (?<status>\d+)$`,
      'UTC',
    );
    expect(byRequest('198.51.100.3 "GET http://b.example.com/z HTTP/1.1" 200')).toMatchObject({
      ok: true,
      value: { host: 'b.example.com', path: '/z', query: null },
    });
  });

  it("reads nginx's error log, whose times are written with slashes (as Go's log package writes them)", () => {
    // Every line was rejected as an unrecognised timestamp: only 2026-10-10 was read as a date.
    const parse = createRegexAppParser(
      String.raw`^(?<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?<level>\w+)\] (?<pid>\d+)#\d+: (?:\*\d+ )?(?<message>.*)$`,
      'Asia/Tokyo',
    );
    const result = parse(
      '2026/10/10 13:55:36 [error] 1234#0: *5 open() "/srv/www/favicon.ico" failed (2: No such file or directory), client: 203.0.113.9',
    );
    expect(result.ok && result.value).toMatchObject({
      tsMs: Date.parse('2026-10-10T04:55:36Z'),
      level: 'error',
      message: expect.stringMatching(/^open\(\) "\/srv\/www\/favicon.ico" failed/),
      fields: { pid: '1234' },
    });
    // One separator throughout: a mixed date is no date.
    expect(parseLogTime('2026/10-10 13:55:36')).toBeUndefined();
  });
});
