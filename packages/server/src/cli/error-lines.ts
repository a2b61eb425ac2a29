import type { InletError } from '../errors/index.ts';
import { printableMessage } from './output.ts';

/**
 * parseArgs' refusals in inlet's words, naming the command and where its usage is. For an option the
 * command does not take, Node's message went on about positionals starting with '-', which no
 * command's arguments do (SQL with a leading -- comment is read as SQL); for an option without its
 * value, it said "Option '--workflow <value>' argument missing", or, with another option after it,
 * "argument is ambiguous" and advice to write --format=-XYZ; for a word a command takes none of,
 * "This command does not take positional arguments"; for a switch given a value, "Option
 * '--full-refresh' does not take an argument".
 */
export function parseArgsMessage(error: Error, command: string): string | undefined {
  const help = `inlet ${command} --help lists what it takes.`;
  const unknown = /^Unknown option '(-[^']*)'/.exec(error.message)?.[1];
  if (unknown) return `inlet ${command} takes no option ${unknown}; ${help.replace('what', 'the options')}`;
  // '-s, --select <value>': the long name is the one the usage shows.
  const valueless = /^Option '(?:-\w, )?(--[^' ]+)(?: <value>)?' argument (missing|is ambiguous)/.exec(
    error.message,
  );
  if (valueless)
    return valueless[2] === 'missing'
      ? `${valueless[1]} needs a value after it; ${help}`
      : `${valueless[1]} needs a value after it, where an option comes; write ${valueless[1]}=VALUE for a value that starts with -; ${help}`;
  // A switch given a value (--full-refresh=true): Node's words named no command nor what to write.
  const switched = /^Option '(?:-\w, )?(--[^' ]+)' does not take an argument/.exec(error.message)?.[1];
  if (switched) return `${switched} takes no value: give it alone to switch it on, or leave it out; ${help}`;
  const extra = /^Unexpected argument '([^']*)'/.exec(error.message)?.[1];
  if (extra !== undefined) return `inlet ${command} takes no argument ${JSON.stringify(extra)}; ${help}`;
  return undefined;
}

/** An expected error as the command line prints it: its code, then its message. */
export const coded = (error: InletError): string => `${error.code}: ${printableMessage(error.message)}`;

/** An error's code, message and the file it names, on one line. */
export function describeUnforeseen(error: unknown): string {
  if (!(error instanceof Error)) return String(error).split('\n')[0] ?? '';
  const { code, path } = error as NodeJS.ErrnoException;
  const message = error.message.split('\n')[0] ?? '';
  const named = code && !message.startsWith(code) ? `${code}: ${message}` : message;
  return path && !named.includes(path) ? `${named} (${path})` : named;
}
