import { createIdentity } from './identity.ts';
import { watchMedia } from './media-watch.ts';
import { onNavigate } from './navigation.ts';
import { startPageHeartbeat } from './page-heartbeat.ts';
import { whenShown } from './prerender.ts';
import { doNotTrack } from './privacy.ts';
import { createSender } from './sender.ts';
import { browserStorage, createStore } from './store.ts';
import type { Inlet, Props, TrackerOptions, WireEvent } from './types.ts';
import { uuid } from './uuid.ts';
import { isVisible, onVisibilityChange } from './visibility.ts';
import { warn } from './warn.ts';

/**
 * Cut strings to the collector's field limits, so one long title cannot get a whole batch refused. A cut
 * between the halves of a surrogate pair (an emoji) is moved before it: half an emoji is stored as "\uFFFD".
 */
const cut = (text: string, max: number): string | undefined =>
  text.slice(0, text.charCodeAt(max - 1) >> 10 === 0x36 ? max - 1 : max) || undefined;
const asProps = (value: unknown): Props | undefined =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Props) : undefined;

/**
 * The user id identify() and login() take, as stored; undefined for none, and with a warning for one
 * they cannot take. A user id 0 is one; NaN and Infinity are not.
 */
const userIdOf = (userId: unknown): string | undefined => {
  if (userId == null || userId === '') return;
  // The user object instead of its id became "[object Object]", one user id for every user. The collector
  // refuses a longer id, and a kept one goes with every later event of this browser. NaN (a parseInt of
  // no number) became the user id "NaN", one for every such user; Infinity likewise.
  if ((typeof userId === 'string' || Number.isFinite(userId)) && `${userId}`.length <= 200)
    return `${userId}`;
  warn('identify() ignored: give it user.id, a string or number of up to 200 characters.');
};

/**
 * Starts tracking this page. The first page view waits for a microtask, so calls made right after
 * (or queued by the snippet stub before the script loaded), such as identify(), come first.
 */
