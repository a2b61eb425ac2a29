import { describe, expect, it } from 'vitest';
import {
  anonymousIdOf,
  bfcacheContext,
  eventsOf,
  flushed,
  goBackFromCache,
  named,
  newContext,
  open,
  pageOrigin,
  serve,
  setUpTrackerBrowser,
  WAIT,
} from './tracker-browser.ts';
import { within } from './within.ts';

// The browser tracker end to end (tracker-browser.ts sets it up): page views: the URL, referrer and title
// of each view, SPA and hash-route navigation, prerendering and the back-forward cache.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

setUpTrackerBrowser();

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

  it("records one page view on load when the stub's queue holds a page(), with that call's properties", async () => {
    // A snippet as Segment's is written, inlet('page') in the stub: the queued page view and the automatic
    // one after it were two views of one page load.
    const context = await newContext();
    const page = await open(context, '/docs/queued', {
      head: `<script>inlet('page', { section: 'docs' }); inlet('track', 'queued_after_page');</script>`,
    });
    const anonymousId = await anonymousIdOf(page);
    await page.evaluate(`inlet.track('last'); inlet.flush()`);

    const rows = await eventsOf(anonymousId, (all) => named(all, 'last').length > 0, 'sent');
    expect(rows.map((row) => [row.name ?? row.type, row.props])).toEqual([
      ['page', { section: 'docs' }],
      ['queued_after_page', null],
      ['last', null],
    ]);
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
});
