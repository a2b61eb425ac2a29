import { describe, expect, it } from 'vitest';
import { createQuerySlots } from './query-slots.ts';

describe('query slots', () => {
  it('hands a freed slot to the query in line, not to one arriving meanwhile', async () => {
    const slots = createQuerySlots(1, 'prod.yaml');
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const holders: object[] = [];
    const run = async (name: string) => {
      const place = {};
      await slots.acquire(place);
      holders.push(place);
      running++;
      most = Math.max(most, running);
      order.push(name);
    };
    const done = () => {
      running--;
      slots.release(holders.shift() ?? {});
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
    const first = {};
    await slots.acquire(first);
    const place: { leave?: () => void } = {};
    const left = slots.acquire(place);
    place.leave?.();
    await expect(left).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    slots.release(first);
    expect(slots.taken).toBe(0);
    await slots.acquire({});
    expect(slots.taken).toBe(1);
  });

  it('answers QUERY_BUSY when the line is full', async () => {
    const slots = createQuerySlots(1, 'prod.yaml');
    const first = {};
    await slots.acquire(first);
    const places = Array.from({ length: 4 }, () => ({}));
    const line = places.map((place) => slots.acquire(place));
    await expect(slots.acquire({})).rejects.toMatchObject({ code: 'QUERY_BUSY', status: 503 });
    slots.release(first);
    for (const place of places.slice(0, 3)) slots.release(place);
    await Promise.all(line);
    expect(slots.taken).toBe(1);
  });

  it('tells a query refused for a full line to retry when one running may end: as long again as it ran, or at its time limit', async () => {
    // It was Retry-After 2 whatever ran: a client that honoured it asked again and again.
    let clock = 0;
    const slots = createQuerySlots(2, 'prod.yaml', () => clock);
    await slots.acquire({}, { limitMs: 60_000 });
    clock = 20_000;
    await slots.acquire({}, { limitMs: 60_000 });
    const line = Array.from({ length: 8 }, () => slots.acquire({}, { limitMs: 60_000 }));
    // One has run 25 s, the other 5 s, which may take as long again.
    clock = 25_000;
    await expect(slots.acquire({})).rejects.toMatchObject({
      code: 'QUERY_BUSY',
      retryAfterSeconds: 5,
      message:
        'Too many queries are running (query.max_concurrent is 2, and 8 more wait); one of those running has run about 5 s and may take as long again: retry in about 5 s, when a place in line may be free, or raise query.max_concurrent in prod.yaml.',
    });
    // 50 s and 30 s: the first reaches its limit of 60 s in 10 s, before the other may end.
    clock = 50_000;
    await expect(slots.acquire({})).rejects.toMatchObject({
      retryAfterSeconds: 10,
      message: expect.stringContaining(
        '; one of those running reaches its time limit of 60 s in about 10 s: retry in about 10 s, when a place in line may be free,',
      ),
    });
    // The line waits on: nobody left it for the two refused.
    expect([slots.taken, line.length]).toEqual([2, 8]);
  });
});

describe('a slot taken alone', () => {
  it('waits for the running queries, ahead of the line, and no query starts beside it', async () => {
    const slots = createQuerySlots(2, 'prod.yaml');
    const order: string[] = [];
    const places = new Map<string, object>();
    const take = (name: string, alone = false) => {
      const place = {};
      places.set(name, place);
      return slots.acquire(place, { alone }).then(() => {
        order.push(name);
      });
    };
    const end = (name: string) => slots.release(places.get(name) ?? {});
    await take('a');
    await take('b');
    const line = take('in line');
    const alone = take('alone', true);
    end('a');
    // One slot is free, but the query waiting alone is ahead, and waits for the other to end.
    await Promise.resolve();
    expect(order).toEqual(['a', 'b']);
    end('b');
    await alone;
    expect(order).toEqual(['a', 'b', 'alone']);
    expect(slots.taken).toBe(1);
    // Nothing starts beside it, not even a query arriving with a slot free.
    const late = take('late');
    await Promise.resolve();
    expect(order).toEqual(['a', 'b', 'alone']);
    end('alone');
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
