import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  anonymousIdOf,
  type EventRow,
  eventsOf,
  flushed,
  named,
  newContext,
  open,
  setUpTrackerBrowser,
  until,
  WAIT,
} from './tracker-browser.ts';
import { within } from './within.ts';

// The browser tracker end to end (tracker-browser.ts sets it up): watched media: media_play, pause and
// end, and the media heartbeats of watch().

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

setUpTrackerBrowser();

describe('browser tracker', () => {
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
});
