// Run before each test file (vitest.config.ts's setupFiles): kills what a test or the file left running.
import { afterAll, afterEach, beforeEach } from 'vitest';
import { killChildren, testRunning } from './child-processes.ts';

// Registered before the file's own hooks, so this afterEach runs after theirs (vitest runs them in reverse).
beforeEach(() => testRunning(true));
afterEach(() => {
  testRunning(false);
  killChildren('test');
});
afterAll(() => killChildren());
