import { describe, expect, it } from 'vitest';
import { stillSettingUp } from './set-up-wait.ts';

describe('a query that gave up waiting for the views to be built', () => {
  it('is told to retry once the rest may be built at the pace so far', () => {
    // 100 of 400 built in 60 s: 300 more at that pace take 180 s. It was Retry-After 5, a guess.
    const error = stillSettingUp(60_000, { since: 0, total: 400, done: 100 }, 60_000);
    expect(error).toMatchObject({ code: 'QUERY_BUSY', status: 503, retryAfterSeconds: 180 });
    expect(error.message).toMatch(
      /after 60 s .* 100 of its 400 views are built in 60 s, and at that pace the rest take about 180 s more: retry then\.$/,
    );
  });

  it('is told as long again as so far while none is built, or the build has yet to begin', () => {
    expect(stillSettingUp(60_000, { since: 1_000, total: 3, done: 0 }, 46_000)).toMatchObject({
      retryAfterSeconds: 45,
      message: expect.stringMatching(
        /none of its 3 views is built yet after 45 s, so retry in about 45 s\.$/,
      ),
    });
    expect(stillSettingUp(60_000, undefined)).toMatchObject({
      retryAfterSeconds: 60,
      message: expect.stringMatching(/retry in about 60 s\.$/),
    });
  });

  it('is told 1 s at least', () => {
    expect(stillSettingUp(1, { since: 0, total: 1000, done: 999 }, 1)).toMatchObject({
      retryAfterSeconds: 1,
    });
  });
});
