// What the collector does site by site, each test on an inlet of its own set up with its sites: a
// write key with a colon in it, event ids kept apart per site, a Plausible roll-up naming several
// sites that one of them refuses, and sites[].honor_dnt. The protocols on one shared inlet are in
// collector.test.ts and collector-browsers.test.ts.
import { describe, expect, it } from 'vitest';
import { basicAuth, queryApi, segmentMessage, startTestInlet, WRITE_KEY } from './helpers.ts';

describe('write keys and event ids per site', () => {
  it("takes a write key with a colon in it from Segment's Basic credentials (<key>:), and a user with a password", async () => {
    // The user was cut at the first colon, so wk:docs:9f3a was answered 401 UNKNOWN_WRITE_KEY.
    const KEY = 'wk:docs:9f3a';
    const colon = await startTestInlet({ sites: [{ id: 'docs', write_key: KEY }] });
    const send = (path: string, body: string, authorization: string) =>
      fetch(`${colon.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body,
      });
    const event = JSON.stringify({ batch: [segmentMessage('colon-1')] });
    expect((await send('/v1/batch', event, basicAuth(KEY))).status).toBe(200);
    const logs = JSON.stringify([{ msg: 'x' }]);
    expect((await send('/logs', logs, basicAuth(KEY))).status).toBe(200);
    // Fluent Bit's http_User and http_Passwd: the user ends at the first colon.
    const withPassword = `Basic ${Buffer.from('wk_other_key:secret').toString('base64')}`;
    const other = await startTestInlet({ sites: [{ id: 'docs', write_key: 'wk_other_key' }] });
    expect(
      (
        await fetch(`${other.url}/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: withPassword },
          body: logs,
        })
      ).status,
    ).toBe(200);
  });

  it('dedups ids per site: the same id from two sites is two events', async () => {
    // Ids are the client's: two sites may both send "order-1001". Keyed on the id alone, the
    // second site's event was dropped as the first one's repeat, in the view and in the loader.
    const two = await startTestInlet({
      sites: [
        { id: 'docs', write_key: WRITE_KEY },
        { id: 'shop', write_key: 'wk_shop_7c1e' },
      ],
    });
    const send = (key: string, id: string) =>
      fetch(`${two.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth(key) },
        body: JSON.stringify({ batch: [segmentMessage(id)] }),
      });
    const counts = () =>
      queryApi(
        two.url,
        "SELECT event_id, site, count(*)::INT AS n FROM events WHERE event_id LIKE 'order-%' GROUP BY ALL ORDER BY ALL",
      );
    const both = (id: string) => [
      { event_id: id, site: 'docs', n: 1 },
      { event_id: id, site: 'shop', n: 1 },
    ];
    // In one segment, retried on each site: in the WAL, then loaded.
    for (const key of [WRITE_KEY, 'wk_shop_7c1e', WRITE_KEY, 'wk_shop_7c1e'])
      expect((await send(key, 'order-1')).status).toBe(200);
    expect(await counts()).toEqual(both('order-1'));
    await two.loader.runOnce({ sealNow: true });
    expect(await counts()).toEqual(both('order-1'));
    // The second site's copy arriving after the first one's was loaded, then a retry of it.
    expect((await send(WRITE_KEY, 'order-2')).status).toBe(200);
    await two.loader.runOnce({ sealNow: true });
    expect((await send('wk_shop_7c1e', 'order-2')).status).toBe(200);
    expect(await counts()).toEqual([...both('order-1'), ...both('order-2')]);
    await two.loader.runOnce({ sealNow: true });
    expect((await send('wk_shop_7c1e', 'order-2')).status).toBe(200);
    await two.loader.runOnce({ sealNow: true });
    expect(await counts()).toEqual([...both('order-1'), ...both('order-2')]);
    await two.cleanup();
  });
});

describe('a Plausible roll-up naming several sites', () => {
  /** An inlet with two sites known by domain, docs and shop, for Plausible roll-ups (d naming both). */
  const rollupInlet = (perWriteKey: number, shop: { origins?: string[] } = {}) =>
    startTestInlet({
      limits: { per_ip_per_second: 0, per_write_key_per_second: perWriteKey },
      sites: [
        { id: 'docs', write_key: WRITE_KEY, domains: ['docs.example.com'] },
        { id: 'shop', write_key: 'wk_shop_5e6f7a', domains: ['shop.example.com'], ...shop },
      ],
    });
  const rollupsStored = (url: string) =>
    queryApi(url, "SELECT count(*)::INT AS n FROM events WHERE name = 'rollup'");

  it('refuses a Plausible roll-up whose page origin one of its sites does not allow, storing it for none', async () => {
    // d names two sites; the second one's origins do not allow the page. The 403 said nothing was
    // stored, but the first site's copy was, and a retry stored it again.
    const rollup = await rollupInlet(0, { origins: ['https://shop.example.com'] });
    try {
      const answer = await fetch(`${rollup.url}/api/event`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: 'https://docs.example.com' },
        body: JSON.stringify({
          n: 'rollup',
          u: 'https://docs.example.com/a',
          d: 'docs.example.com,shop.example.com',
        }),
      });
      expect(answer.status).toBe(403);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');
      expect(await rollupsStored(rollup.url)).toEqual([{ n: 0 }]);
    } finally {
      await rollup.cleanup();
    }
  });

  it('refuses a Plausible roll-up one of whose sites is over its rate limit, storing it for none', async () => {
    // Each site's copy was written on its own: the docs site's copy was stored under the 429 that the
    // shop site's limit gave, and again, with a new id, when the request was retried.
    const rollup = await rollupInlet(1);
    const send = (name: string, d: string) =>
      fetch(`${rollup.url}/api/event`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ n: name, u: `https://${d.split(',')[0]}/a`, d }),
      });
    try {
      expect((await send('first', 'shop.example.com')).status).toBe(202);
      const answer = await send('rollup', 'docs.example.com,shop.example.com');
      expect(answer.status).toBe(429);
      expect(await rollupsStored(rollup.url)).toEqual([{ n: 0 }]);
    } finally {
      await rollup.cleanup();
    }
  });
});

