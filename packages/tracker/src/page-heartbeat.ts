import { createHeartbeatClock } from './heartbeat-clock.ts';
import { isVisible, onVisibilityChange } from './visibility.ts';

/** A tab left open and untouched stops counting as time on page after this long. */
const IDLE_MS = 30 * 60 * 1000;
// A touch is a pointerdown too.
const INPUT_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'scroll'];

/**
 * Calls `beat(seconds)` every `seconds` while the tab is visible and someone used the page in the last
 * 30 minutes, and for the unfinished interval when the page is left; returns a function that counts as
 * use, for what is not input (watching a video), and with `end` also ends the page (another SPA page).
 */
export function startPageHeartbeat(
  seconds: number,
  beat: (seconds: number) => void,
): (end?: boolean) => void {
  let lastInput = Date.now();
  // Visible time carries over hidden spells, so a page read between glances at other tabs counts.
  const clock = createHeartbeatClock(
    seconds * 1000,
    (counted) => Date.now() - lastInput < IDLE_MS && beat(counted),
  );
  const sync = (): void => {
    if (isVisible()) lastInput = Date.now();
    clock(isVisible());
  };
  // Captured, so an app stopping an event's propagation does not hide the input; a window's touch and
  // wheel listeners are passive without saying so, and the others cannot hold up scrolling.
  for (const type of INPUT_EVENTS) {
    addEventListener(type, () => (lastInput = Date.now()), true);
  }
  onVisibilityChange(sync);
  // A page restored from the back-forward cache counts again from 0 when it is visible.
  addEventListener('pagehide', () => clock(false, true));
  sync();
  return (end) => {
    if (end) clock(isVisible(), true);
    lastInput = Date.now();
  };
}
