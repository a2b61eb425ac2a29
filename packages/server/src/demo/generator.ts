import {
  APP_PAGES,
  BOT_AGENTS,
  FEATURES,
  LECTURES,
  MARKETING_PAGES,
  REFERRERS,
  SEARCHES,
  USER_AGENTS,
} from './catalog.ts';
import { createRandom, type Random } from './random.ts';

/** One message of Segment's tracking API, as the demo sends it to /v1/batch. */
export type DemoMessage = Record<string, unknown> & { type: string; messageId: string; timestamp: string };

export interface DemoOptions {
  /** The month ends at this instant. */
  now: number;
  days: number;
  /** Activity follows office hours in this time zone. */
  timezone: string;
  seed?: number;
  host?: string;
}

interface Person {
  anonymousId: string;
  userId: string | null;
  accountId: string | null;
  userAgent: string;
  ip: string;
  /** Chance of a session on a working day. */
  activity: number;
}

/** The seed of a first demo month; later ones (inlet demo --force) take a new one. */
export const FIRST_DEMO_SEED = 20261122;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HEARTBEAT = 15;

/** Minutes the zone is ahead of UTC at an instant (Asia/Tokyo: 540). */
export function zoneOffsetMinutes(at: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  return Math.round((local - Math.floor(at / 60_000) * 60_000) / 60_000);
}

function people(random: Random): Person[] {
  const out: Person[] = [];
  let n = 0;
  const ip = () => `${random.pick(['192.0.2', '198.51.100', '203.0.113'])}.${random.int(1, 254)}`;
  for (let account = 1; account <= 36; account++) {
    const size = random.int(2, 12);
    const engagement = random.pick([0.25, 0.45, 0.65, 0.85]);
    for (let i = 0; i < size; i++) {
      n++;
      out.push({
        anonymousId: random.uuid(),
        userId: `u_${String(n).padStart(4, '0')}`,
        accountId: `acct_${String(account).padStart(3, '0')}`,
        userAgent: random.weighted(USER_AGENTS),
        ip: ip(),
        activity: engagement * random.pick([0.6, 1, 1.2]),
      });
    }
  }
  for (let i = 0; i < 700; i++) {
    out.push({
      anonymousId: random.uuid(),
      userId: null,
      accountId: null,
      userAgent: random.weighted(USER_AGENTS),
      ip: ip(),
      activity: 0.06,
    });
  }
  return out;
}

/**
 * A realistic month for the demo site, one day at a time: visitors arriving from search and
 * campaigns, customers logging in per account, using features, searching the help centre (some
 * searches find nothing) and watching lectures with a heartbeat every 15 seconds, and one for the
 * seconds of the last, unfinished interval when watching ends, as the browser tracker sends them.
 */
