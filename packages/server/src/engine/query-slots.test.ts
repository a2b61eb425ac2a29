import { describe, expect, it } from 'vitest';
import { createQuerySlots } from './query-slots.ts';

describe('query slots', () => {
  it('hands a freed slot to the query in line, not to one arriving meanwhile', async () => {
    const slots = createQuerySlots(1, 'prod.yaml');
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
    const slots = createQuerySlots(1, 'prod.yaml');
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
    const slots = createQuerySlots(1, 'prod.yaml');
    await slots.acquire({});
    const line = Array.from({ length: 4 }, () => slots.acquire({}));
    await expect(slots.acquire({})).rejects.toMatchObject({ code: 'QUERY_BUSY', status: 503 });
    for (const _ of line) slots.release();
    await Promise.all(line);
    expect(slots.taken).toBe(1);
  });
});

describe('a slot taken alone', () => {
  it('waits for the running queries, ahead of the line, and no query starts beside it', async () => {
    const slots = createQuerySlots(2, 'prod.yaml');
    const order: string[] = [];
    const take = (name: string, alone = false) =>
      slots.acquire({}, { alone }).then(() => {
        order.push(name);
      });
    await take('a');
    await take('b');
    const line = take('in line');
    const alone = take('alone', true);
    slots.release();
    // One slot is free, but the query waiting alone is ahead, and waits for the other to end.
    await Promise.resolve();
    expect(order).toEqual(['a', 'b']);
    slots.release();
    await alone;
    expect(order).toEqual(['a', 'b', 'alone']);
    expect(slots.taken).toBe(1);
    // Nothing starts beside it, not even a query arriving with a slot free.
    const late = take('late');
    await Promise.resolve();
    expect(order).toEqual(['a', 'b', 'alone']);
    slots.release();
    await Promise.all([line, late]);
    expect(order).toEqual(['a', 'b', 'alone', 'in line', 'late']);
    expect(slots.taken).toBe(2);
  });

  it('lets the line go on when the query waiting alone leaves it', async () => {
    const slots = createQuerySlots(2, 'prod.yaml');
    await slots.acquire({});
    const place: { leave?: () => void } = {};
    const alone = slots.acquire(place, { alone: true });
    const after = slots.acquire({});
    place.leave?.();
    await expect(alone).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    await after;
    expect(slots.taken).toBe(2);
  });
});
