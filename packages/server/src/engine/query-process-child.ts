// The process that runs people's SQL for the server (query-process.ts starts it): the engine of
// createQueryEngine, driven by messages, so that a query whose single value takes more memory than
// the machine has, or a crash in DuckDB, ends this process and not the server's.
import { writeFileSync } from 'node:fs';
import { createQueryEngine, type QueryEngine } from './query-engine.ts';
import {
  type FromEngine,
  isDuckDBFault,
  shortOfMemory,
  type ToEngine,
  toWire,
  type WireQueryOptions,
} from './query-messages.ts';
import { queryProcessCap } from './query-process-limit.ts';
import type { QueryOptions, QueryStream } from './query-types.ts';

/** Nothing is left to answer: see the disconnect handler at the end. */
const end = (): never => process.kill(process.pid, 'SIGKILL') as never;

// inlet query whose output failed (a reader gone, | head; a full disk) exits at once, and a send of
// this process's then failed with EPIPE, which Node raises as an unhandled 'error' when no callback
// takes it: its stack trace on the terminal, under inlet's one-line message, when the channel closed
// while rows were being sent, before the disconnect event could end this process.
const send = (message: FromEngine) =>
  process.send?.(message, undefined, undefined, (error) => error && end());

// First in line when the machine runs out of memory: the server restarts this process, while a
// server killed in its place loses the requests in flight.
try {
  writeFileSync('/proc/self/oom_score_adj', '1000');
} catch {
  // Not Linux, or not allowed: the server's own watch on this process's memory still holds.
}

// Ctrl-C in a terminal, systemd, docker and timeout(1) signal the whole process group, so this
// process hears the server's SIGINT or SIGTERM with it. The server ends this process as it shuts
// down (or by going away, below): ending here first made a stopping server take it for a crash,
// warn and start another.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);

interface Job {
  abort: AbortController;
  /** Chunks the server is ready for. */
  credit: number;
  released: boolean;
  /** A stream's columns went to the server: it was planned, and now waits on the server's consumer too. */
  answering?: boolean;
  /** Wakes a stream waiting for credit or its release. */
  wake?: () => void;
}

const jobs = new Map<number, Job>();
/** The WAL segments the server last said were loaded and waiting to be deleted. */
let retiring = new Set<string>();
/** Rows of a JSON answer a message carries. */
const ROWS_PER_MESSAGE = 1000;
let engine: QueryEngine | undefined;

const optionsOf = (opts: WireQueryOptions, job: number, entry: Job): QueryOptions => {
  const names = new Map(opts.rowLimitNames);
  // No id: the server knows the query by it, and cancels its job by number. Here it named a job the
  // server was done with until its process had ended it, and refused the id's next query meanwhile.
  return {
    maxRows: opts.maxRows,
    maxBytes: opts.maxBytes,
    timeoutMs: opts.timeoutMs,
    everyRow: opts.everyRow,
    jsonText: opts.jsonText,
    signal: entry.abort.signal,
    // DuckDB did not let go of a stopped query (the server ends this process for it): only before a
    // stream's columns, since after them a slow consumer of the server's may hold it as long.
    onStuck: (reason) => {
      if (!entry.answering) send({ type: 'stuck', job, error: toWire(reason) });
    },
    onRunAlone: (error) => send({ type: 'run-alone', job, error: toWire(error) }),
    ...(names.size > 0 && { rowLimit: (rows: number) => names.get(rows) ?? `max_rows (${rows} rows)` }),
  };
};

