import { sqlCode } from '../sql/index.ts';

/** The statements that write rows; their refusal comes from binding, not from the statement type. */
const WRITE_STATEMENT = /^(insert|update|delete|truncate|merge)\b/i;

/** Where the parenthesized group that opens at code[start] ends (after its ")"), quoted names skipped. */
function groupEnd(code: string, start: number): number {
  let depth = 0;
  for (let i = start; i < code.length; i++) {
    const c = code[i];
    if (c === '"') i = code.indexOf('"', i + 1) === -1 ? code.length : code.indexOf('"', i + 1);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return code.length;
}

/** code after the group that opens at its start (its first non-space character), or undefined if none does. */
function afterGroup(code: string): string | undefined {
  const open = /^\s*\(/.exec(code);
  return open ? code.slice(groupEnd(code, open[0].length - 1)) : undefined;
}

/**
 * The code after a WITH clause's common table expressions, read as DuckDB's grammar writes them:
 * name [(columns)] [USING KEY (columns)] AS [NOT] [MATERIALIZED] (query), comma separated.
 */
function afterCtes(code: string): string | undefined {
  let rest = code.replace(/^\s*with\s+(?:recursive\s+)?/i, '');
  if (rest === code) return code;
  for (;;) {
    const name = /^\s*(?:"(?:[^"]|"")*"|[\w$]+)/.exec(rest);
    if (!name) return undefined;
    rest = rest.slice(name[0].length);
    rest = afterGroup(rest) ?? rest;
    const key = /^\s*using\s+key\b/i.exec(rest);
    if (key) rest = afterGroup(rest.slice(key[0].length)) ?? '';
    const as = /^\s*as\s+(?:not\s+)?(?:materialized\s+)?/i.exec(rest);
    if (!as) return undefined;
    const after = afterGroup(rest.slice(as[0].length));
    if (after === undefined) return undefined;
    const comma = /^\s*,/.exec(after);
    if (!comma) return after;
    rest = after.slice(comma[0].length);
  }
}

/**
 * The write sql's statement is (DELETE, INSERT …) as its author wrote it, behind a WITH clause
 * too, or undefined. Only for naming a statement DuckDB could not bind, whose type it cannot tell:
 * it never lets a statement run.
 */
export function writeKeyword(sql: string): string | undefined {
  const rest = afterCtes(sqlCode(sql));
  return rest === undefined ? undefined : WRITE_STATEMENT.exec(rest.trimStart())?.[1]?.toUpperCase();
}
