// The collector's bodies and connections over a raw socket where it matters: bodies over the limit
// (announced, chunked, compressed), deflate, clients that half-close or hang up, bytes that are not
// HTTP, requests written back to back on one connection, and a body that never arrives whole.
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expectError, sharedCollectorInlet } from './collector-inlet.ts';
import { API_TOKEN, basicAuth, queryApi, segmentMessage, startTestInlet, WRITE_KEY } from './helpers.ts';

const { inlet, post } = sharedCollectorInlet();

const execFileAsync = promisify(execFile);

describe('collector refusals', () => {
  it('413 for a body over the limit, refused before the whole body is read', async () => {
    await expectError(
      await post('/v1/batch', JSON.stringify({ batch: [], pad: 'x'.repeat(70 * 1024) })),
      413,
      'BODY_TOO_LARGE',
    );
    // Announce 50 MB but send only 1 KB: the answer must come without waiting for the rest.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${inlet.url}/v1/batch`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': String(50 * 1024 * 1024),
            authorization: basicAuth(),
          },
        },
        (res) => {
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.write('x'.repeat(1024));
    });
    expect(status).toBe(413);
    const bomb = gzipSync(JSON.stringify({ batch: [], pad: 'x'.repeat(10 * 1024 * 1024) }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expectError(await post('/v1/batch', bomb, { 'content-encoding': 'gzip' }), 413, 'BODY_TOO_LARGE');
  });

  it('accepts a deflate body zlib-wrapped or raw, as browsers send it, and refuses one inflating past the limit', async () => {
    // Raw deflate under Content-Encoding: deflate was a 400 "not valid gzip or deflate data".
    const body = (id: string) => JSON.stringify({ batch: [segmentMessage(id)] });
    expect(
      (await post('/v1/batch', deflateSync(body('zlib-1')), { 'content-encoding': 'deflate' })).status,
    ).toBe(200);
    expect(
      (await post('/v1/batch', deflateRawSync(body('raw-1')), { 'content-encoding': 'deflate' })).status,
    ).toBe(200);
    expect(
      await queryApi(
        inlet.url,
        "SELECT event_id FROM events WHERE event_id IN ('zlib-1', 'raw-1') ORDER BY 1",
      ),
    ).toEqual([{ event_id: 'raw-1' }, { event_id: 'zlib-1' }]);
    // The size limit counts the inflated body in either form: 1 MB from 1 KB is a 413.
    for (const pack of [deflateSync, deflateRawSync])
      await expectError(
        await post('/v1/batch', pack(`{"batch":[${' '.repeat(1024 * 1024)}]}`), {
          'content-encoding': 'deflate',
        }),
        413,
        'BODY_TOO_LARGE',
      );
    await expectError(
      await post('/v1/batch', 'not deflate at all', { 'content-encoding': 'deflate' }),
      400,
      'BAD_REQUEST',
      'The body is not valid gzip or deflate data for its Content-Encoding.',
    );
  });

  it('413 that a client writing its whole body first can read', async () => {
    // fetch sends all of a 5 MB body before it reads: with the connection closed on the unread
    // rest, it got EPIPE instead of the answer, four times in five. From another process, as a
    // client in this one cannot fall behind the server.
    const script = `
      for (let i = 0; i < 5; i++) {
        const answer = await fetch(process.argv[1], { method: 'POST',
          headers: { 'content-type': 'application/json', authorization: process.argv[2] },
          body: '{"batch":[],"pad":"' + 'x'.repeat(5 * 1024 * 1024) + '"}' })
          .then(async (r) => r.status + ' ' + (await r.json()).error.code, (e) => e.cause?.code ?? e.message);
        console.log(answer);
      }`;
    const { stdout } = await execFileAsync(process.execPath, [
      '--input-type=module',
      '-e',
      script,
      `${inlet.url}/v1/batch`,
      basicAuth(),
    ]);
    expect(stdout.trim().split('\n')).toEqual(Array(5).fill('413 BODY_TOO_LARGE'));
  });

  it('413 for a chunked body over the limit, an answer the client can read', async () => {
    // No Content-Length to refuse it by: the limit is found while reading, and the client, still
    // sending, must get the 413 rather than a connection reset.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${inlet.url}/v1/batch`,
        { method: 'POST', headers: { 'content-type': 'application/json', authorization: basicAuth() } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write('{"batch":[],"pad":"');
      for (let i = 0; i < 100; i++) req.write('x'.repeat(1024));
      req.end('"}');
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
  });

  it('a gzip body announced larger than the limit is refused, and the server keeps serving', async () => {
    // Not gzip at all, so the decoder would fail on the first bytes if anything fed it.
    const oversized = `{"batch":[],"pad":"${'x'.repeat(70 * 1024)}"}`;
    await expectError(
      await post('/v1/batch', oversized, { 'content-encoding': 'gzip' }),
      413,
      'BODY_TOO_LARGE',
    );
    await expectError(
      await post('/api/send', oversized, { 'content-encoding': 'gzip' }),
      413,
      'BODY_TOO_LARGE',
    );
    // A gzip bomb: 1 KB on the wire, 1 MB unpacked. The message says the limit counts what came
    // out of the gzip, as the client sent far less than the limit it was told of.
    const bomb = gzipSync(`{"batch":[${' '.repeat(1024 * 1024)}]}`);
    expect(bomb.length).toBeLessThan(2048);
    await expectError(
      await post('/v1/batch', bomb, { 'content-encoding': 'gzip' }),
      413,
      'BODY_TOO_LARGE',
      'larger than limits.request_bytes (65536 bytes, counted after decompression)',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await fetch(`${inlet.url}/healthz`)).status).toBe(200);
  });

  /** Sends a request's head and the start of its body over a raw socket, then hangs up. */
  const hangUpMidBody = async (head: string, start: string | Buffer) => {
    const { connect } = await import('node:net');
    const { port } = new URL(inlet.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(head);
        socket.write(start);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
  };
  /** /metrics once it counts a 499 for the route. */
  const metricsWith499 = async (route: string) => {
    let metrics = '';
    for (let i = 0; i < 50 && !metrics.includes(`route="${route}",status="499"`); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      metrics = await (await fetch(`${inlet.url}/metrics`)).text();
    }
    return metrics;
  };

  it('answers a client that half-closes its side once its request is sent', async () => {
    // socket.end(request), as some scripts and netcat -N send: the event was stored, but the server
    // closed the connection on the client's FIN before its answer, so the client never learnt it.
    const halfClose = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const { hostname, port } = new URL(inlet.url);
        let answer = '';
        const socket = connect(Number(port), hostname, () => socket.end(text));
        socket.setTimeout(5_000, () => socket.destroy(new Error(`no close after: ${answer}`)));
        socket.on('data', (chunk) => {
          answer += chunk.toString('latin1');
        });
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const body = JSON.stringify(segmentMessage('half-closed'));
    const answers = [
      await halfClose(
        `POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nAuthorization: ${basicAuth()}\r\n\r\n${body}`,
      ),
      await halfClose(`GET /p.gif?k=${WRITE_KEY}&n=email_open&id=px-half-closed HTTP/1.1\r\nHost: x\r\n\r\n`),
      await halfClose('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'),
    ];
    expect(answers.map((answer) => answer.split('\r\n')[0])).toEqual(Array(3).fill('HTTP/1.1 200 OK'));
    expect(
      await queryApi(
        inlet.url,
        "SELECT event_id FROM events WHERE event_id IN ('half-closed', 'px-half-closed') ORDER BY 1",
      ),
    ).toEqual([{ event_id: 'half-closed' }, { event_id: 'px-half-closed' }]);
  });

  it('a client that hangs up mid-body is counted as 499, never as a server error', async () => {
    await hangUpMidBody(
      `POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nAuthorization: ${basicAuth()}\r\n\r\n`,
      '{"batch":[',
    );
    const metrics = await metricsWith499('/v1/batch');
    expect(metrics).toMatch(/inlet_http_requests_total\{route="\/v1\/batch",status="499"\} 1/);
    expect(metrics).not.toContain('status="500"');
  });

  it('a client that hangs up mid-way through a gzip body is counted as 499 too', async () => {
    const gz = gzipSync(JSON.stringify({ batch: [segmentMessage('cut-gz')] }));
    await hangUpMidBody(
      `POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\nAuthorization: ${basicAuth()}\r\n\r\n`,
      gz.subarray(0, 10),
    );
    expect(await metricsWith499('/v1/track')).toMatch(
      /inlet_http_requests_total\{route="\/v1\/track",status="499"\} 1/,
    );
  });

  it('answers bytes that are not HTTP, oversized headers and unusable URLs with an inlet error naming the problem', async () => {
    const { connect } = await import('node:net');
    const { port } = new URL(inlet.url);
    const raw = (bytes: string) =>
      new Promise<string>((resolve, reject) => {
        let answer = '';
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
        socket.on('data', (chunk) => {
          answer += chunk.toString();
        });
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const garbage = await raw('HELLO /v1/batch HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(garbage.split('\r\n\r\n')[1] ?? '')).toMatchObject({
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('HPE_INVALID_METHOD') },
    });
    const cookies = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(20_000)}\r\n\r\n`);
    expect(cookies).toMatch(/^HTTP\/1\.1 431 /);
    expect(cookies).toContain('"code":"HEADERS_TOO_LARGE"');
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    const badPath = await fetch(`${inlet.url}/api/catalog/%E0%A4%A`, { headers: auth });
    expect([badPath.status, ((await badPath.json()) as { error: { code: string } }).error.code]).toEqual([
      400,
      'BAD_REQUEST',
    ]);
    const longPath = await fetch(`${inlet.url}/api/catalog/${'t'.repeat(300)}`, { headers: auth });
    expect([longPath.status, ((await longPath.json()) as { error: { code: string } }).error.code]).toEqual([
      414,
      'URL_TOO_LONG',
    ]);
    expect((await fetch(`${inlet.url}/healthz`)).status).toBe(200);
  });
  it('says a POST with neither Content-Length nor Transfer-Encoding carries no body, where it said the body was empty', async () => {
    // A hand-written client (a socket, a microcontroller) that writes its body after the headers
    // without announcing it: HTTP/1.1 reads no body then, and the bytes are the next request.
    const { port } = new URL(inlet.url);
    const unframed = (path: string, authorization: string, body: string) =>
      new Promise<string>((resolve, reject) => {
        let answer = '';
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(
            `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: ${authorization}\r\nConnection: close\r\n\r\n${body}`,
          ),
        );
        socket.on('data', (chunk) => {
          answer += chunk.toString();
        });
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    for (const [path, authorization, body] of [
      ['/v1/batch', basicAuth(), JSON.stringify({ batch: [segmentMessage('unframed-1')] })],
      ['/logs', basicAuth(), '[{"msg":"unframed"}]'],
      ['/api/query', `Bearer ${API_TOKEN}`, '{"sql":"SELECT 1"}'],
    ] as const) {
      const answer = await unframed(path, authorization, body);
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toEqual({
        error: {
          code: 'BAD_REQUEST',
          message:
            'The request has neither Content-Length nor Transfer-Encoding, so HTTP/1.1 reads no body from it (bytes sent after its headers are read as the next request); send the body with Content-Length: <its size in bytes> or Transfer-Encoding: chunked, as HTTP clients do by themselves.',
        },
      });
    }
    // A URL no route serves is a 404 all the same: the framing matters only to a route that reads a body.
    const stray = await unframed('/api/nowhere', `Bearer ${API_TOKEN}`, '');
    expect(stray.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
  });

  it('keeps a connection open after answers given at once, and after a body refused unread, which it drops', async () => {
    // Requests written back to back on one connection; the answers, until the server closes it.
    const exchange = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const { hostname, port } = new URL(inlet.url);
        let answer = '';
        const socket = connect(Number(port), hostname, () => socket.write(text));
        socket.setTimeout(5_000, () => socket.destroy(new Error(`no close after: ${answer}`)));
        socket.on('data', (chunk) => {
          answer += chunk.toString('latin1');
        });
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const pixel = `/p.gif?k=${WRITE_KEY}&n=email_open&id=px-pipe`;
    const kept = await exchange(
      'OPTIONS /v1/track HTTP/1.1\r\nHost: x\r\nOrigin: https://docs.example.com\r\nAccess-Control-Request-Method: POST\r\n\r\n' +
        `HEAD ${pixel} HTTP/1.1\r\nHost: x\r\n\r\n` +
        `GET ${pixel} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    // A preflight and a HEAD answered before Node had parsed past their headers closed the
    // connection, and the requests after them went unanswered.
    expect(kept.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 204', 'HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(kept.match(/^Connection: \S+/gm)).toEqual([
      'Connection: keep-alive',
      'Connection: keep-alive',
      'Connection: close',
    ]);
    // The refused body is read as a body and dropped, never parsed as the request it looks like;
    // the request after it is answered on the same connection.
    const refused = await exchange(
      `POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 50\r\nAuthorization: ${basicAuth()}\r\n\r\n` +
        'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.padEnd(50, ' ') +
        `GET ${pixel} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    // (An answer's status line follows the body before it, with no line break between.)
    expect(refused.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 415', 'HTTP/1.1 200']);
    expect(refused.match(/^Content-Type: \S+/gm)).toEqual([
      'Content-Type: application/json;',
      'Content-Type: image/gif',
    ]);
    // A body the other routes could not read (not JSON to POST /logs, too large for the query API)
    // closed the connection, yet the requests written behind it were run all the same: their events
    // were stored, and never answered. Now they are answered, on the same connection.
    const track = (id: string, last = false) => {
      const body = JSON.stringify(segmentMessage(id));
      return (
        `POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: ${basicAuth()}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${last ? 'Connection: close\r\n' : ''}\r\n${body}`
      );
    };
    const unread = await exchange(
      `POST /logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: ${basicAuth()}\r\nContent-Length: 8\r\n\r\n[{"msg":` +
        `POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${API_TOKEN}\r\n` +
        `Content-Length: ${70 * 1024}\r\n\r\n${'x'.repeat(70 * 1024)}${track('pipe-1')}${track('pipe-2', true)}`,
    );
    expect(unread.match(/HTTP\/1\.1 \d+/g)).toEqual([
      'HTTP/1.1 400',
      'HTTP/1.1 413',
      'HTTP/1.1 200',
      'HTTP/1.1 200',
    ]);
    expect(
      await queryApi(inlet.url, "SELECT count(*)::INT AS n FROM events WHERE event_id LIKE 'pipe-%'"),
    ).toEqual([{ n: 2 }]);
    // Announced larger than inlet reads on (16 MB), the body is not waited for: the answer comes
    // at once and the connection closes.
    const huge = await exchange(
      `POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${32 * 1024 * 1024}\r\n\r\n{`,
    );
    expect(huge.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 415']);
    expect(huge).toMatch(/^Connection: close/m);
  });
});

describe('request time limit', () => {
  it('answers a body that never arrives whole with a 408 once server.request_timeout_ms passes', async () => {
    const slow = await startTestInlet({ server: { host: '127.0.0.1', port: 0, request_timeout_ms: 300 } });
    try {
      const { connect } = await import('node:net');
      const { port } = new URL(slow.url);
      const started = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(
            `POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nAuthorization: ${basicAuth()}\r\n\r\n{"batch":[`,
          ),
        );
        socket.on('data', (chunk) => {
          text += chunk.toString();
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      // Counted once, under its route: it was the socket's "unmatched" 408 and the route's 499 too.
      // The route counts it when the server's end of the socket has closed, which may come after
      // the client's end did: asked until it is there, not after a fixed 50 ms.
      const counted = async () =>
        (await (await fetch(`${slow.url}/metrics`)).text())
          .split('\n')
          .filter((line) => line.startsWith('inlet_http_requests_total{') && !line.includes('/metrics'));
      let lines = await counted();
      while (!lines.some((line) => line.includes('route="/v1/batch"'))) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        lines = await counted();
      }
      expect(lines).toEqual(['inlet_http_requests_total{route="/v1/batch",status="408"} 1']);
    } finally {
      await slow.cleanup();
    }
  });
});
