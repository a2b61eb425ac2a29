import { describe, expect, it } from 'vitest';
import { generateDemo } from './generator.ts';

const DAY = 86_400_000;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The weekday (0 Sunday) of instants in a time zone. */
const localWeekday = (timeZone: string) => {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short' });
  return (at: number) => WEEKDAYS.indexOf(format.format(at));
};

describe('demo generator', () => {
  for (const timezone of ['America/Los_Angeles', 'UTC', 'Asia/Tokyo'])
    it(`keeps weekends quiet in local time (${timezone})`, () => {
      const counts = new Array<number>(7).fill(0);
      const weekdayOf = localWeekday(timezone);
      // Two whole weeks ending at a Wednesday's noon UTC.
      const now = Date.UTC(2026, 10, 18, 12);
      for (const day of generateDemo({ now, days: 15, timezone, seed: 7 }))
        for (const message of day)
          if (message.userId) {
            const weekday = weekdayOf(Date.parse(message.timestamp));
            counts[weekday] = (counts[weekday] ?? 0) + 1;
          }
      const [sunday = 0, , , , , friday = 0, saturday = 0] = counts;
      expect(sunday + saturday, counts.join(' ')).toBeLessThan(friday);
    });

  it('never sends an event later than now', () => {
    // Mid-afternoon in the office hours of the zone, when sessions with long lectures run.
    for (const hour of [13, 14, 15, 16]) {
      const now = Date.UTC(2026, 10, 18, hour, 30);
      const latest = Math.max(
        ...[...generateDemo({ now, days: 2, timezone: 'UTC', seed: hour })]
          .flat()
          .map((message) => Date.parse(message.timestamp)),
      );
      expect(latest).toBeLessThanOrEqual(now);
      expect(latest).toBeGreaterThan(now - DAY);
    }
  });
});
