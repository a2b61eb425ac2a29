import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncPathAsync } from '../../fsync.ts';

/** What POST /logs answered a request body with. */
export type LogAnswer = { accepted: number; rejected: number };

/** How long a request body is remembered: past Fluent Bit's retry back-off cap (2,000 s by default). */
export const REPEAT_WINDOW_MS = 60 * 60 * 1000;
/** The most request bodies remembered (about 100 bytes each in memory); the oldest go first. */
export const REPEAT_MAX = 100_000;
/** The lines a compaction hands to one write, so the event loop has a turn between writes. */
const COMPACT_LINES_PER_WRITE = 4096;

/** The key of a request body for a site and source: a retried chunk has the same bytes. */
export function requestKey(site: string, source: string, body: string): string {
  return createHash('sha256').update(`${site}\n${source}\n`).update(body).digest('base64url').slice(0, 22);
}

export interface RequestLedger {
  /** The answer given to this key within the window, if any. */
  answer(key: string, nowMs: number): LogAnswer | undefined;
  /** Remembers the answer, on disk (fsynced) before it resolves. */
  remember(key: string, answer: LogAnswer, nowMs: number): Promise<void>;
  close(): Promise<void>;
}

type Entry = { t: number; a: number; r: number };
const LINE = /^(\d+) ([A-Za-z0-9_-]{22}) (\d+) (\d+)$/;

/**
 * The request bodies POST /logs accepted in the last hour, kept in a file of one line each
 * (`<ms> <key> <accepted> <rejected>`), appended and fsynced after the records are in the WAL and
 * before the answer: so a retry of a chunk acknowledged before a restart is known after it.
 *
 * Group commit, as the WAL's: the lines of every request that arrives while one fdatasync is in
 * flight are written together and share the next one, so many small concurrent requests no longer
 * each wait for a sync of their own. Each still resolves only once its line is on disk.
 */
export function createRequestLedger(
  path: string,
  options: {
    windowMs?: number;
    max?: number;
    /** Called after each fdatasync of the file, with the number of lines it made durable. */
    onSync?(lines: number): void;
  } = {},
): RequestLedger {
  const windowMs = options.windowMs ?? REPEAT_WINDOW_MS;
  const max = options.max ?? REPEAT_MAX;
  const entries = new Map<string, Entry>();
  let lines = 0;
  let handle: Promise<FileHandle> | undefined;
  // Lines waiting for the next write, and who waits for them; the write in flight, if any.
  let batch: string[] = [];
  let waiters: Array<{ resolve(): void; reject(error: unknown): void }> = [];
  let writing: Promise<void> | undefined;

  const evict = (nowMs: number) => {
    for (const [key, entry] of entries) {
      if (entries.size <= max && nowMs - entry.t < windowMs) break;
      entries.delete(key);
    }
  };
  const encode = (key: string, e: Entry) => `${e.t} ${key} ${e.a} ${e.r}\n`;

  mkdirSync(dirname(path), { recursive: true });
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const line of text.split('\n')) {
    // A line torn by a crash is skipped: its request was never answered.
    const match = LINE.exec(line);
    if (!match) continue;
    entries.delete(match[2] as string);
    entries.set(match[2] as string, { t: Number(match[1]), a: Number(match[3]), r: Number(match[4]) });
    lines++;
  }
  evict(Date.now());

  // Rewritten whole (atomically) once it holds twice what is remembered, so it stays bounded too.
  // On libuv's thread pool, in pieces: written and fsynced in one synchronous call, its 100,000
  // lines held the event loop, which the collector shares, and every request in hand, for the whole
  // rewrite. A crash before the rename leaves the file as it was; the temporary file is rewritten.
  const compact = async () => {
    if (handle) await (await handle).close();
    handle = undefined;
    // Taken now: what is remembered while it writes is in the next batch, appended after it.
    const kept = [...entries];
    const tmp = `${path}.tmp`;
    const file = await open(tmp, 'w');
    try {
      for (let i = 0; i < kept.length; i += COMPACT_LINES_PER_WRITE) {
        const piece = kept.slice(i, i + COMPACT_LINES_PER_WRITE);
        await file.appendFile(piece.map(([key, e]) => encode(key, e)).join(''));
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    await syncPathAsync(dirname(path));
    lines = kept.length;
  };

  // One write at a time, so a compaction never closes the file under another's append.
  const write = async (chunk: string[]) => {
    if (lines >= 2 * Math.max(max, 1000)) {
      // The chunk's entries are in the map, so the compacted file, fsynced, already holds them:
      // appended after it too, they were written and synced twice, and counted twice toward the next.
      await compact();
      options.onSync?.(chunk.length);
      return;
    }
    if (!handle) {
      handle = open(path, 'a');
      try {
        await handle;
      } catch (error) {
        // Opened again by the next write: a file that could not be opened once failed every one after.
        handle = undefined;
        throw error;
      }
      await syncPathAsync(dirname(path));
    }
    const file = await handle;
    await file.appendFile(chunk.join(''));
    await file.datasync();
    lines += chunk.length;
    options.onSync?.(chunk.length);
  };
  // Started a microtask after the first remember, so the lines of one turn of the event loop go
  // together; those that come while a write is in flight go in the next, started right after it.
  const drain = async () => {
    while (batch.length > 0) {
      const chunk = batch;
      const settled = waiters;
      batch = [];
      waiters = [];
      try {
        await write(chunk);
        for (const waiter of settled) waiter.resolve();
      } catch (error) {
        for (const waiter of settled) waiter.reject(error);
      }
    }
    writing = undefined;
  };

  return {
    answer(key, nowMs) {
      const entry = entries.get(key);
      if (!entry || nowMs - entry.t >= windowMs) return undefined;
      return { accepted: entry.a, rejected: entry.r };
    },
    remember(key, answer, nowMs) {
      const entry = { t: nowMs, a: answer.accepted, r: answer.rejected };
      entries.delete(key);
      entries.set(key, entry);
      evict(nowMs);
      const done = new Promise<void>((resolve, reject) => {
        batch.push(encode(key, entry));
        waiters.push({ resolve, reject });
      });
      writing ??= Promise.resolve().then(drain);
      return done;
    },
    async close() {
      await writing;
      if (handle) await (await handle).close();
      handle = undefined;
    },
  };
}
