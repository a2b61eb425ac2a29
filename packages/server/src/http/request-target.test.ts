import { connect as connectHttp2 } from 'node:http2';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_TOKEN,
  basicAuth,
  queryApi,
  segmentMessage,
  startTestInlet,
  WRITE_KEY,
} from '../../test/helpers.ts';
import { MAX_WRITE_KEY_LENGTH } from '../config/index.ts';

// Requests as a client writes them on the socket, where what is tested is the request line or the
// headers themselves, which fetch and node:http always write the usual way.

let inlet: Awaited<ReturnType<typeof startTestInlet>>;
beforeAll(async () => {
  inlet = await startTestInlet({ limits: { per_ip_per_second: 0, per_write_key_per_second: 0 } });
});
afterAll(async () => inlet.cleanup());

/** Sends text on a new connection and resolves with the status line and the parsed JSON body. */
function raw(text: string): Promise<{ statusLine: string; headers: string; body: unknown }> {
  const { port } = new URL(inlet.url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('close', () => {
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      const [statusLine = '', ...headers] = head.split('\r\n');
      resolve({ statusLine, headers: headers.join('\n'), body: body === '' ? undefined : JSON.parse(body) });
    });
    socket.on('error', reject);
  });
}

/** inlet_http_requests_total of the answers with this status that no route counted (route "unmatched"). */
async function unmatched(status: number): Promise<number> {
  const metrics = await (await fetch(`${inlet.url}/metrics`)).text();
  const line = new RegExp(
    `^inlet_http_requests_total\\{route="unmatched",status="${status}"\\} (\\d+)$`,
    'm',
  );
  return Number(line.exec(metrics)?.[1] ?? 0);
}

/** Sends text and ends this side of the connection (socket.end, netcat -N), then reads the answer. */
function halfClosed(text: string): Promise<string> {
  const { port } = new URL(inlet.url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

const batch = (id: string) => JSON.stringify({ batch: [segmentMessage(id)] });

/** POSTs a batch of one message with id to path, and expects it answered 200 and stored. */
async function expectStored(path: string, id: string): Promise<void> {
  const response = await fetch(`${inlet.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basicAuth() },
    body: batch(id),
  });
  expect([response.status, await response.json()], path).toEqual([200, { success: true }]);
  expect(await queryApi(inlet.url, `SELECT event_id FROM events WHERE event_id = '${id}'`)).toEqual([
    { event_id: id },
  ]);
}

/**
 * Sends a request's head with Expect: 100-continue and waits for the server's first answer; on 100
 * Continue it sends the body, as curl does. Resolves with every status line the server sent.
 */
function expectingContinue(head: string, body: string): Promise<string[]> {
  const { port } = new URL(inlet.url);
  return new Promise((resolve, reject) => {
    let answer = '';
    let sent = false;
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write(`${head}Expect: 100-continue\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (!sent && answer.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        sent = true;
        socket.write(body);
      } else if (!sent && answer.includes('\r\n\r\n')) socket.end();
    });
    socket.on('close', () => resolve(answer.match(/^HTTP\/1\.1 \d+ [^\r]*/gm) ?? []));
    socket.on('error', reject);
  });
}

