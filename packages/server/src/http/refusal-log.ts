import type { ErrorCode, InletError } from '../errors/index.ts';
import { errorFields, type Logger } from '../log/index.ts';

/**
 * Refusals that say inlet cannot store anything, whatever a client sends, and that the log says
 * nothing about elsewhere (a WAL that cannot be written is logged by the WAL itself).
 */
const OUTAGES: ReadonlySet<ErrorCode> = new Set(['SALT_UNREADABLE']);

/** How often an outage that goes on is logged again. */
const REPEAT_LOG_MS = 60_000;

/**
 * Logs the collector's refusals of its own making: an unreadable visitor-hash salt refused every
 * event with a 503, and only the clients were told. Logged once, then again once a minute while it
 * goes on, with how many requests it refused since, or at once when what it says changes.
 */
export function createRefusalLogger(logger: Logger): (error: InletError) => void {
  let loggedMessage = '';
  let loggedAt = Number.NEGATIVE_INFINITY;
  let refused = 0;
  return (error) => {
    if (!OUTAGES.has(error.code)) return;
    refused += 1;
    // Monotonic, as a step back of the wall clock would silence it for the step.
    if (error.message === loggedMessage && performance.now() - loggedAt < REPEAT_LOG_MS) return;
    logger.error(
      { ...errorFields(error), refusedRequests: refused },
      'events are refused (503) until this is fixed',
    );
    loggedMessage = error.message;
    loggedAt = performance.now();
    refused = 0;
  };
}
