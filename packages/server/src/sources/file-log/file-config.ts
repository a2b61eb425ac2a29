import { z } from 'zod';
import { timeZoneSchema } from '../../config/time-zone.ts';
import { DEFAULT_TABLE, type LogKind } from './log-tables.ts';
import { MULTILINE_PARSERS } from './multiline-parsers.ts';
import { ACCESS_GROUPS, groupNames } from './regex-log-parser.ts';

export const LOG_FORMATS = [
  'nginx_combined',
  'apache_combined',
  'apache_common',
  'json_lines',
  'regex',
] as const;

const RESERVED_TABLES = new Set(['events', 'sources', 'marts']);

/** Whether a glob's component matches any name: `**`, `*`, `?*`, or `*.*`, which matches most. */
const anyName = (part: string) => part === '**' || part === '*.*' || /^[*?]*\*[*?]*$/.test(part);

/**
 * Why a glob is refused: one from / that, below a top-level directory (or below / itself), holds a
 * ** and otherwise only components that match any name (`/**`, `/var/**`, `/srv/*` then `**`) reads
 * every file of that tree as a log: 1.5 GB of memory and 2.6 GB of rejected lines in 4 minutes for
 * a path of / then ** twice. One that names the files (`/home/**` then `*.log`) or a directory
 * (`/var/log/**`) may still match or walk too much: max_files and max_dirs stop it when it is
 * scanned. Undefined when the glob is fine.
 */
function whyTooBroad(pattern: string): string | undefined {
  if (!pattern.startsWith('/')) return undefined;
  const parts = pattern.split('/').filter((part) => part !== '');
  const top = parts[0] === undefined || anyName(parts[0]) ? '/' : `/${parts[0]}`;
  const below = top === '/' ? parts : parts.slice(1);
  if (!below.includes('**') || !below.every(anyName)) return undefined;
  const named = top === '/' ? '' : ` or ${top}/**/*.log`;
  return `${pattern} names every file under ${top}: inlet would read them all as logs (and reject most of them); name the directory the logs are in, or how their names end, such as /var/log/app/**/*.log${named}`;
}

const glob = z
  .string()
  .min(1, 'must not be empty')
  .superRefine((pattern, ctx) => {
    const why = whyTooBroad(pattern);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });

/** Refuses a `multiline` that cannot work: a bad `start`, one every line matches, an access format. */
function checkMultiline(
  options: {
    format: (typeof LOG_FORMATS)[number];
    schema: string;
    multiline?: { start?: string; parser?: string };
  },
  ctx: z.RefinementCtx,
) {
  if (options.format !== 'json_lines' && !(options.format === 'regex' && options.schema === 'app'))
    ctx.addIssue({
      code: 'custom',
      path: ['multiline'],
      message:
        'is for application logs: use it with format: json_lines, or format: regex with schema: app (an access log has one line a request)',
    });
  const { start, parser } = options.multiline ?? {};
  if ((start === undefined) === (parser === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['multiline'],
      message: `needs ${start === undefined ? '' : 'only '}one of start (a regular expression a record's first line matches) or parser (${MULTILINE_PARSERS.join(', ')})`,
    });
    return;
  }
  if (start === undefined) return;
  let re: RegExp;
  try {
    re = new RegExp(start);
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      path: ['multiline', 'start'],
      message: invalidRegex(start, error),
    });
    return;
  }
  if (re.test(''))
    ctx.addIssue({
      code: 'custom',
      path: ['multiline', 'start'],
      message:
        "matches every line (even an empty one), so no line would be joined; match what only a record's first line starts with, such as '^\\d{4}-\\d{2}-\\d{2} '",
    });
}

/** Whether a source's lines become access_logs rows or app_logs rows. */
export function logKindOf(options: { format: (typeof LOG_FORMATS)[number]; schema: string }): LogKind {
  return options.format === 'json_lines' || (options.format === 'regex' && options.schema === 'app')
    ? 'app'
    : 'access';
}

/**
 * Refuses a default log table of the other kind: written there, access_logs got app_logs' columns,
 * empty on every request, and the reverse.
 */
function checkTable(
  options: { format: (typeof LOG_FORMATS)[number]; schema: string; table?: string | undefined },
  ctx: z.RefinementCtx,
) {
  const app = logKindOf(options) === 'app';
  const mine = DEFAULT_TABLE[app ? 'app' : 'access'];
  const theirs = DEFAULT_TABLE[app ? 'access' : 'app'];
  if (options.table !== theirs) return;
  const format = options.format === 'regex' ? `regex with schema: ${options.schema}` : options.format;
  ctx.addIssue({
    code: 'custom',
    path: ['table'],
    message: `${theirs} holds ${app ? 'access' : 'app'} logs, and format: ${format} makes ${app ? 'app' : 'access'} logs; leave table out (${mine}) or name another table`,
  });
}

