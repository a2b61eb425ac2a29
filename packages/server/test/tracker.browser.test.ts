import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
  type Request,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningInlet, startInlet } from '../src/app.ts';
import { parseConfig } from '../src/config/index.ts';
import { createSilentLogger } from '../src/log/index.ts';
import { within } from './within.ts';

// The browser tracker end to end: Chromium loads a page from one origin that sends to the collector on
// another, and every assertion reads rows back through the query API, as a user of inlet would.
// In-page code lives in fixtures/tracker/*.js and is called by name, because this package's
// TypeScript build has no DOM types.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/tracker/', import.meta.url));
const WRITE_KEY = 'wk_tracker_browser_test';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/**
 * A bound on one wait on a page or the page server, well inside a test's 30 s, so that a wait that never
 * ends fails naming what it waited for rather than at the test's timeout.
 */
const WAIT = 10_000;
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

interface EventRow {
  event_id: string;
  type: string;
  name: string | null;
  anonymous_id: string | null;
  user_id: string | null;
  session_id: string | null;
  url: string | null;
  path: string | null;
  referrer: string | null;
  title: string | null;
  utm_source: string | null;
  utm_campaign: string | null;
  props: Record<string, unknown>;
  ctx: Record<string, unknown>;
}

interface PageOptions {
  /** data-* attributes of the script tag, on top of the write key and the collector. */
  attrs?: Record<string, string>;
  /** Extra markup after the queue stub, before inlet.js. */
  head?: string;
  title?: string;
  referer?: string;
}

let browser: Browser;
/** A Chromium with the back-forward cache on, as browsers ship it. */
let bfcacheBrowser: Browser | undefined;
let inlet: RunningInlet;
let pageServer: Server;
let pageOrigin: string;
let dataDir: string;
const pages = new Map<string, string>();
const pageErrors: string[] = [];
/** Paths the page server was asked for, which requests of a closing page reach while Playwright no longer reports them. */
const served: string[] = [];
const contexts: BrowserContext[] = [];
/** Answers to the requests the page server holds (/hold, /failing/collect) the test has not given yet. */
const held: Array<() => void> = [];

const mediaHelpers = readFileSync(join(FIXTURES, 'media.js'), 'utf8');
const escapeAttr = (value: string): string => value.replaceAll('&', '&amp;').replaceAll('"', '&quot;');

