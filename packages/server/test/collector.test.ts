// The collector over a real socket, Segment's tracking API on the one inlet its tests share: batches
// (with /v1/import and integers past 2^53), single calls and gzip bodies, a retried request counted
// once, the device read from context.userAgent, and no raw IP kept. What browsers and mail clients
// send (inlet's tracker format with CORS and the tracker script, the pixel and the beacon, Plausible
// and Umami) is in collector-browsers.test.ts; what it does site by site (write keys, ids, roll-ups
// naming several sites, honor_dnt) in collector-sites.test.ts, event times far ahead or skewed in
// collector-times.test.ts, its refusals in collector-refusals.test.ts, the body and connection cases
// in collector-connections.test.ts, rate limits, a full WAL and the salt in collector-limits.test.ts,
// /healthz, /metrics, the query API and intake workers in collector-operations.test.ts.
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
