import { InletError } from '../errors/index.ts';
import { type ModelVars, missingVar, plainVar } from './model-vars.ts';

/** dbt's {{ config(materialized='table', …) }}, over several lines as dbt projects write it. */
const CONFIG_CALL = /\{\{-?\s*config\s*\(([\s\S]*?)\)\s*-?\}\}/g;

/** One literal argument: a quoted string, a number, true/false/none, or a list of them (dicts: DICT_OPEN). */
const TOKEN =
  /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)\b|(true|false|none)\b|(\[)|(\])|(,))/iy;

/** dbt's var('name') or var('name', default) as an argument's value; the default follows the comma. */
const VAR_CALL = /\s*var\s*\(\s*(?:'([^']*)'|"([^"]*)")\s*(,)?/y;
const CLOSE = /\s*\)/y;
/** A dict literal's {, its } and a key before its colon; the key is a quoted string, as dbt's dicts are written. */
const DICT_OPEN = /\s*\{/y;
const DICT_CLOSE = /\s*\}/y;
const DICT_KEY = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*:/y;
const DICT_COMMA = /\s*,/y;

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/**
 * Reads config()'s arguments, name=literal or name=var(…), into a configuration; anything else
 * fails by name. A var() takes its value as it is (a list stays a list), since the project's vars
 * are known when it is read, as dbt renders config() before it reads it.
 */
function parseArguments(args: string, where: string, vars: ModelVars): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const invalid = (what: string) =>
    new InletError(
      'MODEL_INVALID',
      `${where}: config(${args.trim().slice(0, 60)}) ${what}; config() takes name='value' pairs (strings, numbers, true/false, lists of them, {'key': value} dicts of them, or var('name', default)), or the configuration goes in front matter (/*--- materialized: table ---*/).`,
    );
  let at = 0;
  const variable = (): { value: unknown } | undefined => {
    VAR_CALL.lastIndex = at;
    const call = VAR_CALL.exec(args);
    if (!call) return undefined;
    const start = at;
    at = VAR_CALL.lastIndex;
    const name = call[1] ?? call[2] ?? '';
    const fallback = call[3] === undefined ? undefined : { value: value() };
    CLOSE.lastIndex = at;
    if (!CLOSE.exec(args)) throw invalid('has a var() that is not closed with ) after its name and default');
    at = CLOSE.lastIndex;
    if (Object.hasOwn(vars.values, name)) return { value: plainVar(vars.values[name]) };
    if (fallback) return fallback;
    throw missingVar(`${where}: config()'s ${args.slice(start, at).trim()}`, name, vars);
  };
  const matches = (pattern: RegExp) => {
    pattern.lastIndex = at;
    const found = pattern.exec(args);
    if (found) at = pattern.lastIndex;
    return found;
  };
  // dbt's docs={'show': false} and the like: string keys, each with a literal value.
  const dict = (): Record<string, unknown> => {
    // Pairs, not assignments, so a key such as __proto__ is a key like any other.
    const entries: [string, unknown][] = [];
    if (matches(DICT_CLOSE)) return {};
    for (;;) {
      const key = matches(DICT_KEY);
      if (!key)
        throw invalid(
          `has a dict whose key is not a quoted string followed by : at "${args.slice(at).trim().slice(0, 30)}"`,
        );
      entries.push([(key[1] ?? key[2] ?? '').replace(/\\(.)/g, '$1'), value()]);
      const comma = matches(DICT_COMMA);
      // A comma may end the dict too, as in a list.
      if (matches(DICT_CLOSE)) return Object.fromEntries(entries);
      if (!comma) throw invalid('has a dict that is not closed with }');
    }
  };
  const value = (): unknown => {
    const fromVar = variable();
    if (fromVar) return fromVar.value;
    if (matches(DICT_OPEN)) return dict();
    TOKEN.lastIndex = at;
    const found = TOKEN.exec(args);
    if (!found) throw invalid(`has a value that is not a literal at "${args.slice(at).trim().slice(0, 30)}"`);
    at = TOKEN.lastIndex;
    const [, single, double, number, word, open] = found;
    if (single !== undefined) return single.replace(/\\(.)/g, '$1');
    if (double !== undefined) return double.replace(/\\(.)/g, '$1');
    if (number !== undefined) return Number(number);
    if (word !== undefined) return word.toLowerCase() === 'none' ? null : word.toLowerCase() === 'true';
    if (open === undefined) throw invalid(`has "${found[0].trim()}" where a value should be`);
    const list: unknown[] = [];
    for (;;) {
      TOKEN.lastIndex = at;
      const next = TOKEN.exec(args);
      if (next?.[6] !== undefined) {
        at = TOKEN.lastIndex;
        return list;
      }
      list.push(value());
      TOKEN.lastIndex = at;
      const separator = TOKEN.exec(args);
      if (separator?.[7] !== undefined) at = TOKEN.lastIndex;
      else if (separator?.[6] === undefined) throw invalid('has a list that is not closed with ]');
    }
  };
  while (args.slice(at).trim() !== '') {
    const name = /\s*([A-Za-z_]\w*)\s*=/y;
    name.lastIndex = at;
    const key = name.exec(args);
    if (!key?.[1]) throw invalid(`has "${args.slice(at).trim().slice(0, 30)}" where a name=value should be`);
    at = name.lastIndex;
    config[key[1]] = value();
    const comma = /\s*(,|$)/y;
    comma.lastIndex = at;
    if (!comma.exec(args))
      throw invalid(`has "${args.slice(at).trim().slice(0, 30)}" after ${key[1]}'s value`);
    at = comma.lastIndex;
  }
  return config;
}

/**
 * Takes dbt's {{ config(…) }} out of a model's SQL and reads it as the model's configuration, as
 * front matter would be; its lines stay, blank, so later lines keep their numbers.
 */
export function takeConfigCall(
  sql: string,
  shown: string,
  vars: ModelVars,
): { sql: string; config: Record<string, unknown> | undefined } {
  if (!/\{\{-?\s*config\s*\(/.test(sql)) return { sql, config: undefined };
  let config: Record<string, unknown> | undefined;
  const rest = sql.replace(CONFIG_CALL, (call, args: string, index: number) => {
    const where = `${shown} line ${lineOf(sql, index)}`;
    if (config)
      throw new InletError('MODEL_INVALID', `${where}: a second config(); give the configuration in one.`);
    config = parseArguments(args, where, vars);
    return call.replace(/[^\n]/g, ' ');
  });
  return { sql: rest, config };
}
