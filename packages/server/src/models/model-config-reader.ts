import type { z } from 'zod';
import { describeIssue, issuePath } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { unknownKeysMessage } from './dbt-properties.ts';
import { COLUMN_KEYS, columnNamedTwice, type ModelConfig, modelConfigSchema } from './model-config.ts';
import { checkTemplate } from './model-template.ts';
import { type ModelVars, renderVars } from './model-vars.ts';
import type { ProjectNode } from './project-node.ts';

// A model's or seed's configuration, however written (front matter, its .yaml, a properties file,
// config()), checked against the schema, with dbt's spellings of it read as inlet's.

/**
 * The issue to say: for a union none of whose shapes fit, the issue of the one shape that fit in
 * part (a relationships test without its field), at its whole path; else the issue itself.
 */
function closestIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  // A record's key (a column name under columns:) says "Invalid key in record"; its own issue says why.
  const [keyIssue] = issue.code === 'invalid_key' ? issue.issues : [];
  if (keyIssue) return { ...keyIssue, path: issue.path } as z.core.$ZodIssue;
  if (issue.code === 'invalid_union') {
    const partial = issue.errors.find(
      (branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0),
    );
    const inner = partial?.[0];
    if (inner) {
      const found = closestIssue(inner);
      return { ...found, path: [...issue.path, ...found.path] } as z.core.$ZodIssue;
    }
  }
  return issue;
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * dbt 1.8 renamed tests: to data_tests: (for a model and for each column); either is read as
 * tests:, and both in one place is refused rather than one list silently winning.
 */
function dbtTestsName(raw: unknown, file: string): unknown {
  const rename = (entry: Record<string, unknown>, where: string) => {
    if (!('data_tests' in entry)) return entry;
    if ('tests' in entry)
      throw new InletError(
        'MODEL_INVALID',
        `${file} is not a valid model configuration:\n  ${where}: has both tests: and data_tests: (dbt's newer name for tests:); put them in one list`,
      );
    const { data_tests, ...rest } = entry;
    return { ...rest, tests: data_tests };
  };
  if (!isMap(raw)) return raw;
  const top = fromDbtList(rename(raw, '(top level)'), file);
  if (!isMap(top.columns)) return top;
  const columns = Object.fromEntries(
    Object.entries(top.columns).map(([name, column]) => {
      const renamed = isMap(column) ? rename(column, `columns.${name}`) : column;
      return [
        name,
        isMap(renamed) && Array.isArray(renamed.tests)
          ? { ...renamed, tests: renamed.tests.map(withoutArgumentsKey) }
          : renamed,
      ];
    }),
  );
  return { ...top, columns };
}

/**
 * dbt 1.10 puts a generic test's arguments under arguments: ({ accepted_values: { arguments:
 * { values: [...] } } }); they are read as if beside it, as dbt still reads them too.
 */
function withoutArgumentsKey(test: unknown): unknown {
  if (!isMap(test)) return test;
  const [kind, ...others] = Object.keys(test);
  const body = kind === undefined ? undefined : test[kind];
  if (kind === undefined || others.length > 0 || !isMap(body) || !isMap(body.arguments)) return test;
  const { arguments: given, ...rest } = body;
  return { [kind]: { ...given, ...rest } };
}

/** dbt's columns: as a list of { name, description, tests } is the map of name to the rest. */
function fromDbtList(config: Record<string, unknown>, file: string): Record<string, unknown> {
  if (!Array.isArray(config.columns)) return config;
  const invalid = (message: string) =>
    new InletError('MODEL_INVALID', `${file} is not a valid model configuration:\n  ${message}`);
  const columns: Record<string, unknown> = {};
  const names: string[] = [];
  config.columns.forEach((entry: unknown, i) => {
    if (!isMap(entry) || typeof entry.name !== 'string' || entry.name === '')
      throw invalid(
        `columns.${i}: has no name:; in a list, each column is { name: <column>, description: …, tests: [...] }`,
      );
    const { name, ...rest } = entry;
    names.push(name);
    const twice = columnNamedTwice(name, names, i);
    if (twice) throw invalid(twice);
    columns[name] = rest;
  });
  return { ...config, columns };
}

export function parseModelConfig(
  input: unknown,
  file: string,
  kind: ProjectNode['kind'],
  vars: ModelVars,
): ModelConfig {
  const raw = dbtTestsName(input, file);
  const result = modelConfigSchema.safeParse(raw ?? {});
  if (result.success) {
    // Keys another materialization would use did nothing here, without a word.
    const { materialized, unique_key } = result.data;
    const given = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    const misplaced =
      kind === 'model' && given.column_types !== undefined
        ? 'column_types: is for seeds; a model casts in its SELECT (x::VARCHAR)'
        : unique_key !== undefined && materialized !== 'incremental'
          ? `unique_key: is for incremental models, and this one is materialized: ${materialized}; set materialized: incremental to merge by it, or remove it`
          : given.lookback_days !== undefined && (materialized !== 'incremental' || unique_key !== undefined)
            ? `lookback_days: is for incremental models by dt, and this one ${materialized === 'incremental' ? 'merges by unique_key' : `is materialized: ${materialized}`}; remove it`
            : undefined;
    if (misplaced)
      throw new InletError('MODEL_INVALID', `${file} is not a valid model configuration:\n  ${misplaced}`);
    // A test's SQL is a template as the model's is, so a typo in a tag fails here, not as text.
    const tests = result.data.tests.map((test, i) => {
      if (!('sql' in test)) return test;
      const sql = renderVars(test.sql, vars, `${file} tests[${i}].sql`);
      checkTemplate(sql, `${file} tests[${i}].sql`);
      return { ...test, sql };
    });
    return { ...result.data, tests };
  }
  throw invalidConfig(result.error as z.ZodError, file, raw ?? {});
}

/** The keys a model's configuration takes where an unknown one was found: at its top, or in a column's entry. */
function knownKeys(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return Object.keys(modelConfigSchema.shape);
  return path.length === 2 && path[0] === 'columns' ? COLUMN_KEYS : [];
}

/** How zod's own messages start ("Invalid input: expected string, received undefined"). */
const ZOD_WORDING = /^(Invalid|Too (small|big))\b/;

/**
 * The error for a configuration the schema refused: its first issues, each with its path, in the
 * words inlet.yaml's errors use ("is required; add field: with text", not zod's "Invalid input").
 * raw is the configuration as checked.
 */
export function invalidConfig(error: z.ZodError, file: string, raw: unknown): InletError {
  const lines = error.issues.slice(0, 5).map((union) => {
    const issue = closestIssue(union);
    const where = issuePath(issue.path, '', 'dots');
    // An unknown key is told what dbt meant by it, which inlet.yaml's wording cannot know.
    // dbt's config: block, which a properties file (models: - name: m) takes, stands for the keys a
    // model's own .yaml holds at its top.
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0 && issue.keys.includes('config'))
      return `${where}: Unrecognized key: "config" (a properties file's models: entry gives a model's settings under config:, as dbt's do; this file is the model's own configuration, whose keys stand at its top: write materialized: table and the rest without config:)`;
    if (issue.code === 'unrecognized_keys')
      return `${where}: ${unknownKeysMessage(issue.message, knownKeys(issue.path))}`;
    // The schema's own words (materialized: ephemeral says what to write instead) stay.
    if (!ZOD_WORDING.test(issue.message)) return `${where}: ${issue.message}`;
    return describeIssue(issue, raw, '', 'dots');
  });
  return new InletError(
    'MODEL_INVALID',
    `${file} is not a valid model configuration:\n  ${lines.join('\n  ')}`,
  );
}
