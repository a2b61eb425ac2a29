import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { awsForm, cronFieldProblem, hashedField } from './cron-fields.ts';
import { durationMs } from './duration.ts';
import { timeZoneSchema } from './time-zone.ts';
import { VarDate } from './var-date.ts';
import { VarFloat } from './var-float.ts';

/** What {{ var('name') }} is for a run or test step, over the vars: of dbt_project.yml (dbt's --vars). */
type StepVars = { vars?: Record<string, unknown> };

export type WorkflowStep =
  | { kind: 'sync'; source: string; text: string }
  | ({ kind: 'run'; selectors: string[]; exclude: string[]; fullRefresh: boolean; text: string } & StepVars)
  | ({ kind: 'test'; selectors: string[]; exclude: string[]; text: string } & StepVars)
  | { kind: 'report'; report: string; text: string };

// report <name> is left out: the schema takes it, but every scheduler refuses it until reports exist.
const STEP_HINT = 'use "sync <source>", "run [selector…] [--full-refresh]" or "test [selector…]"';
const VARS_EXAMPLE = '{ run: "+daily_active_users", vars: { start_date: "2026-01-01" } }';

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
  // --select=a, -s=a and --exclude=a, as inlet run takes them: "run --select=a" was refused as an
  // option a step does not take.
  const split = words.flatMap((word) => {
    const joined = /^(--select|-s|--exclude)=(.*)$/s.exec(word);
    return joined ? [joined[1] as string, ...(joined[2] ? [joined[2]] : [])] : [word];
  });
  for (const word of split) {
    if (waiting && word.startsWith('-')) return `${waiting} needs a selector after it`;
    // Splitting on whitespace would cut a YAML map of vars apart, and YAML reads "a: b" in an
    // unquoted step as a map of its own; a map step carries them whole.
    if (word === '--vars' || word.startsWith('--vars='))
      return `gives --vars in the step's text; write the step as a map with vars:, e.g. ${VARS_EXAMPLE}`;
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

type Fail = (message: string) => never;

/** One step written as text ("run +daily_active_users"), parsed into a typed step. */
function textStep(text: string, fail: Fail): WorkflowStep {
  const [verb, ...words] = text.trim().split(/\s+/);
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
}

/** A map as YAML reads one: not a list, nor a value of its own class (a VarFloat, a VarDate). */
const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;

/**
 * Vars (or a step holding them) as JSON, as --vars reads them back: a float written with a point
 * (1.0), an int past 2^53 and a date kept as written, bare, for YAML to resolve them again (JSON has
 * no bigint or date, and JSON.stringify throws on a bigint).
 */
function varsJson(vars: unknown): string {
  const bare: string[] = [];
  const marker = '\u0000bare';
  const json = JSON.stringify(vars, (_key, value: unknown) =>
    (value instanceof VarFloat && Number.isFinite(value.value)) ||
    typeof value === 'bigint' ||
    value instanceof VarDate
      ? `${marker}${bare.push(value.toString()) - 1}`
      : value instanceof VarFloat
        ? value.value
        : value,
  );
  return json.replace(/"\\u0000bare(\d+)"/g, (_match, i: string) => bare[Number(i)] ?? '');
}

/** dbt's flags written as keys of a map step (full_refresh: true), by the flag each is. */
const FLAG_KEYS: Record<string, string> = {
  full_refresh: '--full-refresh',
  'full-refresh': '--full-refresh',
  select: '--select',
  exclude: '--exclude',
};

/**
 * Where flags written as keys of a map step go, or undefined when no key is one: full_refresh: true
 * beside run: was told only that the map takes run: and vars:, not how to ask for a full refresh.
 */
function flagsInText(input: Record<string, unknown>, verb: string, keys: string[]): string | undefined {
  const flags = keys.filter((key) => FLAG_KEYS[key] !== undefined);
  if (flags.length === 0) return undefined;
  const words = flags.map((key) =>
    FLAG_KEYS[key] === '--full-refresh' ? '--full-refresh' : `${FLAG_KEYS[key]} ${String(input[key])}`,
  );
  const text = [typeof input[verb] === 'string' ? input[verb] : '', ...words].join(' ').trim();
  return `flags go in the text after ${verb}:, as inlet ${verb} takes them: { ${verb}: "${text}", vars: { … } }`;
}

/**
 * A run or test step written as a map, to give it vars as inlet run --vars does: the selectors
 * (and flags) as the text form has them after run: or test:, and vars: a map of names to values.
 */
function mapStep(input: Record<string, unknown>, fail: Fail): WorkflowStep {
  const shown = varsJson(input);
  const verbs = Object.keys(input).filter((key) => key === 'run' || key === 'test');
  const others = Object.keys(input).filter((key) => key !== 'run' && key !== 'test' && key !== 'vars');
  const verb = verbs[0];
  // A key misspelt beside run: (var:) was told the step was no step at all, naming no key.
  if (verbs.length === 1 && others.length > 0 && !others.some((key) => / /.test(key)))
    return fail(
      `${shown}: a step written as a map takes run: or test:, and vars:, not ${others.map((k) => `"${k}"`).join(', ')}; ${flagsInText(input, verb ?? 'run', others) ?? `e.g. ${VARS_EXAMPLE}`}.`,
    );
  if (verbs.length !== 1 || verb === undefined || others.length > 0)
    return fail(
      `${shown} is not a step: a step written as a map is a run or a test with vars, e.g. ${VARS_EXAMPLE}; ${
        others.some((key) => / /.test(key))
          ? 'YAML reads a step written as text that holds ": " as a map: quote it, or give its vars as above'
          : STEP_HINT
      }.`,
    );
  const words = input[verb] ?? '';
  if (typeof words !== 'string')
    return fail(
      `${shown}: ${verb}: takes its selectors and flags as text, e.g. "+daily_active_users --full-refresh".`,
    );
  const vars = input.vars ?? {};
  if (!isMap(vars)) return fail(`${shown}: vars: must be a map of names to values, e.g. ${VARS_EXAMPLE}.`);
  const text = `${verb} ${words}`.trim();
  const parsed = textStep(text, (message) => fail(`"${text}" ${message}`));
  if ((parsed.kind !== 'run' && parsed.kind !== 'test') || Object.keys(vars).length === 0) return parsed;
  // The history shows the step as inlet run would be typed for it.
  return { ...parsed, text: `${text} --vars '${varsJson(vars)}'`, vars };
}

/** One step as written in YAML: text ("run +daily_active_users"), or a map with vars. */
const step = z.unknown().transform((input, ctx): WorkflowStep => {
  const fail: Fail = (message) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER as never;
  };
  if (typeof input === 'string') return textStep(input, (message) => fail(`"${input}" ${message}`));
  if (isMap(input)) return mapStep(input, fail);
  return fail(`${varsJson(input)} is not a step; ${STEP_HINT}, or ${VARS_EXAMPLE}`);
});

