import { describe, expect, it } from 'vitest';
import type { ModelResult } from './node-builder.ts';
import { summarizeModel } from './run-summary.ts';

describe("a model's summary line", () => {
  it('counts one partition and one row in the singular, as its tests are', () => {
    // inlet run and a workflow's run step said "daily_active_users (1 partitions) 1 rows 3 tests passed".
    const built: ModelResult = {
      name: 'daily_active_users',
      kind: 'model',
      status: 'success',
      tests: [],
      ms: 74,
    };
    expect(summarizeModel({ ...built, mode: 'partitions', partitions: ['2026-12-06'], rows: 1 })).toBe(
      'ok          daily_active_users (1 partition) 1 row 74 ms',
    );
    expect(
      summarizeModel({ ...built, mode: 'partitions', partitions: ['2026-12-05', '2026-12-06'], rows: 12345 }),
    ).toBe('ok          daily_active_users (2 partitions) 12,345 rows 74 ms');
    expect(summarizeModel({ ...built, mode: 'full', rows: 0 })).toBe(
      'ok          daily_active_users (full) 0 rows 74 ms',
    );
  });
});
