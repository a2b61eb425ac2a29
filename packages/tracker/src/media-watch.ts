import { createHeartbeatClock } from './heartbeat-clock.ts';
import type { Props, WatchOptions } from './types.ts';
import { isVisible } from './visibility.ts';

const round = (seconds: number): number => Math.round(seconds * 10) / 10;
/**
 * How each element is watched: a second watch() of it (a re-rendered player) replaces the first, stopping
 * it, which says whether it still lets the play event to come pass (see `started`).
 */
const watching = new WeakMap<HTMLMediaElement, () => boolean>();

/**
 * Reports play, pause and end of a media element, and a `heartbeat` every `interval` seconds while it
 * plays in a visible tab, each with the `seconds` it counts: the unfinished interval goes in one more
 * heartbeat when watching ends (the media ends, stop(), the page is left), so watch time is their sum.
 */
export function watchMedia(
  media: HTMLMediaElement,
  options: WatchOptions,
  track: (name: string, props: Props) => void,
): () => void {
  // Two watches of one element sent every play and heartbeat twice, doubling its watch time.
  const replaced = watching.get(media);
  const replacedStarted = replaced?.() as boolean;
  // True from a watch() that found the media playing, and so sent its play, until the next media or
  // visibility event: a play event then (watch() called right after play(), before the browser fired
  // it) is of that same play. A watch() that replaces such a one takes it over.
  let started = false;
  // At most one heartbeat a second: `interval: 0.001` sent some 230 a second.
  const interval = Math.max(1, (options.interval as number) > 0 ? (options.interval as number) : 15);
  // Read at event time: the source is often attached after watch() is called. Heartbeats name the source
  // as of the last play, pause or visibility change: at `emptied` the browser may already report the next one.
  let src = '';
  const props = (source = media.currentSrc): Props => ({
    content_id: options.contentId || media.id || source || null,
    position: round(media.currentTime),
    // NaN before the metadata is in, Infinity for a live stream: both are null in the JSON that is sent.
    duration: round(media.duration),
    interval,
    kind: 'media',
  });
  // At `emptied` the element already reports the next source's position (0) and duration (none): the
  // last heartbeat of what played takes them from its last timeupdate.
  let seen: Props | undefined;
  const see = (): void => {
    seen = props(src);
  };
  const playing = (): boolean => !media.paused && !media.ended;
  // Playing time carries over pauses and hidden spells, so a lecture watched in short stretches counts.
  const clock = createHeartbeatClock(interval * 1000, (seconds, last) => {
    // A heartbeat due while it does not play (a stop no event told of) is not sent; the last part is.
    if (last || playing())
      track('heartbeat', { ...(media.readyState || !seen ? props(src) : seen), seconds });
  });
  const sync = (): void => {
    clock(playing() && isVisible());
    src = media.currentSrc;
    started = false;
  };
  // A pause does not end watching: its seconds carry over, and go out at the latest when the page is left.
  const end = (): void => clock(false, true);
  const handlers: Record<string, () => void> = {
    play: () => started || track('media_play', props()),
    // At the end the browser fires pause then ended; one event for it is enough.
    pause: () => media.ended || track('media_pause', props()),
    ended: () => {
      end();
      track('media_ended', props());
    },
    // A new source (load(), a playlist's next item) stops playback without a pause event, and ends watching.
    emptied: () => {
      end();
      seen = undefined;
    },
  };
  // Watching starts and stops with the same listeners on the element and the window.
  const listen = (method: 'addEventListener' | 'removeEventListener'): void => {
    for (const type in handlers) {
      media[method](type, handlers[type] as () => void);
      media[method](type, sync);
    }
    media[method]('timeupdate', see);
    window[method]('pagehide', end);
    document[method]('visibilitychange', sync);
  };
  listen('addEventListener');
  sync();
  // Media already playing (autoplay, a player that starts before the page calls watch()) plays from
  // here on, as if it had started now; a watch() that replaces one goes on with the play already sent,
  // and lets its play event pass as the one it replaces would have (play(); watch(); watch() sent two).
  if (replaced) started = replacedStarted;
  else if (playing()) {
    track('media_play', props());
    started = true;
  }
  const stop = (): boolean => {
    if (watching.get(media) === stop) watching.delete(media);
    listen('removeEventListener');
    end();
    return started;
  };
  watching.set(media, stop);
  return stop;
}