describe('request targets and headers as clients write them', () => {
  it('serves a request whose target is a whole URL (absolute form), as a forward proxy sends it', async () => {
    const { port } = new URL(inlet.url);
    const body = batch('absolute-1');
    const stored = await raw(
      `POST http://127.0.0.1:${port}/v1/batch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Authorization: ${basicAuth()}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect([stored.statusLine, stored.body]).toEqual(['HTTP/1.1 200 OK', { success: true }]);
    expect(await queryApi(inlet.url, "SELECT event_id FROM events WHERE event_id = 'absolute-1'")).toEqual([
      { event_id: 'absolute-1' },
    ]);
    // A route of Fastify's too, with its query string.
    const runs = await raw(
      `GET HTTP://localhost:${port}/api/runs?limit=1 HTTP/1.1\r\nHost: localhost\r\n` +
        `Authorization: Bearer ${API_TOKEN}\r\nConnection: close\r\n\r\n`,
    );
    expect([runs.statusLine, runs.body]).toEqual(['HTTP/1.1 200 OK', { runs: [], next: null }]);
    const root = await raw(
      `GET http://localhost:${port}?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    expect(root.body).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'No route GET /; see the HTTP API in README.md.' },
    });
  });
});

describe('a path that starts with more than one slash', () => {
  it('is served as the path with one, as an SDK whose host ends in / sends it', async () => {
    // https://collector.example.com/ + /v1/batch: answered "No route POST //v1/batch" and the events
    // dropped, where nginx in front (merge_slashes) would have served it.
    await expectStored('//v1/batch', 'slashes-1');
    expect((await fetch(`${inlet.url}///healthz`)).status).toBe(200);
  });
});

describe('a path that ends in a slash', () => {
  it('is served as the path without it, on the collector routes and the API alike', async () => {
    // An SDK configured with a host ending in a path (…/v1/batch/): answered "No route" and the
    // events dropped.
    const response = await fetch(`${inlet.url}/v1/batch/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth() },
      body: batch('trailing-1'),
    });
    expect([response.status, await response.json()]).toEqual([200, { success: true }]);
    const pixel = await fetch(`${inlet.url}/p.gif/?k=${WRITE_KEY}&n=open`);
    expect([pixel.status, pixel.headers.get('content-type')]).toEqual([200, 'image/gif']);
    const rows = await fetch(`${inlet.url}/api/query/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ sql: "SELECT event_id FROM events WHERE event_id = 'trailing-1'" }),
    });
    expect([rows.status, ((await rows.json()) as { rows: unknown }).rows]).toEqual([200, [['trailing-1']]]);
    const runs = await fetch(`${inlet.url}/api/runs/?limit=1`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect([runs.status, await runs.json()]).toEqual([200, { runs: [], next: null }]);
    expect((await fetch(`${inlet.url}/healthz/`)).status).toBe(200);
    // The root stays the root.
    expect(await (await fetch(`${inlet.url}/?x=1`)).json()).toMatchObject({
      error: { message: 'No route GET /; see the HTTP API in README.md.' },
    });
  });
});

describe('a path with percent-encoded letters', () => {
  it('is served as the path they spell, on the collector routes as on the others', async () => {
    // POST /v1/%62atch was answered "No route" and its events dropped, where GET /%68ealthz was
    // served: the same rule as nginx's and Fastify's router now holds for every route.
    await expectStored('/v1/%62atch', 'encoded-1');
    const pixel = await fetch(`${inlet.url}/p%2Egif?k=${WRITE_KEY}&n=open`);
    expect([pixel.status, pixel.headers.get('content-type')]).toEqual([200, 'image/gif']);
    expect((await fetch(`${inlet.url}/%68ealthz`)).status).toBe(200);
    // A wrong method is named as on the path spelt out, on either kind of route.
    for (const path of ['/v1/%62atch', '/api/%71uery']) {
      const wrong = await fetch(`${inlet.url}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      expect(wrong.status, path).toBe(405);
    }
    // An escaped / is no path separator, here as for Fastify's routes.
    expect((await fetch(`${inlet.url}/v1%2Fbatch`, { method: 'POST' })).status).toBe(404);
  });
});

describe('requests Node would refuse before any route', () => {
  it('refuses an HTTP/1.1 request without a Host header with an inlet error naming it', async () => {
    const answer = await raw('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.body).toEqual({
      error: {
        code: 'BAD_REQUEST',
        message: expect.stringMatching(
          /^The request has no Host header, which HTTP\/1\.1 requires; send Host:/,
        ),
      },
    });
    // HTTP/1.0 has no Host header to require.
    const old = await raw('GET /healthz HTTP/1.0\r\n\r\n');
    expect(old.statusLine).toBe('HTTP/1.1 200 OK');
  });

  it('counts the refusal of a request without a Host header in inlet_http_requests_total', async () => {
    // It was answered before any route, and counted nowhere.
    const before = await unmatched(400);
    await raw('POST /v1/batch HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    await raw('GET /api/runs HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(await unmatched(400)).toBe(before + 2);
  });

  it("counts what is answered straight on the socket, the parser's 400s and CONNECT's 405, in inlet_http_requests_total", async () => {
    // Neither reached a route or Fastify's onResponse hook, and neither was counted.
    const [bad, large, connect] = [await unmatched(400), await unmatched(431), await unmatched(405)];
    expect((await raw('\u0001\u0002 not http\r\n\r\n')).statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect((await raw(`GET /v1/batch?u=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)).statusLine).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large',
    );
    expect((await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')).statusLine).toBe(
      'HTTP/1.1 405 Method Not Allowed',
    );
    expect([await unmatched(400), await unmatched(431), await unmatched(405)]).toEqual([
      bad + 1,
      large + 1,
      connect + 1,
    ]);
  });
});

