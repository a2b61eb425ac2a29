import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers.ts';
import { createReadLeases } from './read-leases.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());
const file = (name: string) => {
  const path = join(temp.dir, name);
  writeFileSync(path, 'x');
  return path;
};

describe('read leases', () => {
  it('deletes a retired file at once when no query runs, off the event loop', async () => {
    const leases = createReadLeases();
    const path = file('a.log');
    leases.retire(path);
    // Being deleted: still retiring, so the loader does not take it up again meanwhile.
    expect(leases.retiring(path)).toBe(true);
    await leases.settled();
    expect(existsSync(path)).toBe(false);
    expect(leases.retiring(path)).toBe(false);
  });

  it('keeps a retired file until every query that began before has finished', async () => {
    const leases = createReadLeases();
    const path = file('b.log');
    const first = leases.begin();
    const second = leases.begin();
    leases.retire(path);
    // A query that begins after the retirement never listed the file, so it does not hold it.
    const later = leases.begin();
    expect([existsSync(path), leases.retiring(path)]).toEqual([true, true]);
    first();
    await leases.settled();
    expect(existsSync(path)).toBe(true);
    second();
    await leases.settled();
    expect([existsSync(path), leases.retiring(path)]).toEqual([false, false]);
    later();
    second(); // ending twice changes nothing
  });

  it('releases files retired at different times as their own readers finish', async () => {
    const leases = createReadLeases();
    const early = file('c.log');
    const late = file('d.log');
    const old = leases.begin();
    leases.retire(early);
    const newer = leases.begin();
    leases.retire(late);
    old();
    await leases.settled();
    expect([existsSync(early), existsSync(late)]).toEqual([false, true]);
    newer();
    await leases.settled();
    expect(existsSync(late)).toBe(false);
  });
});
