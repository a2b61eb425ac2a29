import type { Props, WatchOptions } from './types.ts';
import { isVisible, onVisibilityChange } from './visibility.ts';

const round = (seconds: number): number => Math.round(seconds * 10) / 10;

/**
 * Reports play, pause and end of a media element, and a `heartbeat` every `interval` seconds while it
 * plays in a visible tab, so watch time is the number of heartbeats times the interval.
 */
export function watchMedia(
  media: HTMLMediaElement,
  options: WatchOptions,
  track: (name: string, props: Props) => void,
): () => void {
  const interval = options.interval && options.interval > 0 ? options.interval : 15;
  const ms = interval * 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Playing time not yet in a heartbeat, and since when the current stretch has played. */
  let played = 0;
  let since: number | undefined;
  // Read at event time: the source is often attached after watch() is called.
  const props = (): Props => ({
    content_id: options.contentId || media.id || media.currentSrc || null,
    position: round(media.currentTime),
    duration: Number.isFinite(media.duration) ? round(media.duration) : null,
    interval,
    kind: 'media',
  });
  const playing = (): boolean => !media.paused && !media.ended;
  const beat = (): void => {
    played = 0;
    since = performance.now();
    timer = setTimeout(beat, ms);
    // A new source (load()) stops playback without a pause event.
    if (playing()) track('heartbeat', props());
  };
  // Playing time carries over pauses and hidden spells: a lecture watched in stretches shorter than the
  // interval counted as not watched at all when each play started the interval again.
  const sync = (): void => {
    clearTimeout(timer);
    if (since !== undefined) played += performance.now() - since;
    since = undefined;
    if (playing() && isVisible()) {
      since = performance.now();
      timer = setTimeout(beat, Math.max(0, ms - played));
    }
  };
  const handlers: Record<string, () => void> = {
    play: () => track('media_play', props()),
    // At the end the browser fires pause then ended; one event for it is enough.
    pause: () => media.ended || track('media_pause', props()),
    ended: () => track('media_ended', props()),
  };
  for (const type in handlers) {
    media.addEventListener(type, handlers[type] as () => void);
    media.addEventListener(type, sync);
  }
  const unwatchVisibility = onVisibilityChange(sync);
  sync();
  return () => {
    unwatchVisibility();
    clearTimeout(timer);
    for (const type in handlers) {
      media.removeEventListener(type, handlers[type] as () => void);
      media.removeEventListener(type, sync);
    }
  };
}
