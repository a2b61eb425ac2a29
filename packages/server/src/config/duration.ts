import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration written with its unit (500ms, 30s, 5m, 2h), or undefined. */
export function durationTextMs(text: string): number | undefined {
  const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(text) ?? [];
  return unit === undefined ? undefined : Math.round(Number(amount) * (UNITS[unit] ?? 1000));
}

/** Units written as words (30sec, 5 min, 2 hours), and days, which inlet counts in hours. */
const WORDS: ReadonlyArray<[RegExp, string, number]> = [
  [/^(?:msecs?|milliseconds?)$/i, 'ms', 1],
  [/^(?:secs?|seconds?)$/i, 's', 1],
  [/^(?:mins?|minutes?)$/i, 'm', 1],
  [/^(?:hrs?|hours?)$/i, 'h', 1],
  [/^(?:d|days?)$/i, 'h', 24],
];

/** A number of milliseconds in the largest unit that holds it whole: 5400000 is 90m. */
function written(ms: number): string {
  const unit = (['h', 'm', 's'] as const).find((u) => ms % (UNITS[u] ?? 1) === 0);
  return unit ? `${ms / (UNITS[unit] ?? 1)}${unit}` : `${ms}ms`;
}

/**
 * What is wrong with a duration as text, said with what to write instead, or undefined. "must be a
 * duration such as 30s, 5m or 2h" named neither the value nor why it was not one (1d, 1h30m, 5 min).
 */
function durationTextProblem(text: string): string | undefined {
  if (durationTextMs(text) !== undefined) return undefined;
  const trimmed = text.trim();
  const shown = JSON.stringify(text);
  if (trimmed === '') return 'is empty (an unset variable?); give a duration such as 30s, 5m or 2h';
  if (trimmed.startsWith('-')) return `is ${shown}; a duration must be more than 0, such as 30s, 5m or 2h`;
  const [, amount, word] = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(trimmed) ?? [];
  const known = word === undefined ? undefined : WORDS.find(([pattern]) => pattern.test(word));
  if (amount !== undefined && known) {
    const [, unit, times] = known;
    const instead = `${Number(amount) * times}${unit}`;
    return times === 1
      ? `is ${shown}; write ${instead}: the units are ms, s, m and h`
      : `is ${shown}, and inlet counts no days: write ${instead}`;
  }
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h)/g)];
  if (
    parts.length > 1 &&
    parts
      .map((p) => p[0])
      .join('')
      .replace(/\s/g, '') === trimmed.replace(/\s/g, '')
  ) {
    const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * (UNITS[unit ?? 's'] ?? 1000), 0);
    return `is ${shown}, and a duration has one unit: write ${written(Math.round(ms))}`;
  }
  return `is ${shown}, not a duration: write a number and its unit, ms, s, m or h (500ms, 30s, 5m, 2h), or a number of seconds`;
}

/**
 * A duration as seconds (a number) or text such as 500ms, 30s, 5m, 2h; parsed to milliseconds.
 * A default goes through prefault, not default: zod hands a default back as it is, without the
 * transform, and 3600 (seconds) became a timeout of 3.6 s.
 */
export const durationMs = z
  .union([
    z.number().positive(),
    z.string().superRefine((text, ctx) => {
      const problem = durationTextProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  ])
  .transform((value) => {
    if (typeof value === 'number') return Math.round(value * 1000);
    return durationTextMs(value) ?? Number.NaN;
  })
  // As the number 0 is refused: timeout: 0s (or 0.0001s, rounded to 0 ms) stopped every run at once.
  .refine((ms) => ms > 0, 'must be more than 0 ms, such as 30s, 5m or 2h')
  // Node's timers hold at most 2^31-1 ms; a longer one fires at once.
  .refine((ms) => ms <= 2 ** 31 - 1, 'must be at most 596h (about 24.8 days)');
