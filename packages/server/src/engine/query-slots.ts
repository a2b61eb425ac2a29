import { InletError } from '../errors/index.ts';

export interface QuerySlots {
  /**
   * Takes a slot, waiting in line for one when all are taken. place.leave() leaves the line at once
   * (a cancel, a client gone): such a query ran later for nobody, and held a slot meanwhile.
   */
  acquire(place: { leave?: () => void }): Promise<void>;
  /** Gives a slot back: to the first query in line, or to nobody. */
  release(): void;
  /** Slots taken now. */
  readonly taken: number;
}

/** At most max queries at a time, and at most max * 4 more in line (QUERY_BUSY past that). */
export function createQuerySlots(max: number): QuerySlots {
  let taken = 0;
  const waiting: Array<() => void> = [];
  return {
    async acquire(place) {
      if (taken < max) {
        taken++;
        return;
      }
      if (waiting.length >= max * 4) {
        throw new InletError(
          'QUERY_BUSY',
          `Too many queries are running (query.max_concurrent is ${max}, and ${waiting.length} more wait); retry in a moment, or raise query.max_concurrent in inlet.yaml.`,
          { retryAfterSeconds: 2 },
        );
      }
      // The slot is handed over by release() without ever being free: counted down there and up
      // here a tick later, a query arriving in between took it too, and max + 1 ran.
      await new Promise<void>((resolve, reject) => {
        const turn = () => resolve();
        waiting.push(turn);
        place.leave = () => {
          const at = waiting.indexOf(turn);
          if (at === -1) return;
          waiting.splice(at, 1);
          reject(new InletError('QUERY_CANCELLED', 'The query was cancelled.'));
        };
      }).finally(() => {
        place.leave = undefined;
      });
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else taken--;
    },
    get taken() {
      return taken;
    },
  };
}
