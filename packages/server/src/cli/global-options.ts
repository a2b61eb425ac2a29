import { parseArgs } from 'node:util';
import { isLogFormat, LOG_FORMATS, type LogFormat } from '../log/index.ts';
import { longForm } from './command.ts';
import { ExitCode } from './exit-codes.ts';
import type { Output } from './output.ts';

const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;

/** The options inlet reads before the command's own, and why each is given once. */
const ONE_VALUE = {
  config: 'inlet reads one configuration file',
  'log-format': 'inlet logs in one format',
} as const;

/** A command line split at its command. */
export interface CommandLine {
  command: string | undefined;
  /** The words after the command. */
  commandArgs: string[];
  /** A --config given before the command, and its value. */
  leading: string[];
  /** leading, then commandArgs: what --config and --log-format are read from. */
  rest: string[];
}

/** Splits argv at its command, taking a --config before it (inlet --config x.yaml query …) aside. */
export function splitCommandLine(argv: string[]): CommandLine {
  // -c=b.yaml as --config=b.yaml, up to a -- (after it, every word is the command's).
  const end = argv.indexOf('--');
  argv = argv.map((arg, i) => (end >= 0 && i > end ? arg : longForm(arg, CONFIG_OPTION)));
  // --config may also come before the command (inlet --config x.yaml query …), as git's -C does.
  const leading: string[] = [];
  while (argv[0] === '--config' || argv[0] === '-c' || argv[0]?.startsWith('--config=')) {
    const taken = argv[0].includes('=') ? 1 : 2;
    leading.push(...argv.slice(0, taken));
    argv = argv.slice(taken);
  }
  const [command, ...commandArgs] = argv;
  // Ahead of the command's own: after a -- of the command's (inlet --config x.yaml query -- "…"),
  // a --config put last was read as part of the SQL, and inlet ran on the defaults.
  return { command, commandArgs, leading, rest: [...leading, ...commandArgs] };
}

/** The options every command takes, and the command's own arguments, the words left. */
export interface GlobalOptions {
  args: string[];
  /** --config's path; undefined for the defaults. */
  config: string | undefined;
  logFormat: LogFormat | undefined;
}

/**
 * Takes --config (and --log-format, for a command that logs) from rest, wherever they are after the
 * command; or, when one is given twice or without a usable value, the usage error's exit code once
 * it is printed.
 */
export function takeGlobalOptions(command: string, rest: string[], output: Output): GlobalOptions | ExitCode {
  // Everything else belongs to the command. inlet test logs nothing: its parser refuses the flag.
  const taken: Array<keyof typeof ONE_VALUE> = command === 'test' ? ['config'] : ['config', 'log-format'];
  const { values, tokens } = parseArgs({
    // A command's short option stands aside as a word: read as flags, -s=daily_active_users held -c,
    // and "tive_users" was taken for the configuration file.
    args: rest.map((arg) => (/^-[^-c]/.test(arg) ? '_' : arg)),
    options: { ...CONFIG_OPTION, 'log-format': { type: 'string' } },
    strict: false,
    tokens: true,
  });
  const ours = tokens.flatMap((t) =>
    t.kind === 'option' && taken.includes(t.name as keyof typeof ONE_VALUE) ? [t] : [],
  );
  const args = rest.filter(
    (_arg, i) => !ours.some((t) => t.index === i || (t.inlineValue === false && t.index + 1 === i)),
  );
  // Given twice (inlet --config a.yaml start --config b.yaml), the last one was read and the other
  // left without a word.
  for (const name of taken) {
    const given = ours.flatMap((t) => (t.name === name ? [t.value ?? ''] : []));
    if (given.length < 2) continue;
    output.err(
      `--${name} is given ${given.length} times (${given.map((value) => JSON.stringify(value)).join(', ')}), and ${ONE_VALUE[name]}; give --${name} once.\n`,
    );
    return ExitCode.USAGE;
  }
  // A bare --config (inlet start --config $CONFIG with the variable unset) ran on the defaults, data
  // and all in ./data; an empty path was read as the working directory.
  if (values.config === true || values.config === '') {
    output.err(
      '--config needs the path of a configuration file after it, such as --config /etc/inlet/inlet.yaml; leave it out to run on defaults.\n',
    );
    return ExitCode.USAGE;
  }
  const formatFlag = taken.includes('log-format') ? values['log-format'] : undefined;
  if (formatFlag !== undefined && (typeof formatFlag !== 'string' || !isLogFormat(formatFlag))) {
    output.err(
      // An option in its place (inlet run --log-format --config x.yaml) was taken for its value.
      typeof formatFlag === 'string' && formatFlag !== '' && !formatFlag.startsWith('-')
        ? `--log-format is ${JSON.stringify(formatFlag)}, not a log format; give ${LOG_FORMATS.join(' or ')}, or leave it out.\n`
        : `--log-format needs ${LOG_FORMATS.join(' or ')} after it, or leave it out.\n`,
    );
    return ExitCode.USAGE;
  }
  return {
    args,
    config: typeof values.config === 'string' ? values.config : undefined,
    logFormat: formatFlag,
  };
}