describe('sites[].honor_dnt', () => {
  it('stores nothing of a request that sends DNT: 1 or Sec-GPC: 1 to a site with honor_dnt, and answers it as stored', async () => {
    // honor_dnt was read from inlet.yaml and then never looked at: such requests were stored.
    const dnt = await startTestInlet({
      limits: { per_ip_per_second: 0, per_write_key_per_second: 0 },
      sites: [
        { id: 'docs', write_key: WRITE_KEY, domains: ['docs.example.com'], honor_dnt: true },
        { id: 'shop', write_key: 'wk_shop_5e6f7a' },
      ],
    });
    try {
      const send = (path: string, body: unknown, headers: Record<string, string>) =>
        fetch(`${dnt.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
      const batch = (id: string) => ({ batch: [segmentMessage(id)] });
      const answers = [
        await send('/v1/batch', batch('dnt-1'), { authorization: basicAuth(), dnt: '1' }),
        await send('/v1/batch', batch('gpc-1'), { authorization: basicAuth(), 'sec-gpc': '1' }),
        await send(
          '/collect',
          { k: WRITE_KEY, e: [{ id: 'dnt-2', t: 'page', a: 'anon', url: 'https://docs.example.com/' }] },
          { dnt: '1' },
        ),
        await send(
          '/api/event',
          { n: 'pageview', u: 'https://docs.example.com/dnt-3', d: 'docs.example.com' },
          { dnt: '1' },
        ),
        await fetch(`${dnt.url}/p.gif?k=${WRITE_KEY}&n=dnt_4&u=42`, { headers: { dnt: '1' } }),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 200, 204, 202, 200]);
      // Without the header, and to a site without honor_dnt, events are stored as before.
      await send('/v1/batch', batch('kept-1'), { authorization: basicAuth() });
      await send('/v1/batch', batch('kept-2'), { authorization: basicAuth('wk_shop_5e6f7a'), dnt: '1' });
      const rows = await queryApi(dnt.url, 'SELECT site, event_id, path FROM events ORDER BY event_id');
      expect(rows).toEqual([
        { site: 'docs', event_id: 'kept-1', path: null },
        { site: 'shop', event_id: 'kept-2', path: null },
      ]);
    } finally {
      await dnt.cleanup();
    }
  });
});
