/** @module log: the pino logger, created once by the entry point and passed down. */
import pino from 'pino';

export type Logger = pino.Logger;

export { type ErrorFields, errorFields } from './error-fields.ts';

/** The levels INLET_LOG_LEVEL takes, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const isLogLevel = (value: string): value is LogLevel =>
  (LOG_LEVELS as readonly string[]).includes(value);

/** The logger; stderr: true for a command whose stdout is its results, so a pipe reads only them. */
export function createLogger(options: { level?: string; pretty?: boolean; stderr?: boolean } = {}): Logger {
  const destination = options.stderr ? pino.destination({ fd: 2, sync: true }) : undefined;
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
