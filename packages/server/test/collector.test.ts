// The collector over a real socket, protocol by protocol, on the one inlet its tests share: Segment's
// calls and batches, inlet's tracker format with CORS and the tracker script, the pixel and the beacon,
// Plausible and Umami, and no raw IP kept. What it does site by site (write keys, ids, roll-ups naming
// several sites, honor_dnt) is in collector-sites.test.ts, event times far ahead or skewed in
// collector-times.test.ts, its refusals in collector-refusals.test.ts, the body and connection cases
// in collector-connections.test.ts, rate limits, a full WAL and the salt in collector-limits.test.ts,
// /healthz, /metrics, the query API and intake workers in collector-operations.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sharedCollectorInlet } from './collector-inlet.ts';
import { queryApi, segmentMessage, WRITE_KEY } from './helpers.ts';

const { inlet, post } = sharedCollectorInlet();

describe('collector over HTTP', () => {
  it('accepts a Segment batch and the query API sees the rows at once', async () => {
    const response = await post('/v1/batch', {
      batch: [
        segmentMessage('seg-1'),
        segmentMessage('seg-2', {
          type: 'page',
          properties: { url: 'https://docs.example.com/a?utm_source=news' },
        }),
      ],
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
    const rows = await queryApi(
      inlet.url,
      "SELECT event_id, type, path, utm_source FROM events WHERE event_id LIKE 'seg-%' ORDER BY 1",
    );
    expect(rows).toEqual([
      { event_id: 'seg-1', type: 'track', path: null, utm_source: null },
      { event_id: 'seg-2', type: 'page', path: '/a', utm_source: 'news' },
    ]);
  });

  it('stores an integer beyond 2^53 in properties with all its digits, and a 64-bit numeric userId', async () => {
    // As a body has them: JSON.stringify of a JavaScript number could not write these digits.
    const body = JSON.stringify({
      batch: [
        segmentMessage('big-1', { userId: 'ID', properties: { order_id: 'ORDER', items: [1, 'ITEM'] } }),
      ],
    })
      .replace('"ID"', '1234567890123456789')
      .replace('"ORDER"', '9007199254740993')
      .replace('"ITEM"', '-18446744073709551615');
    expect((await post('/v1/batch', body)).status).toBe(200);
    const rows = await queryApi(
      inlet.url,
      "SELECT user_id, properties->>'order_id' AS order_id, (properties->>'order_id')::HUGEINT::VARCHAR AS n, properties->'items'->>1 AS item FROM events WHERE event_id = 'big-1'",
    );
    expect(rows).toEqual([
      {
        user_id: '1234567890123456789',
        order_id: '9007199254740993',
        n: '9007199254740993',
        item: '-18446744073709551615',
      },
    ]);
  });

  it("takes a batch at /v1/import, where Segment's Ruby and Java SDKs post theirs", async () => {
    // analytics-ruby's Defaults::Request::PATH and analytics-java's SegmentService are /v1/import,
    // Segment's older name for /v1/batch: it was a 404, and every event of such a backend was lost.
    const response = await post('/v1/import', {
      batch: [
        segmentMessage('import-1', { userId: 'ruby-1' }),
        segmentMessage('import-2', { type: 'identify' }),
      ],
      sentAt: new Date().toISOString(),
    });
    expect([response.status, await response.json()]).toEqual([200, { success: true }]);
    expect(
      await queryApi(
        inlet.url,
        "SELECT event_id, type FROM events WHERE event_id LIKE 'import-%' ORDER BY 1",
      ),
    ).toEqual([
      { event_id: 'import-1', type: 'track' },
      { event_id: 'import-2', type: 'identify' },
    ]);
  });

  it('accepts single calls with writeKey in the body, and a gzip body', async () => {
    expect(
      (await post('/v1/track', { ...segmentMessage('single-1'), writeKey: WRITE_KEY }, { authorization: '' }))
        .status,
    ).toBe(200);
    const gz = gzipSync(JSON.stringify({ batch: [segmentMessage('gz-1')] }));
    expect((await post('/v1/batch', gz, { 'content-encoding': 'gzip' })).status).toBe(200);
    const rows = await queryApi(
      inlet.url,
      "SELECT event_id FROM events WHERE event_id IN ('single-1', 'gz-1') ORDER BY 1",
    );
    expect(rows.map((r) => r.event_id)).toEqual(['gz-1', 'single-1']);
  });

  it('a retried request never counts twice', async () => {
    for (let i = 0; i < 3; i++)
      expect((await post('/v1/batch', { batch: [segmentMessage('retry-1')] })).status).toBe(200);
    await inlet.loader.runOnce({ sealNow: true });
    expect((await post('/v1/batch', { batch: [segmentMessage('retry-1')] })).status).toBe(200);
    expect(
      await queryApi(inlet.url, "SELECT count(*)::INT AS n FROM events WHERE event_id = 'retry-1'"),
    ).toEqual([{ n: 1 }]);
    await inlet.loader.runOnce({ sealNow: true });
    expect(
      await queryApi(inlet.url, "SELECT count(*)::INT AS n FROM events WHERE event_id = 'retry-1'"),
    ).toEqual([{ n: 1 }]);
  });

  it("reads a Segment message's device from context.userAgent, else from a browser's request only", async () => {
    const iphone =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
    const send = (id: string, headers: Record<string, string>, context?: object) =>
      post('/v1/track', { ...segmentMessage(id), context }, headers);
    expect((await send('ua-server', { 'user-agent': 'okhttp/4.12.0' })).status).toBe(200);
    expect(
      (await send('ua-browser', { 'user-agent': iphone, origin: 'https://docs.example.com' })).status,
    ).toBe(200);
    expect((await send('ua-context', { 'user-agent': 'node' }, { userAgent: iphone })).status).toBe(200);
    expect(
      await queryApi(
        inlet.url,
        "SELECT event_id, is_bot, device_type, os FROM events WHERE event_id LIKE 'ua-%' ORDER BY event_id",
      ),
    ).toEqual([
      { event_id: 'ua-browser', is_bot: false, device_type: 'mobile', os: 'iOS' },
      { event_id: 'ua-context', is_bot: false, device_type: 'mobile', os: 'iOS' },
      { event_id: 'ua-server', is_bot: false, device_type: 'unknown', os: null },
    ]);
  });

  it('takes the browser batch format as text/plain with CORS, and answers preflight', async () => {
    const body = JSON.stringify({
      k: WRITE_KEY,
      sa: Date.now(),
      e: [
        { id: 'col-1', t: 'track', n: 'search', ts: Date.now(), a: 'anon', p: { query: 'sso', results: 0 } },
      ],
    });
    const response = await post('/collect', body, {
      'content-type': 'text/plain;charset=UTF-8',
      origin: 'https://docs.example.com',
      authorization: '',
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://docs.example.com');
    // The key in the query, as the pixel takes it, was refused: 'No write key: send it … or as k'.
    const inQuery = JSON.stringify({
      sa: Date.now(),
      e: [{ id: 'col-query-key', t: 'track', n: 'x', a: 'anon' }],
    });
    expect(
      (await post(`/collect?k=${WRITE_KEY}`, inQuery, { 'content-type': 'text/plain', authorization: '' }))
        .status,
    ).toBe(204);
    expect(await queryApi(inlet.url, "SELECT name FROM events WHERE event_id = 'col-query-key'")).toEqual([
      { name: 'x' },
    ]);
    const preflight = await fetch(`${inlet.url}/collect`, {
      method: 'OPTIONS',
      headers: { origin: 'https://docs.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    // The headers a browser asks for are allowed (RudderStack's SDK adds AnonymousId); a list
    // that is not header names gets the known ones.
    for (const [asked, allowed] of [
      ['authorization,anonymousid,content-type', 'authorization,anonymousid,content-type'],
      ['x-a, x-b', 'x-a, x-b'],
      ['bad header (', 'Content-Type, Authorization, Content-Encoding, AnonymousId, x-umami-cache'],
    ]) {
      const answer = await fetch(`${inlet.url}/v1/track`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://docs.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': asked as string,
        },
      });
      expect(answer.headers.get('access-control-allow-headers')).toBe(allowed);
      expect(answer.headers.get('vary')).toBe('Origin, Access-Control-Request-Headers');
    }
    const rows = await queryApi(
      inlet.url,
      "SELECT properties->>'query' AS q, (properties->>'results')::INT AS results FROM events WHERE event_id = 'col-1'",
    );
    expect(rows).toEqual([{ q: 'sso', results: 0 }]);
  });

  it('takes the first write key of a query string that holds two, on the pixel as on the beacon', async () => {
    // The pixel took the last k where the beacon took the first writeKey: one URL, two sites.
    const other = 'wk_not_a_site';
    const pixel = (keys: string[], id: string) =>
      fetch(`${inlet.url}/p.gif?${keys.map((k) => `k=${k}`).join('&')}&n=email_open&id=${id}`);
    const beacon = (keys: string[], id: string) =>
      fetch(`${inlet.url}/beacon/v1/batch?${keys.map((k) => `writeKey=${k}`).join('&')}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ batch: [segmentMessage(id)] }),
      });
    expect([
      (await pixel([WRITE_KEY, other], 'px-first')).status,
      (await pixel([other, WRITE_KEY], 'px-second')).status,
      (await beacon([WRITE_KEY, other], 'beacon-first')).status,
      (await beacon([other, WRITE_KEY], 'beacon-second')).status,
    ]).toEqual([200, 401, 200, 401]);
    expect(
      await queryApi(
        inlet.url,
        "SELECT event_id FROM events WHERE event_id IN ('px-first', 'px-second', 'beacon-first', 'beacon-second') ORDER BY 1",
      ),
    ).toEqual([{ event_id: 'beacon-first' }, { event_id: 'px-first' }]);
    // A Basic header with an empty user name hid the beacon's writeKey: "No write key".
    const emptyUser = await fetch(`${inlet.url}/beacon/v1/batch?writeKey=${WRITE_KEY}`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain',
        authorization: `Basic ${Buffer.from(':').toString('base64')}`,
      },
      body: JSON.stringify({ batch: [segmentMessage('beacon-empty-user')] }),
    });
    expect(emptyUser.status).toBe(200);
    // RudderStack's settings too: two writeKeys were "No write key" (Fastify reads them as a list).
    const settings = (keys: string[]) =>
      fetch(`${inlet.url}/sourceConfig/?${keys.map((k) => `writeKey=${k}`).join('&')}`);
    const first = await settings([WRITE_KEY, other]);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ source: { writeKey: WRITE_KEY } });
    const second = await settings([other, WRITE_KEY]);
    expect([second.status, ((await second.json()) as { error: { code: string } }).error.code]).toEqual([
      401,
      'UNKNOWN_WRITE_KEY',
    ]);
  });

  it('records a pixel view and answers with a GIF', async () => {
    const response = await fetch(
      `${inlet.url}/p.gif?k=${WRITE_KEY}&n=email_open&u=user-9&id=px-1&p=${encodeURIComponent('{"campaign":"nov"}')}`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(
      Buffer.from(await response.arrayBuffer())
        .subarray(0, 6)
        .toString(),
    ).toBe('GIF89a');
    expect(await queryApi(inlet.url, "SELECT name, user_id FROM events WHERE event_id = 'px-1'")).toEqual([
      { name: 'email_open', user_id: 'user-9' },
    ]);
    // An e-mail template that escaped the URL twice sends &amp;n=…: the keys are read without amp;.
    const escaped = await fetch(
      `${inlet.url}/p.gif?k=${WRITE_KEY}&amp;n=email_open&amp;u=user-9&amp;id=px-amp`,
    );
    expect(escaped.status).toBe(200);
    expect(
      await queryApi(inlet.url, "SELECT type, name, user_id FROM events WHERE event_id = 'px-amp'"),
    ).toEqual([{ type: 'track', name: 'email_open', user_id: 'user-9' }]);
    // HEAD, as link checkers and image proxies send it: the GIF's headers, and no event.
    const head = await fetch(`${inlet.url}/p.gif?k=${WRITE_KEY}&n=email_open&id=px-head`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('image/gif');
    expect(head.headers.get('content-length')).toBe(response.headers.get('content-length'));
    expect(
      await queryApi(inlet.url, "SELECT count(*)::INT AS n FROM events WHERE event_id = 'px-head'"),
    ).toEqual([{ n: 0 }]);
  });

  it('answers HEAD of a pixel URL as GET would, recording and counting nothing (curl -I checks it)', async () => {
    // HEAD was answered 200 whatever the URL held, so a pixel with a wrong key looked fine.
    const rejected = async () =>
      /inlet_events_rejected_total\{reason="UNKNOWN_WRITE_KEY"\} (\d+)/.exec(
        await (await fetch(`${inlet.url}/metrics`)).text(),
      )?.[1] ?? '0';
    const before = await rejected();
    for (const [query, code] of [
      ['k=wk_nosuch_key&n=email_open', 'UNKNOWN_WRITE_KEY'],
      ['n=email_open', 'MISSING_WRITE_KEY'],
    ]) {
      const head = await fetch(`${inlet.url}/p.gif?${query}`, { method: 'HEAD' });
      expect(
        [head.status, head.headers.get('x-inlet-error'), head.headers.get('content-type')],
        query,
      ).toEqual([401, code, 'image/gif']);
    }
    expect(await rejected()).toBe(before);
    const good = await fetch(`${inlet.url}/p.gif?k=${WRITE_KEY}&n=email_open&id=px-head-2`, {
      method: 'HEAD',
    });
    expect([good.status, good.headers.get('x-inlet-error')]).toEqual([200, null]);
    expect(
      await queryApi(inlet.url, "SELECT count(*)::INT AS n FROM events WHERE event_id = 'px-head-2'"),
    ).toEqual([{ n: 0 }]);
  });

  it('takes Plausible and Umami payloads unchanged', async () => {
    const plausible = await post(
      '/api/event',
      {
        n: 'pageview',
        u: 'https://docs.example.com/guide?utm_source=pl',
        d: 'docs.example.com',
        r: 'https://www.google.com/',
      },
      { authorization: '' },
    );
    expect(plausible.status).toBe(202);
    expect(await plausible.text()).toBe('ok');
    const unknown = await post(
      '/api/event',
      { n: 'pageview', u: 'https://other.example.com/', d: 'other.example.com' },
      { authorization: '' },
    );
    expect(unknown.status).toBe(401);
    const umami = await post(
      '/api/send',
      {
        type: 'event',
        payload: {
          website: WRITE_KEY,
          hostname: 'docs.example.com',
          url: '/pricing',
          title: 'Pricing',
          language: 'ja-JP',
          screen: '1280x800',
        },
      },
      { authorization: '' },
    );
    expect(umami.status).toBe(200);
    expect(await umami.json()).toEqual({});
    const rows = await queryApi(
      inlet.url,
      "SELECT context->>'protocol' AS protocol, type, path, utm_source FROM events WHERE context->>'protocol' IN ('plausible', 'umami') ORDER BY 1",
    );
    expect(rows).toEqual([
      { protocol: 'plausible', type: 'page', path: '/guide', utm_source: 'pl' },
      { protocol: 'umami', type: 'page', path: '/pricing', utm_source: null },
    ]);
  });

  it('keeps hash routes in the path when the page uses hash routing', async () => {
    const body = JSON.stringify({
      k: WRITE_KEY,
      e: [
        {
          id: 'hash-1',
          t: 'page',
          a: 'anon',
          url: 'https://docs.example.com/app#/settings/team?tab=2',
          c: { hash_routing: true },
        },
      ],
    });
    expect((await post('/collect', body, { 'content-type': 'text/plain', authorization: '' })).status).toBe(
      204,
    );
    expect(await queryApi(inlet.url, "SELECT path FROM events WHERE event_id = 'hash-1'")).toEqual([
      { path: '/app#/settings/team' },
    ]);
  });

  it('serves the tracker at /inlet.js and at its immutable hashed name', async () => {
    const current = await fetch(`${inlet.url}/inlet.js`);
    expect(current.status).toBe(200);
    expect(current.headers.get('content-type')).toContain('javascript');
    const code = await current.text();
    const manifest = JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'tracker', 'dist', 'manifest.json'), 'utf8'),
    );
    const hashed = await fetch(`${inlet.url}/${manifest.hashed}`);
    expect(hashed.headers.get('cache-control')).toContain('immutable');
    expect(await hashed.text()).toBe(code);
    expect((await fetch(`${inlet.url}/inlet.00000000.js`)).status).toBe(404);
  });

  it('stores no raw IP anywhere on disk', async () => {
    await post('/v1/batch', { batch: [segmentMessage('ip-1', { context: { ip: '203.0.113.77' } })] });
    await inlet.loader.runOnce({ sealNow: true });
    const rows = await queryApi(
      inlet.url,
      "SELECT visitor_hash, context::VARCHAR AS context FROM events WHERE event_id = 'ip-1'",
    );
    expect(rows[0]?.visitor_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(String(rows[0]?.context)).not.toContain('203.0.113.77');
  });
});
