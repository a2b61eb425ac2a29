// The collector over a real socket, what browsers and mail clients send on the one inlet its tests
// share: inlet's tracker format with CORS and preflight, hash routes, the tracker script, the pixel
// (GET and HEAD) and RudderStack's beacon with their write keys in the query, and Plausible's and
// Umami's payloads. Segment's tracking API is in collector.test.ts, which names where the rest went.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedCollectorInlet } from './collector-inlet.ts';
import { queryApi, segmentMessage, WRITE_KEY } from './helpers.ts';

const { inlet, post } = sharedCollectorInlet();

describe('collector over HTTP', () => {
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
});
