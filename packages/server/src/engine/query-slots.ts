import { InletError } from '../errors/index.ts';
import { leftAtPace, retrySeconds } from './retry-after.ts';

/** Where a query stands: in line (leave() takes it out), or in its slot until release(place). */
export interface SlotPlace {
  leave?: () => void;
}

export interface QuerySlots {
  /**
   * Takes a slot, waiting in line for one when all are taken. place.leave() leaves the line at once
   * (a cancel, a client gone): such a query ran later for nobody, and held a slot meanwhile. With
   * alone, the slot is the only one taken until it is given back: it waits, ahead of the line, for
   * the queries running to end, and no query starts meanwhile. limitMs is the query's time limit,
   * by when it ends at the latest (a query refused for a full line is told when to retry by it).
   */
  acquire(place: SlotPlace, options?: { alone?: boolean; limitMs?: number }): Promise<void>;
  /** Gives the slot taken for place back: to the first query in line, or to nobody. */
  release(place: SlotPlace): void;
  /**
   * When the first of the queries in a slot, place's own left out, may end (see lineFull): in whole
   * seconds, and what a message says of it; undefined when no other query holds a slot.
   */
  firstEnd(place: SlotPlace): FirstEnd | undefined;
  /** Slots taken now. */
  readonly taken: number;
}

/** When a slot may be free: retry in seconds, because of why ("one of those running has run …"). */
export interface FirstEnd {
  seconds: number;
  why: string;
}

interface Waiter {
  turn: () => void;
  alone: boolean;
  place: SlotPlace;
  limitMs: number;
}

/** A query in its slot: since when (now()), and its time limit. */
interface Holder {
  since: number;
  limitMs: number;
}

/**
 * When the first of holders may end: each may take as long again as it has run so far (a query that
 * has just begun is likely a short one; one told again after a long wait waits longer), and ends at
 * its time limit at the latest.
 */
function firstEnd(holders: Iterable<Holder>, now: number): FirstEnd {
  let soonest = { left: Number.POSITIVE_INFINITY, byLimit: false, limitMs: 0 };
  for (const { since, limitMs } of holders) {
    const elapsed = now - since;
    const left = leftAtPace(elapsed, undefined, limitMs - elapsed);
    if (left < soonest.left) soonest = { left, byLimit: limitMs - elapsed < elapsed, limitMs };
  }
  const seconds = retrySeconds(Number.isFinite(soonest.left) ? soonest.left : 0);
  const why = soonest.byLimit
    ? `one of those running reaches its time limit of ${soonest.limitMs / 1000} s in about ${seconds} s`
    : `one of those running has run about ${seconds} s and may take as long again`;
  return { seconds, why };
}

/** Why a query found the line full, and when to retry: once the first of those running may end, which frees a place in line. */
function lineFull(max: number, waiting: number, holders: Iterable<Holder>, now: number, configFile: string) {
  const { seconds, why } = firstEnd(holders, now);
  return new InletError(
    'QUERY_BUSY',
    `Too many queries are running (query.max_concurrent is ${max}, and ${waiting} more wait); ${why}: retry in about ${seconds} s, when a place in line may be free, or raise query.max_concurrent in ${configFile}.`,
    { retryAfterSeconds: seconds },
  );
}

/**
 * At most max queries at a time, and at most max * 4 more in line (QUERY_BUSY past that, naming
 * configFile, the file that sets query.max_concurrent). now() is performance.now() but in tests.
 */
export function createQuerySlots(
  max: number,
  configFile: string,
  now: () => number = () => performance.now(),
): QuerySlots {
  let taken = 0;
  /** The one slot taken is held alone. */
  let alone = false;
  // Those waiting alone are ahead of the rest.
  const waiting: Waiter[] = [];
  const holders = new Map<SlotPlace, Holder>();
  const take = (place: SlotPlace, limitMs: number, wantsAlone: boolean) => {
    taken++;
    alone = wantsAlone;
    holders.set(place, { since: now(), limitMs });
  };
  // A slot is handed over by counting it taken here, before its query resumes: counted down in
  // release() and up in acquire() a tick later, a query arriving in between took it too, and max + 1 ran.
  const handOver = () => {
    for (let next = waiting[0]; next !== undefined && !alone; next = waiting[0]) {
      if (next.alone ? taken > 0 : taken >= max) return;
      waiting.shift();
      take(next.place, next.limitMs, next.alone);
      next.turn();
    }
  };
  return {
    async acquire(place, options = {}) {
      const wantsAlone = options.alone === true;
      const limitMs = options.limitMs ?? Number.POSITIVE_INFINITY;
      if (waiting.length === 0 && !alone && (wantsAlone ? taken === 0 : taken < max)) {
        take(place, limitMs, wantsAlone);
        return;
      }
      if (!wantsAlone && waiting.length >= max * 4)
        throw lineFull(max, waiting.length, holders.values(), now(), configFile);
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { turn: () => resolve(), alone: wantsAlone, place, limitMs };
        const at = wantsAlone ? waiting.findIndex((other) => !other.alone) : -1;
        waiting.splice(at === -1 ? waiting.length : at, 0, waiter);
        place.leave = () => {
          const at = waiting.indexOf(waiter);
          if (at === -1) return;
          waiting.splice(at, 1);
          // One waiting alone held back those behind it.
          handOver();
          reject(new InletError('QUERY_CANCELLED', 'The query was cancelled.'));
        };
      }).finally(() => {
        place.leave = undefined;
      });
    },
    release(place) {
      holders.delete(place);
      taken--;
      alone = false;
      handOver();
    },
    firstEnd(place) {
      const others = [...holders].filter(([holder]) => holder !== place).map(([, held]) => held);
      return others.length === 0 ? undefined : firstEnd(others, now());
    },
    get taken() {
      return taken;
    },
  };
}
