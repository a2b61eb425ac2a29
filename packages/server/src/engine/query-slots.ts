import { InletError } from '../errors/index.ts';

export interface QuerySlots {
  /**
   * Takes a slot, waiting in line for one when all are taken. place.leave() leaves the line at once
   * (a cancel, a client gone): such a query ran later for nobody, and held a slot meanwhile. With
   * alone, the slot is the only one taken until it is given back: it waits, ahead of the line, for
   * the queries running to end, and no query starts meanwhile.
   */
  acquire(place: { leave?: () => void }, options?: { alone?: boolean }): Promise<void>;
  /** Gives a slot back: to the first query in line, or to nobody. */
  release(): void;
  /** Slots taken now. */
  readonly taken: number;
}

interface Waiter {
  turn: () => void;
  alone: boolean;
}

/**
 * At most max queries at a time, and at most max * 4 more in line (QUERY_BUSY past that, naming
 * configFile, the file that sets query.max_concurrent).
 */
export function createQuerySlots(max: number, configFile: string): QuerySlots {
  let taken = 0;
  /** The one slot taken is held alone. */
  let alone = false;
  // Those waiting alone are ahead of the rest.
  const waiting: Waiter[] = [];
  // A slot is handed over by counting it taken here, before its query resumes: counted down in
  // release() and up in acquire() a tick later, a query arriving in between took it too, and max + 1 ran.
  const handOver = () => {
    for (let next = waiting[0]; next !== undefined && !alone; next = waiting[0]) {
      if (next.alone ? taken > 0 : taken >= max) return;
      waiting.shift();
      taken++;
      alone = next.alone;
      next.turn();
    }
  };
  return {
    async acquire(place, options = {}) {
      const wantsAlone = options.alone === true;
      if (waiting.length === 0 && !alone && (wantsAlone ? taken === 0 : taken < max)) {
        taken++;
        alone = wantsAlone;
        return;
      }
      if (!wantsAlone && waiting.length >= max * 4) {
        throw new InletError(
          'QUERY_BUSY',
          `Too many queries are running (query.max_concurrent is ${max}, and ${waiting.length} more wait); retry in a moment, or raise query.max_concurrent in ${configFile}.`,
          { retryAfterSeconds: 2 },
        );
      }
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = { turn: () => resolve(), alone: wantsAlone };
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
    release() {
      taken--;
      alone = false;
      handOver();
    },
    get taken() {
      return taken;
    },
  };
}
