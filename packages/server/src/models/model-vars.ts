import { VarDate, VarFloat } from '../config/index.ts';
import { InletError } from '../errors/index.ts';

export { parseVarsYaml } from '../config/index.ts';

// dbt's {{ var('name') }} and {{ var('name', default) }}: replaced by the value's text when the
// project is read, as dbt compiles them, so every other step sees plain SQL.

/** A comment, skipped (a var() in it needs no value), or an expression, as model-template.ts reads them. */
const COMMENT_OR_EXPRESSION = /\{#[\s\S]*?#\}|\{\{-?\s*([\s\S]*?)\s*-?\}\}/g;
const VAR = /^var\(\s*(?:'([^']*)'|"([^"]*)")\s*(?:,\s*([\s\S]*?))?\s*\)$/;

/** Where a model's variables come from, for the error that names a missing one. */
export interface ModelVars {
  values: Record<string, unknown>;
  /** How to set a variable, said in the error: where the vars: of dbt_project.yml would be. */
  whereToSet: string;
}

/**
 * A var's value as configuration takes it (config()'s materialized=var(…)): a VarFloat or a bigint
 * is its number, a VarDate its text.
 */
export function plainVar(value: unknown): unknown {
  if (value instanceof VarFloat) return value.value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof VarDate) return value.text;
  if (Array.isArray(value)) return value.map(plainVar);
  if (isMap(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plainVar(item)]));
  return value;
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);

/**
 * A value as dbt renders it into SQL: Jinja prints Python's str() of it, so a string is bare
 * (quote it in the SQL: '{{ var("start") }}'), true is True and a list is ['a', 'b'].
 */
export function varText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value instanceof VarFloat || value instanceof VarDate) return value.toString();
  // Inside a list or a map Python prints each item's repr(): a string quoted, a date as datetime.date(…).
  const inner = (item: unknown) =>
    typeof item === 'string'
      ? `'${item.replace(/[\\']/g, '\\$&')}'`
      : item instanceof VarDate
        ? item.repr
        : varText(item);
  if (Array.isArray(value)) return `[${value.map(inner).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([key, item]) => `${inner(key)}: ${inner(item)}`)
      .join(', ')}}`;
  return String(value);
}

/** The default of var('name', default) as written: a quoted string, a number, true/false or none. */
function literal(text: string): { value: unknown } | undefined {
  const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(text);
  if (quoted) return { value: quoted[1] ?? quoted[2] };
  // Jinja's int, as Python's, has no limit: past 2^53 a bigint keeps every digit.
  if (/^-?\d+$/.test(text))
    return { value: Number.isSafeInteger(Number(text)) ? Number(text) : BigInt(text) };
  if (/^-?\d+\.\d+$/.test(text)) return { value: new VarFloat(Number(text)) };
  if (/^(?:true|True)$/.test(text)) return { value: true };
  if (/^(?:false|False)$/.test(text)) return { value: false };
  if (/^(?:none|None)$/.test(text)) return { value: null };
  return undefined;
}

/** The error for a var() with no value and no default; `what` names the file, line and call. */
export function missingVar(what: string, name: string, vars: ModelVars): InletError {
  return new InletError(
    'MODEL_INVALID',
    `${what} has no value; set ${name} under vars: in ${vars.whereToSet}, pass it with --vars '{${name}: …}', or give a default: {{ var('${name}', …) }}.`,
  );
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** The text with each {{ var(…) }} replaced by its value; a var with no value and no default fails by name. */
export function renderVars(text: string, vars: ModelVars, file: string): string {
  if (!text.includes('var(')) return text;
  return text.replace(COMMENT_OR_EXPRESSION, (whole, expression: string | undefined, index: number) => {
    const call = expression === undefined ? null : VAR.exec(expression);
    if (!call) return whole;
    const name = call[1] ?? call[2] ?? '';
    const at = `${file} line ${lineOf(text, index)}`;
    if (Object.hasOwn(vars.values, name)) return varText(vars.values[name]);
    const fallback = call[3];
    if (fallback === undefined || fallback === '') throw missingVar(`${at}: {{ ${expression} }}`, name, vars);
    const parsed = literal(fallback);
    if (!parsed)
      throw new InletError(
        'MODEL_INVALID',
        `${at}: the default of {{ ${expression} }} must be a literal: a quoted string, a number, true/false or none.`,
      );
    return varText(parsed.value);
  });
}
