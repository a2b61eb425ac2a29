import { printableSingleLine } from './output.ts';

/** pino's level numbers by name, as a log line shows them. */
const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** A value after its key=: text bare when it has no space, quote or = in it, else quoted; others as JSON. */
function logValue(value: unknown): string {
  const bare = typeof value === 'string' && /^[^\s"=]+$/.test(value);
  return printableSingleLine(bare ? value : JSON.stringify(value));
}

/**
 * A log record as the line a person reads, as dbt prints its log on a terminal and Go's slog
 * writes text: `12:30:50 ERROR model failed model=bad status=failed message="…"`. The JSON record,
 * written by the commands that print their own results (inlet run to a pipe, inlet catalog), put
 * a line only a log shipper reads between their messages. An error inlet did not foresee (err)
 * keeps its stack, one frame a line, after its message.
 */
export function logLine(record: Record<string, unknown>): string {
  const { level, time, msg, err, ...fields } = record;
  const at = typeof time === 'string' ? new Date(time).toTimeString().slice(0, 8) : '';
  const words = [at, LEVEL_NAMES[level as number] ?? String(level), printableSingleLine(String(msg ?? ''))];
  const { code, message, stack } = (err ?? {}) as { code?: unknown; message?: unknown; stack?: unknown };
  if (err !== undefined)
    fields.err = code !== undefined && message !== undefined ? `${code}: ${message}` : (message ?? err);
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined) words.push(`${key}=${logValue(value)}`);
  const frames =
    typeof stack === 'string'
      ? stack
          .split('\n')
          .slice(1)
          .map((frame) => `    ${printableSingleLine(frame.trim())}\n`)
          .join('')
      : '';
  return `${words.filter(Boolean).join(' ')}\n${frames}`;
}
