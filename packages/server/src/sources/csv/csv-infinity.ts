import { basename } from 'node:path';
import { InletError } from '../../errors/index.ts';
import { sqlString } from '../../lake/index.ts';
import type { ParquetWriter } from '../extractor/index.ts';
import type { MatchedFile } from './csv-file-list.ts';
import { NOTHING_IMPORTED } from './csv-refusals.ts';
import { quoteIdent } from './csv-type-mapping.ts';

/** The parts of a type's list (a STRUCT's fields) split at its top-level commas, quoted names kept whole. */
function topLevelParts(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(list.slice(start).trim());
  return parts;
}

/**
 * SQL that is true where a value of DuckDB's type (DOUBLE, DOUBLE[], STRUCT(x DOUBLE), nested)
 * holds an infinite number anywhere in it, false elsewhere; undefined for a type with no DOUBLE or
 * FLOAT in it, which needs no look. A JSON export's 1e400 inside an object or a list was stored as
 * infinity, as a top-level one was.
 */
export function infiniteIn(expression: string, type: string, depth = 0): string | undefined {
  if (/^(DOUBLE|FLOAT)$/.test(type)) return `coalesce(isinf(${expression}), false)`;
  if (type.endsWith('[]')) {
    const item = `x${depth}`;
    const inner = infiniteIn(item, type.slice(0, -2), depth + 1);
    return inner && `coalesce(list_bool_or(list_transform(${expression}, ${item} -> ${inner})), false)`;
  }
  const struct = /^STRUCT\((.*)\)$/s.exec(type);
  if (!struct) return undefined;
  const fields = topLevelParts(struct[1] ?? '').flatMap((field) => {
    const named = /^("(?:[^"]|"")*"|\S+)\s+(.*)$/s.exec(field);
    if (!named) return [];
    const name = named[1]?.startsWith('"') ? named[1].slice(1, -1).replaceAll('""', '"') : (named[1] ?? '');
    const inner = infiniteIn(`struct_extract(${expression}, ${sqlString(name)})`, named[2] ?? '', depth);
    return inner ? [inner] : [];
  });
  return fields.length > 0 ? `(${fields.join(' OR ')})` : undefined;
}

/**
 * Refuses a JSON export's number too large for a DOUBLE (1e400), which DuckDB read as infinity
 * without a word; JSON has no infinity of its own, so an infinite value in the part came from one.
 */
export async function refuseInfinity(
  writer: ParquetWriter,
  part: string,
  where: string,
  todo: MatchedFile[],
  configFile: string,
) {
  const from = `read_parquet(${sqlString(part)})`;
  // Numbers inside an object or a list too ({"s":{"x":1e400}}): only columns that hold floats are looked at.
  const floats = (await writer.describe(`SELECT * FROM ${from}`)).flatMap((c) => {
    const check = infiniteIn(quoteIdent(c.name), c.type);
    return check ? [{ name: c.name, check }] : [];
  });
  if (floats.length === 0) return;
  // One pass: the place (1-based) of the first column with an infinite value, or NULL.
  const infinite = floats.map((c) => `coalesce(bool_or(${c.check}), false)`);
  const at = await writer.scalar(`SELECT list_position([${infinite.join(', ')}], true) FROM ${from}`);
  const name = at === null || at === undefined ? undefined : floats[Number(at) - 1]?.name;
  if (name === undefined) return;
  throw new InletError(
    'SOURCE_DATA_INVALID',
    `${where}: column ${name} of ${todo.map((f) => basename(f.path)).join(', ')} holds a number beyond what a DOUBLE holds (such as 1e400), which would be stored as infinity; ` +
      `set types: { ${/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : JSON.stringify(name)}: VARCHAR } for this table in ${configFile} to keep it as written. ${NOTHING_IMPORTED}`,
  );
}
