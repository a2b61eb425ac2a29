import { execFile } from 'node:child_process';
import { type InletConfig, sizeBytes } from '../config/index.ts';

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
