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

  it('sends a lecture watched as heartbeats in time order, the last one with the seconds of the unfinished interval', () => {
    // Demo lectures counted whole intervals only, as the tracker did before it sent the last part.
    const now = Date.UTC(2026, 10, 18, 12);
    const watches = new Map<unknown, Array<{ last: number; seconds: number; reached?: number }>>();
    let partial = 0;
    let backwards = 0;
    for (const day of generateDemo({ now, days: 7, timezone: 'UTC', seed: 3 }))
      for (const message of day) {
        const props = message.properties as { position?: number; seconds?: number } | undefined;
        const list = watches.get(message.anonymousId) ?? [];
        watches.set(message.anonymousId, list);
        const watch = list.at(-1);
        if (message.event === 'media_play') list.push({ last: Date.parse(message.timestamp), seconds: 0 });
        else if (message.event === 'heartbeat' && watch) {
          if (Date.parse(message.timestamp) < watch.last) backwards++;
          watch.last = Date.parse(message.timestamp);
          watch.seconds += props?.seconds ?? Number.NaN;
          if ((props?.seconds ?? 15) < 15) partial++;
        } else if ((message.event === 'media_pause' || message.event === 'media_ended') && watch)
          watch.reached = props?.position;
      }
    // Watches of the last day may be cut short at now.
    const finished = [...watches.values()].flat().filter((watch) => watch.last < now - DAY / 2);
    expect(partial).toBeGreaterThan(0);
    expect(backwards).toBe(0);
    expect(finished.length).toBeGreaterThan(10);
    for (const watch of finished)
      expect(watch.seconds, new Date(watch.last).toISOString()).toBe(watch.reached);
  });

  it('makes every day asked a day of events, also before the office hours of today', () => {
    // 01:20 on a Monday, UTC: today's office hours had not begun, so inlet demo --days 1 sent 0 to 3
    // events ('Sent 0 events for 1 day', an empty lake), and --days 30 had 29 days of events in LA;
    // at 08:20, with today's office hours just begun, it sent a few bots' page views and no person's.
    for (const timezone of ['UTC', 'America/Los_Angeles', 'Asia/Tokyo'])
      for (const hour of [1, 7, 8, 9, 12, 23]) {
        const now = Date.UTC(2026, 11, 7, hour, 20);
        const [day, more] = [...generateDemo({ now, days: 1, timezone, seed: 5 })];
        // A Sunday, the quietest day, has some 700.
        expect([(day?.length ?? 0) > 500, more], `${timezone} ${hour}:20`).toEqual([true, undefined]);
      }
    const month = [
      ...generateDemo({ now: Date.UTC(2026, 11, 7, 1, 20), days: 30, timezone: 'America/Los_Angeles' }),
    ];
    expect(month.filter((day) => day.length > 0)).toHaveLength(30);
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
