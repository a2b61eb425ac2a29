import { errorFields, type Logger } from '../log/index.ts';

export interface PeriodicLoad<T> {
  /** Runs one pass now, after any pass already running; resolves with its result. */
  runOnce(options?: { sealNow?: boolean }): Promise<T>;
  start(): void;
  /** Stops the timer and waits for the pass in progress. */
  stop(): Promise<void>;
}

/** The longest wait between passes while they keep failing. */
const MAX_BACKOFF_MS = 30_000;
/** How often a failure that keeps repeating is logged again. */
const REPEAT_LOG_MS = 60_000;

/**
 * Runs a load pass every intervalMs, one pass at a time. A failed pass is retried: what it was
 * loading stays in its WAL, so nothing is lost. Passes that keep failing (a full disk, say) are
 * retried less and less often, up to every 30 s, and logged once, then again only when the error
 * changes or once a minute with how many passes failed; a pass that works again says so. Shared by
 * the events loader and the log intake's loader.
 */
export function createPeriodicLoad<T>(options: {
  intervalMs: number;
  logger: Logger;
  failure: string;
  pass: (sealNow: boolean) => Promise<T>;
}): PeriodicLoad<T> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let failures = 0;
  let lastMessage = '';
  let lastLoggedAt = 0;

  const runOnce = (opts: { sealNow?: boolean } = {}) => {
    const next = running.then(() => options.pass(opts.sealNow ?? false));
    running = next.catch(() => undefined);
    return next;
  };

  const tick = async () => {
    try {
      await runOnce();
      if (failures > 0)
        options.logger.info({ failedPasses: failures, failure: options.failure }, 'a load pass works again');
      failures = 0;
      lastMessage = '';
    } catch (error) {
      failures += 1;
      const message = (error as Error)?.message ?? String(error);
      if (message !== lastMessage || performance.now() - lastLoggedAt >= REPEAT_LOG_MS) {
        options.logger.error({ ...errorFields(error), failedPasses: failures }, options.failure);
        lastMessage = message;
        // Monotonic: a step back of the wall clock silenced a failure that kept on for the step.
        lastLoggedAt = performance.now();
      }
    }
    const wait =
      failures === 0
        ? options.intervalMs
        : Math.min(MAX_BACKOFF_MS, options.intervalMs * 2 ** Math.min(failures, 16));
    if (timer) timer = setTimeout(tick, Math.max(options.intervalMs, wait));
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