/**
 * What a regex JavaScript refuses is told; one with an inline flag such as (?i), which Filebeat's
 * (Go) and Fluent Bit's patterns may hold and JavaScript has not, is told what to write instead.
 */
function invalidRegex(source: string, error: unknown): string {
  const flag = /\(\?[imsx]+\)/.exec(source);
  const hint = flag
    ? `; JavaScript has no inline flags such as ${flag[0]}: write the cases out ([Ee]rror) or, for (?s), [\\s\\S] for any character`
    : '';
  return `is not a valid regular expression: ${(error as Error).message}${hint}`;
}

/** The options of a `type: file` source in inlet.yaml (everything but name and type). */
export const fileOptionsSchema = z
  .strictObject({
    /** A glob or a list of globs; relative paths are resolved from inlet.yaml's directory. */
    path: z.union([glob, z.array(glob).min(1, 'must list at least one path')]),
    format: z.enum(LOG_FORMATS),
    /** For format: regex — a JavaScript regular expression with named groups. */
    pattern: z.string().optional(),
    /** For format: regex — which table shape the groups fill. */
    schema: z.enum(['access', 'app']).default('access'),
    /** The lake table (and view) to write; access_logs or app_logs by default. */
    table: z
      .string()
      .regex(
        /^[a-z][a-z0-9_]{0,62}$/,
        'must start with a lower-case letter and hold only lower-case letters, digits and _ (at most 63)',
      )
      .superRefine((name, ctx) => {
        // "is reserved; choose another table name" named neither why nor a name to take.
        if (RESERVED_TABLES.has(name))
          ctx.addIssue({
            code: 'custom',
            message: `"${name}" is reserved: lake/events, lake/sources and lake/marts hold the events, the sources' tables and the marts, and a log table there would take their place; name another table, such as table: ${name}_logs`,
          });
      })
      .optional(),
    /**
     * Also read rotated files next to each path (<path>.1, <path>.2.gz, <path>-20261010.gz …); a glob
     * or a list of globs also reads the rotated files there (logrotate's olddir).
     */
    rotated: z
      .union([z.boolean(), glob, z.array(glob).min(1, 'must list at least one path')], {
        error: 'must be true, false, a glob or a list of globs',
      })
      .default(true),
    /** On the first run, read what the files already hold (and rotated files); false starts at their end. */
    backfill: z.boolean().default(true),
    /** Value of the host column when the format does not log one. */
    host: z.string().optional(),
    /** Site id mixed into visitor_hash (as for events, so the two join); defaults to the source name. */
    site: z.string().optional(),
    /** Zone of timestamps written without an offset. */
    timezone: timeZoneSchema.default('UTC'),
    max_line_bytes: z
      .number()
      .int()
      .min(256)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    batch_rows: z.number().int().min(1).max(10_000_000).default(100_000),
    batch_seconds: z.number().positive().max(3600).default(30),
    poll_ms: z.number().int().min(50).max(60_000).default(1000),
    /** At most this many files matched by path and rotated, together; more is an error naming the glob. */
    max_files: z.number().int().min(1).max(1_000_000).default(10_000),
    /** At most this many directories listed, every poll_ms, to find those files; more is an error naming the glob. */
    max_dirs: z.number().int().min(1).max(1_000_000).default(10_000),
    /** Records of several lines (stack traces): a line not matching `start` joins the record before it. */
    multiline: z
      .strictObject({
        /** A JavaScript regular expression a record's first line matches. */
        start: z.string().min(1, 'must not be empty').optional(),
        /** Or a built-in one that joins that language's stack traces (Fluent Bit's names). */
        parser: z.enum(MULTILINE_PARSERS).optional(),
        /** The last record of a file is written once the file has been idle this long. */
        flush_seconds: z.number().positive().max(3600).default(5),
        /** A record's lines beyond this many are dropped (the row says so). */
        max_lines: z.number().int().min(2).max(100_000).default(500),
      })
      .optional(),
  })
  .superRefine((options, ctx) => {
    if (options.multiline) checkMultiline(options, ctx);
    checkTable(options, ctx);
    if (options.format !== 'regex') {
      if (options.pattern !== undefined)
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'is only used with format: regex' });
      return;
    }
    if (options.pattern === undefined) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'is required with format: regex' });
      return;
    }
    try {
      new RegExp(options.pattern);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: invalidRegex(options.pattern, error),
      });
      return;
    }
    const groups = groupNames(options.pattern);
    if (groups.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: 'needs named groups such as (?<status>\\d{3})',
      });
    const known = new Set<string>(ACCESS_GROUPS);
    const unknown = groups.filter((g) => !known.has(g));
    if (options.schema === 'access' && unknown.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: `has groups ${unknown.join(', ')} that access_logs has no column for; use ${ACCESS_GROUPS.join(', ')} (or schema: app)`,
      });
  });

export type FileOptions = z.output<typeof fileOptionsSchema>;
