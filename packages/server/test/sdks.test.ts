import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { Umami } from '@umami/node';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queryApi, startTestInlet } from './helpers.ts';

// Segment's and RudderStack's own SDKs, unchanged, sending to inlet: analytics-node from this
// process; in Chromium, analytics.js (@segment/analytics-next), which loads its source settings from
// inlet (cdnURL) and posts to the one-letter routes (/v1/t, /v1/p, …) or, batching, to /v1/b, and
// RudderStack's JavaScript SDK, which loads its source config from inlet (configUrl) and posts with
// its write key and anonymous id in headers. Every assertion reads the rows back through the query API.

const WRITE_KEY = 'wk_segment_sdks_test';
const require = createRequire(import.meta.url);
const ANALYTICS_JS = readFileSync(require.resolve('@segment/analytics-next/dist/umd/index.js'));
const PLAUSIBLE_JS = readFileSync(require.resolve('@plausible-analytics/tracker'));
// The build with its plugins inside (the plain one fetches them from RudderStack's CDN), as a script.
const RUDDERSTACK_JS = readFileSync(
  join(dirname(require.resolve('@rudderstack/analytics-js/bundled')), '..', 'umd', 'index.js'),
);

let inlet: Awaited<ReturnType<typeof startTestInlet>>;
let browser: Browser;
let pageServer: Server;
let pageOrigin: string;
const pageErrors: string[] = [];
const pages: Page[] = [];

type Row = Record<string, unknown>;

