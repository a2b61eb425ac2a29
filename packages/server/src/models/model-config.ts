import { z } from 'zod';
import { namesNear } from '../edit-distance.ts';

/** A column as the SELECT names it, spaces and dots included ("Order ID", "utm.source"): it is quoted whole. */
const name = z.string().min(1, 'must be a column name, not empty');
/** A custom test's name is shown in results and logs, so it stays a plain word. */
const testName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a test name of letters, digits and _');
/** dbt writes a relationships test's to: as ref('customers') or source('crm', 'customers'). */
function dbtRelation(to: string): string {
  const quoted = `\\s*['"]([^'"]+)['"]\\s*`;
  const ref = new RegExp(`^\\s*(?:\\{\\{)?\\s*ref\\(${quoted}\\)\\s*(?:\\}\\})?\\s*$`).exec(to);
  if (ref) return ref[1] ?? to;
  const source = new RegExp(`^\\s*(?:\\{\\{)?\\s*source\\(${quoted},${quoted}\\)\\s*(?:\\}\\})?\\s*$`).exec(
    to,
  );
  return source ? `${source[1]}.${source[2]}` : to;
}

const literal = z.union([z.string(), z.number(), z.boolean()]);

const COLUMN_TESTS = ['not_null', 'unique', 'accepted_values', 'relationships'];

/** A test on one column, dbt style: `not_null`, `unique`, `{accepted_values: …}`, `{relationships: …}`. */
const columnTest = z.union(
  [
    z.literal('not_null'),
    z.literal('unique'),
    z.strictObject({
      accepted_values: z.strictObject({
        values: z.array(literal).min(1),
        // dbt's quote: false compares numbers unquoted; inlet compares as text and a number by value either way.
        quote: z.boolean({ error: 'must be true or false' }).optional(),
      }),
    }),
    z.strictObject({
      relationships: z.strictObject({
        /** The model or table whose `field` every non-null value must appear in. */
        to: z.string().min(1).transform(dbtRelation),
        field: name,
      }),
    }),
  ],
  {
    error: (issue) => {
      // dbt's `- not_null: { config: { severity: warn } }`: inlet's tests take no arguments, and always hold back the model.
      const input = issue.input;
      const key = input && typeof input === 'object' && !Array.isArray(input) ? Object.keys(input) : [];
      if (key.length === 1 && (key[0] === 'not_null' || key[0] === 'unique'))
        return `is ${key[0]} with arguments, as dbt writes a test's config: (severity, where); inlet's ${key[0]} takes none (a failing test always keeps the model from being published): write just ${key[0]}`;
      const named = typeof input === 'string' ? input : key[0];
      if (named?.includes('.'))
        return `is ${named}, a test from a dbt package; inlet has no packages: write the check as a sql: test under the model's tests: ({ sql: "SELECT … FROM {{ this }} WHERE …", name: … })`;
      // A test's name a letter or two off (not_nul, uniqe, accepted_value) is named as meant.
      const near = named === undefined ? [] : namesNear([named], COLUMN_TESTS);
      const meant = near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : '';
      return `is not a column test${meant}; use not_null, unique, { accepted_values: { values: [...] } } or { relationships: { to: <model or table>, field: <column> } }`;
    },
  },
);

/** A test on the whole model: a combination of columns that is unique, or SQL that must return no rows. */
const modelTest = z.union(
  [
    z.strictObject({
      unique: z
        .array(name, { error: 'must be a list of columns, e.g. [a, b]; one column is tested under columns:' })
        .min(1),
    }),
    z.strictObject({ name: testName.optional(), sql: z.string().min(1) }),
  ],
  {
    error: (issue) => {
      const input = issue.input;
      const named =
        typeof input === 'string'
          ? input
          : input && typeof input === 'object' && !Array.isArray(input)
            ? Object.keys(input)[0]
            : undefined;
      if (named?.endsWith('unique_combination_of_columns'))
        return `is dbt_utils's unique_combination_of_columns; inlet's is { unique: [<column>, …] }`;
      if (named?.includes('.'))
        return `is ${named}, a test from a dbt package; inlet has no packages: write the check as { sql: "SELECT … FROM {{ this }} WHERE …", name: <name> }`;
      return 'is not a model test; use { unique: [<column>, …] } or { sql: "SELECT … FROM {{ this }} WHERE …", name: <name> }';
    },
  },
);

/**
 * A unique_key that names a column twice (id, id, or id, ID, one column to DuckDB): taken without a
 * word, it merges by fewer columns than it seems to, as a source's primary_key: refuses it.
 */
function oncePerKey(key: string[], ctx: z.RefinementCtx): void {
  const twice = key.find((column, i) => key.findIndex((c) => c.toLowerCase() === column.toLowerCase()) !== i);
  if (twice !== undefined)
    ctx.addIssue({
      code: 'custom',
      message: `names the column "${twice}" twice (${key.join(', ')}); name each column of the key once`,
    });
}

const ANY_CASE = "one column to DuckDB, which reads a column's name in any case; give each column once";

/** Names of one column in another case (ID and id): one entry's description and tests were dropped. */
function oncePerColumn(columns: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  for (const column of Object.keys(columns)) {
    const other = seen.get(column.toLowerCase());
    if (other === undefined) seen.set(column.toLowerCase(), column);
    else ctx.addIssue({ code: 'custom', message: `names ${other} and ${column}, ${ANY_CASE}` });
  }
}

