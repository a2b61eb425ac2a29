import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncPath } from '../../fsync.ts';

/** What POST /logs answered a request body with. */
export type LogAnswer = { accepted: number; rejected: number };

/** How long a request body is remembered: past Fluent Bit's retry back-off cap (2,000 s by default). */
export const REPEAT_WINDOW_MS = 60 * 60 * 1000;
/** The most request bodies remembered (about 100 bytes each in memory); the oldest go first. */
export const REPEAT_MAX = 100_000;

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
 */
export function createRequestLedger(
  path: string,
  options: { windowMs?: number; max?: number } = {},
): RequestLedger {
  const windowMs = options.windowMs ?? REPEAT_WINDOW_MS;
  const max = options.max ?? REPEAT_MAX;
  const entries = new Map<string, Entry>();
  let lines = 0;
  let handle: Promise<FileHandle> | undefined;
  let queue: Promise<void> = Promise.resolve();

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
  const compact = async () => {
    if (handle) await (await handle).close();
    handle = undefined;
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, [...entries].map(([key, e]) => encode(key, e)).join(''), { flush: true });
    renameSync(tmp, path);
    syncPath(dirname(path));
    lines = entries.size;
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
      // One write at a time, so a compaction never closes the file under another's append.
      const write = async () => {
        if (lines >= 2 * Math.max(max, 1000)) await compact();
        if (!handle) {
          handle = open(path, 'a');
          await handle;
          syncPath(dirname(path));
        }
        const file = await handle;
        await file.appendFile(encode(key, entry));
        await file.datasync();
        lines++;
      };
      const done = queue.then(write);
      queue = done.catch(() => {});
      return done;
    },
    async close() {
      await queue;
      if (handle) await (await handle).close();
      handle = undefined;
    },
  };
}
