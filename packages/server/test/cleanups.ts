import { afterEach } from 'vitest';

/**
 * Things a test file's tests leave behind (servers, engines, temporary directories), undone after
 * each test, the last one added first, so a server stops before its directory goes.
 */
export function cleanupAfterEach(): { push(...cleanups: Array<() => unknown>): void } {
  const pending: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of pending.splice(0).reverse()) await cleanup();
  });
  return {
    push(...cleanups) {
      pending.push(...cleanups);
    },
  };
}
