import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/scripts/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
    ],
    // Kills the inlet processes a test or file started and left running (a test that timed out).
    setupFiles: ['packages/server/test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: {
      // Vitest's default is a fork for each core but one: on two cores, one, every file in turn
      // (11 min). Most files wait on sockets, child processes, DuckDB's threads and fsync more than
      // they compute, so two forks share two cores well (about 7 min under load).
      forks: { maxForks: Math.max(2, availableParallelism() - 1) },
    },
  },
});
