import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { InletConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { ExitCode } from './exit-codes.ts';
import type { Format, Output } from './output.ts';

/** A command that runs in this process: its arguments (--config taken off), the config, a logger and where to write. */
export type Command = (
  args: string[],
  config: InletConfig,
  logger: Logger,
  output: Output,
) => Promise<ExitCode>;

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * args with a negative number after an option that takes a value (--limit -5) joined to it
 * (--limit=-5), so that the option's own check says what it takes: parseArgs read -5 as an option,
 * and said only "Option '--limit' argument is ambiguous", with advice to write --limit=-XYZ.
 */
export function joinNegativeValues(args: string[], options: Options): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    // After --, every word is a positional.
    if (arg === '--') return [...joined, ...args.slice(i)];
    const long = longForm(arg, options);
    if (long !== arg) {
      joined.push(long);
      continue;
    }
    const name = arg.startsWith('--')
      ? arg.slice(2)
      : Object.keys(options).find((key) => `-${options[key]?.short}` === arg);
    if (
      name !== undefined &&
      options[name]?.type === 'string' &&
      next !== undefined &&
      /^-\.?\d/.test(next)
    ) {
      joined.push(`--${name}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/**
 * A short option written with = (-c=b.yaml, -s=orders) as its long form (--config=b.yaml): parseArgs
 * took the = for the value's first character, as in -cb.yaml, and read the file "=b.yaml".
 */
export function longForm(arg: string, options: Options): string {
  const short = /^-([A-Za-z])=/.exec(arg)?.[1];
  const name = short && Object.keys(options).find((key) => options[key]?.short === short);
  return name ? `--${name}=${arg.slice(3)}` : arg;
}

/**
 * parseArgs over args with their negative values joined (joinNegativeValues). An option that takes
 * one value, given twice (--port 8080 --port 9090), is a usage error: the last was taken, and the
 * other left without a word.
 */
export function parseOptions<const T extends Options, const P extends boolean>(
  args: string[],
  options: T,
  allowPositionals: P,
) {
  const parsed = parseArgs({
    args: joinNegativeValues(args, options),
    allowPositionals,
    tokens: true,
    options,
  });
  const given = new Map<string, string[]>();
  for (const token of parsed.tokens)
    if (token.kind === 'option' && options[token.name]?.type === 'string' && !options[token.name]?.multiple)
      given.set(token.name, [...(given.get(token.name) ?? []), token.value ?? '']);
  for (const [name, values] of given)
    if (values.length > 1)
      // A parseArgs error's code, so that it is told as a usage error as theirs are.
      throw Object.assign(
        new Error(
          `--${name} is given ${values.length} times (${values.map((value) => JSON.stringify(value)).join(', ')}), and takes one value; give it once.`,
        ),
        { code: 'ERR_PARSE_ARGS_REPEATED_OPTION' },
      );
  return parsed;
}

/**
 * A command's options and positional arguments, and the tokens that say which option each word
 * follows (dbt's --exclude a b); an unknown option is a usage error.
 */
export const commandArgs = <const T extends Options>(args: string[], options: T) =>
  parseOptions(args, options, true);

/**
 * The line said before a command's usage for the words past those it takes (inlet sync crm app):
 * the usage alone left the mistake to be guessed.
 */
export const beyondUsage = (command: string, takes: string, extra: string[]): string =>
  `inlet ${command} takes ${takes}, not also ${extra.map((word) => JSON.stringify(word)).join(' ')}.\n`;

/** The output formats --format names. */
export const FORMATS: readonly string[] = ['table', 'json', 'csv'] satisfies Format[];

/** --format as given, else a table for a terminal and JSON for a pipe; undefined when it names no format. */
export function outputFormat(given: string | undefined, output: Output): Format | undefined {
  const format = given ?? (output.isTty ? 'table' : 'json');
  if (FORMATS.includes(format)) return format as Format;
  // Said before the command's usage, which alone left the mistake to be guessed.
  output.err(`--format must be table, json or csv, not ${JSON.stringify(format)}\n`);
  return undefined;
}

/** The exit code of work a signal stopped, as a shell gives a command the signal ended. */
const STOPPED_BY = { SIGINT: ExitCode.INTERRUPTED, SIGTERM: ExitCode.TERMINATED } as const;

/** The error that ended work a signal stopped (SYNC_CANCELLED), printed as itself, with the signal's exit code. */
export class StoppedBySignal extends Error {
  constructor(
    readonly error: unknown,
    readonly exitCode: ExitCode,
  ) {
    super('stopped by a signal', { cause: error });
  }
}

/** What inlet says of work a signal stopped before it finished, which exits with exitCode. */
export const stoppedLine = (command: string, exitCode: ExitCode): string =>
  `inlet ${command} stopped: ${exitCode === ExitCode.INTERRUPTED ? 'Ctrl-C (SIGINT)' : 'SIGTERM'} came before it finished.`;

/**
 * Runs work with a signal that Ctrl-C (SIGINT) or SIGTERM aborts while it runs; after it, they end the
 * process as usual. Work they stopped exits 130 or 143 (128 + the signal's number), as a shell, a
 * script or a supervisor reads a command the signal ended, not 1 as a failure; work that finished
 * anyway keeps its 0. SIGTERM (docker stop, timeout(1)) stops it at the same safe point as Ctrl-C.
 */
export async function whileInterruptible(
  work: (signal: AbortSignal) => Promise<ExitCode>,
): Promise<ExitCode> {
  const abort = new AbortController();
  let stoppedBy: keyof typeof STOPPED_BY | undefined;
  const stops = (Object.keys(STOPPED_BY) as Array<keyof typeof STOPPED_BY>).map((name) => {
    const stop = () => {
      stoppedBy ??= name;
      abort.abort();
    };
    process.once(name, stop);
    return () => process.off(name, stop);
  });
  try {
    const code = await work(abort.signal);
    return stoppedBy && code !== ExitCode.OK ? STOPPED_BY[stoppedBy] : code;
  } catch (error) {
    throw stoppedBy ? new StoppedBySignal(error, STOPPED_BY[stoppedBy]) : error;
  } finally {
    for (const off of stops) off();
  }
}