/** Hands a stream's chunks over one per credit the server gives, so an export never piles up here. */
async function pass(job: number, entry: Job, stream: QueryStream): Promise<void> {
  entry.answering = true;
  send({ type: 'columns', job, columns: stream.columns });
  stream.stopped.addEventListener(
    'abort',
    () => send({ type: 'stopped', job, error: toWire(stream.stopped.reason) }),
    {
      once: true,
    },
  );
  const wait = () =>
    new Promise<void>((resolve) => {
      entry.wake = resolve;
    });
  const chunks = stream.chunks[Symbol.asyncIterator]();
  for (;;) {
    while (entry.credit === 0 && !entry.released) await wait();
    if (entry.released) break;
    entry.credit--;
    let next: IteratorResult<unknown[][]>;
    try {
      next = await chunks.next();
    } catch (error) {
      send({ type: 'chunk-failed', job, error: toWire(error) });
      if (isDuckDBFault(error)) send({ type: 'fault', job, error: toWire(error) });
      break;
    }
    if (next.done) {
      send({ type: 'end', job });
      break;
    }
    send({ type: 'chunk', job, rows: next.value as never });
  }
  // The query keeps its slot until the server's consumer is done, as it did in the server's process.
  while (!entry.released) await wait();
  await chunks.return?.();
}

async function run(message: Extract<ToEngine, { type: 'query' | 'stream' }>, ready: QueryEngine) {
  const { job } = message;
  const entry: Job = { abort: new AbortController(), credit: 0, released: false };
  jobs.set(job, entry);
  const opts = optionsOf(message.opts, job, entry);
  try {
    if (message.type === 'query') {
      const result = await ready.query(message.sql, opts);
      // A slice at a time: one message of a 100 MB answer was a buffer as large in each process.
      for (let at = 0; at < result.rows.length; at += ROWS_PER_MESSAGE)
        send({ type: 'rows', job, rows: result.rows.slice(at, at + ROWS_PER_MESSAGE) });
      send({ type: 'result', job, result: { ...result, rows: [] } });
    } else await ready.stream(message.sql, opts, (stream) => pass(job, entry, stream));
  } catch (error) {
    // The server ends this process for it, and starts another: DuckDB may answer nothing more.
    send({ type: isDuckDBFault(error) ? 'fault' : 'failed', job, error: toWire(shortOfMemory(error)) });
  } finally {
    jobs.delete(job);
    send({ type: 'done', job });
  }
}

process.on('message', (message: ToEngine) => {
  switch (message.type) {
    case 'init':
      createQueryEngine({
        config: message.config,
        layout: message.layout,
        // The server holds each query's read lease from before it sends the query here until the
        // query is done (query-process.ts), so a WAL segment the query lists is not deleted under it.
        leases: { begin: () => () => undefined, retiring: (path) => retiring.has(path) },
        onDamagedFile: (moved, detail) => send({ type: 'damaged-file', moved, detail }),
        onFileRace: (detail) => send({ type: 'file-race', detail }),
        onViewFailed: (name, detail) => send({ type: 'view-failed', name, detail }),
        // The server limits this process's data to about its cap (query-process-limit.ts).
        processLimit: `the query engine's process may hold within ${queryProcessCap(message.config).named}`,
        stuckMs: message.stuckMs,
        aloneWaitMs: message.aloneWaitMs,
        timeoutName: message.timeoutName,
      }).then(
        (created) => {
          engine = created;
          send({ type: 'ready' });
        },
        (error: unknown) => send({ type: 'init-failed', error: toWire(error) }),
      );
      return;
    case 'query':
    case 'stream':
      // Files only ever join the list until they are deleted: the latest list holds every earlier one's living files.
      retiring = new Set(message.retiring);
      if (engine) void run(message, engine);
      return;
    case 'pull': {
      const entry = jobs.get(message.job);
      if (!entry) return;
      entry.credit++;
      entry.wake?.();
      return;
    }
    case 'abort':
      jobs.get(message.job)?.abort.abort();
      return;
    case 'release': {
      const entry = jobs.get(message.job);
      if (!entry) return;
      entry.released = true;
      entry.wake?.();
      return;
    }
    case 'ping':
      send({ type: 'pong' });
      return;
  }
});

// The server (or inlet query) went away, or closed the engine: nothing is left to answer. Killed, not
// exited: process.exit() waits for libuv's threads, and one that DuckDB holds planning a query it
// cannot interrupt kept this process busy for minutes after Ctrl-C had ended inlet query.
process.on('disconnect', end);
