/**
 * Calls `beat` every `ms` of running time, which runs from `run(true)` to `run(false)`. Time run before
 * a stop carries over, so a video paused or a tab left every few seconds adds up to heartbeats where
 * each stretch starting the interval again counted as nothing.
 */
export function createHeartbeatClock(ms: number, beat: () => void): (running: boolean) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ran = 0;
  let since: number | undefined;
  const tick = (): void => {
    ran = 0;
    since = performance.now();
    timer = setTimeout(tick, ms);
    beat();
  };
  return (running) => {
    clearTimeout(timer);
    if (since !== undefined) ran += performance.now() - since;
    since = undefined;
    if (running) {
      since = performance.now();
      timer = setTimeout(tick, Math.max(0, ms - ran));
    }
  };
}
