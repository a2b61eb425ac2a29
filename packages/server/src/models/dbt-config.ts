import { InletError } from '../errors/index.ts';

/** dbt's {{ config(materialized='table', …) }}, over several lines as dbt projects write it. */
const CONFIG_CALL = /\{\{-?\s*config\s*\(([\s\S]*?)\)\s*-?\}\}/g;

/** One literal argument: a quoted string, a number, true/false/none, or a list of them. */
const TOKEN =
  /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)\b|(true|false|none)\b|(\[)|(\])|(,))/iy;

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** Reads config()'s arguments, name=literal, into a configuration; anything else fails by name. */
function parseArguments(args: string, where: string): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const invalid = (what: string) =>
    new InletError(
      'MODEL_INVALID',
      `${where}: config(${args.trim().slice(0, 60)}) ${what}; config() takes name='value' pairs (strings, numbers, true/false and lists of them), or the configuration goes in front matter (/*--- materialized: table ---*/).`,
    );
  let at = 0;
  const value = (): unknown => {
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
): { sql: string; config: Record<string, unknown> | undefined } {
  if (!/\{\{-?\s*config\s*\(/.test(sql)) return { sql, config: undefined };
  let config: Record<string, unknown> | undefined;
  const rest = sql.replace(CONFIG_CALL, (call, args: string, index: number) => {
    const where = `${shown} line ${lineOf(sql, index)}`;
    if (config)
      throw new InletError('MODEL_INVALID', `${where}: a second config(); give the configuration in one.`);
    config = parseArguments(args, where);
    return call.replace(/[^\n]/g, ' ');
  });
  return { sql: rest, config };
}
