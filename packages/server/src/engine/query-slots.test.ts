import { describe, expect, it } from 'vitest';
import { createQuerySlots } from './query-slots.ts';

describe('query slots', () => {
  it('hands a freed slot to the query in line, not to one arriving meanwhile', async () => {
    const slots = createQuerySlots(1);
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const run = async (name: string) => {
      await slots.acquire({});
      running++;
      most = Math.max(most, running);
      order.push(name);
    };
    const done = () => {
      running--;
      slots.release();
    };
    await run('first');
    const waiting = run('waiting');
    // The first query ends, and another arrives before the one in line has resumed.
    done();
    const late = run('late');
    await waiting;
    expect(order).toEqual(['first', 'waiting']);
    expect(most).toBe(1);
    done();
    await late;
    expect(order).toEqual(['first', 'waiting', 'late']);
    expect(most).toBe(1);
    done();
    expect(slots.taken).toBe(0);
  });

  it('frees the slot when nobody waits, and a query that left the line takes none', async () => {
    const slots = createQuerySlots(1);
    await slots.acquire({});
    const place: { leave?: () => void } = {};
    const left = slots.acquire(place);
    place.leave?.();
    await expect(left).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    slots.release();
    expect(slots.taken).toBe(0);
    await slots.acquire({});
    expect(slots.taken).toBe(1);
  });

  it('answers QUERY_BUSY when the line is full', async () => {
    const slots = createQuerySlots(1);
    await slots.acquire({});
    const line = Array.from({ length: 4 }, () => slots.acquire({}));
    await expect(slots.acquire({})).rejects.toMatchObject({ code: 'QUERY_BUSY', status: 503 });
    for (const _ of line) slots.release();
    await Promise.all(line);
    expect(slots.taken).toBe(1);
  });
});
