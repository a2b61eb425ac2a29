import { CronExpressionParser } from 'cron-parser';

export type Catchup = 'latest' | 'all' | 'none';

/** How late a scheduled time may be noticed and still count as on time under catchup: none. */
export const ON_TIME_MS = 90_000;
// A per-second cron over a long downtime could enumerate millions of times; this bounds the walk.
const MAX_WALK = 100_000;
/**
 * cron-parser answers by where it starts: started inside the hour that repeats when clocks go back,
 * "30 1 * * *" came due again at 01:30 EST after 01:30 EDT; started just before clocks went forward,
 * "30 2 * * *" skipped the day. Walked across the change from earlier, it runs the first of a
 * repeated time and a missing one an hour later, so a walk near a change starts this long before.
 */
const LEAD_MS = 3 * 3_600_000;

const offsetAt = (timezone: string, time: number) =>
  new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' })
    .formatToParts(time)
    .find((part) => part.type === 'timeZoneName')?.value;

/**
 * Where a walk to the times after `after` starts: there, or LEAD_MS before when the zone's clocks
 * change near it (always starting early cost a per-second cron 10,800 steps, 0.6 s, every tick).
 */
const walkStart = (timezone: string, after: number) =>
  offsetAt(timezone, after - LEAD_MS) === offsetAt(timezone, after + LEAD_MS) ? after : after - LEAD_MS;

/** Cron times in (after, now], oldest first, in the workflow's time zone. */
export function cronTimes(cron: string, timezone: string, after: number, now: number): number[] {
  const expression = CronExpressionParser.parse(cron, {
    currentDate: new Date(walkStart(timezone, after)),
    tz: timezone,
  });
  const out: number[] = [];
  for (let i = 0; i < MAX_WALK; i++) {
    const next = expression.next().getTime();
    if (next > now) break;
    if (next > after) out.push(next);
  }
  return out;
}

/**
 * The last `count` cron times in (after, now], oldest first. Walked from `after`, a long downtime
 * ended the walk (MAX_WALK) days before now; so the walk starts an hour before now, and twice as
 * far back each time until it finds that many or reaches `after`.
 */
function lastCronTimes(cron: string, timezone: string, after: number, now: number, count: number): number[] {
  for (let span = 3_600_000; ; span *= 2) {
    const from = Math.max(after, now - span);
    const times = cronTimes(cron, timezone, from, now);
    if (times.length >= count || from === after) return times.slice(-count);
  }
}

/**
 * The times to run now after the scheduler last looked at `after`: every time missed (at most
 * limit, the most recent), only the latest, or only one that is on time — per catchup.
 */
export function dueTimes(options: {
  cron: string;
  timezone: string;
  after: number;
  now: number;
  catchup: Catchup;
  limit: number;
}): number[] {
  const count = options.catchup === 'all' ? options.limit : 1;
  const times = lastCronTimes(options.cron, options.timezone, options.after, options.now, count);
  if (options.catchup === 'all') return times.slice(-options.limit);
  const latest = times.at(-1);
  if (latest === undefined) return [];
  if (options.catchup === 'none' && options.now - latest > ON_TIME_MS) return [];
  return [latest];
}

/** The next time the cron fires after now. */
export function nextTime(cron: string, timezone: string, now: number): number {
  const expression = CronExpressionParser.parse(cron, {
    currentDate: new Date(walkStart(timezone, now)),
    tz: timezone,
  });
  for (;;) {
    const next = expression.next().getTime();
    if (next > now) return next;
  }
}
