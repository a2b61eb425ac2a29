import { isInletError } from '../errors/index.ts';

/** What a log line says about a caught error: see errorFields. */
export type ErrorFields = { code: string; error: string } | { err: unknown };

/**
 * The fields a log line gives a caught error. An InletError was foreseen and its message was written
 * for the person reading it, so the line holds its code and message only: pino's err serializer
 * added a stack trace whose first line repeats the message, and appended the cause's message (a
 * driver's text the message already quotes) a second time. Any other error is one inlet did not
 * foresee, and keeps err, with its stack, for whoever has to find out where it came from.
 */
export function errorFields(error: unknown): ErrorFields {
  return isInletError(error) ? { code: error.code, error: error.message } : { err: error };
}