/** A column named twice in dbt's list of columns, in any case: the message, or undefined. */
export function columnNamedTwice(name: string, names: string[], at: number): string | undefined {
  const before = names.slice(0, at).findIndex((other) => other.toLowerCase() === name.toLowerCase());
  if (before < 0) return undefined;
  return names[before] === name
    ? `columns.${at}: names ${name} a second time; give each column once`
    : `columns.${at}: names ${name}, as columns.${before} names ${names[before]}: ${ANY_CASE}`;
}

/**
 * Tests sharing a name (given, or sql_<n> for one that gives none): their results are shown by it,
 * so "dup found 1 row" did not say which failed.
 */
function oncePerTestName(tests: z.output<typeof modelTest>[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  tests.forEach((test, i) => {
    if (!('sql' in test)) return;
    const named = test.name ?? `sql_${i + 1}`;
    const before = seen.get(named);
    seen.set(named, before ?? i);
    if (before === undefined) return;
    const own = 'give each test a name of its own, which inlet run and inlet test show its result by';
    ctx.addIssue(
      test.name === undefined
        ? {
            code: 'custom',
            path: [i],
            message: `gives no name:, so it is named ${named}, as tests.${before} is; ${own}`,
          }
        : { code: 'custom', path: [i, 'name'], message: `is ${named}, as tests.${before}'s is; ${own}` },
    );
  });
}

/** YAML's folded `>` keeps a final line break; a description is shown on one line or in a CSV cell. */
const text = z.string().trim();

/**
 * A description: left empty (null in YAML, as a template filled in gradually has it) is no
 * description, as dbt takes it, rather than a project no command can read.
 */
const description = z.preprocess((value) => (value === null ? undefined : value), text.optional());

const columnEntry = z.strictObject({
  description,
  tests: z.array(columnTest).default([]),
});
/** The keys a column's entry takes, to name the one meant by a key misspelt. */
export const COLUMN_KEYS: readonly string[] = Object.keys(columnEntry.shape);

// An entry given as a map is checked as one, so each of its mistakes is named (a key dbt has, a
// test inlet has not), where a union of text and map said only that it was neither. An entry left
// empty (a: with nothing after it) is a column not yet described.
const column = z
  .union([text, z.null(), z.record(z.string(), z.unknown())], {
    error: 'is not a column entry; give its description as text, or { description: …, tests: [...] }',
  })
  .transform((value, ctx): string | z.output<typeof columnEntry> => {
    if (typeof value === 'string') return value;
    if (value === null) return { tests: [] };
    const parsed = columnEntry.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
      ctx.issues.push({ ...issue, input: value } as (typeof ctx.issues)[number]);
    return z.NEVER;
  });

/** What a model's front matter or sibling .yaml may say. */
export const modelConfigSchema = z.strictObject({
  materialized: z
    .enum(['view', 'table', 'incremental'], {
      error: (issue) =>
        issue.input === 'ephemeral'
          ? "is dbt's ephemeral, which inlet does not have; use view: nothing is stored, and the query runs when the model is read"
          : 'must be view, table or incremental',
    })
    .default('table'),
  description,
  owner: z.string().optional(),
  /** Incremental by key: new rows replace old rows with the same key. Without it, incremental is by dt partition. */
  unique_key: z
    .union([name, z.array(name).min(1).superRefine(oncePerKey)], {
      error: 'must be a column name or a list of them',
    })
    .optional(),
  /** Incremental by dt: each run rebuilds this many days before the newest partition (or today, if earlier) and all after. */
  lookback_days: z.number().int().min(0).max(366).default(1),
  /** Tables that may not exist yet (access_logs before any log is ingested): the model is skipped, not failed. */
  skip_when_missing: z.array(z.string()).default([]),
  columns: z
    .record(name, column, {
      error: (issue) =>
        Array.isArray(issue.input)
          ? 'is a list, as in dbt; inlet takes a map of column name to its description or { description: …, tests: [...] }, e.g. columns: { x: The x. }'
          : undefined,
    })
    .superRefine(oncePerColumn)
    .default({}),
  tests: z.array(modelTest).superRefine(oncePerTestName).default([]),
  /** A seed's types by column, as dbt has them (zip: varchar keeps 01234); the rest are detected. */
  column_types: z
    .record(z.string().min(1), z.string().trim().min(1), {
      error: 'must be a map of column name to type, e.g. column_types: { zip: varchar }',
    })
    .default({}),
});

export type ModelConfig = z.output<typeof modelConfigSchema>;
export type ColumnTest = z.output<typeof columnTest>;
export type ModelTest = z.output<typeof modelTest>;

/** Column name → description, for manifests and the catalog. */
export function columnDescriptions(config: ModelConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [column, value] of Object.entries(config.columns)) {
    const description = typeof value === 'string' ? value : value.description;
    if (description) out[column] = description;
  }
  return out;
}

/** The unique key as a list of columns, or undefined for dt-partitioned increments. */
export function uniqueKey(config: ModelConfig): string[] | undefined {
  if (config.unique_key === undefined) return undefined;
  return typeof config.unique_key === 'string' ? [config.unique_key] : config.unique_key;
}