export function createTracker(options: TrackerOptions): Inlet {
  const store = createStore(browserStorage());
  const ids = createIdentity(store);
  const dnt = options.respectDnt && doNotTrack();
  const blocked = (): boolean => dnt || store.get('optout') === '1';
  const sender = createSender({
    collectUrl: `${options.api.replace(/\/+$/, '')}/collect`,
    writeKey: options.writeKey,
    kv: store,
    blocked,
  });
  const hashRouting = options.hashRouting === true;
  let used = (_end?: boolean): void => {};
  // Another tab may have stored events after this browser opted out; they are not sent either.
  if (blocked()) sender.wipe();
  // The URL of the current page view, and its referrer: document.referrer on load and on a back-forward
  // cache restore, then the previous SPA page. `left` is set once the page is hidden for another.
  let href = '';
  // The title the page view recorded: at an SPA navigation the app has set the next page's by the time
  // the last heartbeat of the page left goes out.
  let title = '';
  let referrer = document.referrer;
  let left = false;
  let pageKey = '';
  let pageRoute = '';
  // Set from pagehide to pageshow: what is recorded then (the last heartbeats) goes out at once by beacon.
  let gone = false;
  // Events recorded so far: each event's `seq`, the order of the calls in this page load.
  let seq = 0;
  // A hash route's own query (#/search?q=…) is a query string too: the collector leaves it out of the path.
  const route = (): string => location.pathname + (hashRouting ? location.hash.split('?')[0] : '');
  const currentKey = (): string => route() + location.search + (hashRouting ? location.hash : '');

  // Events of a prerendered page wait until it is shown, and are dropped with it if it never is. The
  // title is read when the event is recorded, the URL when it is sent.
  const send = (
    type: WireEvent['t'],
    name?: string,
    props?: unknown,
    url = location.href,
    ti?: string,
  ): void =>
    whenShown(() => {
      if (blocked()) return;
      const ts = Date.now();
      sender.add({
        id: uuid(),
        t: type,
        n: name && cut(name, 200),
        ts,
        a: ids.anonymousId(),
        u: ids.userId(),
        s: ids.session(ts),
        url: cut(url, 8192) as string,
        ref: cut(referrer, 8192),
        ti: cut(ti ?? document.title, 2000),
        p: asProps(props),
        c: {
          sw: screen.width,
          sh: screen.height,
          lang: navigator.language,
          library: 'inlet.js',
          hash_routing: hashRouting || undefined,
          seq: seq++,
        },
      });
      if (gone) sender.flush(true);
    });

  const inlet: Inlet = {
    page(props) {
      // Back from the back-forward cache the page was reached as at load, as when back or forward loads
      // it again without the cache: its own URL, or the page left for it, would credit a session
      // starting there to the site itself.
      // The time on the page before ends first, so its last heartbeat still names that page.
      if (href) used(true);
      referrer = left ? document.referrer : href || referrer;
      left = false;
      href = location.href;
      title = document.title;
      pageKey = currentKey();
      pageRoute = route();
      send('page', undefined, props);
    },
    track(name, props) {
      // An event name undefined by a typo, or a number, lost the event without a word.
      if (typeof name === 'string' && name) send('track', name, props);
      else warn("track() ignored: give it an event name ('signup').");
    },
    identify(userId, traits) {
      const id = blocked() ? undefined : userIdOf(userId);
      if (id === undefined) return;
      ids.setUserId(id);
      send('identify', undefined, traits);
    },
    login(userId, traits) {
      const id = userIdOf(userId);
      if (id === undefined) return;
      // After identify() with the same id a second identify event would say nothing new.
      if (traits || ids.userId() !== id) inlet.identify(id, traits);
      // An id identify() refused would leave this login to the user identified before.
      if (ids.userId() === id) inlet.track('login');
    },
    search(query, resultsCount) {
      let props: Props;
      // An object without toString (Object.create(null)) threw, and from the snippet's queue it took the
      // calls queued after it along.
      try {
        props = { query: String(query), results: Number(resultsCount) };
      } catch {
        return warn('search() ignored: give it a text and a number.');
      }
      inlet.track('search', props);
    },
    watch(media, watchOptions = {}) {
      // Called before the player is in the page, getElementById's null threw, and from the snippet's
      // queue it took the calls queued after it along.
      if (!(media as HTMLMediaElement | null)?.play) {
        warn('watch() ignored: give it a <video> or <audio>.');
        return () => {};
      }
      // Someone watching a lecture without touching the page is still on it.
      return watchMedia(media, watchOptions, (name, props) => {
        used();
        inlet.track(name, props);
      });
    },
    reset() {
      // The time read before a logout belongs to the user logging out: it went out with the next
      // heartbeat, under the new anonymous id, a visitor with no page view.
      used(true);
      ids.wipe();
    },
    optOut() {
      store.set('optout', '1');
      sender.wipe();
      ids.wipe();
    },
    optIn() {
      store.del('optout');
    },
    flush: () => sender.flush(),
  };

  // Hidden is the last moment a mobile browser reliably runs code; pagehide covers bfcache and closing.
  onVisibilityChange(() => isVisible() || sender.flush(true));
  addEventListener('pagehide', () => {
    left = gone = true;
    sender.flush(true);
  });
  addEventListener('pageshow', () => (gone = false));
  addEventListener('online', sender.resend);

  if (options.autoPageview !== false) {
    // A page() the stub queued, or called right after createTracker(), is this load's page view: the
    // automatic one after it counted the page twice.
    queueMicrotask(() => href || inlet.page());
    // A page restored from the back-forward cache runs no script again, but it is a new view.
    addEventListener('pageshow', (event) => event.persisted && inlet.page());
    // Deferred a task so the app can set the new document.title first.
    // A replaceState that changes only the query (UTM parameters stripped after load, a search box
    // keeping ?q= in step) is the same page: it moves the URL later page views name as referrer.
    onNavigate(
      (replaced) =>
        setTimeout(() => {
          if (currentKey() === pageKey) return;
          if (!replaced || route() !== pageRoute) return inlet.page();
          pageKey = currentKey();
          href = location.href;
        }),
      hashRouting,
    );
  }
  // data-heartbeat="0.001" sent some 230 heartbeats a second: they come at most once a second.
  const heartbeat = options.heartbeat ?? 15;
  const interval = Math.max(1, heartbeat);
  if (heartbeat > 0)
    // Named by the page view it belongs to: after an SPA navigation location is already the next page.
    used = startPageHeartbeat(interval, (seconds) =>
      send(
        'track',
        'heartbeat',
        { kind: 'page', interval, seconds },
        href || location.href,
        href ? title : undefined,
      ),
    );
  return inlet;
}
