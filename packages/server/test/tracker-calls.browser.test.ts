import { describe, expect, it } from 'vitest';
import {
  anonymousIdOf,
  eventsOf,
  named,
  newContext,
  open,
  setUpTrackerBrowser,
  until,
  warningsOf,
} from './tracker-browser.ts';

// The browser tracker end to end (tracker-browser.ts sets it up): the calls a site makes: track, identify,
// login, reset, search and watch, with the stub's queue and the warnings for what they cannot take.

setUpTrackerBrowser();

describe('browser tracker', () => {
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
});
