import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  anonymousIdOf,
  bfcacheContext,
  eventsOf,
  goBackFromCache,
  named,
  newContext,
  open,
  pageOrigin,
  pages,
  serve,
  setUpTrackerBrowser,
  TAB_CLOSE,
  WAIT,
  warningsOf,
} from './tracker-browser.ts';
import { within } from './within.ts';

// The browser tracker end to end (tracker-browser.ts sets it up): time on a page: the page heartbeats of
// data-heartbeat, at navigation, logout, tab close and the back-forward cache.

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

/** Hides or shows a readingPage()'s tab, with the visibilitychange event a browser fires. */
const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate(`window.__hidden = ${hidden}; document.dispatchEvent(new Event('visibilitychange'))`);

setUpTrackerBrowser();

describe('browser tracker', () => {
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
});
