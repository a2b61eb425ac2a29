import { fork } from 'node:child_process';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import type { DataLayout } from '../lake/index.ts';
import type { Logger } from '../log/index.ts';
import { type FromEngine, fromWire, type ToEngine, type WireError } from './query-messages.ts';
import { memoryOf } from './query-process-limit.ts';
import type { Running } from './query-process-state.ts';

/** Starts a process and waits until its engine is up; rejects with the engine's error if it failed. */
export function spawnProcess({
  script,
  config,
  layout,
  logger,
  options,
  limit,
  endStuck,
  endFault,
  onMessage,
  onExit,
}: {
  script: URL;
  config: InletConfig;
  layout: DataLayout;
  logger: Logger;
  options: { oneQuery?: boolean; stuckMs?: number; aloneWaitMs?: number; timeoutName?: string };
  /** Limits the data of a process that is up; resolves with whether it could. */
  limit: (running: Running) => Promise<boolean>;
  /** Told of a query that was stopped and went on regardless. */
  endStuck: (running: Running, job: number, wire: WireError) => void;
  /** Told of an error of DuckDB's INTERNAL or FATAL kind. */
  endFault: (running: Running, id: number, wire: WireError) => void;
  /** Told of every other message once the process is up. */
  onMessage: (message: FromEngine) => void;
  /** Told when the process ends once it was up. */
  onExit: (running: Running, code: number | null, signal: NodeJS.Signals | null) => void;
}): Promise<Running> {
  return new Promise<Running>((resolve, reject) => {
    const child = fork(script, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Source maps for stack traces, as the server has them; nothing else of the server's flags.
      execArgv: process.execArgv.filter((arg) => arg === '--enable-source-maps'),
      // DuckDB's allocator (jemalloc) keeps the address space of what it freed by default, which
      // the data limit counts: after one large value, the process would have no room left.
      env: { ...process.env, DUCKDB_JE_MALLOC_CONF: 'retain:false' },
    });
    const running: Running = { child, startedAt: Date.now(), heardAt: Date.now() };
    let up = false;
    child.on('message', (message: FromEngine) => {
      running.heardAt = Date.now();
      if (up && message.type === 'stuck') return endStuck(running, message.job, message.error);
      if (up && message.type === 'fault') return endFault(running, message.job, message.error);
      // Ended for a fault: what it answers now may be DuckDB refusing for it; those queries run again.
      if (running.fault !== undefined) return;
      if (up) return onMessage(message);
      if (message.type === 'ready') {
        // An idle engine keeps no process alive (the HTTP server does); a query in flight does.
        child.unref();
        child.channel?.unref();
        // Up once its limit is set: one that ends meanwhile failed to start.
        limit(running).then((limited) => {
          running.limited = limited;
          running.atRest = child.pid === undefined ? undefined : memoryOf(child.pid)?.resident;
          up = true;
          resolve(running);
        });
      } else if (message.type === 'init-failed') {
        child.kill('SIGKILL');
        reject(fromWire(message.error));
      }
    });
    child.on('error', (error) => logger.error({ err: error }, "the query engine's process failed"));
    child.on('exit', (code, signal) => {
      if (up) return onExit(running, code, signal);
      reject(
        new InletError(
          'QUERY_ENGINE_CRASHED',
          `The query engine's process ended as it started (${signal ? `signal ${signal}` : `exit code ${code}`}); ${options.oneQuery ? 'what it printed, above, says why' : "the server's log has its output"}.`,
          { retryAfterSeconds: 1 },
        ),
      );
    });
    child.send({
      type: 'init',
      config,
      layout,
      stuckMs: options.stuckMs,
      aloneWaitMs: options.aloneWaitMs,
      timeoutName: options.timeoutName,
    } satisfies ToEngine);
  });
}
