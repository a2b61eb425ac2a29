import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
  type Request,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { isBuildCurrent } from '../../tracker/scripts/build-stamp.ts';
import { type RunningInlet, startInlet } from '../src/app/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { createSilentLogger } from '../src/log/index.ts';
import { within } from './within.ts';

// The browser tracker end to end, shared by the tracker-*.browser.test.ts files: Chromium loads a page
// from one origin that sends to the collector on another, and every assertion reads rows back through the
// query API, as a user of inlet would. In-page code lives in fixtures/tracker/*.js and is called by name,
// because this package's TypeScript build has no DOM types. Each test file calls setUpTrackerBrowser()
// for a collector, page server and Chromium of its own.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/tracker/', import.meta.url));
export const WRITE_KEY = 'wk_tracker_browser_test';
/**
 * A bound on one wait on a page or the page server, well inside a test's 30 s, so that a wait that never
 * ends fails naming what it waited for rather than at the test's timeout.
 */
export const WAIT = 10_000;
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

export interface EventRow {
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

export interface PageOptions {
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
export let inlet: RunningInlet;
let pageServer: Server;
export let pageOrigin: string;
let dataDir: string;
export const pages = new Map<string, string>();
export const pageErrors: string[] = [];
/** Paths the page server was asked for, which requests of a closing page reach while Playwright no longer reports them. */
export const served: string[] = [];
const contexts: BrowserContext[] = [];
/** Answers to the requests the page server holds (/hold, /failing/collect) the test has not given yet. */
export const held: Array<() => void> = [];

const mediaHelpers = readFileSync(join(FIXTURES, 'media.js'), 'utf8');
const escapeAttr = (value: string): string => value.replaceAll('&', '&amp;').replaceAll('"', '&quot;');

/** Rows of `sql` from the test's inlet, or from `target`. */
export async function query<T>(sql: string, target: RunningInlet = inlet): Promise<T[]> {
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
export type Order = 'ts' | 'arrival' | 'sent';

/**
 * The site's events matching `where`, polled until `ready` holds (the collector is asynchronous), in
 * the order of `ts`, the client's time corrected by each request's clock skew. Requests that took
 * unlike times to arrive (a busy machine) can come out of that order: pages a few tens of milliseconds
 * apart, or a page on the test's clock, which runs seconds ahead in no time, with two keepalive
 * requests in flight. `order: 'arrival'` orders by `received_at` instead, where each page's events are
 * known to reach the collector after the page before's; `order: 'sent'` in the order the page sent
 * them (sentOrder), for a page that is not closed, whose requests the browser context reports.
 */
export async function eventsWhere(
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

export const sqlText = (value: string): string => `'${value.replaceAll("'", "''")}'`;
export const eventsOf = (anonymousId: string, ready: (rows: EventRow[]) => boolean, order: Order = 'ts') =>
  eventsWhere(`anonymous_id = ${sqlText(anonymousId)}`, ready, order);
export const named = (rows: EventRow[], name: string) => rows.filter((row) => row.name === name);

export async function newContext(options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  context.on('request', recordSent);
  contexts.push(context);
  return context;
}

/** A context in a Chromium that keeps the back-forward cache on, which Playwright turns off by default. */
export async function bfcacheContext(): Promise<BrowserContext> {
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
export const serverHolds = (count: number, what: string) =>
  expect.poll(() => held.length, { timeout: WAIT, message: `the page server to hold ${what}` }).toBe(count);

/** What `target` (a page, or every page of a context) writes with console.warn, as it comes. */
export function warningsOf(target: Page | BrowserContext): string[] {
  const warnings: string[] = [];
  target.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
  return warnings;
}

/** Puts a page with the snippet at `path` on the page server. */
export function serve(path: string, options: PageOptions = {}): void {
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
export async function open(context: BrowserContext, path: string, options: PageOptions = {}): Promise<Page> {
  serve(path, options);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message}`));
  await page.goto(`${pageOrigin}${path}`, { referer: options.referer, timeout: WAIT });
  await within(WAIT, `inlet.js to run on ${path}`, page.evaluate('window.inletReady()'));
  return page;
}

/** Waits until `expression` holds in `page`, failing after WAIT with `what` it waited for. */
export const until = (page: Page, expression: string, what: string) =>
  within(
    WAIT,
    `${what} (${expression}) on ${new URL(page.url()).pathname}`,
    page.waitForFunction(expression),
  );

/**
 * Flushes the page's tracker and then makes a request of its own: a /collect that the flush sent (the
 * page view and the events waiting for their batch) has come before this returns.
 */
export async function flushed(page: Page): Promise<void> {
  const after = page.waitForRequest((request) => request.url().endsWith('/after-flush'));
  await page.evaluate(`inlet.flush(); fetch('/after-flush').catch(() => {})`);
  await within(WAIT, `the request ${new URL(page.url()).pathname} makes after inlet.flush()`, after);
}

/**
 * Goes back to a page whose pageshow listener sets window.restored, and window.leftFrom before it
 * was left; fails unless the page came back from the back-forward cache rather than loaded again.
 */
export async function goBackFromCache(page: Page): Promise<void> {
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
 * Where the pages load inlet.js from: the page server hands out the same dist/inlet.js the collector
 * serves, with data-api naming the collector; the last test covers the collector's own /inlet.js.
 */
const scriptSrc = (): string => `${pageOrigin}/inlet.js`;

export const anonymousIdOf = (page: Page) => page.evaluate<string>("localStorage.getItem('inlet.a')");

/** In-page expression: the events the tracker's outbox holds in localStorage, each under a key of its own. */
export const STORED = `Object.keys(localStorage).filter((key) => key.startsWith('inlet.q.${WRITE_KEY}.')).map((key) => JSON.parse(localStorage.getItem(key)))`;

/**
 * For the tests that close a tab for real: Chromium gives a closing page's pagehide handlers 500 ms
 * (its unload timeout) and then tears the tab down without them, so a renderer the full suite keeps
 * off the CPU that long sends nothing, which the test cannot tell from a tracker that sent nothing.
 * Tried again so a starved renderer is not taken for a fault; a tracker that never sends fails every try.
 */
export const TAB_CLOSE = { retry: 2 };

/**
 * Makes sure packages/tracker/dist, which the collector serves as inlet.js, is built from the current
 * source, building it only when it is not: `npm test` and `npm ci` have just built it, and the tracker
 * build stamps dist/ with a hash of what it was built from (build-stamp.ts). The tracker-*.browser.test.ts
 * files run side by side, and two builds at once write the same temporary files and can rename them from
 * under each other: a build waits for the one before under a lock (flock), and --if-changed then finds
 * the build the file before it made. Run without blocking: a worker whose event loop waited that long
 * (up to 45 s for the lock, then the build, on a loaded machine) could not answer vitest's calls, which
 * time out after 60 s and fail the run.
 */
async function buildTracker(): Promise<void> {
  if (isBuildCurrent()) return;
  const lock = join(tmpdir(), 'inlet-tracker-build.lock');
  const build = ['--import', 'tsx', 'scripts/build.ts', '--if-changed'];
  try {
    await promisify(execFile)('flock', ['-w', '45', lock, process.execPath, ...build], {
      cwd: join(ROOT, 'packages/tracker'),
    });
  } catch (error) {
    const { code, stderr } = error as { code?: number | string; stderr?: string };
    throw new Error(
      `building the tracker failed (exit ${code}; flock gives 1 after waiting 45 s for ${lock}): ${stderr ?? ''}`,
    );
  }
}

/** Starts the file's page server, collector and Chromium before its tests, and checks and closes what each test left. */
export function setUpTrackerBrowser(): void {
  beforeAll(async () => {
    await buildTracker();

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
}
