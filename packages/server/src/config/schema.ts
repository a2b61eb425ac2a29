import { z } from 'zod';
import { memorySize } from './memory-size.ts';
import { timeZoneSchema } from './time-zone.ts';
import { workflowSchema } from './workflow-schema.ts';
import { MAX_WRITE_KEY_LENGTH } from './write-key.ts';

/**
 * A list of at most `max` entries. Unbounded, inlet.yaml with 700,000 sites was taken after 31 s and
 * 2.7 GB of memory at each start, and a workflow of 100,000 steps too; no real configuration comes near.
 */
export const listOf = <T extends z.ZodType>(item: T, max: number, what: string, instead: string) =>
  z.array(item).max(max, `lists more than ${max} ${what}, the most inlet takes; ${instead}`);

const origin = z
  .string({
    // Pages opened from file:// send the origin null, which YAML reads as no value written bare.
    error: (issue) =>
      issue.input === null
        ? 'is empty (null), as YAML reads null written bare; to allow pages opened from file:// (whose origin is null), write "null" in quotes'
        : undefined,
  })
  .superRefine((value, ctx) => {
    if (value === '*' || value === 'null') return;
    // An origin no browser sends was taken, and matched nothing: a * in the host (browsers send the
    // page's own host), or one that is no URL (a space in it, port 99999), kept as written.
    if (/^https?:\/\/[^/?#]*\*/i.test(value))
      ctx.addIssue({
        code: 'custom',
        message:
          "holds a * in its host, which matches no origin: a browser sends the page's own host; list each origin (https://docs.example.com), or give * alone for any",
      });
    // A page's address copied from the browser's bar (https://docs.example.com/, …/pricing) or a
    // host with no scheme: "must be a scheme and host …, without a path" left the fix to be worked out.
    else if (/^https?:\/\/[^/?#@\s]+[/?#]/i.test(value) && URL.canParse(value))
      ctx.addIssue({
        code: 'custom',
        message: `is a page's address, not an origin, which has no path (not even a / at its end) and no query: write ${JSON.stringify(new URL(value).origin)}`,
      });
    else if (/^[a-z0-9.-]+\.[a-z]+(:\d+)?$/i.test(value) && URL.canParse(`https://${value}`))
      ctx.addIssue({
        code: 'custom',
        message: `has no scheme, which an origin starts with: write ${JSON.stringify(`https://${value}`)} (or http:// for a page served without TLS)`,
      });
    else if (!/^https?:\/\/[^/?#@\s]+$/i.test(value) || !URL.canParse(value))
      ctx.addIssue({
        code: 'custom',
        message:
          'must be a scheme and host such as https://docs.example.com, without a path (null for file:// pages, * for any)',
      });
  })
  // As browsers send it, host in lower case and no default port: otherwise it could never match.
  .transform((value) => (URL.canParse(value) ? new URL(value).origin : value));

const site = z.strictObject({
  id: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,63}$/,
      'must start with a lower-case letter or digit and hold only lower-case letters, digits, - and _ (at most 64)',
    ),
  write_key: z
    .string()
    .min(8, 'must be at least 8 characters')
    .max(MAX_WRITE_KEY_LENGTH, {
      error: (issue) =>
        `is ${String(issue.input).length} characters long, and the collector reads a write key of at most ${MAX_WRITE_KEY_LENGTH} (writeKey in a body, the SDKs' settings URL), so clients could not send it; give a key of 8 to ${MAX_WRITE_KEY_LENGTH} characters (openssl rand -hex 16 makes one of 32)`,
    }),
  origins: listOf(origin, 1000, 'origins', 'give * for any origin instead').optional(),
  /** Hosts that name this site in Plausible-style requests, which carry a domain instead of a key. */
  domains: listOf(
    z
      .string()
      .regex(/^[a-z0-9.-]+$/i, 'must be a host name such as docs.example.com')
      // As the collector reads a request's domain: www.example.com here matched no request, whose
      // www.example.com is example.com, and a capital was refused.
      .transform((domain) => domain.toLowerCase().replace(/^www\./, '')),
    1000,
    'domains',
    'give the site the domains it is reached by',
  ).optional(),
  honor_dnt: z.boolean().default(false),
  /** limits.max_event_age_days for this site alone: a site that imports history sets 0 (any age). */
  max_event_age_days: z.number().int().nonnegative().optional(),
});

const bytes = z.number().int().positive();

/**
 * A request body is held whole and made one string to parse, and Node's longest string is 2^29-24
 * characters: a valid body past it was refused as INVALID_JSON ("Cannot create a string longer than
 * 0x1fffffe8 characters"). 256 MiB keeps a body, and a WAL segment that holds one, under it.
 */
const MAX_BODY_BYTES = 256 * 2 ** 20;

/**
 * A segment runs past segment_bytes by one request's records at most. Recovery at start-up reads it
 * whole (Node reads at most 2 GiB of a file at once: a larger one stopped inlet start with
 * ERR_FS_FILE_TOO_LARGE) and a repair of its lines reads it as one string (see MAX_BODY_BYTES).
 */
const MAX_SEGMENT_BYTES = 256 * 2 ** 20;

/** 1 PiB, more than a disk holds: the WAL fills its disk first, and past the disk every event is refused. */
const MAX_DISK_BYTES = 2 ** 50;

/** 1 TiB, the id filters of 137 billion events: more memory than a server has, so a cap past it caps nothing. */
const MAX_FILTER_BYTES = 2 ** 40;

// The first day retention keeps is counted back from today: a hundred million days made no date
// (Invalid time value), and every retention pass failed, deleting nothing.
const retentionDays = z
  .number()
  .int()
  .nonnegative()
  .max(36_500, 'must be at most 36500 (100 years); 0 keeps every day');

// An empty path would resolve to the directory inlet.yaml is in, and fill it with inlet's files.
// No file system takes a NUL ("./a\0b"): inlet query ended with a DuckDB parser error, as an error
// inlet did not foresee, and a project_dir with one with Node's message alone.
const path = z
  .string()
  .trim()
  .min(1, 'must be a directory path such as ./data, not empty')
  .refine(
    (value) => !value.includes('\0'),
    'must be a directory path, and no path holds a NUL character (\\0)',
  );

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const milliseconds = z
  .number()
  .int()
  .positive()
  .max(MAX_TIMER_MS, 'must be at most 2147483647 (about 24.8 days)');

/**
 * DuckDB's own catalogs and schemas. A database or CSV source's tables are the views
 * <source>.<table>: main.events replaced the events view, and a schema named memory, temp or system
 * made every name the engine resolves ambiguous, so no query ran at all. A file source's rows go to
 * access_logs or app_logs, under no schema of its name.
 */
export const DUCKDB_SCHEMAS: ReadonlySet<string> = new Set([
  'main',
  'memory',
  'temp',
  'system',
  'information_schema',
  'pg_catalog',
]);

// Each source kind validates its own options (sources/kinds.ts); here only what every source has.
const source = z
  .looseObject({
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9_]{0,62}$/,
        'must start with a lower-case letter and hold only lower-case letters, digits and _ (at most 63)',
      ),
    type: z.string().min(1),
  })
  .superRefine(({ name, type }, ctx) => {
    if (type !== 'file' && DUCKDB_SCHEMAS.has(name))
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `"${name}" is a name DuckDB keeps for its own schemas, and a source's tables are the views ${name}.<table>; name the source otherwise`,
      });
  });

