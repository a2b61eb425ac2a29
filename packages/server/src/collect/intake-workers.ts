import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/index.ts';
import type { IntakeJob, IntakeJobResult, IntakeWorkerData } from './intake-worker.ts';

export interface IntakeWorkers {
  /**
   * Runs a job on the worker with the fewest jobs in flight; the body's memory moves to it.
   * Undefined when no worker is running (all are waiting to be restarted): parse it yourself.
   */
  run(job: Omit<IntakeJob, 'id'>): Promise<IntakeJobResult> | undefined;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker | undefined;
  pending: Map<number, (result: IntakeJobResult) => void>;
  startedAt: number;
  /** Milliseconds to wait before the next restart; doubles while workers keep dying young. */
  backoffMs: number;
}

const YOUNG_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;

/**
 * A fixed pool of intake workers (intake-worker.ts). A worker that dies fails the jobs it had, as
 * errors of inlet's own (the client retries), and is replaced; one that keeps dying soon after it
 * starts is restarted ever more slowly, and meanwhile its share of the work stays on the main thread.
 */
export function createIntakeWorkers(options: {
  size: number;
  data: IntakeWorkerData;
  logger: Logger;
  /** The worker's entry point; tests give one of their own. */
  script?: URL;
}): IntakeWorkers {
  const script = options.script ?? new URL('./intake-worker-boot.js', import.meta.url);
  let nextId = 0;
  let closing = false;

  const start = (slot: Slot) => {
    const worker = new Worker(script, { workerData: options.data });
    // Never what keeps the process alive: the HTTP server is.
    worker.unref();
    slot.worker = worker;
    slot.startedAt = Date.now();
    worker.on('message', (result: IntakeJobResult) => {
      slot.pending.get(result.id)?.(result);
      slot.pending.delete(result.id);
    });
    worker.on('error', (error) => options.logger.error({ err: error }, 'an intake worker failed'));
    worker.on('exit', (code) => {
      slot.worker = undefined;
      for (const [id, settle] of slot.pending)
        settle({
          id,
          ok: false,
          count: undefined,
          error: { code: undefined, message: `intake worker exited with ${code}` },
        });
      slot.pending.clear();
      if (closing) return;
      const young = Date.now() - slot.startedAt < YOUNG_MS;
      slot.backoffMs = young ? Math.min(MAX_BACKOFF_MS, Math.max(1000, slot.backoffMs * 2)) : 0;
      options.logger.warn(
        { code, restartInMs: slot.backoffMs },
        'an intake worker stopped; starting another',
      );
      setTimeout(() => closing || start(slot), slot.backoffMs).unref();
    });
  };

  const slots: Slot[] = Array.from({ length: options.size }, () => {
    const slot: Slot = { worker: undefined, pending: new Map(), startedAt: 0, backoffMs: 0 };
    start(slot);
    return slot;
  });

  return {
    run(job) {
      let chosen: (Slot & { worker: Worker }) | undefined;
      for (const slot of slots) {
        if (slot.worker && (!chosen || slot.pending.size < chosen.pending.size))
          chosen = slot as Slot & { worker: Worker };
      }
      if (!chosen) return undefined;
      const { worker, pending } = chosen;
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        worker.postMessage({ ...job, id }, [job.body.buffer as ArrayBuffer]);
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((slot) => slot.worker?.terminate()));
    },
  };
}
