import { describe, expect, it } from 'vitest';
import { createAccessLogParser, splitRequestLine, unescapeLogField } from './access-log-parser.ts';
import { createRegexAccessParser } from './regex-log-parser.ts';

const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('nginx_combined', () => {
  const parse = createAccessLogParser('nginx_combined');

  it('takes a line apart and honours the timestamp offset', () => {
    const result = parse(
      `203.0.113.7 - alice [10/Oct/2026:13:55:36 +0900] "GET /docs/intro?lang=ja&x=1 HTTP/2.0" 200 5120 "https://example.com/" "${UA}"`,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        tsMs: Date.parse('2026-10-10T04:55:36Z'),
        remoteAddr: '203.0.113.7',
        host: null,
        method: 'GET',
        path: '/docs/intro',
        query: 'lang=ja&x=1',
        protocol: 'HTTP/2.0',
        status: 200,
        bytes: 5120,
        referrer: 'https://example.com/',
        userAgent: UA,
        responseTimeMs: null,
      },
    });
  });

  it('reads negative offsets and the optional trailing $request_time in seconds', () => {
    const result = parse(
      `::1 - - [31/Dec/2026:23:30:00 -0130] "POST /api HTTP/1.1" 201 0 "-" "curl/8.5.0" 0.250`,
    );
    expect(result.ok && result.value).toMatchObject({
      tsMs: Date.parse('2027-01-01T01:00:00Z'),
      remoteAddr: '::1',
      referrer: null,
      responseTimeMs: 250,
    });
  });

  it('ignores other trailing fields such as the main format\'s "$http_x_forwarded_for"', () => {
    const result = parse(
      `10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-" "198.51.100.2"`,
    );
    expect(result.ok && result.value).toMatchObject({ userAgent: null, responseTimeMs: null });
  });

  it("reads $request_time after other trailing fields, bare or as rt=, as nginx's main and upstream-timing formats write it", () => {
    const line = `10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "${UA}"`;
    for (const [trailing, ms] of [
      // log_format main with '"$http_x_forwarded_for" $request_time $upstream_response_time'
      [' "198.51.100.2" 0.250 0.249', 250],
      [' "-" 1.500 -', 1500],
      // nginx's documented upstream-timing format: rt=$request_time uct="…" uht="…" urt="…"
      [' rt=0.012 uct="0.001" uht="0.010" urt="0.011"', 12],
      [' request_time=2.5', 2500],
      [' "198.51.100.2"', null],
      [' - "x"', null],
    ] as const) {
      const result = parse(`${line}${trailing}`);
      expect([trailing, result.ok && result.value.responseTimeMs]).toEqual([trailing, ms]);
    }
  });

  it('reads the time of a log_format with $time_iso8601 or $msec in place of $time_local, offset and all', () => {
    const line = (time: string) => `203.0.113.7 - - [${time}] "GET /a HTTP/1.1" 200 5 "-" "${UA}" 0.002`;
    for (const [time, iso] of [
      ['2026-10-10T13:55:36+09:00', '2026-10-10T04:55:36.000Z'],
      ['2026-10-10T13:55:36-05:00', '2026-10-10T18:55:36.000Z'],
      ['1791000000.123', '2026-10-03T04:00:00.123Z'],
    ]) {
      const result = parse(line(time));
      expect(result.ok && [new Date(result.value.tsMs ?? 0).toISOString(), result.value.path]).toEqual([
        iso,
        '/a',
      ]);
    }
    // Written without an offset (Apache's %{%Y-%m-%d %H:%M:%S}t), it is in the source's timezone.
    const chicago = createAccessLogParser('apache_combined', 'America/Chicago')(line('2026-10-10 13:55:36'));
    expect(chicago.ok && new Date(chicago.value.tsMs ?? 0).toISOString()).toBe('2026-10-10T18:55:36.000Z');
    expect(parse(line('2026-10-10T25:55:36+09:00'))).toEqual({
      ok: false,
      reason: 'bad timestamp [2026-10-10T25:55:36+09:00]',
    });
  });

  it("reads $request_time after $request_length, as ingress-nginx's default upstreaminfo format writes them", () => {
    // '"$http_user_agent" $request_length $request_time [$proxy_upstream_name] …': the request's
    // length, 389 bytes, was taken for the response time, 389 seconds.
    const line = `10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 612 "-" "${UA}" 389 0.005 [default-web-80] [] 10.244.0.7:8080 612 0.004 200 5f1c2e`;
    const result = parse(line);
    expect(result.ok && result.value.responseTimeMs).toBe(5);
    // A whole number is still the response time when no number with a fraction follows.
    const whole = parse(`10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 612 "-" "${UA}" 2 -`);
    expect(whole.ok && whole.value.responseTimeMs).toBe(2000);
    // Apache's %D is a whole number of microseconds, first whatever follows.
    const apache = createAccessLogParser('apache_combined')(
      `10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 612 "-" "${UA}" 1500 0.5`,
    );
    expect(apache.ok && apache.value.responseTimeMs).toBe(1.5);
  });

  it('reads a first field of X-Forwarded-For addresses (a server behind a proxy), taking the client, the first', () => {
    // log_format with $http_x_forwarded_for (Apache: %{X-Forwarded-For}i) in place of
    // $remote_addr writes "client, proxy": every line went to the rejects.
    for (const first of [
      '203.0.113.7, 10.0.0.2',
      '203.0.113.7,10.0.0.2',
      '2001:db8::7, 10.0.0.2, 10.0.0.3',
    ]) {
      const result = parse(`${first} - - [10/Oct/2026:13:55:36 +0900] "GET /a HTTP/1.1" 200 5 "-" "${UA}"`);
      expect(result.ok && [result.value.remoteAddr, result.value.path]).toEqual([first.split(',')[0], '/a']);
    }
  });

  it('reads a line whose remote user holds spaces (a Basic auth user name), in all three formats', () => {
    const line = `203.0.113.7 - john q doe [10/Oct/2026:13:55:36 +0900] "GET /a HTTP/1.1" 200 5 "-" "${UA}"`;
    for (const format of ['nginx_combined', 'apache_combined', 'apache_common'] as const) {
      const result = createAccessLogParser(format)(line);
      expect(result.ok && [result.value.remoteAddr, result.value.path, result.value.status]).toEqual([
        '203.0.113.7',
        '/a',
        200,
      ]);
    }
  });

  it("decodes nginx's \\xHH escapes, quotes and UTF-8 included", () => {
    const result = parse(
      String.raw`1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /search?q=\xE6\x97\xA5\xE6\x9C\xAC HTTP/1.1" 200 10 "-" "say \x22hi\x22\x5C"`,
    );
    expect(result.ok && result.value).toMatchObject({ query: 'q=日本', userAgent: 'say "hi"\\' });
  });

  it("keeps bytes of another charset in nginx's \\xHH escapes as %HH, as a URL carries them, not as U+FFFD", () => {
    // A search typed in Latin-1 (café) and one in Shift_JIS (日本: 93 FA 96 7B), sent unencoded.
    const result = parse(
      String.raw`1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /s?q=caf\xE9&k=\x93\xFA\x96{ HTTP/1.1" 200 10 "-" "-"`,
    );
    expect(result.ok && result.value).toMatchObject({ query: 'q=caf%E9&k=%93%FA%96{' });
    // Nothing is lost: the bytes read back in their charset.
    const bytesOf = (text: string) =>
      Buffer.from(
        text.replace(/%([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16))),
        'latin1',
      );
    expect(new TextDecoder('latin1').decode(bytesOf('caf%E9'))).toBe('café');
    expect(new TextDecoder('shift_jis').decode(bytesOf('%93%FA%96{'))).toBe('日本');
    // UTF-8 beside them is decoded; an overlong form or a cut sequence is not UTF-8.
    expect(unescapeLogField(String.raw`\xE6\x97\xA5\xE9 \xC0\xAF \xE6\x97`)).toBe('日%E9 %C0%AF %E6%97');
  });

  it('keeps a malformed request line (a TLS handshake on the HTTP port) with no method or path', () => {
    const result = parse(
      String.raw`1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03" 400 157 "-" "-"`,
    );
    expect(result.ok && result.value).toMatchObject({ method: null, path: null, status: 400, bytes: 157 });
  });

  it('refuses lines that are not the format, and bad timestamps, with a reason', () => {
    expect(parse('hello world')).toEqual({
      ok: false,
      reason: 'does not match the nginx_combined format',
      unmatched: true,
    });
    expect(parse(`1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1`)).toMatchObject({
      ok: false,
    });
    expect(parse(`1.2.3.4 - - [10/Foo/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`)).toEqual({
      ok: false,
      reason: 'bad timestamp [10/Foo/2026:13:55:36 +0000]',
    });
    expect(parse(`1.2.3.4 - - [10/Oct/2026:25:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`).ok).toBe(false);
  });

  it('does not stall on a long line of quotes and backslashes', () => {
    const evil = `1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "${'\\"'.repeat(20_000)}`;
    // CPU time, not wall time: a busy machine stretches the wall clock of a quick parse past any
    // limit, while a pattern that backtracks over the quotes takes seconds of CPU.
    const started = process.cpuUsage();
    expect(parse(evil).ok).toBe(false);
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(500);
  });
});