/** The one schema for inlet.yaml; defaults here are the embedded defaults. */
export const configSchema = z.strictObject({
  data_dir: path.default('./data'),
  /** The SQL models project (models/, seeds/, workflows/); relative paths are resolved like data_dir. */
  project_dir: path.default('./project'),
  timezone: timeZoneSchema.default('UTC'),
  server: z
    .strictObject({
      host: z
        .string()
        .trim()
        .min(1, 'must be an address such as 127.0.0.1, or 0.0.0.0 for every interface')
        .default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /**
       * How many proxies in front of inlet append to X-Forwarded-For (true: one); the client is the
       * address that many entries from the right, so an address a client sends itself is never taken.
       */
      trust_proxy: z
        .union([z.boolean(), z.number().int().min(1).max(16)])
        .default(false)
        .transform((value) => (value === true ? 1 : value === false ? 0 : value)),
      /**
       * The address browsers and SDKs reach this server at, when a proxy serves it under a path
       * (https://example.com/inlet); absent: the host and scheme each request arrived with.
       */
      public_url: z
        .string()
        .refine((value) => /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(value), {
          message: 'must be an http(s) address such as https://example.com/inlet, without a query',
        })
        .transform((value) => value.replace(/\/+$/, ''))
        .optional(),
      // A request (headers and body) must arrive whole within this, or it gets a 408 and the
      // connection is closed: nginx's client_body_timeout is 60 s; Node's own default is 5 minutes.
      request_timeout_ms: z.number().int().min(100).max(3_600_000).default(60_000),
    })
    .prefault({}),
  sites: listOf(site, 10_000, 'sites', 'run another inlet, with its own inlet.yaml, for the rest').default(
    [],
  ),
  sources: listOf(source, 1000, 'sources', 'give a source several tables rather than a source each').default(
    [],
  ),
  limits: z
    .strictObject({
      request_bytes: bytes.max(MAX_BODY_BYTES).default(500 * 1024),
      // The loader's DuckDB memory cap grows with it (loaderMemoryLimit): past ~1.8e15 the cap was
      // more bytes than DuckDB can hold, and the loader failed to start ("Failed to set config").
      event_bytes: bytes.max(16 * 2 ** 20, 'must be at most 16777216 (16 MiB)').default(32 * 1024),
      per_ip_per_second: z.number().int().nonnegative().default(1000),
      per_write_key_per_second: z.number().int().nonnegative().default(50_000),
      /**
       * An event whose time is further back than this many days is filed at its arrival instead; 0
       * keeps any time (for a backfill). Each day is a partition of the lake: unbounded, one client
       * could spread a few requests over thousands of them.
       */
      max_event_age_days: z.number().int().nonnegative().default(365),
    })
    .prefault({}),
  /** Days of each kind of data the lake keeps (lake/retention.ts); 0 keeps every day. */
  retention: z
    .strictObject({
      events_days: retentionDays.default(0),
      logs_days: retentionDays.default(0),
      rejects_days: retentionDays.default(30),
    })
    .prefault({}),
  collector: z
    .strictObject({
      /** Threads that parse and encode large request bodies; absent: one per CPU core beyond two, at most 4. */
      workers: z.number().int().min(0).max(64).optional(),
      /** Bodies from this size (after decompression) go to a worker; smaller ones cost less than the hand-over. */
      // Past the largest limits.request_bytes, no body would reach it.
      worker_min_bytes: bytes.max(MAX_BODY_BYTES).default(16 * 1024),
    })
    .prefault({}),
  wal: z
    .strictObject({
      segment_bytes: bytes.max(MAX_SEGMENT_BYTES).default(64 * 1024 * 1024),
      seal_after_ms: milliseconds.default(10_000),
      max_bytes: bytes.max(MAX_DISK_BYTES).default(2 * 1024 * 1024 * 1024),
      /**
       * Refuse events (503) before the WAL's disk has less free space than this, so the loader keeps
       * room to turn the WAL into Parquet, which frees it; 0 turns the check off.
       */
      min_free_bytes: z
        .number()
        .int()
        .min(0)
        .max(MAX_DISK_BYTES)
        .default(64 * 1024 * 1024),
    })
    .prefault({}),
  loader: z
    .strictObject({
      interval_ms: milliseconds.default(1000),
      compact_min_files: z.number().int().min(2).default(8),
      // The query engine's events view reads the WAL's rows from this far back, as a date: far more
      // than a century made none (Invalid time value), and every query failed while the WAL held events.
      dedup_window_hours: z
        .number()
        .int()
        .min(24)
        .max(876_000, 'must be at most 876000 (100 years)')
        .default(48),
      /**
       * Memory for the id filters of the files a load checks (8 bytes an event); filters past it are
       * read from disk at each load. 0 keeps none in memory.
       */
      id_filter_bytes: z
        .number()
        .int()
        .min(0)
        .max(MAX_FILTER_BYTES)
        .default(64 * 1024 * 1024),
      /** DuckDB threads for the loader's copies; unset: at most 4, one per core beyond the first beside the collector, else every core. */
      threads: z.number().int().min(1).max(64).optional(),
    })
    .prefault({}),
  query: z
    .strictObject({
      timeout_ms: milliseconds.default(60_000),
      memory_limit: memorySize('1GB'),
      threads: z.number().int().min(1).max(64).default(2),
      // The engine's process cap is 512 MB for each (queryProcessCap): a huge count made a cap
      // prlimit could not read (past 2^64, or 1e+21 as JavaScript writes it).
      max_concurrent: z.number().int().positive().max(1024).default(4),
      max_rows: z.number().int().positive().default(100_000),
    })
    .prefault({}),
  models: z
    .strictObject({
      /** Build inlet's built-in product marts alongside the project's own models. */
      builtin: z.boolean().default(true),
      memory_limit: memorySize('1GB'),
    })
    .prefault({}),
  workflows: listOf(workflowSchema, 1000, 'workflows', 'join workflows that run at the same times').default(
    [],
  ),
});

export type InletConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
