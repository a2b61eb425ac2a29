import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type InletConfig, sizeBytes } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import type { Running } from './query-process-state.ts';

/**
 * Resident memory the engine's process may hold beyond query.memory_limit, for each query that may
 * run at once (query.max_concurrent): Node and DuckDB at rest (~115 MB), and the rows of a JSON
 * answer of the most bytes in hand (100 MB of JSON took the process to 640 MB at its peak: DuckDB's
 * chunks, the JavaScript values, and the message that carries them).
 */
export const QUERY_PROCESS_ALLOWANCE_BYTES = 512 * 2 ** 20;

export const megabytes = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

/** The memory the engine's process may hold, and how a message names it. */
export function queryProcessCap(config: InletConfig): { capBytes: number; dataBytes: number; named: string } {
  const capBytes =
    (sizeBytes(config.query.memory_limit) ?? 0) + QUERY_PROCESS_ALLOWANCE_BYTES * config.query.max_concurrent;
  return {
    capBytes,
    // The data limit counts address space held writable whether resident or not (thread stacks,
    // allocators' reserves: 120-200 MB more than the private resident memory, measured), which is
    // more than what the pages of Node's and DuckDB's code add to resident memory (~80 MB): at the
    // limit, resident memory is still under the cap, and the watch on it does not stop the process.
    dataBytes: capBytes,
    named: `its cap of ${megabytes(capBytes)} (query.memory_limit ${config.query.memory_limit} + ${megabytes(QUERY_PROCESS_ALLOWANCE_BYTES)} for each of query.max_concurrent's ${config.query.max_concurrent} queries)`,
  };
}

/**
 * Limits a process's data (its private writable memory, RLIMIT_DATA) with util-linux's prlimit, so
 * an allocation past it fails inside the one query that asked for it, at once, rather than the
 * whole process growing until a watch sees it. Resolves with why it could not, or undefined.
 */
export function limitData(prlimit: string, pid: number, bytes: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      prlimit,
      ['--pid', String(pid), `--data=${bytes}:${bytes}`],
      { timeout: 10_000 },
      (error, _out, stderr) => resolve(error ? (stderr.trim() || error.message).split('\n')[0] : undefined),
    );
  });
}

/** A process's resident memory and its data (what RLIMIT_DATA counts), from /proc; undefined where there is none (not Linux). */
export function memoryOf(pid: number): { resident: number; data: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`${field}:\\s*(\\d+)\\s*kB`).exec(status)?.[1] ?? Number.NaN) * 1024;
    const memory = { resident: kb('VmRSS'), data: kb('VmData') };
    return Number.isNaN(memory.resident) ? undefined : memory;
  } catch {
    return undefined;
  }
}

/** The data limit of the processes one createQueryProcess starts (limit, below), tried until it is found it cannot be set. */
export function createDataLimit({
  dataBytes,
  logger,
  options,
}: {
  dataBytes: number;
  logger: Logger;
  options: { prlimit?: string };
}) {
  /** Why the process's data cannot be limited here, once found (then it is not tried again). */
  let unlimited: string | undefined;

  /**
   * Limits the data of a process that is up, so that an allocation past it fails in the query that
   * made it (DuckDB's "Out of Memory Error") and the queries beside it run on; the watch on its
   * resident memory stays, for what the limit does not count. Where it cannot (no prlimit, not
   * Linux, not allowed), that watch alone holds, as it did before, and the log says so once.
   */
  const limit = async (running: Running): Promise<boolean> => {
    const { child } = running;
    if (unlimited !== undefined || child.pid === undefined) return false;
    if (process.platform !== 'linux') unlimited = 'not Linux';
    else {
      // Address space a process reserves writable at start without using it counts against the limit
      // as if it were memory: Node 24 reserves 512 MB for V8's code this way (Node 20: ~30 MB). Left
      // out, the limit was passed before the first query, which failed as the lake's tables being
      // unreadable. What it reserves is added to the limit, so the room left for queries is the same.
      const atRest = memoryOf(child.pid);
      running.dataLimit = dataBytes + (atRest ? Math.max(0, atRest.data - atRest.resident) : 0);
      unlimited = await limitData(options.prlimit ?? 'prlimit', child.pid, running.dataLimit);
    }
    if (unlimited !== undefined)
      logger.warn(
        { reason: unlimited },
        `the query engine's process's memory cannot be limited (${unlimited}): one query whose value passes the cap stops that process and every query running in it. Install util-linux (prlimit) to fail only that query`,
      );
    return unlimited === undefined;
  };
  return limit;
}