/** What to write for a workflow's cron, when it is missing or empty. */
export const CRON_EXAMPLE =
  'give the times it runs as a cron expression, such as cron: "0 5 * * *" (minute hour day-of-month month day-of-week: 05:00 each day)';

const cron = z.string().superRefine((expression, ctx) => {
  // cron-parser fills in fields that are missing, so "0 5 * *" (one * forgotten) would run every
  // minute past midnight on the 5th of the month; an @alias (@daily) is one word.
  const fields = expression.trim().split(/\s+/).filter(Boolean).length;
  // "has 0 fields" said nothing of what happened: an unset ${CRON}, or cron: with nothing after it.
  if (fields === 0) {
    ctx.addIssue({ code: 'custom', message: `is empty (an unset variable?); ${CRON_EXAMPLE}` });
    return;
  }
  // robfig/cron's and Kubernetes' CronJob's CRON_TZ= or TZ= made a sixth field, named as the seconds.
  const zoned = /^\s*((?:CRON_)?TZ=)(\S*)\s+(.*?)\s*$/.exec(expression);
  if (zoned) {
    const [, prefix, zone, rest] = zoned;
    ctx.addIssue({
      code: 'custom',
      message: `"${expression}" gives its time zone as ${prefix}, which a cron of inlet does not take; write cron: "${rest}" and the zone as the workflow's timezone: ${zone}`,
    });
    return;
  }
  if (!expression.trim().startsWith('@') && (fields < 5 || fields > 6)) {
    ctx.addIssue({
      code: 'custom',
      message: `has ${fields} fields; a cron expression has five (minute hour day month weekday), or six with seconds first`,
    });
    return;
  }
  const aws = awsForm(expression);
  if (aws) {
    ctx.addIssue({
      code: 'custom',
      message: `"${expression}" ${aws.told}, as AWS writes a cron (minute hour day month weekday year); inlet's has no year, and its six fields are seconds first: write cron: "${aws.five}"`,
    });
    return;
  }
  // The scheduler parses the cron afresh at each tick, so an H landed somewhere else each time:
  // "H * * * *" ran 0 to 3 times an hour, and "0 0 H 2 *" failed to load when H came out as 30.
  const hashed = hashedField(expression);
  if (hashed) {
    ctx.addIssue({
      code: 'custom',
      message: `"${expression}" is not a cron expression inlet can keep to: ${hashed}, which the cron library picks anew at random each time inlet reads the schedule (Jenkins' H is the same each time), so the workflow would run at random times; write the value itself, such as 17 (or */15 for H/15)`,
    });
    return;
  }
  try {
    CronExpressionParser.parse(expression);
  } catch (error) {
    // cron-parser's words for a day no month named has ("0 0 31 2 *"): valid cron, but it never fires.
    if ((error as Error).message === 'Invalid explicit day of month definition') {
      const [day, month] = expression
        .trim()
        .split(/\s+/)
        .slice(fields - 3, fields - 1);
      ctx.addIssue({
        code: 'custom',
        message: `never matches a day: no month it names (${month}) has day ${day}; name a day those months have, such as 28`,
      });
      return;
    }
    const field = cronFieldProblem(expression);
    ctx.addIssue({
      code: 'custom',
      message: field
        ? `"${expression}" is not a cron expression: ${field}`
        : 'is not a cron expression such as "0 5 * * *" (minute hour day month weekday)',
    });
  }
});