describe('bytes that are not HTTP after a valid request on the same connection', () => {
  it('leave the request its own answer, and get their 400 after it', async () => {
    // The parser's 400 replaced the first request's answer, whose events were stored all the same.
    const body = batch('garbage-after-1');
    const { port } = new URL(inlet.url);
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(
          `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth()}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}\u0001\u0002 not http\r\n\r\n`,
        ),
      );
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    const first = answer.indexOf('HTTP/1.1 ');
    const second = answer.indexOf('HTTP/1.1 ', first + 1);
    expect(answer.slice(0, answer.indexOf('\r\n'))).toBe('HTTP/1.1 200 OK');
    expect(answer.slice(answer.indexOf('\r\n\r\n') + 4, second === -1 ? undefined : second)).toBe(
      '{"success":true}',
    );
    expect(answer.slice(second)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"code":"BAD_REQUEST"/);
    expect(
      await queryApi(inlet.url, "SELECT event_id FROM events WHERE event_id = 'garbage-after-1'"),
    ).toEqual([{ event_id: 'garbage-after-1' }]);
  });
});

describe('a request with more than 2,000 headers', () => {
  it('is read with all its headers, where the ones past the 2,000th were dropped', async () => {
    // Content-Type and Authorization after 2,100 small headers: answered "The request has no
    // Content-Type header", which it had sent.
    const body = batch('many-headers-1');
    const filler = Array.from({ length: 2100 }, (_, i) => `X-${i}: v\r\n`).join('');
    const answer = await raw(
      `POST /v1/batch HTTP/1.1\r\nHost: x\r\n${filler}Content-Type: application/json\r\n` +
        `Authorization: ${basicAuth()}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect([answer.statusLine, answer.body]).toEqual(['HTTP/1.1 200 OK', { success: true }]);
    expect(
      await queryApi(inlet.url, "SELECT event_id FROM events WHERE event_id = 'many-headers-1'"),
    ).toEqual([{ event_id: 'many-headers-1' }]);
  });
});

describe('a connection that speaks HTTP/2 from its first byte (h2c, prior knowledge)', () => {
  it('is told in HTTP/2 to use HTTP/1.1, and why, where it got an HTTP/1.1 400 it could not read', async () => {
    // curl --http2-prior-knowledge said "Empty reply from server"; Node's client, "Protocol error".
    const session = connectHttp2(inlet.url);
    const ended = await new Promise<Record<string, unknown>>((resolve) => {
      session.on('goaway', (code, _lastStream, data) => resolve({ code, message: data?.toString() }));
      session.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code }));
      session.on('close', () => resolve({ closed: true }));
    });
    session.destroy();
    expect(ended).toEqual({
      code: 13, // HTTP_1_1_REQUIRED
      message: expect.stringMatching(
        /^inlet speaks HTTP\/1\.1: this connection began with the preface of HTTP\/2 without TLS/,
      ),
    });
    expect((await fetch(`${inlet.url}/healthz`)).status).toBe(200);
  });
});

describe('a write key longer than 100 characters in a path', () => {
  it("is served on the SDKs' settings and analytics.js routes, where it was refused 414", async () => {
    // A key made with openssl rand -hex 64: "A part of the URL path is longer than 100 characters; no
    // table, run or query id is that long", so analytics.js never loaded its settings.
    const key = `wk_${'ab'.repeat(64)}`;
    const long = await startTestInlet({ sites: [{ id: 'long', write_key: key }] });
    try {
      const settings = await fetch(`${long.url}/v1/projects/${key}/settings`);
      expect([settings.status, await settings.json()]).toMatchObject([
        200,
        { integrations: { 'Segment.io': { apiKey: key } } },
      ]);
      const script = await fetch(`${long.url}/analytics.js/v1/${key}/analytics.min.js`);
      expect([script.status, script.headers.get('x-inlet-error')]).toEqual([200, null]);
      const tooLong = await fetch(`${long.url}/v1/projects/${'k'.repeat(201)}/settings`);
      expect([tooLong.status, await tooLong.json()]).toEqual([
        414,
        {
          error: {
            code: 'URL_TOO_LONG',
            message:
              'A part of the URL path is longer than 200 characters; no table, run or query id, nor a write key inlet reads, is that long.',
          },
        },
      ]);
    } finally {
      await long.cleanup();
    }
  });
});

describe('a write key as long as inlet.yaml takes', () => {
  it('is read wherever a client sends one: body, query, Basic user, header and path', async () => {
    // The longest key inlet.yaml takes must be one every route reads: a longer one was taken, and
    // clients could not send it as writeKey or k, nor in a settings URL.
    const key = 'k'.repeat(MAX_WRITE_KEY_LENGTH);
    const long = await startTestInlet({
      sites: [{ id: 'long', write_key: key, domains: ['long.example.com'] }],
      limits: { per_ip_per_second: 0, per_write_key_per_second: 0 },
    });
    try {
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${long.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
      const event = { e: [{ t: 'page', a: 'anon-long', url: 'https://long.example.com/' }] };
      const statuses = [
        (await post('/v1/track', { ...segmentMessage('long-1'), writeKey: key })).status,
        (await post('/v1/batch', { batch: [segmentMessage('long-2')] }, { authorization: basicAuth(key) }))
          .status,
        (await post(`/beacon/v1/batch?writeKey=${key}`, { batch: [segmentMessage('long-3')] })).status,
        (await post('/collect', { ...event, k: key })).status,
        (await post(`/collect?k=${key}`, event)).status,
        (await fetch(`${long.url}/p.gif?k=${key}&id=long-4`)).status,
        (await post('/api/send', { type: 'event', payload: { website: key, url: '/' } })).status,
        (await post('/logs?source=api', [{ msg: 'long key' }], { authorization: basicAuth(key) })).status,
        (await post('/logs?source=api', [{ msg: 'long key' }], { 'x-inlet-key': key })).status,
        (await fetch(`${long.url}/v1/projects/${key}/settings`)).status,
        (await fetch(`${long.url}/sourceConfig?writeKey=${key}`)).status,
      ];
      expect(statuses).toEqual([200, 200, 200, 204, 204, 200, 200, 200, 200, 200, 200]);
    } finally {
      await long.cleanup();
    }
  });
});

describe('a URL longer than the request head may be', () => {
  it('is refused naming the URL as well as the headers, where the message spoke of headers only', async () => {
    // Node counts the request line into its 16 KB for headers: a URL with a long query was told to
    // send fewer or smaller headers. (The pixel's answer is the GIF: pixel.browser.test.ts.)
    const answer = await raw(`GET /v1/batch?u=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answer.body).toEqual({
      error: {
        code: 'HEADERS_TOO_LARGE',
        message: expect.stringMatching(/^The request's URL and headers are larger than 16 KB together/),
      },
    });
  });
});

describe('a body cut short by the client ending its side of the connection', () => {
  it('is refused naming that, where the answer quoted the parser as HPE_INVALID_EOF_STATE', async () => {
    const body = batch('cut-1');
    const head = `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth()}\r\nContent-Type: application/json\r\n`;
    for (const text of [
      `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`,
      `${head}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n`,
    ]) {
      const answer = await halfClosed(text);
      expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toEqual({
        error: {
          code: 'BAD_REQUEST',
          message: expect.stringMatching(
            /^The client ended its side of the connection before the whole request had come/,
          ),
        },
      });
    }
    expect(await queryApi(inlet.url, "SELECT event_id FROM events WHERE event_id = 'cut-1'")).toEqual([]);
  });

  it('is counted once in inlet_http_requests_total, as its route’s 499, on every kind of route', async () => {
    // It was counted twice: the parser's "unmatched" 400 and the collector route's 499; on a
    // Fastify route (POST /logs, /api/query) only as the unmatched 400.
    const count = async (route: string, status: number) => {
      const metrics = await (await fetch(`${inlet.url}/metrics`)).text();
      const line = new RegExp(
        `^inlet_http_requests_total\\{route="${route}",status="${status}"\\} (\\d+)$`,
        'm',
      );
      return Number(line.exec(metrics)?.[1] ?? 0);
    };
    const routes: Array<[string, string, string]> = [
      ['/v1/batch', '/v1/batch', basicAuth()],
      ['/collect', '/collect', basicAuth()],
      ['/logs?source=app', '/logs', `Bearer ${WRITE_KEY}`],
      ['/api/query', '/api/query', `Bearer ${API_TOKEN}`],
    ];
    const before = await Promise.all([
      count('unmatched', 400),
      ...routes.map(([, route]) => count(route, 499)),
    ]);
    for (const [target, , auth] of routes) {
      const text = `POST ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"batch":[`;
      // Half-closed, the client can still read why; closed, it is gone (the server sees a FIN either way).
      expect(await halfClosed(text)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(new URL(inlet.url).port), '127.0.0.1', () => {
          socket.write(text);
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
    }
    let after: number[] = [];
    for (let i = 0; i < 50; i++) {
      after = await Promise.all([count('unmatched', 400), ...routes.map(([, route]) => count(route, 499))]);
      if (after.slice(1).every((n, j) => n === (before[j + 1] as number) + 2)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(after).toEqual([before[0], ...before.slice(1).map((n) => n + 2)]);
  });

  it('is not answered again after the answer its route gave before reading the body', async () => {
    // A 401 is given before the body is read; the client then ending mid-body got a 400 after it,
    // an answer to no request it sent, counted as one more.
    const answer = await halfClosed(
      'POST /api/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"sql":',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});

describe('methods and expectations Node handles apart', () => {
  it('answers CONNECT, as to a proxy, with METHOD_NOT_ALLOWED, where the connection was closed unanswered', async () => {
    const answer = await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(answer.statusLine).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(answer.body).toEqual({
      error: {
        code: 'METHOD_NOT_ALLOWED',
        message: expect.stringMatching(/^inlet is no proxy and takes no CONNECT/),
      },
    });
  });

  it('answers 413 to a body announced too large before 100 Continue, and asks for a body that fits', async () => {
    // Node answered 100 Continue to every request: curl then sent a 10 MB body, to be told 413.
    const tooLarge = await expectingContinue(
      `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth()}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n`,
      '',
    );
    expect(tooLarge).toEqual(['HTTP/1.1 413 Payload Too Large']);
    const query = await expectingContinue(
      `POST /api/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n`,
      '',
    );
    expect(query).toEqual(['HTTP/1.1 413 Payload Too Large']);
    const body = batch('continue-1');
    const fits = await expectingContinue(
      `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth()}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`,
      body,
    );
    expect(fits).toEqual(['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
    const sql = JSON.stringify({ sql: "SELECT event_id FROM events WHERE event_id = 'continue-1'" });
    const queried = await expectingContinue(
      `POST /api/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(sql)}\r\n`,
      sql,
    );
    expect(queried).toEqual(['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK']);
    expect(await queryApi(inlet.url, "SELECT event_id FROM events WHERE event_id = 'continue-1'")).toEqual([
      { event_id: 'continue-1' },
    ]);
  });

  it('serves a request with an Expect other than 100-continue, where Node answered 417 with no body', async () => {
    // RFC 9110 §10.1.1 lets a server ignore an expectation it does not know.
    const body = batch('expect-1');
    const stored = await raw(
      `POST /v1/batch HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nAuthorization: ${basicAuth()}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect([stored.statusLine, stored.body]).toEqual(['HTTP/1.1 200 OK', { success: true }]);
    expect(await queryApi(inlet.url, "SELECT event_id FROM events WHERE event_id = 'expect-1'")).toEqual([
      { event_id: 'expect-1' },
    ]);
  });
});

describe('a Transfer-Encoding with a coding besides chunked', () => {
  /** The body as chunks (one, then the last), as Transfer-Encoding: chunked frames it. */
  const chunked = (body: Buffer) =>
    Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  const head = (codings: string) =>
    `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth()}\r\nContent-Type: application/json\r\nTransfer-Encoding: ${codings}\r\n\r\n`;

  it('is answered 501 naming it, stores nothing, and the connection serves the next request', async () => {
    // gzip, chunked: Node undid the chunks and not the gzip, and the route refused the body as gzip
    // sent without Content-Encoding: gzip, which it had declared. x-foo, chunked: stored as if plain.
    const { port } = new URL(inlet.url);
    const after = batch('te-after-1');
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(
          Buffer.concat([
            Buffer.from(head('gzip, chunked')),
            chunked(gzipSync(batch('te-gzip-1'))),
            Buffer.from(head('x-foo, chunked')),
            chunked(Buffer.from(batch('te-xfoo-1'))),
            Buffer.from(
              `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth()}\r\nContent-Type: application/json\r\n` +
                `Content-Length: ${Buffer.byteLength(after)}\r\nConnection: close\r\n\r\n${after}`,
            ),
          ]),
        ),
      );
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    const answers = answer.split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((one) => one.slice(0, one.indexOf('\r\n')))).toEqual([
      'HTTP/1.1 501 Not Implemented',
      'HTTP/1.1 501 Not Implemented',
      'HTTP/1.1 200 OK',
    ]);
    expect(JSON.parse(answers[0]?.split('\r\n\r\n')[1] ?? '')).toEqual({
      error: {
        code: 'UNSUPPORTED_TRANSFER_ENCODING',
        message:
          'Transfer-Encoding gzip, chunked is not supported: inlet reads chunked alone; send the body with Content-Length or Transfer-Encoding: chunked, and compress it with Content-Encoding: gzip or deflate.',
      },
    });
    expect(answers[1]).toContain('Transfer-Encoding x-foo, chunked is not supported');
    expect(
      await queryApi(inlet.url, "SELECT event_id FROM events WHERE event_id LIKE 'te-%' ORDER BY 1"),
    ).toEqual([{ event_id: 'te-after-1' }]);
  });

  it('is refused 400 naming Transfer-Encoding when its last coding is not chunked', async () => {
    // The answer quoted Node's parser: HPE_INVALID_TRANSFER_ENCODING.
    const answer = await halfClosed(`${head('gzip')}${gzipSync(batch('te-last-1')).toString('latin1')}`);
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toEqual({
      error: {
        code: 'BAD_REQUEST',
        message: expect.stringMatching(
          /^The request's Transfer-Encoding does not end with chunked, named once/,
        ),
      },
    });
  });
});

describe('a request no route takes, with a body', () => {
  // Fastify's 404 handler ran after the content-type parsers: PUT /nope or POST /healthz with a body
  // that was no JSON, not gzip, of no type or too large was answered 400, 415 or 413 for the body,
  // where the same request with a good or empty body got 404 or 405.
  const refusedBodies = [
    ['Content-Type: application/json', '{"not json'],
    ['Content-Type: application/json\r\nContent-Encoding: gzip', 'not gzip'],
    ['Content-Type: not a media type', '{}'],
    ['Content-Type: application/json', `"${'x'.repeat(600 * 1024)}"`],
  ] as const;

  it('is answered 404, or 405 with Allow, before its body is read, and the body is dropped', async () => {
    const before = await unmatched(404);
    const requests = refusedBodies.flatMap(([headers, body]) =>
      ['PUT /nope', 'POST /healthz'].map(
        (line) =>
          `${line} HTTP/1.1\r\nHost: x\r\n${headers}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      ),
    );
    // On one connection: each body is read on and dropped, never taken for the next request.
    const answer = await halfClosed(`${requests.join('')}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
    const answers = answer.split(/(?=HTTP\/1\.1 \d{3} )/);
    expect(answers.map((one) => one.slice(0, one.indexOf('\r\n')))).toEqual([
      ...refusedBodies.flatMap(() => ['HTTP/1.1 404 Not Found', 'HTTP/1.1 405 Method Not Allowed']),
      'HTTP/1.1 200 OK',
    ]);
    for (const [index, one] of answers.slice(0, -1).entries()) {
      const body = JSON.parse(one.slice(one.indexOf('\r\n\r\n') + 4));
      if (index % 2 === 0)
        expect(body.error).toEqual({
          code: 'NOT_FOUND',
          message: 'No route PUT /nope; see the HTTP API in README.md.',
        });
      else {
        expect(one).toMatch(/^Allow: GET\r$/im);
        expect(body.error.code).toBe('METHOD_NOT_ALLOWED');
      }
    }
    expect(await unmatched(404)).toBe(before + refusedBodies.length);
  });

  it('is not asked for its body with 100 Continue, nor waited for past 16 MB', async () => {
    const put = 'PUT /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
    expect(await expectingContinue(`${put}Content-Length: 10000000\r\n`, '{}')).toEqual([
      'HTTP/1.1 404 Not Found',
    ]);
    // The answer comes at once, and the connection closes rather than read 32 MB for nothing.
    const huge = await raw(`${put}Content-Length: ${32 * 1024 * 1024}\r\n\r\n{"not json`);
    expect(huge.statusLine).toBe('HTTP/1.1 404 Not Found');
    expect(huge.headers).toMatch(/^Connection: close$/im);
  });
});
