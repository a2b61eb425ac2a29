import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/index.ts';
import { type BadRecord, verifySegmentFile } from '../wal/index.ts';
import { createSegmentStats, type SegmentStats } from './segment-stats.ts';

/** A sealed segment's records checked: how many lines, which are bad, and its stats when readable. */
export interface SegmentCheck {
  lines: number;
  bad: BadRecord[];
  stats: SegmentStats | undefined;
}

export interface SegmentCheckJob {
  id: number;
  path: string;
}

export type SegmentCheckResult =
  | ({ id: number; ok: true } & SegmentCheck)
  | { id: number; ok: false; message: string; code: string | undefined };

export interface SegmentChecker {
  check(path: string): Promise<SegmentCheck>;
  close(): Promise<void>;
}

/** Verifies a segment and gathers its stats on this thread. */
export async function checkSegmentHere(path: string): Promise<SegmentCheck> {
  const stats = createSegmentStats();
  const verified = await verifySegmentFile(path, { visit: stats.visit });
  return { ...verified, stats: stats.result() };
}

/**
 * Checks segments on a thread of their own (segment-check-worker.ts). Verifying a 64 MB segment is
 * ~150 ms of CPU; on the main thread it competed with the collector's requests for the event loop,
 * and under load each of its chunks waited behind them, so the loader fell behind the collector.
 * If the thread dies, that check runs here instead and the next one starts a new thread.
 */
export function createSegmentChecker(options: { logger: Logger; script?: URL }): SegmentChecker {
  const script = options.script ?? new URL('./segment-check-worker-boot.js', import.meta.url);
  const pending = new Map<number, (result: SegmentCheckResult | undefined) => void>();
  let worker: Worker | undefined;
  let nextId = 0;

  const start = (): Worker => {
    const started = new Worker(script);
    // The loader's timers and the HTTP server keep the process alive, never this thread.
    started.unref();
    started.on('message', (result: SegmentCheckResult) => {
      pending.get(result.id)?.(result);
      pending.delete(result.id);
    });
    started.on('error', (error) => options.logger.warn({ err: error }, 'the segment check thread failed'));
    started.on('exit', () => {
      if (worker === started) worker = undefined;
      for (const settle of pending.values()) settle(undefined);
      pending.clear();
    });
    return started;
  };

  // Started now rather than at the first check: booting the thread takes ~0.4 s, which the first
  // load after a restart (often a backlog) would otherwise wait for.
  worker = start();

  return {
    async check(path) {
      worker ??= start();
      const id = nextId++;
      const current = worker;
      const result = await new Promise<SegmentCheckResult | undefined>((resolve) => {
        pending.set(id, resolve);
        current.postMessage({ id, path } satisfies SegmentCheckJob);
      });
      if (result === undefined) {
        // The thread died under this check: it runs here instead, and the next starts a new thread.
        options.logger.warn({ path }, 'the segment check thread exited; checking the segment here');
        return checkSegmentHere(path);
      }
      if (!result.ok) throw Object.assign(new Error(result.message), { code: result.code });
      const { id: _id, ok: _ok, ...check } = result;
      return check;
    },
    async close() {
      const current = worker;
      worker = undefined;
      await current?.terminate();
    },
  };
}
