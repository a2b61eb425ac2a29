import { createHeartbeatClock } from './heartbeat-clock.ts';
import { isVisible, onVisibilityChange } from './visibility.ts';

/** A tab left open and untouched stops counting as time on page after this long. */
const IDLE_MS = 30 * 60 * 1000;
const INPUT_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'scroll', 'touchstart'];

/**
 * Calls `beat` every `seconds` while the tab is visible and someone used the page in the last 30 minutes;
 * returns a function that counts as use, for what is not input (watching a video).
 */
export function startPageHeartbeat(seconds: number, beat: () => void): () => void {
  let lastInput = Date.now();
  // Visible time carries over hidden spells, so a page read between glances at other tabs counts.
  const clock = createHeartbeatClock(seconds * 1000, () => Date.now() - lastInput < IDLE_MS && beat());
  const sync = (): void => {
    if (isVisible()) lastInput = Date.now();
    clock(isVisible());
  };
  for (const type of INPUT_EVENTS) {
    addEventListener(type, () => (lastInput = Date.now()), { capture: true, passive: true });
  }
  onVisibilityChange(sync);
  sync();
  return () => {
    lastInput = Date.now();
  };
}