export function* generateDemo(options: DemoOptions): Generator<DemoMessage[]> {
  const random = createRandom(options.seed ?? FIRST_DEMO_SEED);
  const host = options.host ?? 'https://learn.example.com';
  const everyone = people(random);
  const identified = new Set<string>();
  // The days asked end today once its busiest hours are past (from noon there), else yesterday:
  // before 08:00 today held a few events at most, and in its first office hours only the day's
  // bots and early visitors (inlet demo --days 1 at 08:13 made a daily_active_users of no rows).
  const today = Math.floor(options.now / DAY) * DAY;
  const opening = today - zoneOffsetMinutes(today + 12 * HOUR, options.timezone) * 60_000 + 12 * HOUR;
  const lastDay = options.now - 60_000 < opening ? today - DAY : today;
  const firstDay = lastDay - (options.days - 1) * DAY;

  for (let day = 0; day < options.days; day++) {
    const dayStart = firstDay + day * DAY;
    // The day generated is this calendar date in the zone: its midnight there is dayStart - offset.
    const offset = zoneOffsetMinutes(dayStart + 12 * HOUR, options.timezone) * 60_000;
    const weekday = new Date(dayStart).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    const messages: DemoMessage[] = [];

    for (const person of everyone) {
      if (!random.chance(weekend ? person.activity * 0.2 : person.activity)) continue;
      // Local office hours, busiest mid-morning and after lunch; converted back to UTC.
      const localHour = random.weighted([
        [8, 4],
        [9, 9],
        [10, 12],
        [11, 10],
        [12, 5],
        [13, 9],
        [14, 10],
        [15, 9],
        [16, 7],
        [17, 5],
        [18, 3],
        [20, 2],
        [22, 1],
      ] as const);
      let t = dayStart - offset + localHour * HOUR + random.int(0, 59) * 60_000 + random.int(0, 59_000);
      if (t > options.now - 60_000) continue;
      const context = {
        userAgent: person.userAgent,
        ip: person.ip,
        library: { name: 'inlet-demo', version: '1' },
      };
      const base = {
        anonymousId: person.anonymousId,
        ...(person.userId ? { userId: person.userId } : {}),
        context,
      };
      const push = (message: Record<string, unknown> & { type: string }) => {
        // A session that began shortly before now would otherwise run on into the future.
        if (t > options.now) return;
        messages.push({
          ...base,
          ...message,
          messageId: random.uuid(),
          timestamp: new Date(t).toISOString(),
        });
        t += random.int(5, 90) * 1000;
      };
      const page = (path: string, title: string, referrer: string | null, query = '') =>
        push({
          type: 'page',
          name: title,
          properties: { url: `${host}${path}${query}`, path, title, referrer },
        });

      if (!person.userId) {
        const [referrer, query] = random.weighted(
          REFERRERS.map(([r, q, w]) => [[r, q] as const, w] as const),
        );
        const [path, title] = random.weighted(
          MARKETING_PAGES.map(([p, ti, w]) => [[p, ti] as const, w] as const),
        );
        page(path, title, referrer, query);
        if (random.chance(0.45)) page('/lectures', 'All lectures', `${host}${path}`);
        if (random.chance(0.3)) {
          const [slug, lectureTitle] = random.pick(LECTURES);
          page(`/lectures/${slug}`, lectureTitle, `${host}/lectures`);
        }
        continue;
      }

      page('/login', 'Log in', null);
      if (!identified.has(person.userId)) {
        identified.add(person.userId);
        push({
          type: 'identify',
          traits: { account_id: person.accountId, plan: random.pick(['team', 'business', 'enterprise']) },
        });
      }
      push({ type: 'track', event: 'login', properties: { account_id: person.accountId } });
      for (let i = random.int(1, 6); i > 0; i--) {
        const [path, title] = random.weighted(APP_PAGES.map(([p, ti, w]) => [[p, ti] as const, w] as const));
        page(path, title, `${host}/app/dashboard`);
        if (random.chance(0.55))
          push({
            type: 'track',
            event: random.weighted(FEATURES),
            properties: { account_id: person.accountId, path },
          });
      }
      if (random.chance(0.3)) {
        const [query, results] = random.weighted(SEARCHES.map(([q, r, w]) => [[q, r] as const, w] as const));
        page('/help', 'Help centre', `${host}/app/dashboard`);
        push({ type: 'track', event: 'search', properties: { query, results } });
      }
      if (random.chance(0.4)) {
        const [slug, title, duration] = random.pick(LECTURES);
        page(`/lectures/${slug}`, title, `${host}/lectures`);
        const props = { content_id: slug, duration, interval: HEARTBEAT, kind: 'media' };
        // Heartbeats at the play time plus the position: a random step back from each message's random
        // gap made them go back in time, and past now, after a play left out for being later than now.
        const playedAt = t;
        push({ type: 'track', event: 'media_play', properties: { ...props, position: 0 } });
        const watched = random.chance(0.35) ? duration : random.int(60, duration);
        const heartbeat = (position: number, seconds: number) =>
          push({ type: 'track', event: 'heartbeat', properties: { ...props, position, seconds } });
        for (let position = HEARTBEAT; position <= watched; position += HEARTBEAT) {
          t = playedAt + position * 1000;
          heartbeat(position, HEARTBEAT);
        }
        // The tracker sends the unfinished interval as watching ends: with media_ended, or after a
        // pause once the page is left.
        const endedAt = playedAt + watched * 1000;
        const rest = watched % HEARTBEAT;
        t = endedAt;
        if (watched >= duration && rest) {
          heartbeat(watched, rest);
          t = endedAt;
        }
        push({
          type: 'track',
          event: watched >= duration ? 'media_ended' : 'media_pause',
          properties: { ...props, position: watched },
        });
        if (watched < duration && rest) heartbeat(watched, rest);
      }
    }
    for (let i = random.int(20, 60); i > 0; i--) {
      const t = dayStart + random.int(0, DAY - 1);
      if (t > options.now - 60_000) continue;
      const [path, title] = random.pick(MARKETING_PAGES);
      messages.push({
        type: 'page',
        anonymousId: random.uuid(),
        messageId: random.uuid(),
        timestamp: new Date(t).toISOString(),
        name: title,
        properties: { url: `${host}${path}`, path, title },
        context: { userAgent: random.pick(BOT_AGENTS), ip: `198.51.100.${random.int(1, 254)}` },
      });
    }
    yield messages;
  }
}
