import { describe, expect, it } from 'vitest';
import { parseConfig } from './index.ts';

/** Parses an inlet.yaml whose one workflow has these keys over a valid one's. */
const parse = (keys: Record<string, unknown>) => () =>
  parseConfig({ workflows: [{ name: 'w', cron: '0 5 * * *', steps: ['test'], ...keys }] });

describe('a workflow in inlet.yaml', () => {
  it('says a cron that is empty or missing is, and what to write', () => {
    // An unset ${CRON} was "has 0 fields", and a missing cron: "add cron: with text".
    const written =
      'give the times it runs as a cron expression, such as cron: "0 5 * * *" (minute hour day-of-month month day-of-week: 05:00 each day)';
    for (const cron of ['', '  '])
      expect(parse({ cron })).toThrow(`workflows[0].cron: is empty (an unset variable?); ${written}`);
    expect(parse({ cron: undefined })).toThrow(`workflows[0].cron: is required; ${written}`);
  });
});