describe('apache formats', () => {
  it('apache_combined reads \\" escapes, "-" bytes as 0 and a trailing %D in microseconds', () => {
    const parse = createAccessLogParser('apache_combined');
    const result = parse(
      String.raw`192.0.2.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 304 - "http://www.example.com/start.html" "Mozilla/4.08 \"quoted\" [en]" 1500`,
    );
    expect(result.ok && result.value).toMatchObject({
      tsMs: Date.parse('2000-10-10T20:55:36Z'),
      status: 304,
      bytes: 0,
      userAgent: 'Mozilla/4.08 "quoted" [en]',
      responseTimeMs: 1.5,
    });
  });

  it("reads the virtual host that Debian's vhost_combined writes first (%v:%p, other_vhosts_access.log) into host, not as the client", () => {
    // Taken as the client address, with the client as ident: every visitor of a host shared one visitor_hash.
    const line = `www.example.com:443 192.0.2.7 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 2326 "-" "${UA}"`;
    for (const format of ['apache_combined', 'apache_common', 'nginx_combined'] as const) {
      const result = createAccessLogParser(format)(line);
      expect(result.ok && [result.value.host, result.value.remoteAddr, result.value.path]).toEqual([
        'www.example.com',
        '192.0.2.7',
        '/a',
      ]);
    }
    // A client address that is IPv6, or a host name (HostnameLookups), is still the client.
    const parse = createAccessLogParser('apache_combined');
    for (const client of ['2001:db8::7', '::1', 'client.example.net', '203.0.113.7:51234']) {
      const result = parse(`${client} - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 5 "-" "${UA}"`);
      expect(result.ok && [result.value.host, result.value.remoteAddr]).toEqual([null, client]);
    }
  });

  it("reads a virtual host written first without its port (nginx's '$host $remote_addr - …') into host, not as the client", () => {
    // Taken as the client address, with the client as ident: every visitor of a host shared one
    // visitor_hash, and host stayed empty.
    for (const [vhost, user] of [
      ['docs.example.com', '-'],
      ['localhost', '-'],
      ['docs.example.com', 'john doe'],
    ]) {
      for (const client of ['192.0.2.7', '2001:db8::7']) {
        const line = `${vhost} ${client} - ${user} [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 2326 "-" "${UA}"`;
        for (const format of ['nginx_combined', 'apache_combined', 'apache_common'] as const) {
          const result = createAccessLogParser(format)(line);
          expect(result.ok && [result.value.host, result.value.remoteAddr, result.value.path]).toEqual([
            vhost,
            client,
            '/a',
          ]);
        }
      }
    }
    // An ident that is no address, a forwarded list, and two addresses ('$http_x_forwarded_for
    // $remote_addr' as well as a $host that is an address) leave the first field the client.
    const parse = createAccessLogParser('nginx_combined');
    for (const [first, client] of [
      ['203.0.113.7 10.0.0.2 -', '203.0.113.7'],
      ['203.0.113.7 alice -', '203.0.113.7'],
      ['203.0.113.7, 10.0.0.2 - -', '203.0.113.7'],
      ['203.0.113.7 - -', '203.0.113.7'],
    ]) {
      const result = parse(`${first} [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 5 "-" "${UA}"`);
      expect(result.ok && [result.value.host, result.value.remoteAddr]).toEqual([null, client]);
    }
  });

  it("reads a $host that is an address (a request to the server's bare IP) as the host once the source's lines have shown a name there", () => {
    // Written by a real nginx with log_format '$host $remote_addr - $remote_user [$time_local] …'
    // for requests with Host: 10.0.0.1 among named ones. The address was taken for the client, and
    // the client for the ident: host stayed empty and every such request had the host's visitor.
    const written = (host: string, path: string, version = '1.1') =>
      `${host} 127.0.0.1 - - [05/Dec/2026:02:38:24 +0000] "GET ${path} HTTP/${version}" 200 3 "-" "curl/7.88.1"`;
    const lines = [
      written('shop.example.com', '/a'),
      written('10.0.0.1', '/b'),
      written('docs.example.com', '/c'),
      written('10.0.0.1', '/d'),
      written('[2001:db8::1]', '/e'),
      written('127.0.0.1', '/f'),
      // HTTP/1.0 without a Host header, and no server_name: nginx writes $host empty.
      written('', '/g', '1.0'),
    ];
    for (const format of ['nginx_combined', 'apache_combined', 'apache_common'] as const) {
      const parse = createAccessLogParser(format, 'UTC', { oneLayout: true });
      expect(
        lines.map((line) => {
          const result = parse(line);
          return result.ok ? [result.value.host, result.value.remoteAddr, result.value.path] : result.reason;
        }),
      ).toEqual([
        ['shop.example.com', '127.0.0.1', '/a'],
        ['10.0.0.1', '127.0.0.1', '/b'],
        ['docs.example.com', '127.0.0.1', '/c'],
        ['10.0.0.1', '127.0.0.1', '/d'],
        ['[2001:db8::1]', '127.0.0.1', '/e'],
        ['127.0.0.1', '127.0.0.1', '/f'],
        [null, '127.0.0.1', '/g'],
      ]);
    }
  });

  it("reads '$http_x_forwarded_for $remote_addr' as nginx writes it, with '-' for a request that came straight in", () => {
    // Written by a real nginx. '-' was taken for the virtual host.
    const written = (first: string, path: string) =>
      `${first} 127.0.0.1 - - [05/Dec/2026:02:38:25 +0000] "GET ${path} HTTP/1.1" 200 3 "-" "curl/7.88.1"`;
    const parse = createAccessLogParser('nginx_combined', 'UTC', { oneLayout: true });
    const read = (line: string) => {
      const result = parse(line);
      return result.ok ? [result.value.host, result.value.remoteAddr] : result.reason;
    };
    expect(read(written('-', '/a'))).toEqual([null, '127.0.0.1']);
    expect(read(written('203.0.113.7', '/b'))).toEqual([null, '203.0.113.7']);
    expect(read(written('203.0.113.7, 10.0.0.2', '/c'))).toEqual([null, '203.0.113.7']);
    // Records of many senders (POST /logs) share no layout: two addresses stay client and proxy.
    const shared = createAccessLogParser('nginx_combined');
    shared(written('shop.example.com', '/d'));
    const result = shared(written('10.0.0.1', '/e'));
    expect(result.ok && [result.value.host, result.value.remoteAddr]).toEqual([null, '10.0.0.1']);
  });

  it('apache_common has no referrer or user agent', () => {
    const parse = createAccessLogParser('apache_common');
    const result = parse('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326');
    expect(result.ok && result.value).toMatchObject({
      path: '/a.gif',
      bytes: 2326,
      referrer: null,
      userAgent: null,
    });
  });
});

