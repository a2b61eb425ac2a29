import type { BrowserContext } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  anonymousIdOf,
  eventsOf,
  eventsWhere,
  flushed,
  held,
  named,
  newContext,
  open,
  pageOrigin,
  STORED,
  serverHolds,
  setUpTrackerBrowser,
  until,
  WAIT,
  WRITE_KEY,
} from './tracker-browser.ts';
import { within } from './within.ts';

// The browser tracker end to end (tracker-browser.ts sets it up): privacy: optOut() and optIn(), in one
// tab and across tabs, Global Privacy Control and Do-Not-Track.

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

setUpTrackerBrowser();

describe('browser tracker', () => {
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
