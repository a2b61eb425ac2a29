/** @module log: the pino logger, created once by the entry point and passed down. */
import pino from 'pino';

export type Logger = pino.Logger;

export { type ErrorFields, errorFields } from './error-fields.ts';

/** The levels INLET_LOG_LEVEL takes, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const isLogLevel = (value: string): value is LogLevel =>
  (LOG_LEVELS as readonly string[]).includes(value);

/** What INLET_LOG_FORMAT takes: JSON lines for a log shipper, or lines a person reads. */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const isLogFormat = (value: string): value is LogFormat =>
  (LOG_FORMATS as readonly string[]).includes(value);

/**
 * The logger; stderr: true for a command whose stdout is its results, so a pipe reads only them.
 * text, when given, turns each record into the line written in place of its JSON.
 */
export function createLogger(
  options: { level?: string; stderr?: boolean; text?: (record: Record<string, unknown>) => string } = {},
): Logger {
  const fd =
    options.stderr || options.text ? pino.destination({ fd: options.stderr ? 2 : 1, sync: true }) : undefined;
  const { text } = options;
  const destination =
    fd && text
      ? { write: (line: string) => fd.write(text(JSON.parse(line) as Record<string, unknown>)) }
      : fd;
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['*.password', '*.token', '*.authorization', 'req.headers.authorization'],
        remove: true,
      },
    },
    destination,
  );
}

/** A logger that drops everything, for tests and for CLI commands that print their own output. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
