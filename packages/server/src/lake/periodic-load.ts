import type { Logger } from '../log/index.ts';

export interface PeriodicLoad<T> {
  /** Runs one pass now, after any pass already running; resolves with its result. */
  runOnce(options?: { sealNow?: boolean }): Promise<T>;
  start(): void;
  /** Stops the timer and waits for the pass in progress. */
  stop(): Promise<void>;
}

/**
 * Runs a load pass every intervalMs, one pass at a time. A failed pass is logged and retried on the
 * next tick: what it was loading stays in its WAL, so nothing is lost. Shared by the events loader
 * and the log intake's loader.
 */
export function createPeriodicLoad<T>(options: {
  intervalMs: number;
  logger: Logger;
  failure: string;
  pass: (sealNow: boolean) => Promise<T>;
}): PeriodicLoad<T> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const runOnce = (opts: { sealNow?: boolean } = {}) => {
    const next = running.then(() => options.pass(opts.sealNow ?? false));
    running = next.catch(() => undefined);
    return next;
  };

  const tick = async () => {
    try {
      await runOnce();
    } catch (error) {
      options.logger.error({ err: error }, options.failure);
    }
    if (timer) timer = setTimeout(tick, options.intervalMs);
  };

  return {
    runOnce,
    start() {
      timer = setTimeout(tick, options.intervalMs);
    },
    async stop() {
      const t = timer;
      timer = undefined;
      if (t) clearTimeout(t);
      await running;
    },
  };
}
