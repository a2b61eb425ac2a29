import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createPeriodicLoad } from './periodic-load.ts';

function capturingLogger() {
  const lines: Array<{ level: number; msg: string; failedPasses?: number }> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  return { logger, lines };
}

describe('periodic load', () => {
  it('logs a failure that repeats once, a new one again, and says when passes work again', async () => {
    const { logger, lines } = capturingLogger();
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
});
