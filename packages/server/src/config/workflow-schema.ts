import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { timeZoneSchema } from './time-zone.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as seconds (a number) or text such as 500ms, 30s, 5m, 2h; parsed to milliseconds.
 * A default goes through prefault, not default: zod hands a default back as it is, without the
 * transform, and 3600 (seconds) became a timeout of 3.6 s.
 */
export const durationMs = z
  .union([
    z.number().positive(),
    z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h)$/, 'must be a duration such as 30s, 5m or 2h'),
  ])
  .transform((value) => {
    if (typeof value === 'number') return Math.round(value * 1000);
    const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(value) ?? [];
    return Math.round(Number(amount) * (UNITS[unit ?? 's'] ?? 1000));
  })
  // Node's timers hold at most 2^31-1 ms; a longer one fires at once.
  .refine((ms) => ms <= 2 ** 31 - 1, 'must be at most 596h (about 24.8 days)');

export type WorkflowStep =
  | { kind: 'sync'; source: string; text: string }
  | { kind: 'run'; selectors: string[]; exclude: string[]; fullRefresh: boolean; text: string }
  | { kind: 'test'; selectors: string[]; exclude: string[]; text: string }
  | { kind: 'report'; report: string; text: string };

const STEP_HINT =
  'use "sync <source>", "run [selector…] [--full-refresh]", "test [selector…]" or "report <name>"';

/**
 * A run or test step's words, as inlet run and inlet test take them: selectors, also after dbt's
 * --select / -s, and those after --exclude left out; --full-refresh for run only.
 */
function selection(
  words: string[],
  withFullRefresh: boolean,
): { selectors: string[]; exclude: string[]; fullRefresh: boolean } | string {
  const picked = { selectors: [] as string[], exclude: [] as string[], fullRefresh: false };
  let into = picked.selectors;
  // The flag still waiting for its first selector.
  let waiting: string | undefined;
  for (const word of words) {
    if (waiting && word.startsWith('-')) return `${waiting} needs a selector after it`;
    if (word === '--select' || word === '-s' || word === '--exclude') {
      waiting = word;
      into = word === '--exclude' ? picked.exclude : picked.selectors;
    } else if (word === '--full-refresh' && withFullRefresh) picked.fullRefresh = true;
    else if (word.startsWith('-'))
      return withFullRefresh
        ? 'takes selectors, --select / -s, --exclude and --full-refresh only'
        : 'takes selectors, --select / -s and --exclude only';
    else {
      into.push(word);
      waiting = undefined;
    }
  }
  if (waiting) return `${waiting} needs a selector after it`;
  return picked;
}

/** One step as written in YAML ("run +daily_active_users"), parsed into a typed step. */
const step = z.string().transform((text, ctx): WorkflowStep => {
  const [verb, ...words] = text.trim().split(/\s+/);
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message: `"${text}" ${message}` });
    return z.NEVER;
  };
  switch (verb) {
    case 'sync':
      return words.length === 1 && words[0]
        ? { kind: 'sync', source: words[0], text }
        : fail('needs one source name');
    case 'run': {
      const picked = selection(words, true);
      return typeof picked === 'string' ? fail(picked) : { kind: 'run', ...picked, text };
    }
    case 'test': {
      const picked = selection(words, false);
      if (typeof picked === 'string') return fail(picked);
      return { kind: 'test', selectors: picked.selectors, exclude: picked.exclude, text };
    }
    case 'report':
      return words.length === 1 && words[0]
        ? { kind: 'report', report: words[0], text }
        : fail('needs one report name');
    default:
      return fail(`is not a step; ${STEP_HINT}`);
  }
});

const cron = z.string().superRefine((expression, ctx) => {
  // cron-parser fills in fields that are missing, so "0 5 * *" (one * forgotten) would run every
  // minute past midnight on the 5th of the month; an @alias (@daily) is one word.
  const fields = expression.trim().split(/\s+/).filter(Boolean).length;
  if (!expression.trim().startsWith('@') && (fields < 5 || fields > 6)) {
    ctx.addIssue({
      code: 'custom',
      message: `has ${fields} fields; a cron expression has five (minute hour day month weekday), or six with seconds first`,
    });
    return;
  }
  try {
    CronExpressionParser.parse(expression);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'is not a cron expression such as "0 5 * * *" (minute hour day month weekday)',
    });
  }
});

/**
 * One workflow, in inlet.yaml under workflows: or as project/workflows/<name>.yaml. The time zone
 * defaults to the top-level timezone; catch-up decides what happens to times missed while down.
 */
export const workflowSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must start with a letter: lower-case letters, digits, - or _'),
    cron,
    timezone: timeZoneSchema.optional(),
    steps: z.array(step).min(1, 'needs at least one step'),
    catchup: z.enum(['latest', 'all', 'none']).default('latest'),
    /** With catchup: all, at most this many missed times are run (the most recent ones). */
    catchup_limit: z.number().int().positive().max(1000).default(24),
    /** Extra attempts of a failing step; the wait doubles after each one. */
    retries: z.number().int().min(0).max(10).default(0),
    retry_backoff: durationMs.prefault('30s'),
    /** The whole run is stopped after this long. */
    timeout: durationMs.prefault('1h'),
    enabled: z.boolean().default(true),
  })
  .superRefine((workflow, ctx) => {
    // The wait doubles after each attempt; a last wait past what a Node timer holds fired at once,
    // so a step meant to wait 600h was tried again straight away.
    const last = workflow.retry_backoff * 2 ** (workflow.retries - 1);
    if (workflow.retries > 0 && last > 2 ** 31 - 1) {
      const hours = Math.round((last / 3_600_000) * 10) / 10;
      ctx.addIssue({
        code: 'custom',
        path: ['retry_backoff'],
        message: `with retries: ${workflow.retries} the last wait is ${hours}h, past the 596h a wait can last; lower retry_backoff or retries`,
      });
    }
  });

export type WorkflowConfig = z.output<typeof workflowSchema>;
