import { basename } from 'node:path';
import { InletError } from '../errors/index.ts';
import { sqlString } from '../lake/index.ts';
import { sqlCode, withoutTrailingSemicolons } from '../sql/index.ts';
import { quoteName } from './sql-names.ts';

// The few template tags a model may use. Deliberately not Jinja: each tag is something the runner
// must know about (a ref is an edge of the graph, from_dt/to_dt are the incremental window), and
// anything else is an error rather than text that silently passes through.

/** What the tags of one model turn into for one build. */
export interface TemplateValues {
  /** The relation a ref names (a quoted view name). */
  ref(model: string): string;
  /** The model's own published relation, for incremental models that read what they built before. */
  self: string;
  /** The window of an incremental build, inclusive, as YYYY-MM-DD. */
  fromDt: string;
  toDt: string;
  timezone: string;
  /** True when an incremental model adds to what it built before. */
  incremental: boolean;
}

// {{- … -}} as dbt writes it too: whitespace does not matter to SQL. A tag's call may span lines
// ({{ ref(\n 'orders'\n) }}): one that did reached DuckDB as text and failed at "{".
const EXPRESSION = /\{\{-?\s*([\s\S]*?)\s*-?\}\}/g;
/** A Jinja comment, {# … #}, as dbt models have them: it is dropped, whatever it holds. */
const COMMENT = /\{#[\s\S]*?#\}/g;
const REF = /^ref\(\s*(?:'([^']+)'|"([^"]+)")\s*\)$/;
// dbt's spelling too: is_incremental() with its parentheses, {% if not is_incremental() %}, and
// {%- -%} (whitespace does not matter to SQL).
const BLOCK =
  /\{%-?\s*if\s+(not\s+)?is_incremental(?:\(\s*\))?\s*-?%\}([\s\S]*?)(?:\{%-?\s*else\s*-?%\}([\s\S]*?))?\{%-?\s*endif\s*-?%\}/g;
const SOURCE = /^source\(\s*(?:'([^']+)'|"([^"]+)")\s*,\s*(?:'([^']+)'|"([^"]+)")\s*\)$/;
const HINT =
  "use ref('model'), source('source', 'table'), this, from_dt, to_dt, timezone, or {% if is_incremental %}…{% else %}…{% endif %}";

/** The table a source('crm', 'customers') names, as crm.customers; undefined for any other tag. */
function sourceTable(expression: string): string | undefined {
  const found = SOURCE.exec(expression);
  return found ? `${found[1] ?? found[2]}.${found[3] ?? found[4]}` : undefined;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** The text with each {# … #} blanked, its line breaks kept so lines are still counted right. */
const withoutComments = (sql: string) =>
  sql.includes('{#') ? sql.replace(COMMENT, (comment) => comment.replace(/[^\n]/g, ' ')) : sql;

/**
 * A model's code as its build reads it: Jinja drops each {# … #} before anything else (in a SQL
 * string too), then sqlCode blanks the SQL's strings and comments.
 */
export const templateCode = (sql: string) => sqlCode(withoutComments(sql));

/** Every model named by ref() in the text, in order of first mention (both branches of an if count). */
export function templateRefs(sql: string): string[] {
  const refs: string[] = [];
  for (const match of withoutComments(sql).matchAll(EXPRESSION)) {
    const ref = REF.exec(match[1] ?? '');
    const model = ref?.[1] ?? ref?.[2];
    if (model && !refs.includes(model)) refs.push(model);
  }
  return refs;
}

/** Every source table named by source() in the text, as crm.customers, in order of first mention. */
export function templateSources(sql: string): string[] {
  const tables = new Set<string>();
  for (const match of withoutComments(sql).matchAll(EXPRESSION)) {
    const table = sourceTable(match[1] ?? '');
    if (table) tables.add(table);
  }
  return [...tables];
}

/**
 * The text with each source('crm', 'customers') naming the table rename gives it instead (dbt's
 * schema: and identifier: resolved to inlet.yaml's names), the rest as written, lines and all.
 */
export function renameSources(sql: string, rename: (table: string) => string): string {
  return sql.replace(EXPRESSION, (whole, expression: string) => {
    const table = sourceTable(expression);
    const renamed = table === undefined ? table : rename(table);
    if (table === undefined || renamed === table) return whole;
    const [source = '', name = ''] = (renamed ?? '').split(/\.(.*)/);
    return whole.replace(expression, `source(${sqlString(source)}, ${sqlString(name)})`);
  });
}

/** Fails with the file and line of the first tag that is not one of ours. */
export function checkTemplate(text: string, file: string): void {
  const sql = withoutComments(text);
  const open = sql.indexOf('{#');
  if (open !== -1)
    throw new InletError(
      'MODEL_INVALID',
      `${file} line ${lineOf(sql, open)}: {# starts a comment that no #} ends; close it, or write the text as a SQL comment (-- …).`,
    );
  // A tag left open reached DuckDB as text, which said no more than a syntax error at "{". Tags in
  // a SQL string or comment are passed over, as before: they reach the SQL as written.
  const code = templateCode(text)
    .replace(EXPRESSION, (whole) => ' '.repeat(whole.length))
    .replace(/\{%[\s\S]*?%\}/g, (whole) => ' '.repeat(whole.length));
  const unclosed = /\{\{|\{%/.exec(code);
  if (unclosed)
    throw new InletError(
      'MODEL_INVALID',
      `${file} line ${lineOf(code, unclosed.index)}: ${unclosed[0]} starts a tag that no ${unclosed[0] === '{{' ? '}}' : '%}'} ends; close it.`,
    );
  const withoutBlocks = sql.replace(BLOCK, (whole) => ' '.repeat(whole.length));
  const stray = /\{%-?\s*(\w*).*?%\}/.exec(withoutBlocks);
  // An {% if is_incremental() %} that BLOCK did not take is one with no {% endif %}: it was called a
  // tag inlet does not know, beside the hint that it is the one it does.
  if (stray && /^\{%-?\s*if\s+(not\s+)?is_incremental(\(\s*\))?\s*-?%\}$/.test(stray[0]))
    throw new InletError(
      'MODEL_INVALID',
      `${file} line ${lineOf(sql, stray.index)}: ${stray[0]} has no {% endif %} after it; end the block with {% endif %} ({% if is_incremental() %}…{% else %}…{% endif %}).`,
    );
  if (stray) {
    // dbt's Jinja statements a ported project has, and what inlet has instead.
    const instead: Record<string, string> = {
      set: "a model sets no variables: read one with {{ var('name') }} (set under vars: in dbt_project.yml, or with --vars), write the value in its SQL, or name it in a CTE (WITH params AS (SELECT … AS x))",
      for: 'a model has no loops: write the SQL out, or let DuckDB repeat it (UNNEST, PIVOT, COLUMNS(…))',
      macro: 'inlet has no macros: write what it makes as SQL',
      test: "inlet has no custom generic tests: write the check as a sql: test in the model's configuration, or a file under tests/",
      snapshot: 'inlet has no snapshots (docs/models.md says how to keep a copy a day)',
      if: `inlet's only {% if %} is {% if is_incremental() %}; for a choice by a var, let SQL make it (WHERE '{{ var("region", "all") }}' IN ('all', region))`,
    };
    throw new InletError(
      'MODEL_INVALID',
      `${file} line ${lineOf(sql, stray.index)}: ${stray[0]} is not a template tag inlet knows; ${instead[stray[1] ?? ''] ?? HINT}.`,
    );
  }
  for (const match of sql.matchAll(EXPRESSION)) {
    const expression = match[1] ?? '';
    if (
      REF.test(expression) ||
      SOURCE.test(expression) ||
      ['this', 'from_dt', 'to_dt', 'timezone'].includes(expression)
    )
      continue;
    // What dbt's config() is in inlet, for who writes a model as in dbt.
    const hint = expression.startsWith('config(')
      ? `a model's configuration goes in front matter (/*--- materialized: table ---*/) or ${basename(file).replace(/\.sql.*$/, '')}.yaml`
      : /^source\s*\(/.test(expression)
        ? "source() takes a source's name and its table's, each in quotes: {{ source('crm', 'customers') }}"
        : /^ref\s*\(/.test(expression)
          ? "ref() takes one model's name in quotes, {{ ref('model') }} (inlet has no packages or model versions)"
          : /^var\s*\(/.test(expression)
            ? "inlet reads {{ var('name') }} and {{ var('name', default) }} alone, with no filter or expression around them; write the rest in SQL"
            : /^env_var\s*\(/.test(expression)
              ? "a model reads no environment: give the value as a var ({{ var('name') }}, set in dbt_project.yml or with inlet run --vars)"
              : /^[A-Za-z_][\w.]*\s*\(/.test(expression)
                ? `inlet has no macros, so write what it makes as SQL; the tags are ${HINT.replace(/^use /, '')}`
                : HINT;
    throw new InletError(
      'MODEL_INVALID',
      `${file} line ${lineOf(sql, match.index)}: {{ ${expression} }} is not a template tag inlet knows; ${hint}.`,
    );
  }
}

/** Whether the SQL holds {{ timezone }} outside its comments, in either branch of an if-block. */
export function usesTimezone(sql: string): boolean {
  return [...withoutComments(sql).matchAll(EXPRESSION)].some((match) => match[1] === 'timezone');
}

/** The SQL of one build: if-blocks resolved, then every {{ … }} replaced by its value. */
export function renderTemplate(sql: string, values: TemplateValues): string {
  const resolved = withoutComments(sql).replace(
    BLOCK,
    (whole, not: string | undefined, then: string, otherwise: string | undefined) =>
      values.incremental !== (not !== undefined)
        ? keepLines(whole, whole.indexOf('%}') + 2, then)
        : keepLines(whole, whole.lastIndexOf('{%') - (otherwise ?? '').length, otherwise ?? ''),
  );
  return resolved.replace(
    EXPRESSION,
    (whole, expression: string) => value(expression, values) + breaks(whole),
  );
}

/** The line breaks of a text, and nothing else. */
const breaks = (text: string) => text.replace(/[^\n]/g, '');

/**
 * kept, the part of whole that starts at start, with the line breaks of the rest of whole around
 * it: a model's rendered SQL keeps its file's lines, so DuckDB's LINE n in an error is the file's.
 */
const keepLines = (whole: string, start: number, kept: string) =>
  breaks(whole.slice(0, start)) + kept + breaks(whole.slice(start + kept.length));

/** What one {{ … }} tag turns into. */
function value(expression: string, values: TemplateValues): string {
  const ref = REF.exec(expression);
  if (ref) return values.ref(ref[1] ?? ref[2] ?? '');
  // Quoted part by part, so a source named after a keyword ("left".customers) is read as a name.
  const table = sourceTable(expression);
  if (table) return quoteName(table);
  switch (expression) {
    case 'this':
      return values.self;
    case 'from_dt':
      return `DATE ${sqlString(values.fromDt)}`;
    case 'to_dt':
      return `DATE ${sqlString(values.toDt)}`;
    default:
      return sqlString(values.timezone);
  }
}

/**
 * A model's SQL (or a text of its tests) as one build of it runs: ref()s and {{ this }} as quoted
 * view names, the window's days and the time zone filled in. The build, its tests and the catalog's
 * reading of what a model reads all render it so.
 */
export function renderForBuild(
  text: string,
  model: string,
  build: { from: string; to: string; timezone: string; incremental: boolean },
): string {
  return renderTemplate(text, {
    ref: quoteName,
    self: quoteName(model),
    fromDt: build.from,
    toDt: build.to,
    timezone: build.timezone,
    incremental: build.incremental,
  });
}

/** SQL ready to sit inside parentheses: no trailing semicolon (nor a comment after it). */
export function asSubquery(sql: string): string {
  // On a line of its own, so DuckDB's LINE n in an error is the model's line n - 1 (sql-error-lines.ts).
  return `(\n${withoutTrailingSemicolons(sql)}\n)`;
}

/** Tag values for SQL that reads what is published (data tests): refs are views, the window is everything. */
export function publishedValues(timezone: string, self: string): TemplateValues {
  return { ref: quoteName, self, fromDt: '1900-01-01', toDt: '9999-12-31', timezone, incremental: false };
}
