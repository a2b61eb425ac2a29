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
  const tick = (): void => {
    ran = 0;
    since = performance.now();
    timer = setTimeout(tick, ms);
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
      timer = setTimeout(tick, Math.max(0, ms - ran));
    }
  };
}
