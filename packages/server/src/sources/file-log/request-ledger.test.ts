import { appendFileSync, existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { createRequestLedger, requestKey } from './request-ledger.ts';

/**
 * A ledger in dir keeping at most max bodies, that remembered count of them at now, each once
 * accepted; key(i) is the i-th body's key, and key(count) and key(count + 1) are new ones.
 */
async function fullLedger(dir: string, max: number, count: number) {
  const path = join(dir, 'state', 'log-requests');
  const ledger = createRequestLedger(path, { max });
  const keys = Array.from({ length: count + 2 }, (_, i) => requestKey('site', 'http', `body ${i}`));
  const now = Date.now();
  await Promise.all(keys.slice(0, count).map((k) => ledger.remember(k, { accepted: 1, rejected: 0 }, now)));
  return { path, ledger, key: (i: number) => keys[i] as string, now };
}

describe('request ledger (POST /logs repeats)', () => {
  it('forgets a body after its window and past the most it keeps, after a reopen too, and skips a torn line', async () => {
    const temp = tempDir();
    try {
      const path = join(temp.dir, 'state', 'log-requests');
      const ledger = createRequestLedger(path, { windowMs: 1000, max: 2 });
      const [a, b, c] = ['a', 'b', 'c'].map((body) => requestKey('site', 'http', body)) as string[];
      const now = Date.now();
      await ledger.remember(a as string, { accepted: 1, rejected: 0 }, now);
      await ledger.remember(b as string, { accepted: 2, rejected: 1 }, now + 10);
      expect(ledger.answer(a as string, now + 500)).toEqual({ accepted: 1, rejected: 0 });
      expect(ledger.answer(a as string, now + 1000)).toBeUndefined();
      await ledger.remember(c as string, { accepted: 3, rejected: 0 }, now + 20);
      // Three remembered where two are kept: the oldest is gone.
      expect(ledger.answer(a as string, now + 30)).toBeUndefined();
      expect(ledger.answer(b as string, now + 30)).toEqual({ accepted: 2, rejected: 1 });
      await ledger.close();
      appendFileSync(path, '12');
      expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(4);
      const reopened = createRequestLedger(path, { windowMs: 60_000, max: 2 });
      expect(reopened.answer(b as string, now + 30)).toEqual({ accepted: 2, rejected: 1 });
      expect(reopened.answer(c as string, now + 30)).toEqual({ accepted: 3, rejected: 0 });
      expect(reopened.answer(a as string, now + 30)).toBeUndefined();
      await reopened.close();
    } finally {
      temp.cleanup();
    }
  });

  it('writes the lines of concurrent requests with one fsync, each resolved once durable, and survives a reopen', async () => {
    const temp = tempDir();
    try {
      const path = join(temp.dir, 'state', 'log-requests');
      const syncs: number[] = [];
      const ledger = createRequestLedger(path, { onSync: (lines) => syncs.push(lines) });
      const keys = Array.from({ length: 20 }, (_, i) => requestKey('site', 'http', `body ${i}`));
      const now = Date.now();
      const remember = (from: number, to: number) =>
        keys.slice(from, to).map((key, i) => ledger.remember(key, { accepted: from + i, rejected: 0 }, now));
      // Ten requests at once share a sync; ten more, arriving while it is in flight, share the next.
      const first = remember(0, 10);
      await Promise.resolve();
      await Promise.resolve();
      const second = remember(10, 20);
      await Promise.all([...first, ...second]);
      expect(syncs).toEqual([10, 10]);
      expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(20);
      await ledger.close();
      const reopened = createRequestLedger(path);
      keys.forEach((key, i) => {
        expect(reopened.answer(key, now + 1)).toEqual({ accepted: i, rejected: 0 });
      });
      await reopened.close();
    } finally {
      temp.cleanup();
    }
  });

  it('fails every request of a batch whose write failed, and writes again once the file can be opened', async () => {
    const temp = tempDir();
    try {
      const path = join(temp.dir, 'state', 'log-requests');
      const ledger = createRequestLedger(path);
      // A directory where the file should be: it cannot be opened for appending.
      mkdirSync(path);
      const [a, b, c] = ['a', 'b', 'c'].map((body) => requestKey('site', 'http', body)) as string[];
      const now = Date.now();
      const failed = await Promise.allSettled([
        ledger.remember(a as string, { accepted: 1, rejected: 0 }, now),
        ledger.remember(b as string, { accepted: 1, rejected: 0 }, now),
      ]);
      expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
      rmdirSync(path);
      await ledger.remember(c as string, { accepted: 3, rejected: 0 }, now);
      await ledger.close();
      expect(createRequestLedger(path).answer(c as string, now + 1)).toEqual({ accepted: 3, rejected: 0 });
    } finally {
      temp.cleanup();
    }
  });

  it('writes the batch that sets off a compaction once, in the compacted file, not appended again after it', async () => {
    const temp = tempDir();
    try {
      // 2,000 lines, twice the most it keeps (1,000 at the least), make the next write compact first.
      const { path, ledger, key, now } = await fullLedger(temp.dir, 2, 2000);
      await ledger.remember(key(2000), { accepted: 2, rejected: 0 }, now + 1);
      // The two it keeps, each once: the compacted file already held the batch that set it off.
      expect(readFileSync(path, 'utf8')).toBe(`${now} ${key(1999)} 1 0\n${now + 1} ${key(2000)} 2 0\n`);
      // The next batch is appended to the compacted file.
      await ledger.remember(key(2001), { accepted: 3, rejected: 0 }, now + 2);
      await ledger.close();
      expect(readFileSync(path, 'utf8').split('\n').slice(1)).toEqual([
        `${now + 1} ${key(2000)} 2 0`,
        `${now + 2} ${key(2001)} 3 0`,
        '',
      ]);
      expect(createRequestLedger(path).answer(key(2000), now + 3)).toEqual({ accepted: 2, rejected: 0 });
    } finally {
      temp.cleanup();
    }
  });

  it('answers requests while a compaction writes, and a crash during it leaves the file as it was', async () => {
    const temp = tempDir();
    try {
      // 10,000 lines, twice the most it keeps, make the next write compact the 5,000 it keeps.
      const { path, ledger, key, now } = await fullLedger(temp.dir, 5000, 10_000);
      let compacted = false;
      const compaction = ledger.remember(key(10_000), { accepted: 2, rejected: 0 }, now + 1).finally(() => {
        compacted = true;
      });
      // Polled at each turn of the event loop: the compaction wrote its whole file in one turn.
      const during = await new Promise<
        { answer: unknown; next: Promise<void>; reopened: unknown[]; lines: number } | undefined
      >((resolve) => {
        const poll = () => {
          if (existsSync(`${path}.tmp`)) {
            // What a restart now would find: the file before the compaction.
            const reopened = createRequestLedger(path, { max: 5000 });
            resolve({
              answer: ledger.answer(key(9999), now + 2),
              next: ledger.remember(key(10_001), { accepted: 3, rejected: 0 }, now + 2),
              reopened: [reopened.answer(key(9999), now + 2), reopened.answer(key(10_000), now + 2)],
              lines: readFileSync(path, 'utf8').split('\n').length - 1,
            });
          } else if (compacted) resolve(undefined);
          else setImmediate(poll);
        };
        setImmediate(poll);
      });
      expect(during).toMatchObject({
        answer: { accepted: 1, rejected: 0 },
        // Its request not yet answered, the batch that set it off is not in the old file.
        reopened: [{ accepted: 1, rejected: 0 }, undefined],
        lines: 10_000,
      });
      await compaction;
      await during?.next;
      await ledger.close();
      // The 5,000 kept, the last of them the batch that set it off; the request made during it after.
      const text = readFileSync(path, 'utf8').trimEnd().split('\n');
      expect(text).toHaveLength(5001);
      expect(text.slice(-2)).toEqual([`${now + 1} ${key(10_000)} 2 0`, `${now + 2} ${key(10_001)} 3 0`]);
      expect(existsSync(`${path}.tmp`)).toBe(false);
      const reopened = createRequestLedger(path, { max: 5000 });
      expect(reopened.answer(key(10_001), now + 3)).toEqual({ accepted: 3, rejected: 0 });
      expect(reopened.answer(key(9999), now + 3)).toEqual({ accepted: 1, rejected: 0 });
      expect(reopened.answer(key(4999), now + 3)).toBeUndefined();
    } finally {
      temp.cleanup();
    }
  });

  it('keys a body by its site and source', () => {
    expect(requestKey('s', 'http', 'x')).not.toBe(requestKey('s', 'nginx', 'x'));
    expect(requestKey('s', 'http', 'x')).not.toBe(requestKey('t', 'http', 'x'));
    expect(requestKey('s', 'http', 'x')).toBe(requestKey('s', 'http', 'x'));
  });
});
