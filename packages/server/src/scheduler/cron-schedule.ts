import { CronExpressionParser } from 'cron-parser';

export type Catchup = 'latest' | 'all' | 'none';

/** How late a scheduled time may be noticed and still count as on time under catchup: none. */
export const ON_TIME_MS = 90_000;
// A per-second cron over a long downtime could enumerate millions of times; this bounds the walk.
const MAX_WALK = 100_000;

/** Cron times in (after, now], oldest first, in the workflow's time zone. */
export function cronTimes(cron: string, timezone: string, after: number, now: number): number[] {
  const expression = CronExpressionParser.parse(cron, { currentDate: new Date(after), tz: timezone });
  const out: number[] = [];
  for (let i = 0; i < MAX_WALK; i++) {
    const next = expression.next().getTime();
    if (next > now) break;
    out.push(next);
  }
  return out;
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
  const times = cronTimes(options.cron, options.timezone, options.after, options.now);
  if (options.catchup === 'all') return times.slice(-options.limit);
  const latest = times.at(-1);
  if (latest === undefined) return [];
  if (options.catchup === 'none' && options.now - latest > ON_TIME_MS) return [];
  return [latest];
}

/** The next time the cron fires after now. */
export function nextTime(cron: string, timezone: string, now: number): number {
  return CronExpressionParser.parse(cron, { currentDate: new Date(now), tz: timezone })
    .next()
    .getTime();
}