/** The rows `sql` returns once `ready` holds for them (an SDK may still be sending). */
async function rowsWhen(sql: string, ready: (rows: Row[]) => boolean): Promise<Row[]> {
  const deadline = Date.now() + 15_000;
  let rows: Row[] = [];
  while (Date.now() < deadline) {
    rows = await queryApi(inlet.url, sql);
    if (ready(rows)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${sql}; have ${JSON.stringify(rows, null, 2)}`);
}

const EVENT_COLUMNS =
  "type, name, user_id, anonymous_id IS NOT NULL AS has_anonymous_id, path, title, utm_source, browser, properties->>'format' AS format, properties->>'plan' AS plan";

/** The anonymous page view of /…?utm_source=newsletter that every browser SDK test opens with. */
const PAGE_VIEW = {
  type: 'page',
  user_id: null,
  has_anonymous_id: true,
  title: 'Pricing',
  utm_source: 'newsletter',
  browser: 'Chrome Headless',
};

/** A page's requests went to the page server and inlet, and nowhere else (no SDK vendor). */
function expectOnlyInlet(requests: string[]) {
  expect(requests.filter((r) => !r.includes(inlet.url) && !r.includes(pageOrigin))).toEqual([]);
}

beforeAll(async () => {
  pageServer = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    const script = {
      '/analytics-next.js': ANALYTICS_JS,
      '/rudderstack.js': RUDDERSTACK_JS,
      '/plausible.js': PLAUSIBLE_JS,
    }[path];
    if (script) {
      response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
      return;
    }
    const head = path.startsWith('/snippet')
      ? snippet(path === '/snippet-typo' ? TYPO_KEY : WRITE_KEY)
      : path.startsWith('/plausible')
        ? // Plausible's tracker as its README shows it; 127.0.0.1 counts as localhost, which it skips unless told.
          `<script type="module">
            import { init, track } from '/plausible.js';
            init({ domain: 'web.example.com', endpoint: '${inlet.url}/api/event', captureOnLocalhost: true });
            window.plausibleTrack = track;
          </script>`
        : `<script src="/${path.startsWith('/rudder') ? 'rudderstack' : 'analytics-next'}.js"></script>`;
    response
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><html><head><meta charset="utf-8"><title>Pricing</title>${head}` +
          '</head><body><h1>Pricing</h1></body></html>',
      );
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  inlet = await startTestInlet({
    sites: [{ id: 'web', write_key: WRITE_KEY, origins: [pageOrigin], domains: ['web.example.com'] }],
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((page) => page.context().close()));
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await inlet?.cleanup();
  await new Promise((resolve) => pageServer?.close(resolve));
});

/**
 * Segment's snippet as a site has it, with analytics.js loaded from inlet instead of Segment's CDN:
 * a stub that queues calls until analytics.js has loaded, then the script tag. `_cdn` names where
 * analytics.js loads its settings and chunks from; over https it is read off the script's address.
 */
const snippet = (writeKey: string) => `<script>
  window.analytics = [];
  analytics._writeKey = '${writeKey}';
  analytics._cdn = '${inlet.url}';
  for (const method of ['page', 'identify', 'track']) {
    analytics[method] = (...args) => { analytics.push([method, ...args]); return analytics; };
  }
  analytics.page();
  analytics.identify('user-9', { plan: 'pro' });
  analytics.track('report_exported', { format: 'csv' });
</script>
<script async src="${inlet.url}/analytics.js/v1/${writeKey}/analytics.min.js"></script>`;

/** A write key no site has, as a snippet with a typo in it sends. */
const TYPO_KEY = 'wk_segment_sdks_tset';

/** A page on the page server with analytics.js loaded from it, the requests it makes and what it logs. */
async function openPage(path: string): Promise<{ page: Page; requests: string[]; logged: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  pages.push(page);
  const requests: string[] = [];
  const logged: string[] = [];
  page.on('console', (message) => logged.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
  page.on('response', (response) => {
    if (!response.ok()) pageErrors.push(`${response.status()} from ${response.url()}`);
  });
  await page.goto(`${pageOrigin}${path}`);
  return { page, requests, logged };
}

describe('Segment and RudderStack SDKs, unchanged', () => {
  it("analytics.js loads its settings from inlet and sends page, identify and track to inlet's /v1/p, /v1/i, /v1/t", async () => {
    const { page, requests } = await openPage('/pricing?utm_source=newsletter');
    await page.evaluate(`(async () => {
      const analytics = AnalyticsNext.AnalyticsBrowser.load({ writeKey: '${WRITE_KEY}', cdnURL: '${inlet.url}' });
      await analytics.page();
      await analytics.identify('user-7', { plan: 'pro' });
      await analytics.track('report_exported', { format: 'csv' });
    })()`);
    const rows = await rowsWhen(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE site = 'web' AND path = '/pricing' ORDER BY ts`,
      (rows) => rows.length >= 3,
    );
    expect(rows).toEqual([
      expect.objectContaining(PAGE_VIEW),
      expect.objectContaining({ type: 'identify', user_id: 'user-7', plan: 'pro' }),
      expect.objectContaining({ type: 'track', name: 'report_exported', user_id: 'user-7', format: 'csv' }),
    ]);
    // Everything went to inlet, nothing to Segment (its telemetry is off in the settings).
    expectOnlyInlet(requests);
    expect(requests).toContain(`GET ${inlet.url}/v1/projects/${WRITE_KEY}/settings`);
    expect(requests).toEqual(expect.arrayContaining([`POST ${inlet.url}/v1/p`, `POST ${inlet.url}/v1/t`]));
  });

  it("Segment's snippet loads analytics.js, its settings and its chunks from inlet", async () => {
    const { requests } = await openPage('/snippet?utm_source=newsletter&ajs_event=from_link');
    const rows = await rowsWhen(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE site = 'web' AND path = '/snippet' ORDER BY type, name`,
      (rows) => rows.length >= 4,
    );
    expect(rows).toEqual([
      expect.objectContaining({ type: 'identify', user_id: 'user-9', plan: 'pro' }),
      // analytics.js replays the calls the snippet queued once it knows the user: the page view too.
      expect.objectContaining({ ...PAGE_VIEW, user_id: 'user-9' }),
      // ajs_event in the address makes analytics.js load its queryString chunk, which tracks it.
      expect.objectContaining({ type: 'track', name: 'from_link' }),
      expect.objectContaining({ type: 'track', name: 'report_exported', user_id: 'user-9', format: 'csv' }),
    ]);
    expectOnlyInlet(requests);
    expect(requests).toEqual(
      expect.arrayContaining([
        `GET ${inlet.url}/analytics.js/v1/${WRITE_KEY}/analytics.min.js`,
        expect.stringMatching(new RegExp(`^GET ${inlet.url}/analytics-next/bundles/queryString\\.bundle\\.`)),
      ]),
    );
  });

  it("Segment's snippet with a write key no site has says so in the page's console", async () => {
    // Answered 401 with JSON, which a script tag neither runs nor shows: the console said only
    // "Failed to load resource: … 401 (Unauthorized)", naming neither the key nor what to do.
    const { logged } = await openPage('/snippet-typo');
    await expect
      .poll(() => logged.find((line) => line.includes(TYPO_KEY)), { timeout: 15_000 })
      .toBe(
        `error: inlet did not send analytics.js for the write key "${TYPO_KEY}" in this page's snippet, so the page sends no events: Unknown write key; check the key against the sites, which a new ./inlet.yaml can set.`,
      );
    // A client that asks for JSON is answered as before.
    const json = await fetch(`${inlet.url}/analytics.js/v1/${TYPO_KEY}/analytics.min.js`, {
      headers: { accept: 'application/json' },
    });
    expect([json.status, await json.json()]).toMatchObject([401, { error: { code: 'UNKNOWN_WRITE_KEY' } }]);
  });

  it('analytics.js with its batching delivery posts to /v1/b', async () => {
    const { page, requests } = await openPage('/batched');
    await page.evaluate(`(async () => {
      const analytics = AnalyticsNext.AnalyticsBrowser.load(
        { writeKey: '${WRITE_KEY}', cdnURL: '${inlet.url}' },
        { integrations: { 'Segment.io': { deliveryStrategy: { strategy: 'batching', config: { size: 3, timeout: 100 } } } } },
      );
      await analytics.track('a', { format: 'pdf' });
      await analytics.track('b');
      await analytics.track('c');
    })()`);
    const rows = await rowsWhen(
      `SELECT name FROM events WHERE site = 'web' AND path = '/batched' ORDER BY name`,
      (rows) => rows.length >= 3,
    );
    expect(rows.map((row) => row.name)).toEqual(['a', 'b', 'c']);
    expect(requests).toContain(`POST ${inlet.url}/v1/b`);
  });

  it("RudderStack's JavaScript SDK loads its source config from inlet and sends page, identify and track", async () => {
    const { page, requests } = await openPage('/rudder/pricing?utm_source=newsletter');
    await page.evaluate(`new Promise((resolve) => {
      const analytics = new rudderanalytics.RudderAnalytics();
      analytics.load('${WRITE_KEY}', '${inlet.url}', { configUrl: '${inlet.url}' });
      analytics.ready(() => {
        analytics.page();
        analytics.identify('user-8', { plan: 'pro' });
        analytics.track('report_exported', { format: 'csv' });
        resolve();
      });
    })`);
    const rows = await rowsWhen(
      `SELECT ${EVENT_COLUMNS}, session_id IS NOT NULL AS has_session, referrer FROM events WHERE site = 'web' AND path = '/rudder/pricing' ORDER BY type`,
      (rows) => rows.length >= 3,
    );
    expect(rows).toEqual([
      // RudderStack sends an identify call's traits in context.traits.
      expect.objectContaining({ type: 'identify', user_id: 'user-8', plan: 'pro' }),
      // …and "$direct" as the referrer of a visit that has none.
      expect.objectContaining({ ...PAGE_VIEW, has_session: true, referrer: null }),
      expect.objectContaining({ type: 'track', name: 'report_exported', user_id: 'user-8', format: 'csv' }),
    ]);
    // Its write key and anonymous id travel in headers, so each post needs a CORS preflight.
    expectOnlyInlet(requests);
    expect(requests).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^GET ${inlet.url}/sourceConfig/\\?.*writeKey=${WRITE_KEY}`)),
        `POST ${inlet.url}/v1/page`,
        `POST ${inlet.url}/v1/identify`,
        `POST ${inlet.url}/v1/track`,
      ]),
    );
  });

  it("RudderStack's JavaScript SDK with useBeacon sends batches by sendBeacon, its write key in the query", async () => {
    const { page, requests } = await openPage('/rudder/beacon');
    await page.evaluate(`new Promise((resolve) => {
      const analytics = new rudderanalytics.RudderAnalytics();
      analytics.load('${WRITE_KEY}', '${inlet.url}', {
        configUrl: '${inlet.url}',
        useBeacon: true,
        beaconQueueOptions: { maxItems: 2, flushQueueInterval: 200 },
      });
      analytics.ready(() => {
        analytics.track('beacon_a');
        analytics.track('beacon_b', { format: 'pdf' });
        resolve();
      });
    })`);
    const rows = await rowsWhen(
      `SELECT name, format FROM (SELECT ${EVENT_COLUMNS} FROM events WHERE site = 'web' AND path = '/rudder/beacon') ORDER BY name`,
      (rows) => rows.length >= 2,
    );
    expect(rows).toEqual([
      { name: 'beacon_a', format: null },
      { name: 'beacon_b', format: 'pdf' },
    ]);
    expect(requests).toContain(`POST ${inlet.url}/beacon/v1/batch?writeKey=${WRITE_KEY}`);
  });

  it('analytics-node sends every call type in batches', async () => {
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: inlet.url, flushAt: 4, maxRetries: 0 });
    const errors: unknown[] = [];
    analytics.on('error', (error) => errors.push(error));
    analytics.identify({ userId: 'server-1', traits: { plan: 'team' } });
    analytics.track({ userId: 'server-1', event: 'invoice_paid', properties: { format: 'pdf' } });
    analytics.page({ userId: 'server-1', name: 'Billing', properties: { path: '/billing' } });
    analytics.group({ userId: 'server-1', groupId: 'acme', traits: { plan: 'team' } });
    analytics.screen({ userId: 'server-1', name: 'Settings' });
    analytics.alias({ userId: 'server-1', previousId: 'anon-9' });
    await analytics.closeAndFlush();
    expect(errors).toEqual([]);
    const rows = await rowsWhen(
      `SELECT type, name, properties::VARCHAR AS props FROM events WHERE user_id = 'server-1' ORDER BY type`,
      (rows) => rows.length >= 6,
    );
    expect(rows.map((row) => [row.type, row.name])).toEqual([
      ['alias', null],
      ['group', null],
      ['identify', null],
      ['page', 'Billing'],
      ['screen', 'Settings'],
      ['track', 'invoice_paid'],
    ]);
    expect(JSON.parse(String(rows[1]?.props))).toEqual({ plan: 'team', group_id: 'acme' });
    // The request's User-Agent is the SDK's HTTP client, which the isbot list flags: taken for the
    // visitor's, it made every server-side event a bot, and the built-in marts (which leave bots
    // out) lost them all, every login a backend reported among them.
    expect(
      await queryApi(
        inlet.url,
        "SELECT DISTINCT is_bot, device_type, browser FROM events WHERE user_id = 'server-1'",
      ),
    ).toEqual([{ is_bot: false, device_type: 'unknown', browser: null }]);
  });

  it('settings point the SDKs at the host they asked, or behind a proxy at the one it forwards', async () => {
    const settings = async (url: string, headers: Record<string, string> = {}) =>
      (await (await fetch(`${url}/v1/projects/${WRITE_KEY}/settings`, { headers })).json()) as {
        integrations: Record<string, { apiHost: string; protocol: string }>;
      };
    const headers = (await fetch(`${inlet.url}/v1/projects/${WRITE_KEY}/settings`)).headers;
    expect(headers.get('vary')).toBe('Host, X-Forwarded-Host, X-Forwarded-Proto');
    const direct = await settings(inlet.url, {
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Proto': 'https',
    });
    expect(direct.integrations['Segment.io']).toMatchObject({
      apiHost: `${new URL(inlet.url).host}/v1`,
      protocol: 'http',
    });
    const proxied = await startTestInlet({
      server: { host: '127.0.0.1', port: 0, trust_proxy: true },
      sites: [{ id: 'web', write_key: WRITE_KEY }],
    });
    try {
      const behind = await settings(proxied.url, {
        'X-Forwarded-Host': 'collect.example.com',
        'X-Forwarded-Proto': 'https',
      });
      expect(behind.integrations['Segment.io']).toMatchObject({
        apiHost: 'collect.example.com/v1',
        protocol: 'https',
      });
      const rudder = await fetch(`${proxied.url}/sourceConfig/?writeKey=${WRITE_KEY}`);
      expect(await rudder.json()).toMatchObject({
        source: { id: 'web', enabled: true, destinations: [] },
      });
    } finally {
      await proxied.cleanup();
    }
    // Under a path behind a proxy, server.public_url says where; it wins over any header.
    const mounted = await startTestInlet({
      server: { host: '127.0.0.1', port: 0, public_url: 'https://example.com/inlet/' },
      sites: [{ id: 'web', write_key: WRITE_KEY }],
    });
    try {
      const under = await settings(mounted.url, { 'X-Forwarded-Host': 'collect.example.com' });
      expect(under.integrations['Segment.io']).toMatchObject({
        apiHost: 'example.com/inlet/v1',
        protocol: 'https',
      });
    } finally {
      await mounted.cleanup();
    }
  });

  it('settings for an unknown write key are a 401, analytics.js a script saying so, a chunk that is not one a 404', async () => {
    const response = await fetch(`${inlet.url}/v1/projects/wk_nobody/settings`, {
      headers: { Origin: pageOrigin },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toMatchObject({ error: { code: 'UNKNOWN_WRITE_KEY' } });
    const rudder = await fetch(`${inlet.url}/sourceConfig/?p=npm&v=3.34.1`);
    expect(rudder.status).toBe(401);
    expect(await rudder.json()).toMatchObject({ error: { code: 'MISSING_WRITE_KEY' } });
    // analytics.js is a script a page runs only when answered 2xx: the refusal is a script saying why.
    const script = await fetch(`${inlet.url}/analytics.js/v1/wk_nobody/analytics.min.js`);
    expect([script.status, script.headers.get('x-inlet-error'), script.headers.get('cache-control')]).toEqual(
      [200, 'UNKNOWN_WRITE_KEY', 'no-store'],
    );
    expect(await script.text()).toMatch(
      /^console\.error\("inlet did not send analytics\.js for the write key \\"wk_nobody\\"/,
    );
    for (const file of ['..%2F..%2Fpackage.json', 'index.js', 'queryString.bundle.0000000000.js']) {
      const chunk = await fetch(`${inlet.url}/analytics-next/bundles/${file}`);
      expect(chunk.status).toBe(404);
      expect(await chunk.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });
});

describe('Plausible and Umami trackers, unchanged', () => {
  it("Plausible's tracker sends its page view and a custom event with props", async () => {
    const { page } = await openPage('/plausible/pricing?utm_source=newsletter');
    await page.waitForFunction('typeof window.plausibleTrack === "function"');
    await page.evaluate(`window.plausibleTrack('signup', { props: { plan: 'pro' } })`);
    const rows = await rowsWhen(
      `SELECT ${EVENT_COLUMNS}, context->>'domain' AS domain FROM events
       WHERE (context->>'protocol') = 'plausible' AND path = '/plausible/pricing' ORDER BY type`,
      (rows) => rows.length >= 2,
    );
    expect(rows).toEqual([
      expect.objectContaining({
        type: 'page',
        name: null,
        utm_source: 'newsletter',
        browser: 'Chrome Headless',
        domain: 'web.example.com',
      }),
      expect.objectContaining({ type: 'track', name: 'signup', plan: 'pro' }),
    ]);
  });

  it("Umami's Node client sends events and identify calls with the website id as write key", async () => {
    const umami = new Umami({ websiteId: WRITE_KEY, hostUrl: inlet.url });
    const answers = [
      await umami.track({ url: '/checkout', hostname: 'web.example.com', title: 'Checkout' }),
      await umami.track('report_exported', { format: 'csv' }),
      await umami.identify({ plan: 'pro' }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const rows = await rowsWhen(
      `SELECT type, name, url, properties::VARCHAR AS props FROM events
       WHERE site = 'web' AND (context->>'protocol') = 'umami' ORDER BY type`,
      (rows) => rows.length >= 3,
    );
    expect(rows).toEqual([
      { type: 'identify', name: null, url: null, props: '{"plan":"pro"}' },
      { type: 'page', name: null, url: 'https://web.example.com/checkout', props: null },
      { type: 'track', name: 'report_exported', url: null, props: '{"format":"csv"}' },
    ]);
  });
});
