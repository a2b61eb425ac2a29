import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/helpers.ts';
import { InletError } from '../errors/index.ts';
import { createPeriodicLoad } from './periodic-load.ts';

describe('periodic load', () => {
  it('logs a failure that repeats once, a new one again, and says when passes work again', async () => {
    const { logger, lines } = capturingLogger<{ failedPasses?: number }>();
    const outcomes = ['disk full', 'disk full', 'disk full', 'disk full', 'bad file', 'bad file', 'ok'];
    let passes = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const periodic = createPeriodicLoad({
      intervalMs: 1,
      logger,
      failure: 'loading failed; will retry',
      pass: async () => {
        const outcome = outcomes[passes++] ?? 'ok';
        if (outcome !== 'ok') throw new Error(outcome);
        done();
      },
    });
    periodic.start();
    await finished;
    await periodic.stop();
    const errors = lines.filter((line) => line.level === 50);
    expect(errors.map((line) => [line.msg, line.failedPasses])).toEqual([
      ['loading failed; will retry', 1],
      ['loading failed; will retry', 5],
    ]);
    const recovered = lines.filter((line) => line.level === 30);
    expect(recovered.map((line) => [line.msg, line.failedPasses])).toEqual([['a load pass works again', 6]]);
  });

  it('logs a failed pass it foresaw (a full WAL) as its code and message, without a stack trace', async () => {
    const { logger, lines } = capturingLogger<{ code?: string; error?: string; err?: unknown }>();
    let passes = 0;
    const periodic = createPeriodicLoad({
      intervalMs: 1,
      logger,
      failure: 'loading failed; will retry',
      pass: async () => {
        if (passes++ > 0) return;
        throw new InletError('WAL_FULL', 'The WAL is full; free disk space or raise wal.max_bytes.', {
          cause: new Error('ENOSPC: no space left on device'),
        });
      },
    });
    periodic.start();
    const failed = () => lines.find((line) => line.msg === 'loading failed; will retry');
    for (let i = 0; i < 200 && !failed(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await periodic.stop();
    expect(failed()).toMatchObject({ code: 'WAL_FULL', error: expect.stringContaining('The WAL is full') });
    expect(failed()?.err).toBeUndefined();
    expect(JSON.stringify(failed())).not.toContain('ENOSPC');
  });
});
