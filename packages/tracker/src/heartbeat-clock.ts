/** The longest wait a browser timer takes (2^31 − 1 ms, 24.8 days): a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `beat(seconds)` every `ms` of running time, which runs from `run(true)` to `run(false)`. Time run
 * before a stop carries over, so a video paused or a tab left every few seconds adds up to heartbeats where
 * each stretch starting the interval again counted as nothing. `run(…, true)` ends the count: the
 * unfinished interval is beaten once, `last`, for the seconds it ran (to 0.1 s), and counting starts again.
 */
export function createHeartbeatClock(
  ms: number,
  beat: (seconds: number, last?: true) => void,
): (running: boolean, end?: boolean) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ran = 0;
  let since: number | undefined;
  // An interval past what a timer can wait (data-heartbeat="Infinity") sent a heartbeat every 4 ms; no
  // page stays open that long, so only the unfinished interval goes out, when the count ends.
  const arm = (delay: number): void => {
    if (ms <= MAX_TIMER_MS) timer = setTimeout(tick, delay);
  };
  const tick = (): void => {
    ran = 0;
    since = performance.now();
    arm(ms);
    beat(ms / 1000);
  };
  return (running, end) => {
    clearTimeout(timer);
    if (since !== undefined) ran += performance.now() - since;
    since = undefined;
    // The last seconds of a lecture or a page read were lost when they made no whole interval.
    if (end) {
      const seconds = Math.round(ran / 100) / 10;
      ran = 0;
      if (seconds) beat(seconds, true);
    }
    if (running) {
      since = performance.now();
      // A timer takes a negative delay as 0.
      arm(ms - ran);
    }
  };
}
