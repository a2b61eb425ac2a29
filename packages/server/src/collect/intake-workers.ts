import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/index.ts';
import type { IntakeJob, IntakeJobResult, IntakeWorkerData } from './intake-worker.ts';

export interface IntakeWorkers {
  /** Runs a job on the worker with the fewest jobs in flight; the body's memory moves to it. */
  run(job: Omit<IntakeJob, 'id'>): Promise<IntakeJobResult>;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  pending: Map<number, (result: IntakeJobResult) => void>;
}

/**
 * A fixed pool of intake workers (intake-worker.ts). A worker that dies fails the jobs it had, as
 * errors of inlet's own (the client retries), and is replaced.
 */
export function createIntakeWorkers(options: {
  size: number;
  data: IntakeWorkerData;
  logger: Logger;
}): IntakeWorkers {
  let nextId = 0;
  let closing = false;

  const spawn = (): Slot => {
    const worker = new Worker(new URL('./intake-worker-boot.js', import.meta.url), {
      workerData: options.data,
    });
    // Never what keeps the process alive: the HTTP server is.
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (result: IntakeJobResult) => {
      slot.pending.get(result.id)?.(result);
      slot.pending.delete(result.id);
    });
    const fail = (reason: string) => {
      for (const [id, settle] of slot.pending)
        settle({ id, ok: false, count: undefined, error: { code: undefined, message: reason } });
      slot.pending.clear();
    };
    worker.on('error', (error) => {
      options.logger.error({ err: error }, 'an intake worker failed; starting another');
      fail(`intake worker failed: ${error.message}`);
    });
    worker.on('exit', (code) => {
      fail(`intake worker exited with ${code}`);
      if (closing) return;
      const index = slots.indexOf(slot);
      if (index !== -1) slots[index] = spawn();
    });
    return slot;
  };
  const slots = Array.from({ length: options.size }, spawn);

  return {
    run(job) {
      let slot = slots[0] as Slot;
      for (const candidate of slots) if (candidate.pending.size < slot.pending.size) slot = candidate;
      const id = nextId++;
      return new Promise((resolve) => {
        slot.pending.set(id, resolve);
        slot.worker.postMessage({ ...job, id }, [job.body.buffer as ArrayBuffer]);
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
}
