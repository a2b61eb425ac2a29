import type { Logger } from '../log/index.ts';
import type { ToEngine } from './query-messages.ts';
import { megabytes, memoryOf } from './query-process-limit.ts';
import type { Job, Running } from './query-process-state.ts';

/** How often the engine's process's memory is read while a query runs. */
const WATCH_MS = 50;
/** While queries run, the engine's process is asked this often to answer, from its event loop. */
const PING_MS = 1_000;

/**
 * The watch on the engine's process while queries run in it: its memory against its cap, and its
 * answers to a ping; a process past the one or silent for unresponsiveMs is ended.
 */
export function createWatch({
  jobs,
  logger,
  unresponsiveMs,
  capBytes,
  send,
  current,
}: {
  /** The jobs in flight, by id. */
  jobs: Map<number, Job>;
  logger: Logger;
  unresponsiveMs: number;
  capBytes: number;
  send: (running: Running, message: ToEngine) => void;
  /** The process queries go to now, if one is up. */
  current: () => Running | undefined;
}) {
  let watch: NodeJS.Timeout | undefined;

  /** Ends a process with queries in flight that has answered nothing for unresponsiveMs. */
  const checkHeard = (running: Running) => {
    const now = Date.now();
    const silent = now - running.heardAt;
    if (silent >= unresponsiveMs && running.silentFor === undefined && running.killedFor === undefined) {
      running.silentFor = silent;
      logger.error(
        { pid: running.child.pid, silent_ms: silent, queries: jobs.size },
        "the query engine's process answered nothing while queries ran in it, and is stopped; its queries fail with QUERY_ENGINE_CRASHED",
      );
      running.child.kill('SIGKILL');
      return;
    }
    if (now - (running.pingedAt ?? 0) >= Math.min(PING_MS, unresponsiveMs / 4)) {
      running.pingedAt = now;
      send(running, { type: 'ping' });
    }
  };

  const startWatch = () => {
    if (watch) return;
    watch = setInterval(() => {
      const running = current();
      const pid = running?.child.pid;
      if (!running || pid === undefined || running.killedFor !== undefined) return;
      checkHeard(running);
      if (running.silentFor !== undefined || process.platform !== 'linux') return;
      const memory = memoryOf(pid);
      if (memory === undefined) return;
      running.dataSeen = memory.data;
      const rss = memory.resident;
      if (rss <= capBytes) return;
      running.killedFor = megabytes(rss);
      logger.error(
        { pid, resident_bytes: rss, cap_bytes: capBytes, queries: jobs.size },
        "the query engine's process passed its memory cap and is stopped; its queries fail with QUERY_OUT_OF_MEMORY",
      );
      running.child.kill('SIGKILL');
    }, WATCH_MS);
  };

  const idle = () => {
    if (jobs.size > 0) return;
    clearInterval(watch);
    watch = undefined;
    current()?.child.channel?.unref();
  };

  /** Stops the watch for good: the engine is closed. */
  const stopWatch = () => clearInterval(watch);

  return { startWatch, idle, stopWatch };
}