/** Rows of `sql` from the test's inlet, or from `target`. */
async function query<T>(sql: string, target: RunningInlet = inlet): Promise<T[]> {
  const response = await fetch(`${target.url}/api/query`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${target.apiToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
  if (!response.ok) throw new Error(`query failed with ${response.status}: ${await response.text()}`);
  const result = (await response.json()) as { columns: Array<{ name: string }>; rows: unknown[][] };
  return result.rows.map(
    (row) => Object.fromEntries(result.columns.map((column, i) => [column.name, row[i]])) as T,
  );
}

/**
 * Where each event id first went out in a /collect request of a test's browser context: the order the
 * trackers sent their events in, which no network can change.
 */
const sentOrder = new Map<string, number>();
function recordSent(request: Request): void {
  if (!request.url().endsWith('/collect')) return;
  const batch: { e?: Array<{ id: string }> } = JSON.parse(request.postData() ?? '{}');
  for (const { id } of batch.e ?? []) if (!sentOrder.has(id)) sentOrder.set(id, sentOrder.size);
}
type Order = 'ts' | 'arrival' | 'sent';

/**
 * The site's events matching `where`, polled until `ready` holds (the collector is asynchronous), in
 * the order of `ts`, the client's time corrected by each request's clock skew. Requests that took
 * unlike times to arrive (a busy machine) can come out of that order: pages a few tens of milliseconds
 * apart, or a page on the test's clock, which runs seconds ahead in no time, with two keepalive
 * requests in flight. `order: 'arrival'` orders by `received_at` instead, where each page's events are
 * known to reach the collector after the page before's; `order: 'sent'` in the order the page sent
 * them (sentOrder), for a page that is not closed, whose requests the browser context reports.
 */
async function eventsWhere(
  where: string,
  ready: (rows: EventRow[]) => boolean,
  order: Order = 'ts',
): Promise<EventRow[]> {
  const orderBy = order === 'arrival' ? 'received_at, ts, name' : 'ts, name';
  const sent = (row: EventRow): number => {
    const at = sentOrder.get(row.event_id);
    if (at === undefined)
      throw new Error(`event ${row.event_id} (${row.name ?? row.type}) was not seen sent`);
    return at;
  };
  const sql =
    'SELECT event_id, type, name, anonymous_id, user_id, session_id, url, path, referrer, title, utm_source, ' +
    `utm_campaign, properties::VARCHAR AS props, context::VARCHAR AS ctx FROM events WHERE site = 'docs' AND (${where}) ORDER BY ${orderBy}`;
  const deadline = Date.now() + 15_000;
  let rows: EventRow[] = [];
  while (Date.now() < deadline) {
    rows = (await query<EventRow & { props: string; ctx: string }>(sql)).map((row) => ({
      ...row,
      props: JSON.parse(row.props),
      ctx: JSON.parse(row.ctx),
    }));
    if (order === 'sent') rows.sort((a, b) => sent(a) - sent(b));
    if (ready(rows)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for events where ${where}; have ${JSON.stringify(rows, null, 2)}`);
}

const sqlText = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const eventsOf = (anonymousId: string, ready: (rows: EventRow[]) => boolean, order: Order = 'ts') =>
  eventsWhere(`anonymous_id = ${sqlText(anonymousId)}`, ready, order);
const named = (rows: EventRow[], name: string) => rows.filter((row) => row.name === name);

async function newContext(options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  context.on('request', recordSent);
  contexts.push(context);
  return context;
}

/** A context in a Chromium that keeps the back-forward cache on, which Playwright turns off by default. */
async function bfcacheContext(): Promise<BrowserContext> {
  bfcacheBrowser ??= await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: LAUNCH_ARGS,
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
  });
  const context = await bfcacheBrowser.newContext();
  context.on('request', recordSent);
  contexts.push(context);
  return context;
}

/**
 * Waits until the page server holds `count` requests, `what` they are. Playwright reports a request
 * as the browser makes it, which on a busy machine can be well before the server has it: an answer
 * given then went to no request, and the one that came after was held for good.
 */
const serverHolds = (count: number, what: string) =>
  expect.poll(() => held.length, { timeout: WAIT, message: `the page server to hold ${what}` }).toBe(count);

/** Counts in window.settled the requests to /collect that have settled, before the tracker reads their outcome. */
const countSettled = (context: BrowserContext) =>
  context.addInitScript(`
    window.settled = 0;
    const originalFetch = window.fetch;
    window.fetch = (...args) => originalFetch(...args).finally(() => window.settled++);
  `);

/** The events, by name (or type), that `context`'s pages send to a /collect from now on, as they go. */
function sentFrom(context: BrowserContext): string[] {
  const sent: string[] = [];
  context.on('request', (request) => {
    if (request.url().endsWith('/collect'))
      for (const event of JSON.parse(request.postData() ?? '{}').e) sent.push(event.n ?? event.t);
  });
  return sent;
}

/** What `target` (a page, or every page of a context) writes with console.warn, as it comes. */
function warningsOf(target: Page | BrowserContext): string[] {
  const warnings: string[] = [];
  target.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
  return warnings;
}

/** Puts a page with the snippet at `path` on the page server. */
function serve(path: string, options: PageOptions = {}): void {
  const attrs = {
    'data-write-key': WRITE_KEY,
    'data-api': inlet.url,
    'data-heartbeat': 'off',
    ...options.attrs,
  };
  const attributes = Object.entries(attrs)
    .map(([name, value]) => `${name}="${escapeAttr(value)}"`)
    .join(' ');
  const title = options.title ?? 'Tracker test';
  // The queue stub exactly as docs/tracker.md shows it, so calls made before inlet.js loads are kept.
  pages.set(
    path.split('?')[0] as string,
    `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <script>window.inlet=window.inlet||function(){(inlet.q=inlet.q||[]).push(arguments)};</script>
    ${options.head ?? ''}
    <script defer src="${scriptSrc()}" ${attributes}></script>
    <script src="/media.js"></script>
  </head>
  <body><h1>${title}</h1></body>
</html>`,
  );
}

/** Opens `path` on the page server with the snippet; resolves once inlet.js has run. */
async function open(context: BrowserContext, path: string, options: PageOptions = {}): Promise<Page> {
  serve(path, options);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
  await page.goto(`${pageOrigin}${path}`, { referer: options.referer, timeout: WAIT });
  await within(WAIT, `inlet.js to run on ${path}`, page.evaluate('window.inletReady()'));
  return page;
}

/** Waits until `expression` holds in `page`, failing after WAIT with `what` it waited for. */
const until = (page: Page, expression: string, what: string) =>
  within(
    WAIT,
    `${what} (${expression}) on ${new URL(page.url()).pathname}`,
    page.waitForFunction(expression),
  );

/**
 * Flushes the page's tracker and then makes a request of its own: a /collect that the flush sent (the
 * page view and the events waiting for their batch) has come before this returns.
 */
async function flushed(page: Page): Promise<void> {
  const after = page.waitForRequest((request) => request.url().endsWith('/after-flush'));
  await page.evaluate(`inlet.flush(); fetch('/after-flush').catch(() => {})`);
  await within(WAIT, `the request ${new URL(page.url()).pathname} makes after inlet.flush()`, after);
}

/** A page that imports createTracker from inlet.mjs and runs `script`, which sets window.inlet; with its console warnings. */
async function openModulePage(path: string, script: string): Promise<{ page: Page; warnings: string[] }> {
  pages.set(
    path,
    `<!doctype html><html><head><meta charset="utf-8"><title>Module</title>
<script type="module">
  import { createTracker } from '/inlet.mjs';
  ${script}
</script></head><body></body></html>`,
  );
  const context = await newContext();
  const warnings = warningsOf(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
  await page.goto(`${pageOrigin}${path}`, { timeout: WAIT });
  await until(page, 'window.inlet?.track', 'createTracker() to set window.inlet');
  return { page, warnings };
}

/**
 * Goes back to a page whose pageshow listener sets window.restored, and window.leftFrom before it
 * was left; fails unless the page came back from the back-forward cache rather than loaded again.
 */
async function goBackFromCache(page: Page): Promise<void> {
  // A restored page fires no load event, only pageshow.
  await page.goBack({ waitUntil: 'commit', timeout: WAIT });
  await until(
    page,
    `window.restored !== undefined || (document.readyState === 'complete' && !window.leftFrom)`,
    'the page gone back to to be shown',
  );
  expect(await page.evaluate('window.restored === true'), 'restored from the back-forward cache').toBe(true);
}

/**
 * A page on the test's clock (paused a second after load) whose tab the test shows and hides with
 * setHidden(): visibilityState follows window.__hidden, hidden from the start when \`hidden\`.
 */
async function readingPage(
  path: string,
  options: { hidden: boolean; heartbeat: number; title?: string },
): Promise<{ page: Page; anonymousId: string }> {
  const context = await newContext();
  await context.clock.install();
  await context.addInitScript(`
    window.__hidden = ${options.hidden};
    Object.defineProperty(Document.prototype, 'visibilityState', { get: () => (window.__hidden ? 'hidden' : 'visible') });
  `);
  const page = await open(context, path, {
    attrs: { 'data-heartbeat': String(options.heartbeat) },
    ...(options.title === undefined ? {} : { title: options.title }),
  });
  const anonymousId = await anonymousIdOf(page);
  await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
  return { page, anonymousId };
}

/**
 * Leaves `page` for a page without the tracker, as a reader following a link; resolves once that page
 * has loaded, so `page`'s pagehide listeners have run. Closing the tab instead gives them 500 ms
 * (Chromium's unload timeout), past which the tab goes without them: a renderer the full suite kept off
 * the CPU that long lost the last heartbeat, where a navigation waits for the renderer. The tests of a
 * closing tab (sendBeacon, no sendBeacon, data-heartbeat="Infinity") close it for real.
 */
async function leave(page: Page): Promise<void> {
  pages.set('/elsewhere', '<!doctype html><html><head><title>Elsewhere</title></head><body></body></html>');
  await page.goto(`${pageOrigin}/elsewhere`, { timeout: WAIT });
}

/**
 * Crashes `page`'s renderer, so it dies without its pagehide handlers, as a tab a mobile OS kills, and
 * resumes the context's clock, which the test paused to keep the page's batch timer from sending.
 */
async function crash(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  const crashed = page.waitForEvent('crash');
  void cdp.send('Page.crash').catch(() => {});
  await within(WAIT, `the renderer of ${new URL(page.url()).pathname} to crash`, crashed);
  await page.close();
  await context.clock.resume();
}

/** Hides or shows a readingPage()'s tab, with the visibilitychange event a browser fires. */
const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate(`window.__hidden = ${hidden}; document.dispatchEvent(new Event('visibilitychange'))`);

/** Ends window.stopWatching()'s watch, marks it with a stopped_watching event, and returns the events up to it. */
async function stopWatching(page: Page, anonymousId: string): Promise<EventRow[]> {
  await page.evaluate(`window.stopWatching(); inlet.track('stopped_watching')`);
  await page.clock.runFor(2000);
  return eventsOf(anonymousId, (all) => named(all, 'stopped_watching').length > 0, 'sent');
}

/** The heartbeats' [content_id, seconds], in the order of the rows. */
const heartbeatSeconds = (rows: EventRow[]) =>
  named(rows, 'heartbeat').map((row) => [row.props.content_id, row.props.seconds]);

/**
 * A page on the test's clock with a looping two-second video (#lecture), not yet watched, and
 * counters of its play and pause events (window.playEvents, window.pauseEvents).
 */
async function lecturePage(path: string): Promise<{ page: Page; anonymousId: string }> {
  const context = await newContext();
  await context.clock.install();
  const page = await open(context, path);
  const anonymousId = await anonymousIdOf(page);
  await within(WAIT, 'makeVideo(2) to record and load a video', page.evaluate('makeVideo(2)'));
  await page.evaluate(`
    const video = document.getElementById('lecture');
    video.loop = true;
    window.playEvents = 0;
    window.pauseEvents = 0;
    video.addEventListener('play', () => window.playEvents++);
    video.addEventListener('pause', () => window.pauseEvents++);
  `);
  return { page, anonymousId };
}

/**
 * Opens a lecturePage() at `path` and, in one script, plays #lecture and calls watch() `watches` times
 * (content id lecture-played, at a 10-second interval); plays it for `ms` of the page's clock, pauses
 * it, and returns the events up to the pause.
 */
async function playThenWatch(path: string, watches: number, ms: number): Promise<EventRow[]> {
  const { page, anonymousId } = await lecturePage(path);
  await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
  await page.evaluate(`
    const video = document.getElementById('lecture');
    video.play();
    for (let i = 0; i < ${watches}; i++) inlet.watch(video, { contentId: 'lecture-played', interval: 10 });
  `);
  await until(page, 'window.playEvents === 1', '#lecture to play');
  await page.clock.runFor(ms);
  await page.evaluate(`document.getElementById('lecture').pause(); inlet.track('stopped_watching')`);
  await page.clock.runFor(2000);
  return eventsOf(anonymousId, (all) => named(all, 'stopped_watching').length > 0);
}

/**
 * Watches #lecture at a 10-second interval, with window.emptied set once it gets a new source (and
 * what listen adds, with the element as video), and plays it for 7 seconds of the page's clock.
 */
async function watchSevenSeconds(page: Page, listen = ''): Promise<void> {
  await page.evaluate(`
    const video = document.getElementById('lecture');
    video.addEventListener('emptied', () => (window.emptied = true));
    ${listen}
    window.stopWatching = inlet.watch(video, { interval: 10 });
  `);
  await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
  await page.evaluate(`document.getElementById('lecture').play()`);
  await until(page, 'window.playEvents === 1', '#lecture to play');
  await page.clock.runFor(7000);
}

/**
 * Where the pages load inlet.js from: the page server hands out the same dist/inlet.js the collector
 * serves, with data-api naming the collector; the last test covers the collector's own /inlet.js.
 */
const scriptSrc = (): string => `${pageOrigin}/inlet.js`;

const anonymousIdOf = (page: Page) => page.evaluate<string>("localStorage.getItem('inlet.a')");

/** In-page expression: the events the tracker's outbox holds in localStorage, each under a key of its own. */
const STORED = `Object.keys(localStorage).filter((key) => key.startsWith('inlet.q.${WRITE_KEY}.')).map((key) => JSON.parse(localStorage.getItem(key)))`;

beforeAll(async () => {
  // The collector serves packages/tracker/dist/inlet.js, so build it from the current source.
  execFileSync('npm', ['run', 'build', '-w', 'packages/tracker'], { cwd: ROOT, stdio: 'pipe' });

  pageServer = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    served.push(path);
    if (path === '/inlet.js') {
      response
        .writeHead(200, { 'Content-Type': 'text/javascript' })
        .end(readFileSync(join(ROOT, 'packages/tracker/dist/inlet.js')));
      return;
    }
    if (path === '/inlet.mjs') {
      response
        .writeHead(200, { 'Content-Type': 'text/javascript' })
        .end(readFileSync(join(ROOT, 'packages/tracker/dist/inlet.mjs')));
      return;
    }
    // A request a page makes and the test answers (release()), to hold a page's main thread in a
    // synchronous XMLHttpRequest.
    if (path === '/hold') {
      held.push(() => response.writeHead(204).end());
      return;
    }
    // A collector that fails, with a 503 the test gives when it wants (release()): a request the
    // tracker has in flight until then.
    if (path === '/failing/collect') {
      held.push(() => response.writeHead(503).end());
      return;
    }
    if (path === '/media.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(mediaHelpers);
      return;
    }
    const html = pages.get(path);
    response
      .writeHead(html ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' })
      .end(html ?? 'not found');
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;

  dataDir = mkdtempSync(join(tmpdir(), 'inlet-tracker-test-'));
  const config = parseConfig(
    {
      data_dir: dataDir,
      server: { host: '127.0.0.1', port: 0 },
      sites: [{ id: 'docs', write_key: WRITE_KEY, origins: [pageOrigin] }],
    },
    { env: {} },
  );
  inlet = await startInlet({ config, logger: createSilentLogger() });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS });
});

afterEach(async () => {
  // A request a test left held is answered, so no later test takes it for one of its own.
  for (const release of held.splice(0)) release();
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await bfcacheBrowser?.close();
  await inlet?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/**
 * For the tests that close a tab for real: Chromium gives a closing page's pagehide handlers 500 ms
 * (its unload timeout) and then tears the tab down without them, so a renderer the full suite keeps
 * off the CPU that long sends nothing, which the test cannot tell from a tracker that sent nothing.
 * Tried again so a starved renderer is not taken for a fault; a tracker that never sends fails every try.
 */
const TAB_CLOSE = { retry: 2 };
describe('browser tracker', () => {
  it('records a page view with URL, path, UTMs, title, referrer, screen and language', async () => {
    const context = await newContext({ locale: 'ja-JP', screen: { width: 1440, height: 900 } });
    const page = await open(context, '/docs/start?utm_source=newsletter&utm_campaign=launch', {
      title: 'Getting started',
      referer: 'https://search.example.org/?q=inlet',
    });
    const anonymousId = await anonymousIdOf(page);
    expect(anonymousId).toMatch(UUID);

    const [view] = await eventsOf(anonymousId, (rows) => rows.length > 0);
    expect(view).toMatchObject({
      type: 'page',
      name: null,
      user_id: null,
      url: `${pageOrigin}/docs/start?utm_source=newsletter&utm_campaign=launch`,
      path: '/docs/start',
      utm_source: 'newsletter',
      utm_campaign: 'launch',
      title: 'Getting started',
      referrer: 'https://search.example.org/?q=inlet',
      ctx: { sw: 1440, sh: 900, lang: 'ja-JP', library: 'inlet.js' },
    });
    expect(view?.event_id).toMatch(UUID);
    expect(view?.session_id).toMatch(UUID);
  });

  it('records nothing while the page is prerendered, and the page view once it is shown', async () => {
    // A page the browser prerenders (speculation rules, the address bar) may never be shown.
    const context = await newContext();
    await context.addInitScript(`
      window.__prerendering = true;
      Object.defineProperty(document, 'prerendering', { configurable: true, get: () => window.__prerendering });
    `);
    const collects: string[] = [];
    context.on('request', (request) => request.url().includes('/collect') && collects.push(request.url()));
    const page = await open(context, '/prerendered', { title: 'Prerendered' });
    await page.evaluate(`inlet.track('while_prerendered')`);
    // Flushed, a page view made at load would have been sent without waiting for its batch.
    await flushed(page);
    expect(collects).toEqual([]);

    await page.evaluate(
      `window.__prerendering = false; document.dispatchEvent(new Event('prerenderingchange'))`,
    );
    // The visitor's id too is made only for a page someone saw.
    const anonymousId = await anonymousIdOf(page);
    const rows = await eventsOf(anonymousId, (all) => all.length >= 2);
    // Both are recorded as the page is shown, often in the same millisecond: their order by ts is not theirs.
    expect(rows.map((row) => row.name ?? row.type).sort()).toEqual(['page', 'while_prerendered']);
    expect(rows.find((row) => row.type === 'page')).toMatchObject({
      path: '/prerendered',
      title: 'Prerendered',
    });
  });

  it('records SPA navigation: pushState and back are page views, replaceState to the same URL is not', async () => {
    const context = await newContext();
    const page = await open(context, '/app/inbox', { title: 'Inbox' });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`history.replaceState({}, '', location.href)`);
    // The app sets the title after navigating; the tracker waits a task for it.
    await page.evaluate(
      `history.pushState({}, '', '/app/settings?tab=profile'); document.title = 'Settings'`,
    );
    await page.evaluate(`addEventListener('popstate', () => (document.title = 'Inbox')); history.back()`);

    const views = await eventsOf(anonymousId, (rows) => rows.length >= 3);
    // A page view more, made by now, goes no later than an event tracked after it.
    await page.evaluate(`inlet.track('last'); inlet.flush()`);
    const settled = await eventsOf(anonymousId, (rows) => named(rows, 'last').length > 0);
    expect(settled.filter((row) => row.type === 'page')).toHaveLength(3);
    expect(views.map((row) => [row.type, row.path, row.title])).toEqual([
      ['page', '/app/inbox', 'Inbox'],
      ['page', '/app/settings', 'Settings'],
      ['page', '/app/inbox', 'Inbox'],
    ]);
    expect(views[1]?.url).toBe(`${pageOrigin}/app/settings?tab=profile`);
    expect(views[1]?.referrer).toBe(`${pageOrigin}/app/inbox`);
    expect(new Set(views.map((row) => row.session_id)).size).toBe(1);
  });

  it('gives a page restored from the back-forward cache the referrer it was loaded with, not its own URL', async () => {
    // The restored view named its own URL as referrer; when it started a session (after 30 minutes
    // away) entry_paths credited that session to the site itself instead of where the visitor came from.
    const context = await bfcacheContext();
    serve('/bf-b', { title: 'Page B' });
    const page = await open(context, '/bf-a', {
      title: 'Page A',
      referer: 'https://search.example.org/?q=inlet',
    });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(
      `window.leftFrom = true; addEventListener('pageshow', (event) => (window.restored = event.persisted))`,
    );
    await page.evaluate(`location.href = '/bf-b'`);
    await within(WAIT, 'the navigation to /bf-b', page.waitForURL('**/bf-b'));
    await eventsOf(anonymousId, (rows) => rows.length >= 2);
    // Thirty-one minutes away: the session's last activity moves back, so the restored view starts a new one.
    await page.evaluate(
      `localStorage.setItem('inlet.s', localStorage.getItem('inlet.s').replace(/\\|\\d+$/, '|' + (Date.now() - 31 * 60 * 1000)))`,
    );
    await goBackFromCache(page);

    // In the order they arrived: page A's view and page B's can be out of ts order on a busy machine.
    const views = await eventsOf(anonymousId, (rows) => rows.length >= 3, 'arrival');
    expect(views.map((row) => [row.path, row.referrer])).toEqual([
      ['/bf-a', 'https://search.example.org/?q=inlet'],
      ['/bf-b', `${pageOrigin}/bf-a`],
      ['/bf-a', 'https://search.example.org/?q=inlet'],
    ]);
    expect(views[1]?.session_id).toBe(views[0]?.session_id);
    expect(views[2]?.session_id).not.toBe(views[0]?.session_id);
  });

  it('gives a page view recorded by hand on a back-forward cache restore the referrer the page was loaded with', async () => {
    // With data-auto-pageview="false" the site calls inlet.page() from its own pageshow listener.
    const context = await bfcacheContext();
    const attrs = { 'data-auto-pageview': 'false' };
    serve('/bf-manual-b', { attrs });
    const page = await open(context, '/bf-manual-a', {
      attrs,
      referer: 'https://search.example.org/?q=manual',
    });
    await page.evaluate(
      `inlet.page(); addEventListener('pageshow', (event) => { window.restored = event.persisted; if (event.persisted) inlet.page(); })`,
    );
    const anonymousId = await anonymousIdOf(page);
    await eventsOf(anonymousId, (rows) => rows.length >= 1);
    await page.evaluate(`window.leftFrom = true; location.href = '/bf-manual-b'`);
    await within(WAIT, 'the navigation to /bf-manual-b', page.waitForURL('**/bf-manual-b'));
    await page.evaluate('window.inletReady().then(() => inlet.page())');
    await eventsOf(anonymousId, (rows) => rows.length >= 2);
    await goBackFromCache(page);

    // In the order they arrived, as in the test before.
    const views = await eventsOf(anonymousId, (rows) => rows.length >= 3, 'arrival');
    expect(views.map((row) => [row.path, row.referrer])).toEqual([
      ['/bf-manual-a', 'https://search.example.org/?q=manual'],
      ['/bf-manual-b', `${pageOrigin}/bf-manual-a`],
      ['/bf-manual-a', 'https://search.example.org/?q=manual'],
    ]);
  });

  it('records no page view for a replaceState that changes only the query string', async () => {
    // A site stripping UTM parameters after load, or a search box keeping ?q= in step as someone
    // types, recorded a second page view of the same page, and another at each pause in typing.
    const context = await newContext();
    const page = await open(context, '/landing?utm_source=newsletter', { title: 'Landing' });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`history.replaceState({}, '', location.pathname)`);
    await page.waitForTimeout(50);
    await page.evaluate(`history.replaceState({}, '', '/landing?q=refund')`);
    await page.waitForTimeout(50);
    await page.evaluate(`history.pushState({}, '', '/landing/results')`);
    await page.waitForTimeout(50);
    await page.evaluate(`history.replaceState({}, '', '/landing/results/1')`);
    await page.evaluate(`inlet.track('done_navigating')`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'done_navigating').length > 0);
    expect(
      rows.filter((row) => row.type === 'page').map((row) => [row.url, row.referrer, row.utm_source]),
    ).toEqual([
      [`${pageOrigin}/landing?utm_source=newsletter`, null, 'newsletter'],
      [`${pageOrigin}/landing/results`, `${pageOrigin}/landing?q=refund`, null],
      [`${pageOrigin}/landing/results/1`, `${pageOrigin}/landing/results`, null],
    ]);
  });

  it('records hash-route changes as page views with data-hash-routing', async () => {
    const context = await newContext();
    const page = await open(context, '/spa', { attrs: { 'data-hash-routing': '' } });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`location.hash = '#/reports/42'`);

    const views = await eventsOf(anonymousId, (rows) => rows.length >= 2);
    expect(views.map((row) => row.url)).toEqual([`${pageOrigin}/spa`, `${pageOrigin}/spa#/reports/42`]);
    expect(views[1]?.ctx).toMatchObject({ hash_routing: true });
  });

  it('records no page view for a replaceState that changes only the query of a hash route', async () => {
    // A hash-routed search box keeping #/search?q= in step (Vue Router's hash mode replaces the state)
    // recorded a page view of the same path at each pause in typing: the route's query was taken for
    // part of the route, where the collector leaves it out of the path.
    const context = await newContext();
    const page = await open(context, '/hash-app', { attrs: { 'data-hash-routing': '' } });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`history.pushState({}, '', '#/search')`);
    await page.waitForTimeout(50);
    await page.evaluate(`history.replaceState({}, '', '#/search?q=re')`);
    await page.waitForTimeout(50);
    await page.evaluate(`history.replaceState({}, '', '#/search?q=refund')`);
    await page.waitForTimeout(50);
    await page.evaluate(`history.pushState({}, '', '#/reports')`);
    await page.evaluate(`inlet.track('done_navigating')`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'done_navigating').length > 0);
    expect(rows.filter((row) => row.type === 'page').map((row) => [row.path, row.url, row.referrer])).toEqual(
      [
        ['/hash-app', `${pageOrigin}/hash-app`, null],
        ['/hash-app#/search', `${pageOrigin}/hash-app#/search`, `${pageOrigin}/hash-app`],
        ['/hash-app#/reports', `${pageOrigin}/hash-app#/reports`, `${pageOrigin}/hash-app#/search?q=refund`],
      ],
    );
  });

  it('records custom events with properties, including calls queued by the stub before inlet.js loaded', async () => {
    const context = await newContext();
    const page = await open(context, '/pricing', {
      head: `<script>inlet('track', 'queued_before_load', { early: true });</script>`,
    });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`inlet.track('signup_started', { plan: 'pro', seats: 3, annual: false })`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'signup_started').length > 0);
    expect(named(rows, 'queued_before_load')).toMatchObject([{ type: 'track', props: { early: true } }]);
    expect(named(rows, 'signup_started')).toMatchObject([
      { type: 'track', path: '/pricing', props: { plan: 'pro', seats: 3, annual: false } },
    ]);
  });

  it('ignores, with a warning, a watch() of no media element, and records the calls queued after it', async () => {
    const context = await newContext();
    const warnings = warningsOf(context);
    // Queued before the player is in the page, so getElementById gives null: watch() threw, and the
    // snippet's replay of the queue stopped there.
    const page = await open(context, '/player-later', {
      head: `<script>inlet('watch', document.getElementById('player')); inlet('track', 'queued_after_watch');</script>`,
    });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`inlet.watch('player')(); inlet.track('after_watch')`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'after_watch').length > 0);
    expect(rows.map((row) => row.name ?? row.type)).toEqual(['queued_after_watch', 'page', 'after_watch']);
    expect(warnings).toEqual([
      expect.stringMatching(/^inlet: watch\(\) ignored: give it a <video> or <audio>\./),
      expect.stringMatching(/^inlet: watch\(\) ignored: give it a <video> or <audio>\./),
    ]);
  });

  it('identify then login carries the user id; reset starts a new anonymous visitor', async () => {
    const context = await newContext();
    const page = await open(context, '/login');
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`inlet.identify('user-42', { company: 'Acme' }); inlet.login('user-42')`);
    await page.evaluate(`inlet.reset(); inlet.track('after_reset')`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'login').length > 0);
    // login() after identify() with the same id adds only the login event.
    expect(rows.filter((row) => row.type === 'identify')).toMatchObject([
      { user_id: 'user-42', props: { company: 'Acme' } },
    ]);
    expect(named(rows, 'login')).toMatchObject([{ type: 'track', user_id: 'user-42' }]);
    expect(named(rows, 'after_reset')).toEqual([]);

    const newId = await anonymousIdOf(page);
    expect(newId).not.toBe(anonymousId);
    const after = await eventsOf(newId, (all) => all.length > 0);
    expect(after).toMatchObject([{ name: 'after_reset', user_id: null }]);
  });

  it("sends no user id from another tab of the site after reset() in one, nor the old visitor's ids", async () => {
    // Each tab kept in memory a copy of what it stored: after a logout in one tab, another tab still open
    // sent the logged-out user's id with its next events, under the anonymous id of the next visitor.
    const context = await newContext();
    const other = await open(context, '/tabs/reading');
    await other.evaluate(`inlet.identify('user-42')`);
    const loggingOut = await open(context, '/tabs/account');
    const anonymousId = await anonymousIdOf(loggingOut);
    await loggingOut.evaluate(`inlet.reset(); inlet.track('logged_out'); inlet.flush()`);
    const newId = await anonymousIdOf(loggingOut);
    expect(newId).not.toBe(anonymousId);
    await until(other, `localStorage.getItem('inlet.u') === null`, "the other tab to see reset()'s storage");
    await other.evaluate(`inlet.track('in_other_tab'); inlet.flush()`);

    const rows = await eventsOf(newId, (all) => named(all, 'in_other_tab').length > 0);
    expect(rows.map((row) => [row.name ?? row.type, row.user_id])).toEqual([
      ['logged_out', null],
      ['in_other_tab', null],
    ]);
  });

  it('ignores, with a warning, an event with no name, a number or an object for its name', async () => {
    const context = await newContext();
    const page = await open(context, '/unnamed');
    const anonymousId = await anonymousIdOf(page);
    const warnings = warningsOf(page);
    // EVENTS.SINGUP (a typo) is undefined: the event was lost without a word.
    await page.evaluate(`const EVENTS = { SIGNUP: 'signup' };
      inlet.track(EVENTS.SINGUP); inlet.track(42); inlet.track({ name: 'signup' }); inlet.track('');
      inlet.track(EVENTS.SIGNUP)`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'signup').length > 0);
    expect(rows.map((row) => row.name ?? row.type)).toEqual(['page', 'signup']);
    expect(warnings).toEqual(Array(4).fill("inlet: track() ignored: give it an event name ('signup')."));
  });

  it('ignores, with a warning, a user id longer than the collector takes', async () => {
    const context = await newContext();
    const page = await open(context, '/token-as-id');
    const anonymousId = await anonymousIdOf(page);
    const warnings = warningsOf(page);
    // Kept, it went with every later event of this browser, and the collector refused each one.
    await page.evaluate(`inlet.identify('eyJ${'x'.repeat(300)}'); inlet.track('after_identify')`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'after_identify').length > 0);
    expect(rows.map((row) => [row.name ?? row.type, row.user_id])).toEqual([
      ['page', null],
      ['after_identify', null],
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^inlet: identify\(\) ignored: give it user\.id, a string or number of up to 200 characters/,
      ),
    ]);
  });

  it('ignores, with a warning, a user object given instead of its id', async () => {
    const context = await newContext();
    const page = await open(context, '/user-object');
    const anonymousId = await anonymousIdOf(page);
    const warnings = warningsOf(page);
    // As "[object Object]" every user of the site became one user.
    await page.evaluate(`inlet.identify({ id: 42, plan: 'pro' }); inlet.track('after_identify')`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'after_identify').length > 0);
    expect(rows.map((row) => [row.name ?? row.type, row.user_id])).toEqual([
      ['page', null],
      ['after_identify', null],
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(/^inlet: identify\(\) ignored: give it user\.id, a string/),
    ]);
  });

  it('records no login for a user id it refuses, rather than one for the user identified before', async () => {
    const context = await newContext();
    const page = await open(context, '/shared-computer');
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(
      `inlet.login('user-a'); inlet.login('eyJ${'x'.repeat(300)}'); inlet.track('after_login')`,
    );

    const rows = await eventsOf(anonymousId, (all) => named(all, 'after_login').length > 0);
    expect(named(rows, 'login').map((row) => row.user_id)).toEqual(['user-a']);
  });

  it('takes a user id 0, as it takes other numbers', async () => {
    // A `!userId` check dropped identify(0) and login(0) without a word.
    const context = await newContext();
    const page = await open(context, '/user-zero');
    const anonymousId = await anonymousIdOf(page);
    const warnings = warningsOf(page);
    await page.evaluate(`inlet.login(0); inlet.track('after_login')`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'after_login').length > 0);
    // In one millisecond the rows come in name order.
    expect(rows.map((row) => [row.name ?? row.type, row.user_id]).sort()).toEqual([
      ['after_login', '0'],
      ['identify', '0'],
      ['login', '0'],
      ['page', null],
    ]);
    expect(warnings).toEqual([]);
  });

  it('ignores, with a warning, a user id NaN or Infinity, as it ignores other ids it cannot take', async () => {
    // identify(parseInt(undefined)) stored the user id "NaN", one user for every such visitor.
    const context = await newContext();
    const page = await open(context, '/user-nan');
    const anonymousId = await anonymousIdOf(page);
    const warnings = warningsOf(page);
    await page.evaluate(
      `inlet.identify(NaN); inlet.login(NaN); inlet.login(Infinity); inlet.track('after_login')`,
    );

    const rows = await eventsOf(anonymousId, (all) => named(all, 'after_login').length > 0);
    expect(rows.map((row) => [row.name ?? row.type, row.user_id])).toEqual([
      ['page', null],
      ['after_login', null],
    ]);
    expect(warnings).toEqual(
      Array(3).fill(
        'inlet: identify() ignored: give it user.id, a string or number of up to 200 characters.',
      ),
    );
  });

  it('ignores, with a warning, a login or search of an object without toString, and replays the calls queued after it', async () => {
    // Object.create(null) threw "Cannot convert object to primitive value", and the snippet's replay of
    // the queue stopped there.
    const context = await newContext();
    const warnings = warningsOf(context);
    const page = await open(context, '/bare-objects', {
      head: `<script>inlet('login', Object.create(null)); inlet('search', Object.create(null), 1);
        inlet('track', 'queued_after');</script>`,
    });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`inlet.search('refunds', Object.create(null)); inlet.track('after')`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'after').length > 0);
    expect(rows.map((row) => [row.name ?? row.type, row.user_id])).toEqual([
      ['queued_after', null],
      ['page', null],
      ['after', null],
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(/^inlet: identify\(\) ignored: give it user\.id, a string or number/),
      'inlet: search() ignored: give it a text and a number.',
      'inlet: search() ignored: give it a text and a number.',
    ]);
  });

  it('cuts a long title or event name between characters, not inside an emoji', async () => {
    // Cut inside a surrogate pair, half an emoji was stored as the replacement character "\uFFFD".
    const context = await newContext();
    const page = await open(context, '/long-title');
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`document.title = 'a' + '😀'.repeat(1500); inlet.track('a' + '😀'.repeat(150))`);

    const rows = await eventsOf(anonymousId, (all) => all.some((row) => row.type === 'track'));
    const track = rows.find((row) => row.type === 'track');
    expect(track?.title).toBe(`a${'😀'.repeat(999)}`);
    expect(track?.name).toBe(`a${'😀'.repeat(99)}`);
  });

  it('records a search that found nothing', async () => {
    const context = await newContext();
    const page = await open(context, '/help');
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`inlet.search('refund policy', 0)`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'search').length > 0);
    expect(named(rows, 'search')).toMatchObject([
      { type: 'track', props: { query: 'refund policy', results: 0 } },
    ]);
  });

  it('sends media heartbeats while a video plays, with position and duration, and page heartbeats', async () => {
    const context = await newContext();
    const page = await open(context, '/lectures/1', { attrs: { 'data-heartbeat': '1' } });
    const anonymousId = await anonymousIdOf(page);
    const duration = await within(
      WAIT,
      'makeVideo(3) to record and load a video',
      page.evaluate<number>('makeVideo(3)'),
    );
    expect(duration).toBeGreaterThan(2.5);
    await page.evaluate(`
      window.stopWatching = inlet.watch(document.getElementById('lecture'), { contentId: 'lecture-1', interval: 1 });
      document.getElementById('lecture').play();
    `);
    // Paused by the page once two seconds have played, not 2.5 s later by this process: on a busy
    // machine that pause came late, after the 3-second video had ended.
    const pausedAt = await within(
      WAIT,
      '#lecture to play past 2.1 s and be paused there',
      page.evaluate<number>(`new Promise((resolve) => {
      const video = document.getElementById('lecture');
      const check = () => {
        if (video.currentTime < 2.1) return;
        video.removeEventListener('timeupdate', check);
        video.pause();
        resolve(video.currentTime);
      };
      video.addEventListener('timeupdate', check);
      check();
    })`),
    );
    expect(pausedAt).toBeGreaterThan(2);
    expect(pausedAt).toBeLessThan(duration);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'media_pause').length > 0, 'sent');
    const round = (seconds: number) => Math.round(seconds * 10) / 10;
    const media = { content_id: 'lecture-1', duration: round(duration), interval: 1, kind: 'media' };
    expect(named(rows, 'media_play')).toMatchObject([{ props: { ...media, position: 0 } }]);
    expect(named(rows, 'media_pause')).toMatchObject([{ props: { ...media, position: round(pausedAt) } }]);

    const beats = named(rows, 'heartbeat').filter((row) => row.props.kind === 'media');
    expect(beats.length).toBeGreaterThanOrEqual(2);
    const positions = beats.map((row) => row.props.position as number);
    for (const [i, row] of beats.entries()) {
      expect(row.props).toMatchObject(media);
      expect(positions[i]).toBeGreaterThanOrEqual(0.5);
      expect(positions[i]).toBeLessThanOrEqual(round(pausedAt));
      if (i > 0) expect(positions[i]).toBeGreaterThan(positions[i - 1] as number);
    }
    // The page has been open for over five seconds with a one-second page heartbeat.
    const pageBeats = named(rows, 'heartbeat').filter((row) => row.props.kind === 'page');
    expect(pageBeats.length).toBeGreaterThanOrEqual(3);
    expect(pageBeats[0]?.props).toEqual({ kind: 'page', interval: 1, seconds: 1 });
  });

  it('counts a video watched in stretches shorter than the heartbeat interval', async () => {
    // A lecture paused every few seconds (notes taken, a question asked) was counted as not watched at
    // all: each play started the interval again, so no stretch ever reached a heartbeat.
    const { page, anonymousId } = await lecturePage('/lectures/stretches');
    await page.evaluate(
      `inlet.watch(document.getElementById('lecture'), { contentId: 'lecture-stretches', interval: 10 })`,
    );
    // From here on the page's clock moves only when the test moves it.
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    // Four stretches of six seconds: 24 seconds played, two heartbeats of ten seconds.
    for (let stretch = 1; stretch <= 4; stretch++) {
      await page.evaluate(`document.getElementById('lecture').play()`);
      await until(page, `window.playEvents === ${stretch}`, '#lecture to play again');
      await page.clock.runFor(6000);
      await page.evaluate(`document.getElementById('lecture').pause()`);
      await until(page, `window.pauseEvents === ${stretch}`, '#lecture to pause');
    }
    await page.evaluate('inlet.flush()');

    const mediaBeats = (rows: EventRow[]) =>
      named(rows, 'heartbeat').filter((row) => row.props.kind === 'media');
    const rows = await eventsOf(anonymousId, (all) => named(all, 'media_pause').length === 4);
    expect(mediaBeats(rows).map((row) => row.props.content_id)).toEqual([
      'lecture-stretches',
      'lecture-stretches',
    ]);
  });

  it('counts time on a page looked at in stretches shorter than the heartbeat interval', async () => {
    // Someone switching between a document and a tab of notes every few seconds was counted as not
    // reading at all: each return to the tab started the interval again.
    const { page, anonymousId } = await readingPage('/reading/stretches', { hidden: false, heartbeat: 10 });
    // Four visible stretches of six seconds, with the tab hidden in between: two ten-second heartbeats.
    for (let stretch = 1; stretch <= 4; stretch++) {
      await page.clock.runFor(6000);
      await setHidden(page, true);
      await page.clock.runFor(30_000);
      await setHidden(page, false);
    }
    await page.evaluate(`inlet.track('done_reading')`);
    await page.clock.runFor(2000);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'done_reading').length > 0);
    expect(named(rows, 'heartbeat').map((row) => row.props)).toEqual([
      { kind: 'page', interval: 10, seconds: 10 },
      { kind: 'page', interval: 10, seconds: 10 },
    ]);
  });

  it('counts a video watched twice over (a re-rendered player calling watch() again) once', async () => {
    // Each watch() sent its own play events and heartbeats, so the video's watch time was doubled.
    const { page, anonymousId } = await lecturePage('/lectures/rewatched');
    await page.evaluate(`
      const video = document.getElementById('lecture');
      inlet.watch(video, { contentId: 'lecture-rewatched', interval: 10 });
      inlet.watch(video, { contentId: 'lecture-rewatched', interval: 10 });
    `);
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    await page.evaluate(`document.getElementById('lecture').play()`);
    await until(page, 'window.playEvents === 1', '#lecture to play');
    await page.clock.runFor(25_000);
    await page.evaluate(`document.getElementById('lecture').pause(); inlet.track('stopped_watching')`);
    await page.clock.runFor(2000);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'stopped_watching').length > 0);
    expect(named(rows, 'media_play')).toHaveLength(1);
    expect(named(rows, 'heartbeat')).toHaveLength(2);
  });

  it('sends media_play for a video already playing when watch() is called, once for a second watch()', async () => {
    // A player that starts playing (autoplay) before the page calls watch() sent no media_play at all,
    // while its heartbeats counted: plays were missing from the media marts.
    const { page, anonymousId } = await lecturePage('/lectures/autoplayed');
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    await page.evaluate(`document.getElementById('lecture').play()`);
    await until(page, 'window.playEvents === 1', '#lecture to play');
    await page.evaluate(`
      const video = document.getElementById('lecture');
      inlet.watch(video, { contentId: 'lecture-autoplayed', interval: 10 });
      inlet.watch(video, { contentId: 'lecture-autoplayed', interval: 10 });
    `);
    await page.clock.runFor(12_000);
    await page.evaluate(`document.getElementById('lecture').pause(); inlet.track('stopped_watching')`);
    await page.clock.runFor(2000);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'stopped_watching').length > 0);
    expect(named(rows, 'media_play')).toMatchObject([
      { props: { content_id: 'lecture-autoplayed', kind: 'media', interval: 10 } },
    ]);
    expect(named(rows, 'heartbeat').filter((row) => row.props.kind === 'media')).toHaveLength(1);
  });

  it('sends one media_play for a video watched right after play() is called', async () => {
    // play() then watch() in one go: the play event, still to come when watch() found the video
    // playing, sent a second media_play.
    const rows = await playThenWatch('/lectures/played-then-watched', 1, 2000);
    expect(named(rows, 'media_play')).toHaveLength(1);
  });

  it('sends one media_play and one heartbeat an interval for a video watched twice right after play()', async () => {
    // play() then watch() twice in one go (a player that renders twice as it starts): the second watch()
    // took over from the first, which had sent the play, and sent it again at the play event to come.
    const rows = await playThenWatch('/lectures/played-then-watched-twice', 2, 12_000);
    expect(named(rows, 'media_play')).toHaveLength(1);
    expect(heartbeatSeconds(rows)).toEqual([['lecture-played', 10]]);
  });

  it('counts the last unfinished interval of a lecture when watching stops, once', async () => {
    // A 40-second watch at a 15-second interval counted 30 seconds: the last 10 made no heartbeat.
    const { page, anonymousId } = await lecturePage('/lectures/forty');
    await page.evaluate(
      `window.stopWatching = inlet.watch(document.getElementById('lecture'), { contentId: 'lecture-forty', interval: 15 })`,
    );
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    await page.evaluate(`document.getElementById('lecture').play()`);
    await until(page, 'window.playEvents === 1', '#lecture to play');
    await page.clock.runFor(20_000);
    // Pause and play spam ends nothing: its seconds carry over.
    for (let i = 2; i <= 4; i++) {
      await page.evaluate(`document.getElementById('lecture').pause()`);
      await until(page, `window.pauseEvents === ${i - 1}`, '#lecture to pause');
      await page.evaluate(`document.getElementById('lecture').play()`);
      await until(page, `window.playEvents === ${i}`, '#lecture to play again');
    }
    await page.clock.runFor(20_000);
    await page.evaluate(`document.getElementById('lecture').pause()`);
    await until(page, 'window.pauseEvents === 4', '#lecture to pause');
    // Stopped twice, and the page then closed: the unfinished 10 seconds go out once.
    await page.evaluate('window.stopWatching(); window.stopWatching()');
    // Seen sent before the page closes, so the rows can be put in the order the page sent them.
    await flushed(page);
    await page.close({ runBeforeUnload: true });

    const rows = await eventsOf(anonymousId, (all) => named(all, 'heartbeat').length >= 3, 'sent');
    const beats = named(rows, 'heartbeat').map((row) => row.props);
    expect(beats.map((props) => [props.content_id, props.interval, props.seconds])).toEqual([
      ['lecture-forty', 15, 15],
      ['lecture-forty', 15, 15],
      ['lecture-forty', 15, 10],
    ]);
  });

  it('sends the unfinished interval when the media ends, before media_ended', async () => {
    const { page, anonymousId } = await lecturePage('/lectures/ends');
    await page.evaluate(
      `inlet.watch(document.getElementById('lecture'), { contentId: 'lecture-ends', interval: 10 })`,
    );
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    await page.evaluate(`document.getElementById('lecture').play()`);
    await until(page, 'window.playEvents === 1', '#lecture to play');
    await page.clock.runFor(13_000);
    // No longer looping, the video ends within its two seconds while the page's clock stands still.
    await page.evaluate(`document.getElementById('lecture').loop = false`);
    await until(page, `document.getElementById('lecture').ended`, '#lecture to end');
    await page.evaluate('inlet.flush()');

    const rows = await eventsOf(anonymousId, (all) => named(all, 'media_ended').length > 0, 'sent');
    const ends = rows.filter((row) => row.name === 'heartbeat' || row.name === 'media_ended');
    expect(ends.map((row) => [row.name, row.props.seconds])).toEqual([
      ['heartbeat', 10],
      ['heartbeat', 3],
      ['media_ended', undefined],
    ]);
  });

  it('ends watching when the media gets a new source, counting none of the time it did not play', async () => {
    // load() (a playlist's next item) stops playback without a pause event: the clock ran on, and
    // the time until the next play was counted as watched, while the seconds played before were lost.
    const { page, anonymousId } = await lecturePage('/lectures/reloaded');
    await watchSevenSeconds(page);
    await page.evaluate(`document.getElementById('lecture').load()`);
    await until(page, 'window.emptied === true', '#lecture to be emptied by load()');
    await page.clock.runFor(35_000);
    await page.evaluate(`document.getElementById('lecture').play()`);
    await until(page, 'window.playEvents === 2', '#lecture to play');
    await page.clock.runFor(4000);
    expect(heartbeatSeconds(await stopWatching(page, anonymousId))).toEqual([
      ['lecture', 7],
      ['lecture', 4],
    ]);
  });

  it('gives the last heartbeat before a new source the position and duration of what played', async () => {
    // At emptied the element already reports the next source's: position 0 and no duration.
    const { page, anonymousId } = await lecturePage('/lectures/position');
    await watchSevenSeconds(page, `video.addEventListener('seeked', () => (window.seeked = true));`);
    await page.evaluate(
      `const video = document.getElementById('lecture'); video.pause(); video.currentTime = 1.5`,
    );
    await until(page, 'window.seeked === true', '#lecture to seek to 1.5 s');
    const duration = await page.evaluate<number>(
      `Math.round(document.getElementById('lecture').duration * 10) / 10`,
    );
    expect(duration).toBeGreaterThan(1.5);
    await page.evaluate(`document.getElementById('lecture').load()`);
    await until(page, 'window.emptied === true', '#lecture to be emptied by load()');
    const [last] = named(await stopWatching(page, anonymousId), 'heartbeat');
    expect(last?.props).toMatchObject({ content_id: 'lecture', seconds: 7, position: 1.5, duration });
  });

  it.each([
    ['as Chromium orders it', false],
    ['as the HTML standard orders it', true],
  ])(
    'credits the seconds played before a new source to what played, when its content id is its source URL (%s)',
    async (_, standard) => {
      // Without contentId or an element id the content id is currentSrc. The HTML standard sets it to
      // the new source before the browser fires emptied (Chromium sets it after, so the standard's order
      // is put in place below): the last heartbeat of what played went out with the next item's id.
      const { page, anonymousId } = await lecturePage(`/lectures/by-source-${standard}`);
      if (standard)
        await page.evaluate(`
        const native = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'currentSrc').get;
        Object.defineProperty(HTMLMediaElement.prototype, 'currentSrc', {
          get() { return this.getAttribute('src') === null ? native.call(this) : this.src; },
        });
      `);
      const first = await page.evaluate<string>(`
      const video = document.getElementById('lecture');
      video.removeAttribute('id');
      window.video = video;
      window.emptied = 0;
      video.addEventListener('emptied', () => window.emptied++);
      window.stopWatching = inlet.watch(video, { interval: 10 });
      video.currentSrc
    `);
      const second = await within(
        WAIT,
        "a second blob URL of the video's source",
        page.evaluate<string>(
          `fetch(video.src).then((response) => response.blob()).then((blob) => (window.second = URL.createObjectURL(blob)))`,
        ),
      );
      expect(first).toMatch(/^blob:/);
      // The batch with the last heartbeat of what played is held back until the next batch has been
      // answered, as a busy machine once did with two keepalive requests in flight: ordered by ts,
      // which the collector corrects by each request's sentAt, the heartbeats came out swapped.
      let answer = (): void => {};
      const answered = new Promise<void>((resolve) => (answer = resolve));
      await page.route('**/collect', async (route) => {
        const body = route.request().postData() ?? '';
        if (/"seconds":3[,}]/.test(body)) await answered;
        await route.fulfill({ response: await route.fetch() });
        if (body.includes('stopped_watching')) answer();
      });
      await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
      await page.evaluate('video.play()');
      await until(page, 'window.playEvents === 1', '#lecture to play');
      await page.clock.runFor(7000);
      await page.evaluate('video.load()');
      await until(page, 'window.emptied === 1', 'the video to be emptied by load()');
      await page.evaluate('video.play()');
      await until(page, 'window.playEvents === 2', '#lecture to play');
      await page.clock.runFor(3000);
      // A playlist's next item.
      await page.evaluate('video.src = window.second; video.play()');
      await until(
        page,
        'window.emptied === 2 && window.playEvents === 3',
        'the video to play its new source',
      );
      await page.clock.runFor(4000);
      await stopWatching(page, anonymousId);
      const rows = await eventsOf(anonymousId, (all) => named(all, 'heartbeat').length === 3, 'sent');
      expect(heartbeatSeconds(rows)).toEqual([
        [first, 7],
        [first, 3],
        [second, 4],
      ]);
      expect(named(rows, 'media_play').map((row) => row.props.content_id)).toEqual([first, first, second]);
    },
  );

  it('counts the seconds a page was read when it is left, short of a whole interval', async () => {
    // A page read for 14 seconds with a 15-second heartbeat counted as not read at all.
    // Hidden until the test shows it, so the page's clock counts only the time the test runs.
    const { page, anonymousId } = await readingPage('/reading/short', { hidden: true, heartbeat: 15 });
    await setHidden(page, false);
    await page.clock.runFor(14_000);
    await leave(page);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'heartbeat').length > 0);
    expect(named(rows, 'heartbeat').map((row) => [row.path, row.props])).toEqual([
      ['/reading/short', { kind: 'page', interval: 15, seconds: 14 }],
    ]);
  });

  it(
    'sends no heartbeat until the tab closes with data-heartbeat="Infinity", then one with the seconds read',
    TAB_CLOSE,
    async () => {
      // A timer longer than 2^31 − 1 ms fires at once: this page sent a heartbeat every 4 ms.
      const context = await newContext();
      const page = await open(context, '/reading/forever', { attrs: { 'data-heartbeat': 'Infinity' } });
      const anonymousId = await anonymousIdOf(page);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await page.evaluate(`inlet.track('still_reading'); inlet.flush()`);
      const read = await eventsOf(anonymousId, (all) => named(all, 'still_reading').length > 0);
      expect(named(read, 'heartbeat')).toEqual([]);

      await page.close({ runBeforeUnload: true });
      const rows = await eventsOf(anonymousId, (all) => named(all, 'heartbeat').length > 0);
      const beats = named(rows, 'heartbeat').map((row) => row.props);
      expect(beats).toEqual([{ kind: 'page', interval: null, seconds: expect.any(Number) }]);
      expect(beats[0]?.seconds).toBeGreaterThanOrEqual(1.5);
    },
  );

  it('sends at most one page and one media heartbeat a second for a heartbeat interval of a millisecond', async () => {
    // data-heartbeat="0.001" and watch(video, { interval: 0.001 }) sent some 230 heartbeats a second.
    const context = await newContext();
    const opened = Date.now();
    const page = await open(context, '/reading/flood', { attrs: { 'data-heartbeat': '0.001' } });
    const anonymousId = await anonymousIdOf(page);
    await within(WAIT, 'makeVideo(3) to record and load a video', page.evaluate('makeVideo(3)'));
    await page.evaluate(`
      inlet.watch(document.getElementById('lecture'), { contentId: 'flood', interval: 0.001 });
      document.getElementById('lecture').play();
    `);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await page.evaluate(`document.getElementById('lecture').pause(); inlet.track('done'); inlet.flush()`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'done').length > 0);
    const seconds = (Date.now() - opened) / 1000;
    const beats = (kind: string) => named(rows, 'heartbeat').filter((row) => row.props.kind === kind);
    for (const kind of ['page', 'media']) {
      expect(beats(kind).length).toBeGreaterThanOrEqual(1);
      // At most one a second of the page's life (some five seconds, where each kind went past a
      // thousand), and one at its end: not a fixed 10, which a busy machine's slower page passed.
      expect(beats(kind).length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
      for (const row of beats(kind)) expect(row.props.interval).toBe(1);
    }
  });

  it('warns, naming the attribute and what it takes, for data-heartbeat="30s" or "-30", and not for "off"', async () => {
    // Number("30s") is NaN: heartbeats were off without a word.
    const context = await newContext();
    const warnings = warningsOf(context);
    await open(context, '/reading/units', { attrs: { 'data-heartbeat': '30s' } });
    await open(context, '/reading/off', { attrs: { 'data-heartbeat': 'off' } });
    // A negative number turned them off without a word too.
    await open(context, '/reading/negative', { attrs: { 'data-heartbeat': '-30' } });
    expect(warnings).toEqual([
      'inlet: data-heartbeat takes seconds ("30") or "off", not "30s"; heartbeats are off.',
      'inlet: data-heartbeat takes seconds ("30") or "off", not "-30"; heartbeats are off.',
    ]);
  });

  it("warns for a data-* attribute that reads as a misspelt option, not for its own or other tools'", async () => {
    // data-respect-do-not-track for data-respect-dnt tracked visitors who asked not to be, without a word.
    const context = await newContext();
    const warnings = warningsOf(context);
    await open(context, '/misspelt', {
      // And another tracker's Do-Not-Track option, copied over with its snippet (Umami's).
      attrs: { 'data-respect-do-not-track': '', 'data-hash-route': '', 'data-do-not-track': 'true' },
    });
    await open(context, '/spelt', {
      attrs: { 'data-respect-dnt': '', 'data-hash-routing': '', 'data-auto-pageview': 'true' },
    });
    // Other tools' own attributes, put on every script tag or copied with another snippet, are no misspelling.
    await open(context, '/other-tools', {
      attrs: {
        'data-cfasync': 'false',
        'data-cookieconsent': 'statistics',
        'data-cookiecategory': 'analytics',
        'data-ot-ignore': '',
        'data-domain': 'docs.example.com',
        'data-no-optimize': '1',
        'data-no-minify': '1',
        'data-nscript': 'afterInteractive',
      },
    });
    expect(warnings).toEqual([
      'inlet: unknown data-respectDoNotTrack ignored',
      'inlet: unknown data-hashRoute ignored',
      'inlet: unknown data-doNotTrack ignored',
    ]);
  });

  it('ends time on an SPA page at navigation, naming the page that was read and its title', async () => {
    const { page, anonymousId } = await readingPage('/spa/first', {
      hidden: true,
      heartbeat: 15,
      title: 'First',
    });
    await setHidden(page, false);
    await page.clock.runFor(20_000);
    // As a router does: the next page's title is set right after pushState, before the page view.
    // The last heartbeat of the page left carried that title, crediting its seconds to the next page.
    await page.evaluate(`history.pushState({}, '', '/spa/second'); document.title = 'Second'`);
    await page.clock.runFor(6000);
    // The next navigation ends the second page as well. (Closing the tab instead ends it by beacon,
    // which 'counts the seconds a page was read when the tab closes' covers; on a loaded CI machine
    // a beacon from a closing tab once did not arrive, and the page's seconds went with it.)
    await page.evaluate(`history.pushState({}, '', '/spa/third'); document.title = 'Third'`);
    await page.clock.runFor(2000);

    const rows = await eventsOf(
      anonymousId,
      (all) => named(all, 'heartbeat').length >= 3 && all.some((row) => row.path === '/spa/third'),
      'sent',
    );
    expect(named(rows, 'heartbeat').map((row) => [row.path, row.title, row.props.seconds])).toEqual([
      ['/spa/first', 'First', 15],
      ['/spa/first', 'First', 5],
      ['/spa/second', 'Second', 6],
    ]);
    expect(rows.filter((row) => row.type === 'page').map((row) => [row.path, row.title])).toEqual([
      ['/spa/first', 'First'],
      ['/spa/second', 'Second'],
      ['/spa/third', 'Third'],
    ]);
  });

  it('credits the time on a page before a logout (reset) to the user logging out, not the next visitor', async () => {
    const { page, anonymousId } = await readingPage('/account', { hidden: true, heartbeat: 15 });
    await setHidden(page, false);
    await page.evaluate(`inlet.login('user-logout')`);
    await page.clock.runFor(20_000);
    // The 5 seconds read since the last heartbeat went out with the next one, under the new anonymous
    // id: a visitor with no page view, and the user's time on the page cut short.
    await page.evaluate(`inlet.reset(); inlet.track('logged_out')`);
    const nextVisitor = await anonymousIdOf(page);
    await page.clock.runFor(6000);
    await leave(page);

    const after = await eventsOf(nextVisitor, (all) => named(all, 'heartbeat').length > 0);
    expect(named(after, 'heartbeat').map((row) => [row.user_id, row.props.seconds])).toEqual([[null, 6]]);
    const before = await eventsOf(anonymousId, (all) => named(all, 'heartbeat').length >= 2, 'sent');
    expect(named(before, 'heartbeat').map((row) => [row.user_id, row.props.seconds])).toEqual([
      ['user-logout', 15],
      ['user-logout', 5],
    ]);
  });

  it('counts a page left for the back-forward cache and read again after it once for each stretch', async () => {
    const context = await bfcacheContext();
    await context.clock.install();
    serve('/bf-read-b', { title: 'Page B' });
    const page = await open(context, '/bf-read-a', { attrs: { 'data-heartbeat': '100' } });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(
      `window.leftFrom = true; addEventListener('pageshow', (event) => (window.restored = event.persisted))`,
    );
    await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    const before = await page.evaluate<number>('performance.now()');
    await page.clock.runFor(20_000);
    await page.evaluate(`location.href = '/bf-read-b'`);
    await within(WAIT, 'the navigation to /bf-read-b', page.waitForURL('**/bf-read-b'));
    await goBackFromCache(page);
    await page.clock.runFor(7000);
    await leave(page);

    // Not 'sent': the beacon of a page going into the back-forward cache is not reported to the test.
    // The two heartbeats go out a navigation and a restore apart in real time.
    const rows = await eventsOf(anonymousId, (all) => named(all, 'heartbeat').length >= 2);
    const seconds = named(rows, 'heartbeat').map((row) => row.props.seconds as number);
    expect(named(rows, 'heartbeat').map((row) => row.path)).toEqual(['/bf-read-a', '/bf-read-a']);
    // The first stretch began when the page loaded, a little before the clock was paused.
    expect(seconds[0]).toBeGreaterThanOrEqual(20);
    expect(seconds[0]).toBeLessThanOrEqual(Math.round(before / 100) / 10 + 20.1);
    expect(seconds[1]).toBe(7);
  });

  it('keeps the page heartbeat going past 30 minutes without input while a watched video plays', async () => {
    const context = await newContext();
    await context.clock.install();
    const page = await open(context, '/lectures/long', { attrs: { 'data-heartbeat': '60' } });
    const anonymousId = await anonymousIdOf(page);
    await within(WAIT, 'makeVideo(2) to record and load a video', page.evaluate('makeVideo(2)'));
    await page.evaluate(`
      const video = document.getElementById('lecture');
      video.loop = true;
      inlet.watch(video, { contentId: 'lecture-long', interval: 60 });
      video.play();
    `);
    await until(page, `!document.getElementById('lecture').paused`, '#lecture to play');
    // Forty minutes of a lecture, watched without touching the page.
    await page.clock.runFor(40 * 60_000);

    const pageBeats = (rows: EventRow[]) =>
      named(rows, 'heartbeat').filter((row) => row.props.kind === 'page');
    const rows = await eventsOf(anonymousId, (all) => pageBeats(all).length > 30);
    expect(pageBeats(rows).length).toBeGreaterThan(30);
  });

  it('sends what is buffered through sendBeacon when the tab closes', TAB_CLOSE, async () => {
    const context = await newContext();
    const page = await open(context, '/article');
    const anonymousId = await anonymousIdOf(page);
    // Closed well inside the one-second batch window, so only the pagehide beacon can deliver these.
    await page.evaluate(`inlet.track('read_to_end', { percent: 100 })`);
    await page.close({ runBeforeUnload: true });

    const rows = await eventsOf(anonymousId, (all) => named(all, 'read_to_end').length > 0);
    expect(rows.map((row) => row.name ?? row.type)).toEqual(['page', 'read_to_end']);
  });

  it('sends what is buffered when the tab closes in a browser without sendBeacon', TAB_CLOSE, async () => {
    // Firefox with beacon.enabled off, and some privacy extensions, have no navigator.sendBeacon:
    // the pagehide handler threw, and the buffered events were lost.
    const context = await newContext();
    await context.addInitScript('delete Navigator.prototype.sendBeacon');
    const page = await open(context, '/article-no-beacon');
    const anonymousId = await anonymousIdOf(page);
    expect(await page.evaluate(`typeof navigator.sendBeacon`)).toBe('undefined');
    await page.evaluate(`inlet.track('read_to_end', { percent: 100 })`);
    await page.close({ runBeforeUnload: true });

    const rows = await eventsOf(anonymousId, (all) => named(all, 'read_to_end').length > 0);
    expect(rows.map((row) => row.name ?? row.type)).toEqual(['page', 'read_to_end']);
  });

  it('sends on the next page load, once, an event still buffered when its tab died without pagehide', async () => {
    // Chromium tears down a tab whose pagehide has not run 500 ms after closing it, a mobile OS kills
    // a tab in the background, a renderer crashes: what waited for its one-second batch was lost.
    const context = await newContext();
    await context.clock.install();
    // Each event of every /collect request, with the page that sent it; a crashed page sends none.
    const sent: Array<{ id: string; from: Page | null }> = [];
    context.on('request', (request) => {
      if (!request.url().endsWith('/collect')) return;
      for (const { id } of JSON.parse(request.postData() ?? '{}').e as Array<{ id: string }>)
        sent.push({ id, from: request.frame().page() });
    });
    const dying = await open(context, '/dies');
    const anonymousId = await anonymousIdOf(dying);
    await eventsOf(anonymousId, (rows) => rows.length === 1);
    // Stored until the page has the collector's answer: a page crashed before, on a busy machine, left
    // its page view to the next page load, which sent it a second time.
    await until(dying, `${STORED}.length === 0`, 'the page view to be answered and forgotten');
    // The page's clock stops, so its batch timer cannot send the event before the crash.
    await dying.clock.pauseAt((await dying.evaluate<number>('Date.now()')) + 1000);
    await dying.evaluate(`
      addEventListener('pagehide', () => navigator.sendBeacon('/pagehide-ran'));
      inlet.track('last_words');
    `);
    await crash(context, dying);

    const next = await open(context, '/dies');
    const rows = await eventsOf(
      anonymousId,
      (all) => named(all, 'last_words').length > 0 && all.length === 3,
    );
    expect(rows.map((row) => row.name ?? row.type).sort()).toEqual(['last_words', 'page', 'page']);
    // A page whose pagehide ran would have beaconed the event itself.
    expect(served).not.toContain('/pagehide-ran');
    // The next page's retry sent it, and left that page's own page view, still buffered, to its flush.
    await flushed(next);
    expect(sent.map(({ id }) => id).sort()).toEqual(rows.map((row) => row.event_id).sort());
    expect(sent.find(({ id }) => id === named(rows, 'last_words')[0]?.event_id)?.from).toBe(next);
  });

  it('keeps an event a tab stored while another tab of the site stored its own, and sends it once the tab died', async () => {
    // Each tab read the outbox from its own copy of localStorage, added its event and wrote the whole
    // outbox back: a tab whose copy had not yet seen another tab's write wrote over it, and the event
    // that tab had stored for its batch was lost when the tab then died without its pagehide.
    const context = await newContext();
    await context.clock.install();
    const dying = await open(context, '/tabs/dies');
    const other = await open(context, '/tabs/other');
    const anonymousId = await anonymousIdOf(dying);
    await eventsOf(anonymousId, (rows) => rows.length === 2);
    // Neither page's batch timer sends before the test is done with it.
    for (const page of [dying, other])
      await page.clock.pauseAt((await page.evaluate<number>('Date.now()')) + 1000);
    // The other tab's main thread is held while the dying tab stores its event, so its copy of
    // localStorage has not seen that write when it stores its own event right after.
    const tracked = other.evaluate(`
      const hold = new XMLHttpRequest();
      hold.open('GET', '/hold', false);
      hold.send();
      inlet.track('from_other');
    `);
    // Awaited below, unless a wait before it fails: then it fails as the context closes, unheard.
    tracked.catch(() => {});
    await serverHolds(1, "the other tab's /hold");
    // A tab sharing the other's renderer would wait for its main thread too: bounded, it says so.
    await within(
      WAIT,
      "the dying tab's inlet.track() while the other tab is held",
      dying.evaluate(`inlet.track('last_words')`),
    );
    for (const release of held.splice(0)) release();
    await within(WAIT, "the other tab's inlet.track() after its /hold was answered", tracked);
    // Both stored, as the other tab sees localStorage once the writes have reached it.
    // Bounded itself: expect.poll waits for a read that never ends past its own timeout.
    const outbox = () =>
      within(
        WAIT,
        "the other tab's read of localStorage",
        other.evaluate<string>(
          `Object.keys(localStorage).filter((key) => key.startsWith('inlet.q.')).map((key) => localStorage.getItem(key)).join()`,
        ),
      );
    const seen = (name: string) => ({ timeout: WAIT, message: `the other tab to see ${name} stored` });
    await expect.poll(outbox, seen('from_other')).toContain('"n":"from_other"');
    await expect.poll(outbox, seen('last_words')).toContain('"n":"last_words"');
    await crash(context, dying);

    // The other tab's own batch, and the next page load's retry of what the dead tab stored.
    await other.evaluate('inlet.flush()');
    const next = await open(context, '/tabs/next');
    const rows = await eventsOf(anonymousId, (all) => all.length === 5);
    expect(rows.map((row) => row.name ?? row.type).sort()).toEqual([
      'from_other',
      'last_words',
      'page',
      'page',
      'page',
    ]);
    await until(next, `${STORED}.length === 0`, 'the outbox to be delivered and emptied');
  });

  it('sends the events a page before left stored in the order they happened, on the next page load', async () => {
    // They went in the order of their keys in localStorage, which their random ids set, not their own.
    const context = await newContext();
    const page = await open(context, '/stored-order');
    const anonymousId = await anonymousIdOf(page);
    await eventsOf(anonymousId, (rows) => rows.length === 1);
    await until(page, `${STORED}.length === 0`, 'the page view to be answered and forgotten');
    // As a tab that died with them unsent left them, stored latest first, under ids in that order too.
    await page.evaluate(`
      const now = Date.now();
      ['third', 'second', 'first'].forEach((name, i) => {
        const id = '0000000' + i + '-0000-4000-8000-5704edc0de00';
        const event = { id, t: 'track', n: name, ts: now - 1000 * i, a: ${sqlText(anonymousId)}, s: 'session', url: location.href, c: {} };
        localStorage.setItem('inlet.q.${WRITE_KEY}.' + id, JSON.stringify(event));
      });
    `);
    const sending = page.waitForRequest((request) => (request.postData() ?? '').includes('"first"'));
    await page.reload({ timeout: WAIT });
    const request = await within(WAIT, 'the request with the stored events after the reload', sending);
    const batch: { e: Array<{ n?: string }> } = JSON.parse(request.postData() ?? '{}');
    expect(batch.e.map((event) => event.n)).toEqual(['first', 'second', 'third']);
    // Delivered too, with the two page views.
    const rows = await eventsOf(anonymousId, (all) => all.length === 5);
    expect(rows.flatMap((row) => row.name ?? []).sort()).toEqual(['first', 'second', 'third']);
  });

  it('keeps events made offline and delivers everything exactly once when back online', async () => {
    const context = await newContext();
    const page = await open(context, '/offline');
    const anonymousId = await anonymousIdOf(page);
    await eventsOf(anonymousId, (rows) => rows.length === 1);

    await context.setOffline(true);
    await page.evaluate(
      `inlet.track('offline_1'); inlet.track('offline_2'); inlet.flush(); inlet.track('offline_3')`,
    );
    await until(page, `${STORED}.length === 3`, 'the three offline events to be stored');
    await context.setOffline(false);

    await eventsOf(anonymousId, (rows) => rows.length >= 4);
    // Long enough for any duplicate retry to have arrived too.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rows = await eventsOf(anonymousId, () => true);
    expect(rows.map((row) => row.name ?? row.type).sort()).toEqual([
      'offline_1',
      'offline_2',
      'offline_3',
      'page',
    ]);
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(4);
    expect(await page.evaluate(`${STORED}.length`)).toBe(0);
  });

  it('keeps events while the collector answers with a redirect, warns, and delivers them once it stops', async () => {
    // A POST redirected by 301/302 is followed as a GET: the events never reach the collector,
    // while the tracker took the GET's answer (a page, or a 405 it thought a refusal) as the end.
    let redirecting = true;
    const gets: string[] = [];
    const proxy = createServer(async (request, response) => {
      const cors = { 'Access-Control-Allow-Origin': request.headers.origin ?? '*' };
      if (request.method !== 'POST') {
        gets.push(request.url ?? '');
        response.writeHead(200, { ...cors, 'Content-Type': 'text/html' }).end('<p>moved</p>');
      } else if (redirecting) {
        response.writeHead(301, { ...cors, Location: '/moved' }).end();
      } else {
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const answer = await fetch(`${inlet.url}/collect`, {
          method: 'POST',
          body: Buffer.concat(chunks),
          headers: { 'Content-Type': 'text/plain', Origin: request.headers.origin ?? '' },
        });
        response.writeHead(answer.status, cors).end(await answer.text());
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const context = await newContext();
      const warnings = warningsOf(context);
      const page = await open(context, '/redirected', {
        attrs: { 'data-api': `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
      });
      const anonymousId = await anonymousIdOf(page);
      await page.evaluate(`inlet.track('while_redirected'); inlet.flush()`);
      const stored = () => page.evaluate<number>(`${STORED}.length`);
      // Until the tracker has taken the redirect's answer (it warns), or the events went off as a
      // GET. Stored they are from before the request went (kept until it is answered), so their
      // count alone does not say the answer came.
      const warned = () => warnings.some((text) => text.includes('redirect'));
      await expect
        .poll(() => gets.length > 0 || warned(), {
          timeout: WAIT,
          message: "the tracker to take the redirect's answer (a warning) or the redirect to be followed",
        })
        .toBe(true);
      expect(gets).toEqual([]);
      expect(await stored()).toBe(2);

      redirecting = false;
      const rows = await eventsOf(anonymousId, (all) => all.length >= 2);
      expect(rows.map((row) => row.name ?? row.type).sort()).toEqual(['page', 'while_redirected']);
      await until(page, `${STORED}.length === 0`, 'the outbox to be delivered and emptied');
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('sends a batch a collector with a lower limits.request_bytes refuses in halves that fit', {
    timeout: 60_000,
  }, async () => {
    // The collector answered 413 for the whole batch, and the tracker dropped its 20 events.
    const smallDir = mkdtempSync(join(tmpdir(), 'inlet-tracker-small-'));
    const sites = [{ id: 'docs', write_key: WRITE_KEY, origins: [pageOrigin] }];
    const config = parseConfig(
      { data_dir: smallDir, server: { host: '127.0.0.1', port: 0 }, limits: { request_bytes: 8000 }, sites },
      { env: {} },
    );
    const small = await startInlet({ config, logger: createSilentLogger() });
    const context = await newContext();
    try {
      const page = await open(context, '/small-collector', { attrs: { 'data-api': small.url } });
      const warnings = warningsOf(page);
      const anonymousId = await anonymousIdOf(page);
      // With the page view, 20 events of about 700 bytes each: one batch of some 14 KB.
      await page.evaluate(`for (let i = 1; i <= 20; i++) inlet.track('note', { i, text: 'n'.repeat(400) })`);

      const sql = `SELECT name FROM events WHERE anonymous_id = ${sqlText(anonymousId)}`;
      const deadline = Date.now() + 15_000;
      let rows: Array<{ name: string | null }> = [];
      while (Date.now() < deadline && rows.length < 21) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        rows = await query(sql, small);
      }
      expect(rows.filter((row) => row.name === 'note')).toHaveLength(20);
      expect(rows).toHaveLength(21);
      expect(warnings).toEqual([]);
    } finally {
      // The page's connections to this collector end before it closes, not in afterEach after it.
      await context.close();
      await small.close();
      rmSync(smallDir, { recursive: true, force: true });
    }
  });

  it('sends nothing after optOut() until optIn()', async () => {
    const context = await newContext();
    const page = await open(context, '/privacy');
    await page.evaluate(
      `inlet.optOut(); inlet.track('while_opted_out'); inlet.optIn(); inlet.track('after_opt_in')`,
    );

    // Both would share a batch, so once the second has arrived the first would have too.
    const rows = await eventsWhere(`name IN ('while_opted_out', 'after_opt_in')`, (all) => all.length > 0);
    expect(rows.map((row) => row.name)).toEqual(['after_opt_in']);
  });

  it('sends nothing after optOut(), not even an event whose request was in flight and then failed', async () => {
    // The failed request's events were stored again after optOut() had deleted them, and the retry a
    // second later sent them for a visitor who had opted out.
    const context = await newContext();
    await countSettled(context);
    const page = await open(context, '/opt-out-in-flight');
    const anonymousId = await anonymousIdOf(page);
    await eventsOf(anonymousId, (rows) => rows.length === 1);
    await until(page, 'window.settled === 1', "the page view's request to settle");
    await context.setOffline(true);
    await page.evaluate(`inlet.track('before_opt_out'); inlet.flush(); inlet.optOut()`);
    await until(page, 'window.settled === 2', 'the offline request of before_opt_out to fail');
    await context.setOffline(false);
    const sent = sentFrom(context);
    // A retry now sends what is stored, before the event tracked after opting in again.
    const after = page.waitForRequest((request) => (request.postData() ?? '').includes('after_opt_in'));
    await page.evaluate(
      `dispatchEvent(new Event('online')); inlet.optIn(); inlet.track('after_opt_in'); inlet.flush()`,
    );
    await within(WAIT, 'the request with after_opt_in', after);
    expect(sent).toEqual(['after_opt_in']);
  });

  it("sends none of a tab's buffered events once the visitor opted out in another tab", async () => {
    // optOut() in one tab deleted the events the site's tabs had stored, but another tab still sent
    // those waiting in its buffer for their batch a moment later.
    const context = await newContext();
    await context.clock.install();
    const tab = await open(context, '/opt-out-elsewhere');
    const other = await open(context, '/opt-out-here');
    // The batch timer waits on the paused clock: the event stays buffered until the flush below.
    await tab.clock.pauseAt((await tab.evaluate<number>('Date.now()')) + 1000);
    const sent: string[] = [];
    context.on('request', (request) => {
      if (request.url().endsWith('/collect'))
        for (const event of JSON.parse(request.postData() ?? '{}').e) if (event.n) sent.push(event.n);
    });
    await tab.evaluate(`inlet.track('buffered_in_other_tab')`);
    await other.evaluate('inlet.optOut()');
    await until(tab, `localStorage.getItem('inlet.optout') === '1'`, "the tab to see the other's optOut()");
    await flushed(tab);
    expect(sent).toEqual([]);
  });

  it("sends none of a tab's events whose request failed after the visitor opted out in another tab", async () => {
    // The events of a request in flight when another tab opted out were stored again when it failed,
    // after that tab's optOut() had deleted them, and this tab's retry sent them a second later.
    const context = await newContext();
    await countSettled(context);
    const tab = await open(context, '/opted-out-in-flight', {
      attrs: { 'data-api': `${pageOrigin}/failing` },
    });
    // Its page view's request, which the page server holds; it goes a second after load (the batch).
    await serverHolds(1, "the tab's page view request to /failing/collect");
    const other = await open(context, '/opting-out');
    await other.evaluate('inlet.optOut()');
    await until(tab, `localStorage.getItem('inlet.optout') === '1'`, "the tab to see the other's optOut()");
    const sent = sentFrom(context);
    for (const release of held.splice(0)) release();
    await until(tab, 'window.settled === 1', "the page view's request to fail with the 503");
    // A retry now sends what is stored, before the event tracked after opting in again.
    const after = tab.waitForRequest((request) => (request.postData() ?? '').includes('after_opt_in'));
    await tab.evaluate(
      `dispatchEvent(new Event('online')); inlet.optIn(); inlet.track('after_opt_in'); inlet.flush()`,
    );
    await within(WAIT, 'the request with after_opt_in', after);
    expect(sent).toEqual(['after_opt_in']);
  });

  it('sends nothing on the next page load after optOut(), not even events another tab stored', async () => {
    const context = await newContext();
    const page = await open(context, '/opted-out');
    const stored = await page.evaluate(`
      inlet.optOut();
      // What a second tab, still open, stored when its send failed after the opt-out.
      const event = { id: 'stored-after-opt-out', t: 'track', n: 'from_other_tab', ts: Date.now(), a: 'anon', s: 'session', url: location.href, c: {} };
      localStorage.setItem('inlet.q.${WRITE_KEY}.' + event.id, JSON.stringify(event));
      ${STORED}.length === 1;
    `);
    expect(stored).toBe(true);
    const collects: string[] = [];
    context.on('request', (request) => request.url().includes('/collect') && collects.push(request.url()));
    await page.reload({ timeout: WAIT });
    await within(
      WAIT,
      'inlet.js to run on /opted-out after the reload',
      page.evaluate('window.inletReady()'),
    );
    // The outbox is retried a second after load, and at once when the browser comes back online.
    await page.evaluate(`dispatchEvent(new Event('online'))`);
    await flushed(page);
    expect(collects).toEqual([]);
    expect(await page.evaluate(`${STORED}.length`)).toBe(0);
  });

  it('loads inlet.js from the collector and sends to that origin without data-api', async () => {
    const context = await newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    pages.set(
      '/from-collector',
      `<!doctype html><title>From the collector</title><script defer src="${inlet.url}/inlet.js" data-write-key="${WRITE_KEY}" data-heartbeat="off"></script>`,
    );
    await page.goto(`${pageOrigin}/from-collector`, { timeout: WAIT });
    await until(page, 'window.inlet?.track', "the collector's inlet.js to run");
    const anonymousId = await anonymousIdOf(page);
    expect(await eventsOf(anonymousId, (rows) => rows.length > 0)).toMatchObject([
      { type: 'page', path: '/from-collector', title: 'From the collector' },
    ]);
  });

  it('sends to the collector named by data-api without its scheme, in the page scheme', async () => {
    // data-api="collect.example.com" was fetched relative to the page, from the page's own server
    // (/collect.example.com/collect there), and every event was lost without a word.
    const context = await newContext();
    const warnings = warningsOf(context);
    const host = inlet.url.replace(/^https?:\/\//, '');
    const page = await open(context, '/api-without-scheme', { attrs: { 'data-api': host } });
    const anonymousId = await anonymousIdOf(page);
    expect(await eventsOf(anonymousId, (rows) => rows.length > 0)).toMatchObject([
      { type: 'page', path: '/api-without-scheme' },
    ]);
    // A whole address with spaces around it is read as fetch reads it, not taken for a host.
    const spaced = await open(await newContext(), '/api-with-spaces', {
      attrs: { 'data-api': ` ${inlet.url} ` },
    });
    expect(await eventsOf(await anonymousIdOf(spaced), (rows) => rows.length > 0)).toMatchObject([
      { type: 'page', path: '/api-with-spaces' },
    ]);
    expect(warnings).toEqual([]);
  });

  it('warns in the console when data-api names a wrong path, which answers 404, naming what to send', async () => {
    // data-api ending in /collect posted to /collect/collect, whose 404 had no CORS header: fetch
    // failed as a network error, and the events were retried for good without a word.
    const context = await newContext();
    const warnings = warningsOf(context);
    await open(context, '/api-with-collect', { attrs: { 'data-api': `${inlet.url}/collect` } });
    await expect
      .poll(() => warnings, { timeout: 15_000, message: "the warning of the collector's 404" })
      .toEqual([
        `inlet: the collector refused event "page": No route POST /collect/collect; the tracker's data-api (createTracker's api) is the collector's address without /collect, which it adds.`,
      ]);
  });

  it('as an ES module, warns and tracks nothing without api or writeKey, and takes api as a URL object', async () => {
    // Without api, createTracker() threw "Cannot read properties of undefined (reading 'replace')"; an
    // api without its scheme sent every event to the page's own server, relative to the page.
    const { page, warnings } = await openModulePage(
      '/module',
      `createTracker({ writeKey: '${WRITE_KEY}' }).track('without_api');
  createTracker({ api: '${inlet.url}' }).track('without_write_key');
  createTracker({ writeKey: '${WRITE_KEY}', api: '${inlet.url.replace(/^https?:\/\//, '')}' }).track('without_scheme');
  window.inlet = createTracker({ writeKey: '${WRITE_KEY}', api: new URL('${inlet.url}'), heartbeat: 0 });
  inlet.track('with_url_api');`,
    );
    const anonymousId = await anonymousIdOf(page);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'with_url_api').length > 0);
    expect(rows.map((row) => row.name ?? row.type)).toEqual(['with_url_api', 'page']);
    expect(warnings).toEqual([
      'inlet: createTracker() needs api, the collector\'s address such as "https://collect.example.com"; nothing is tracked without it.',
      "inlet: createTracker() needs writeKey, the site's write key (wk_…) from inlet.yaml; nothing is tracked without it.",
      `inlet: createTracker() needs api as a whole address such as "https://collect.example.com", not "${inlet.url.replace(/^https?:\/\//, '')}"; nothing is tracked without it.`,
    ]);
  });

  it('as an ES module, warns for heartbeat: "30s", naming the option and what it takes, and not for 0 or false', async () => {
    // Math.max(1, '30s') is NaN: heartbeats were off without a word, where data-heartbeat="30s" warned.
    const { warnings } = await openModulePage(
      '/module-heartbeat',
      `const options = { writeKey: '${WRITE_KEY}', api: '${inlet.url}', autoPageview: false };
  createTracker({ ...options, heartbeat: false });
  createTracker({ ...options, heartbeat: '30' });
  createTracker({ ...options, heartbeat: { seconds: 30 } });
  window.inlet = createTracker({ ...options, heartbeat: '30s' });`,
    );
    expect(warnings).toEqual([
      'inlet: createTracker() takes heartbeat in seconds (30) or 0 for off, not a value of type object; heartbeats are off.',
      'inlet: createTracker() takes heartbeat in seconds (30) or 0 for off, not "30s"; heartbeats are off.',
    ]);
  });

  it('as an ES module, reads autoPageview: "false" as false, and warns for a flag that is neither', async () => {
    // A truthy string: 'false' kept automatic page views (and respectDnt: 'false' respected DNT).
    const { page, warnings } = await openModulePage(
      '/module-flags',
      `createTracker({ writeKey: '${WRITE_KEY}', api: '${inlet.url}', heartbeat: 0, autoPageview: false, respectDnt: 'yes' });
  window.inlet = createTracker({ writeKey: '${WRITE_KEY}', api: '${inlet.url}', heartbeat: 0, autoPageview: 'false', respectDnt: 'FALSE' });
  inlet.track('with_text_flags');`,
    );
    const anonymousId = await anonymousIdOf(page);
    const rows = await eventsOf(anonymousId, (all) => named(all, 'with_text_flags').length > 0);
    expect(rows.map((row) => row.name ?? row.type)).toEqual(['with_text_flags']);
    expect(warnings).toEqual([
      'inlet: createTracker() takes respectDnt as true or false, not "yes"; taken as true.',
    ]);
  });

  it('sends and stores nothing under Global Privacy Control when data-respect-dnt is set', async () => {
    const context = await newContext();
    await context.addInitScript(
      `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })`,
    );
    const collects: string[] = [];
    context.on('request', (request) => request.url().includes('/collect') && collects.push(request.url()));
    const page = await open(context, '/gpc', { attrs: { 'data-respect-dnt': '' } });
    await page.evaluate(`inlet.track('should_not_send'); inlet.identify('user-gpc')`);
    await flushed(page);
    expect(collects).toEqual([]);
    expect(
      await page.evaluate(`Object.keys(localStorage).filter((key) => key.startsWith('inlet.'))`),
    ).toEqual([]);
  });
  it('sends nothing under Do-Not-Track when data-respect-dnt is set, and tracks without it', async () => {
    const context = await newContext();
    await context.addInitScript(
      `Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })`,
    );
    const collects: string[] = [];
    context.on('request', (request) => request.url().includes('/collect') && collects.push(request.url()));
    const page = await open(context, '/dnt', { attrs: { 'data-respect-dnt': '' } });
    await page.evaluate(`inlet.track('should_not_send')`);
    await flushed(page);
    expect(collects).toEqual([]);
    const ignoring = await open(context, '/dnt-ignored');
    const anonymousId = await anonymousIdOf(ignoring);
    await ignoring.evaluate(`inlet.track('sent_anyway'); inlet.flush()`);
    await eventsOf(anonymousId, (rows) => named(rows, 'sent_anyway').length === 1);
  });
});
