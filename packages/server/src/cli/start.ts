import { ROLES, type Role, type RunningRoles, startRoles } from '../app/index.ts';
import type { InletConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { parseOptions } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import type { Output } from './output.ts';

export const startHelp = `inlet start [--config inlet.yaml] [--role collector|loader|web|scheduler …] [--port N] [--log-format json|text]
  Runs inlet until SIGINT or SIGTERM. Without --role, everything in one process: the collector
  (intake, WAL, log tails), the loader (WAL → lake), the web API and the scheduler. With --role
  (repeated or comma-separated), only those, so they can run as separate processes on one data
  directory; the HTTP server starts with collector or web. --port overrides server.port, so a
  collector and a web process can share one inlet.yaml (roles without the HTTP server refuse it).`;

/** The port --port asks for, else server.port; undefined (after saying why) when it is not one. */
export function portOption(
  value: string | undefined,
  config: InletConfig,
  output: Output,
): number | undefined {
  // Digits only: Number() reads 0x50 as 80, 1e3 as 1000 and an empty value as 0 (any free port).
  const port =
    value === undefined ? config.server.port : /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  output.err(`--port ${value} is not a port number; give one from 0 to 65535.\n`);
  return undefined;
}

/** Why the process stops: a signal, or an error no code caught (after start-up). */
export type StopReason =
  | { signal: string }
  | { fault: 'uncaughtException' | 'unhandledRejection'; error: unknown };

/** A stop listened for: `stopped` resolves with its reason, and `signal` aborts when it comes. */
export interface StopListener {
  stopped: Promise<StopReason>;
  signal: AbortSignal;
  /** Stops listening, as a start-up that failed does: nothing is then left to keep the process up. */
  cancel(): void;
}

/**
 * Listens, from now on, for the process to be asked to stop (SIGINT or SIGTERM), or for an error
 * that escaped every handler: an exception nobody caught or a rejected promise nobody awaited. Node
 * printed those with their stack and ended the process at once with 1; here they end it as a signal does.
 */
export function listenForStop(): StopListener {
  // Signal listeners keep no process alive, so a role with nothing to wait on (a scheduler without
  // workflows) would end here at once, with 0, as if it had been stopped. This timer keeps it up.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const aborter = new AbortController();
  let resolve: (reason: StopReason) => void = () => {};
  const stopped = new Promise<StopReason>((done) => {
    resolve = done;
  });
  const cancel = () => {
    clearInterval(keepAlive);
    process.removeListener('SIGINT', onInt).removeListener('SIGTERM', onTerm);
    process.removeListener('uncaughtException', onException);
    process.removeListener('unhandledRejection', onRejection);
  };
  const stop = (reason: StopReason) => {
    cancel();
    aborter.abort();
    resolve(reason);
  };
  const onInt = () => stop({ signal: 'SIGINT' });
  const onTerm = () => stop({ signal: 'SIGTERM' });
  const onException = (error: unknown) => stop({ fault: 'uncaughtException', error });
  const onRejection = (error: unknown) => stop({ fault: 'unhandledRejection', error });
  process.once('SIGINT', onInt).once('SIGTERM', onTerm);
  process.on('uncaughtException', onException).on('unhandledRejection', onRejection);
  return { stopped, signal: aborter.signal, cancel };
}

/** Resolves when the process has been asked to stop, or an error escaped every handler (listenForStop). */
export const untilStopped = (): Promise<StopReason> => listenForStop().stopped;

/** How long stopping after a fault may take before the process ends without waiting further. */
const FAULT_STOP_MS = 30_000;

/**
 * Stops after a fault: logs it as one error line with its stack, closes what runs as SIGTERM
 * does (acknowledged events are in the WAL already), and makes sure the process ends, with
 * INTERNAL, even if what failed left something that keeps it up or makes closing hang.
 */
export async function stopAfterFault(
  reason: Extract<StopReason, { fault: string }>,
  inlet: { close(): Promise<void> },
  logger: Logger,
): Promise<ExitCode> {
  const what =
    reason.fault === 'uncaughtException'
      ? 'an exception nobody caught'
      : 'a promise rejection nobody handled';
  logger.fatal(
    { err: reason.error, fault: reason.fault },
    `inlet hit an error it did not foresee (${what}); stopping as on SIGTERM: acknowledged events are in the WAL and load on the next start. Please report it with this line`,
  );
  let later = 0;
  const onLater = (error: unknown) => {
    later += 1;
    if (later <= 10) logger.error({ err: error }, 'another error inlet did not foresee, while stopping');
  };
  // Another fault while stopping is logged too, never printed raw.
  process.on('uncaughtException', onLater).on('unhandledRejection', onLater);
  const deadline = setTimeout(() => {
    logger.fatal(
      { after_ms: FAULT_STOP_MS },
      'stopping after the error takes too long; ending the process now',
    );
    process.exit(ExitCode.INTERNAL);
  }, FAULT_STOP_MS);
  try {
    await inlet.close();
  } catch (error) {
    logger.error({ err: error }, 'stopping after the error failed part-way');
  }
  // What failed may have left a handle that keeps the process up: it ends all the same.
  deadline.refresh();
  deadline.unref();
  return ExitCode.INTERNAL;
}

/** libuv's own pool size, when UV_THREADPOOL_SIZE does not set one. */
const LIBUV_DEFAULT_POOL = 4;
/** Threads of the pool kept for files (the WAL's fsyncs above all) while DuckDB holds the rest. */
const POOL_FOR_FILES = 4;

/**
 * Why libuv's thread pool is too small for a process with these roles, or undefined when it is not.
 * DuckDB runs each load, model build, table copy and catalog look on a thread of the pool until it
 * ends; when they hold every thread, the WAL's fsyncs wait for them, and so does every
 * acknowledgement. People's SQL runs in the query engine's own process, on that process's pool, so
 * query.max_concurrent takes none of these threads: the web role holds one, for the catalog's
 * looks, which run one at a time.
 */
export function threadPoolWarning(roles: readonly Role[], poolSize: string | undefined): string | undefined {
  if (!roles.includes('collector')) return undefined;
  const duckdb =
    (roles.includes('web') ? 1 : 0) +
    (roles.includes('loader') ? 1 : 0) +
    // A model build and a table copy.
    (roles.includes('scheduler') ? 2 : 0);
  if (duckdb === 0) return undefined;
  const size = Number(poolSize) || LIBUV_DEFAULT_POOL;
  const needed = duckdb + POOL_FOR_FILES;
  if (size >= needed) return undefined;
  return (
    `UV_THREADPOOL_SIZE is ${size}: DuckDB's loads, builds, table copies and catalog looks ` +
    `can hold every thread of libuv's pool, and then acknowledgements wait for them; ` +
    `set UV_THREADPOOL_SIZE to at least ${needed}, or run the collector as its own process (--role).`
  );
}

/** The roles that start the HTTP server, whose port --port sets. */
const HTTP_ROLES: readonly Role[] = ['collector', 'web'];

export async function startCommand(
  args: string[],
  config: InletConfig,
  logger: Logger,
  output: Output,
  env: Record<string, string | undefined> = {},
): Promise<ExitCode> {
  const options = { role: { type: 'string', multiple: true }, port: { type: 'string' } } as const;
  const { values } = parseOptions(args, options, false);
  const port = portOption(values.port, config, output);
  if (port === undefined) return ExitCode.USAGE;
  // --role "$ROLE" with ROLE unset, or --role collector, (a trailing comma), was 'Unknown role ""'.
  const empty = (values.role ?? []).find((value) => value.split(',').some((role) => role.trim() === ''));
  if (empty !== undefined) {
    output.err(
      `--role ${JSON.stringify(empty)} ${empty.trim() === '' ? 'is empty (an unset variable?)' : 'has an empty role between its commas'}: name roles of ${ROLES.join(', ')}, separated by commas, or leave --role out to run them all.\n`,
    );
    return ExitCode.USAGE;
  }
  const roles = (values.role ?? []).flatMap((value) => value.split(',')).map((role) => role.trim());
  const unknown = roles.filter((role) => !ROLES.includes(role as Role));
  if (unknown.length > 0) {
    output.err(`Unknown role ${unknown.map((r) => `"${r}"`).join(', ')}; use ${ROLES.join(', ')}.\n`);
    return ExitCode.USAGE;
  }
  const started = roles.length > 0 ? (roles as Role[]) : ROLES;
  // --role loader --port 8081 started a loader and left --port unread, as if it had been taken.
  if (values.port !== undefined && !started.some((role) => HTTP_ROLES.includes(role))) {
    output.err(
      `--port ${values.port} sets the HTTP server's port, and --role ${started.join(',')} starts no HTTP server (collector and web do); leave --port out.\n`,
    );
    return ExitCode.USAGE;
  }
  const poolWarning = threadPoolWarning(started, env.UV_THREADPOOL_SIZE);
  if (poolWarning) logger.warn(poolWarning);
  // Listened for before anything starts: a signal while the roles started (WAL recovery, the
  // loader's DuckDB, the port) met no listener and ended the process at once, what had started
  // left as it was and without the line saying acknowledged events are kept.
  const stop = listenForStop();
  let inlet: RunningRoles;
  try {
    inlet = await startRoles({
      config: { ...config, server: { ...config.server, port } },
      logger,
      roles: started,
      signal: stop.signal,
    });
  } catch (error) {
    stop.cancel();
    // startRoles closed what had started before it threw: this was a stop, not a failed start.
    if (!stop.signal.aborted || error !== stop.signal.reason) throw error;
    return stoppedWhileStarting(await stop.stopped, logger);
  }
  const reason = await stop.stopped;
  if ('fault' in reason) return stopAfterFault(reason, inlet, logger);
  logger.info(
    { signal: reason.signal },
    'stopping; acknowledged events are in the WAL and load on the next start',
  );
  await inlet.close();
  return ExitCode.OK;
}

/** Ends a start that a signal (or a fault) stopped part-way, once what had started is closed. */
function stoppedWhileStarting(reason: StopReason, logger: Logger): Promise<ExitCode> | ExitCode {
  if ('fault' in reason) return stopAfterFault(reason, { close: async () => {} }, logger);
  logger.info(
    { signal: reason.signal },
    'stopped while starting: what had started is closed, and acknowledged events are in the WAL and load on the next start',
  );
  return ExitCode.OK;
}
