import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  anonymousIdOf,
  eventsOf,
  inlet,
  named,
  newContext,
  open,
  pageErrors,
  pageOrigin,
  pages,
  setUpTrackerBrowser,
  until,
  WAIT,
  WRITE_KEY,
  warningsOf,
} from './tracker-browser.ts';

// The browser tracker end to end (tracker-browser.ts sets it up): setting up: the script tag's data-*
// attributes, inlet.js served by the collector, and createTracker() of the ES module.

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

setUpTrackerBrowser();

describe('browser tracker', () => {
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
      // Each for a site of its own, as a second tracker of a site is the first; none records anything.
      `const options = { api: '${inlet.url}', autoPageview: false };
  createTracker({ ...options, writeKey: 'wk_a', heartbeat: false });
  createTracker({ ...options, writeKey: 'wk_b', heartbeat: '30' });
  createTracker({ ...options, writeKey: 'wk_c', heartbeat: { seconds: 30 } });
  window.inlet = createTracker({ ...options, writeKey: 'wk_d', heartbeat: '30s' });`,
    );
    expect(warnings).toEqual([
      'inlet: createTracker() takes heartbeat in seconds (30) or 0 for off, not a value of type object; heartbeats are off.',
      'inlet: createTracker() takes heartbeat in seconds (30) or 0 for off, not "30s"; heartbeats are off.',
    ]);
  });

  it('as an ES module, returns the tracker made before for a second createTracker() of the site, with a warning', async () => {
    // Called twice (a component's effect run twice by React's StrictMode, a module run again by hot
    // reload, two parts of an app each setting up tracking), two trackers counted every page view, SPA
    // navigation and heartbeat twice, without a word.
    const { page, warnings } = await openModulePage(
      '/module-twice',
      `const options = { writeKey: '${WRITE_KEY}', api: '${inlet.url}', heartbeat: 0 };
  const first = createTracker(options);
  window.inlet = createTracker({ ...options, api: '${inlet.url}/', hashRouting: true });
  window.same = first === inlet;`,
    );
    const anonymousId = await anonymousIdOf(page);
    // The track after the navigation's page view, which waits a task.
    await page.evaluate(
      `history.pushState({}, '', '/module-twice/next'); setTimeout(() => inlet.track('after_navigation'), 50)`,
    );

    const rows = await eventsOf(anonymousId, (all) => named(all, 'after_navigation').length > 0, 'sent');
    expect(rows.map((row) => [row.name ?? row.type, row.path])).toEqual([
      ['page', '/module-twice'],
      ['page', '/module-twice/next'],
      ['after_navigation', '/module-twice/next'],
    ]);
    expect(await page.evaluate('window.same')).toBe(true);
    expect(warnings).toEqual([
      `inlet: createTracker() ran before on this page for ${WRITE_KEY}: it returns the tracker made then, with the options given then, so that nothing is counted twice.`,
    ]);
  });

  it('as an ES module, reads autoPageview: "false" as false, and warns for a flag that is neither', async () => {
    // A truthy string: 'false' kept automatic page views (and respectDnt: 'false' respected DNT).
    const { page, warnings } = await openModulePage(
      '/module-flags',
      // The first for a site of its own, as a second tracker of a site is the first; it records nothing.
      `createTracker({ writeKey: 'wk_other', api: '${inlet.url}', heartbeat: 0, autoPageview: false, respectDnt: 'yes' });
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
});