/**
 * One workflow, in inlet.yaml under workflows: or as project/workflows/<name>.yaml. The time zone
 * defaults to the top-level timezone; catch-up decides what happens to times missed while down.
 */
/** The most missed times a workflow with catchup: all runs, when it gives no catchup_limit. */
export const CATCHUP_LIMIT = 24;

/** Extra attempts a failing step may have at most. */
const MAX_RETRIES = 10;

export const workflowSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9_-]{0,62}$/,
        'must start with a lower-case letter and hold only lower-case letters, digits, - and _ (at most 63)',
      ),
    cron,
    timezone: timeZoneSchema.optional(),
    steps: z
      .array(step)
      .min(1, 'needs at least one step')
      .max(
        1000,
        'lists more than 1000 steps, the most inlet takes; one run step builds many models with a selector (run +model)',
      ),
    catchup: z.enum(['latest', 'all', 'none']).default('latest'),
    /**
     * With catchup: all, at most this many missed times are run (the most recent ones); none given,
     * CATCHUP_LIMIT. Kept unset when not given, so the scheduler can warn of one beside another catchup.
     */
    catchup_limit: z.number().int().positive().max(1000).optional(),
    /** Extra attempts of a failing step; the wait doubles after each one. */
    retries: z.number().int().min(0).max(MAX_RETRIES).default(0),
    retry_backoff: durationMs.prefault('30s'),
    /** The whole run is stopped after this long. */
    timeout: durationMs.prefault('1h'),
    enabled: z.boolean().default(true),
  })
  .superRefine((workflow, ctx) => {
    // The wait doubles after each attempt; a last wait past what a Node timer holds fired at once,
    // so a step meant to wait 600h was tried again straight away.
    const last = workflow.retry_backoff * 2 ** (workflow.retries - 1);
    // retries past its own bound is said once, by it: its wait came out as "Infinityh" beside it.
    if (workflow.retries > 0 && workflow.retries <= MAX_RETRIES && last > 2 ** 31 - 1) {
      const hours = Math.round((last / 3_600_000) * 10) / 10;
      ctx.addIssue({
        code: 'custom',
        path: ['retry_backoff'],
        message: `with retries: ${workflow.retries} the last wait is ${hours}h, past the 596h a wait can last; lower retry_backoff or retries`,
      });
    }
  });

export type WorkflowConfig = z.output<typeof workflowSchema>;