/** A regex format of a path and one response time group of the name given, as a source declares it. */
const timeGroup = (group: string) => createRegexAccessParser(`^(?<path>\\S+) (?<${group}>\\S+)$`, 'UTC');

describe('helpers', () => {
  it('splits request lines, with or without a protocol', () => {
    expect(splitRequestLine('OPTIONS * HTTP/1.1')).toEqual({
      method: 'OPTIONS',
      path: '*',
      query: null,
      protocol: 'HTTP/1.1',
      targetHost: null,
    });
    expect(splitRequestLine('GET /a b?c HTTP/1.0')).toMatchObject({ path: '/a b', query: 'c' });
    expect(splitRequestLine('GET /old')).toMatchObject({ method: 'GET', path: '/old', protocol: null });
    expect(splitRequestLine('garbage')).toMatchObject({ method: null, path: null });
  });

  it('splits an absolute-form target (sent through a proxy) into its host, path and query', () => {
    // The whole URL was the path: a proxied request to /a?b=1 was no /a in any mart.
    expect(splitRequestLine('GET http://Example.com:8080/a?b=1 HTTP/1.1')).toEqual({
      method: 'GET',
      path: '/a',
      query: 'b=1',
      protocol: 'HTTP/1.1',
      targetHost: 'example.com',
    });
    expect(splitRequestLine('GET http://example.com HTTP/1.0')).toMatchObject({
      path: '/',
      query: null,
      targetHost: 'example.com',
    });
    expect(splitRequestLine('GET https://user:pw@[2001:db8::1]:8443?x HTTP/1.1')).toMatchObject({
      path: '/',
      query: 'x',
      targetHost: '[2001:db8::1]',
    });
    // An origin-form path holding :// is no absolute target.
    expect(splitRequestLine('GET /r?to=http://example.com/ HTTP/1.1')).toMatchObject({
      path: '/r',
      query: 'to=http://example.com/',
      targetHost: null,
    });
    const line = (host: string) =>
      `${host}203.0.113.7 - - [10/Oct/2026:13:55:36 +0000] "GET http://shop.example.com/cart?id=3 HTTP/1.1" 200 51 "-" "${UA}"`;
    expect(createAccessLogParser('nginx_combined')(line(''))).toMatchObject({
      ok: true,
      value: { host: 'shop.example.com', path: '/cart', query: 'id=3' },
    });
    // The virtual host the line was logged with stands.
    expect(createAccessLogParser('nginx_combined')(line('www.example.com '))).toMatchObject({
      ok: true,
      value: { host: 'www.example.com', path: '/cart', query: 'id=3' },
    });
  });

  it("reads a CONNECT's authority-form target (host:port) as its host and no path, in a line and a regex too", () => {
    // `example.com:443` was the path: a tunnel through a proxy was a page in every path count.
    expect(splitRequestLine('CONNECT Example.com:443 HTTP/1.1')).toEqual({
      method: 'CONNECT',
      path: null,
      query: null,
      protocol: 'HTTP/1.1',
      targetHost: 'example.com',
    });
    expect(splitRequestLine('CONNECT [2001:db8::1]:8443 HTTP/1.1')).toMatchObject({
      path: null,
      targetHost: '[2001:db8::1]',
    });
    // Only CONNECT takes the authority form; anything else keeps its target as the path.
    expect(splitRequestLine('GET example.com:443 HTTP/1.1')).toMatchObject({
      path: 'example.com:443',
      targetHost: null,
    });
    expect(splitRequestLine('CONNECT /a:1 HTTP/1.1')).toMatchObject({ path: '/a:1', targetHost: null });
    const line = `203.0.113.7 - - [10/Oct/2026:13:55:36 +0000] "CONNECT api.example.com:443 HTTP/1.1" 200 0 "-" "${UA}"`;
    expect(createAccessLogParser('nginx_combined')(line)).toMatchObject({
      ok: true,
      value: { method: 'CONNECT', host: 'api.example.com', path: null, query: null },
    });
    const regex = createRegexAccessParser('^(?<method>\\S+) (?<path>\\S+) (?<status>\\d+)$', 'UTC');
    expect(regex('CONNECT api.example.com:443 200')).toMatchObject({
      ok: true,
      value: { host: 'api.example.com', path: null },
    });
  });

  it('refuses a regex line whose status or bytes group holds no number, naming it, where it stored NULL', () => {
    const regex = createRegexAccessParser('^(?<path>\\S+) (?<status>\\S+) (?<bytes>\\S+)$', 'UTC');
    expect(regex('/a abc 5')).toEqual({ ok: false, reason: 'status "abc" is not an HTTP status code' });
    expect(regex('/a 200 many')).toEqual({
      ok: false,
      reason: 'bytes "many" is not a byte count (a whole number up to 9007199254740991)',
    });
    expect(regex('/a - -')).toMatchObject({ ok: true, value: { status: null, bytes: null } });
    expect(regex('/a 200 5')).toMatchObject({ ok: true, value: { status: 200, bytes: 5 } });
  });

  it('refuses a regex line whose response time group holds no number, naming it, where it stored NULL', () => {
    expect(timeGroup('request_time')('/a abc')).toEqual({
      ok: false,
      reason: 'request_time "abc" is not a response time; make the group match a number of seconds (0.123)',
    });
    expect(timeGroup('request_time_us')('/a 12us')).toEqual({
      ok: false,
      reason:
        'request_time_us "12us" is not a response time; make the group match a number of microseconds (123000)',
    });
    expect(timeGroup('request_time')('/a 0.5')).toMatchObject({ ok: true, value: { responseTimeMs: 500 } });
    expect(timeGroup('request_time_ms')('/a -')).toMatchObject({ ok: true, value: { responseTimeMs: null } });
  });

  it('refuses a regex line whose response time group matches a negative number, naming it, where it stored it as negative milliseconds', () => {
    expect(timeGroup('request_time')('/a -5')).toEqual({
      ok: false,
      reason: 'request_time -5 is not a response time; make the group match a number of seconds (0.123)',
    });
    expect(timeGroup('request_time_ms')('/a -0.5')).toEqual({
      ok: false,
      reason:
        'request_time_ms -0.5 is not a response time; make the group match a number of milliseconds (123)',
    });
    expect(timeGroup('request_time')('/a 0')).toMatchObject({ ok: true, value: { responseTimeMs: 0 } });
  });

  it('names a number past 1e21 in a reason as the line wrote it, not as 1e+23', () => {
    const big = '100000000000000000000000';
    const line = `203.0.113.7 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 ${big} "-" "${UA}"`;
    expect(createAccessLogParser('nginx_combined')(line)).toEqual({
      ok: false,
      reason: `bytes ${big} is not a byte count (a whole number up to 9007199254740991)`,
    });
    const regex = createRegexAccessParser('^(?<path>\\S+) (?<status>\\S+) (?<bytes>\\S+)$', 'UTC');
    expect(regex(`/a ${big} 5`)).toEqual({ ok: false, reason: `status ${big} is not an HTTP status code` });
    expect(regex('/a 1e30 5')).toEqual({ ok: false, reason: 'status 1e30 is not an HTTP status code' });
    expect(timeGroup('request_time')(`/a -${big}`)).toEqual({
      ok: false,
      reason: `request_time -${big} is not a response time; make the group match a number of seconds (0.123)`,
    });
  });

  it('unescapes Apache sequences and leaves unknown ones alone', () => {
    expect(unescapeLogField(String.raw`a\tb\nc\\d\qe`)).toBe('a\tb\nc\\d\\qe');
    expect(unescapeLogField(String.raw`\xZZ`)).toBe(String.raw`\xZZ`);
  });
});
