import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startInlet } from '../src/app/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { createSilentLogger } from '../src/log/index.ts';
import {
  anonymousIdOf,
  eventsOf,
  eventsWhere,
  flushed,
  held,
  inlet,
  named,
  newContext,
  open,
  pageOrigin,
  query,
  STORED,
  served,
  serverHolds,
  setUpTrackerBrowser,
  sqlText,
  TAB_CLOSE,
  until,
  WAIT,
  WRITE_KEY,
  warningsOf,
} from './tracker-browser.ts';
import { within } from './within.ts';

// The browser tracker end to end (tracker-browser.ts sets it up): delivery: the pagehide beacon, the
// outbox a dead tab or an offline page leaves, redirects and a collector's request limit.

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

setUpTrackerBrowser();

describe('browser tracker', () => {
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

  it('sends events of one millisecond that a failing collector left stored in the order they were called in', async () => {
    // A page view and the track() calls right after it share a millisecond, and went in the order of
    // their keys in localStorage. Here the page's clock stands still, so all its events share one.
    const context = await newContext();
    const calls = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth'];
    const page = await open(context, '/same-ms', {
      attrs: { 'data-api': `${pageOrigin}/failing` },
      head: '<script>const frozen = Date.now(); Date.now = () => frozen;</script>',
    });
    await page.evaluate(`${JSON.stringify(calls)}.forEach((name) => inlet.track(name)); inlet.flush()`);
    // Every request the collector fails, until the page holds the events as failed, not as in flight.
    await expect
      .poll(
        () => {
          for (const release of held.splice(0)) release();
          return page.evaluate(`${STORED}.filter((event) => !event.b).length`);
        },
        { timeout: WAIT, message: 'the events to be stored as failed' },
      )
      .toBe(calls.length + 1);
    const anonymousId = await anonymousIdOf(page);
    await page.close();
    const sending = context.waitForEvent('request', {
      predicate: (request) =>
        request.url() === `${inlet.url}/collect` && /"first"/.test(request.postData() ?? ''),
      timeout: WAIT,
    });
    await open(context, '/same-ms-next');
    const batch: { e: Array<{ t: string; n?: string; url: string }> } = JSON.parse(
      (await within(WAIT, 'the request with the stored events', sending)).postData() ?? '{}',
    );
    const sent = batch.e.filter((event) => event.url.endsWith('/same-ms')).map((event) => event.n ?? event.t);
    expect(sent).toEqual(['page', ...calls]);
    // In the lake they share a ts; their seq in context keeps the order they were called in.
    await eventsWhere(
      `anonymous_id = ${sqlText(anonymousId)} AND path = '/same-ms'`,
      (rows) => rows.length === 7,
    );
    const rows = await query<{ name: string }>(
      `SELECT coalesce(name, type) AS name FROM events WHERE anonymous_id = ${sqlText(anonymousId)} ` +
        `AND path = '/same-ms' ORDER BY ts, (context->>'seq')::INTEGER`,
    );
    expect(rows.map((row) => row.name)).toEqual(['page', ...calls]);
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
});
