// DuckDB reads SQL with PostgreSQL's tokenizer: these are its rules for where a string, a quoted
// identifier and a comment begin and end, so that a word inside one is not taken for code.

/** A character a name goes on with (PostgreSQL counts every byte from 0x80 as a letter). */
const NAME_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
/** $$ or $tag$ opening a dollar-quoted string; a tag is a name that does not start with a digit or $. */
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

const continuesName = (sql: string, i: number) => NAME_CHAR.test(sql[i - 1] ?? '');

/** Where the -- comment at start ends: at the end of its line. */
function lineCommentEnd(sql: string, start: number): number {
  const end = sql.slice(start).search(/[\n\r]/);
  return end === -1 ? sql.length : start + end;
}

/** Where the /* comment at start ends; DuckDB nests them: /* a /* b *\/ c *\/ is one comment. */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    const pair = sql.slice(i, i + 2);
    if (pair === '/*') depth++;
    else if (pair === '*/') depth--;
    else {
      i++;
      continue;
    }
    i += 2;
    if (depth === 0) return i;
  }
  return sql.length;
}

/**
 * Whether the ' at quote opens an escape string, E'it\'s': an E before it that is not the end of a
 * name (nameE'x' is the name nameE and then 'x'). After a number it is (1E'x' reads as 1 and E'x').
 */
function opensEscapeString(sql: string, quote: number): boolean {
  if (!/[eE]/.test(sql[quote - 1] ?? '')) return false;
  let start = quote - 1;
  while (start > 0 && continuesName(sql, start)) start--;
  return /^\d*$/.test(sql.slice(start, quote - 1));
}

/** Where the '…' string at start ends: '' is a quote inside it, and in an escape string \' is too. */
function stringEnd(sql: string, start: number): number {
  const backslash = opensEscapeString(sql, start);
  let i = start + 1;
  while (i < sql.length) {
    if (backslash && sql[i] === '\\') i += 2;
    else if (sql[i] !== "'") i++;
    else if (sql[i + 1] === "'") i += 2;
    else return i + 1;
  }
  return sql.length;
}

/** Where the "…" identifier at start ends: "" is a quote inside it. */
function identifierEnd(sql: string, start: number): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] !== '"') i++;
    else if (sql[i + 1] === '"') i += 2;
    else return i + 1;
  }
  return sql.length;
}

/** Where the dollar-quoted string at start ends, or undefined when none opens there ($1, a$b). */
function dollarStringEnd(sql: string, start: number): number | undefined {
  if (continuesName(sql, start)) return undefined;
  DOLLAR_TAG.lastIndex = start;
  const tag = DOLLAR_TAG.exec(sql)?.[0];
  if (!tag) return undefined;
  const end = sql.indexOf(tag, start + tag.length);
  return end === -1 ? sql.length : end + tag.length;
}

/** The comment, string or quoted identifier that starts at i: where it ends, and what stands for it in the code. */
function textAt(sql: string, i: number): { end: number; code: string } | undefined {
  const pair = sql.slice(i, i + 2);
  if (pair === '--') return { end: lineCommentEnd(sql, i), code: ' ' };
  if (pair === '/*') return { end: blockCommentEnd(sql, i), code: ' ' };
  if (sql[i] === "'") return { end: stringEnd(sql, i), code: "''" };
  if (sql[i] === '"') {
    const end = identifierEnd(sql, i);
    return { end, code: sql.slice(i, end) };
  }
  const end = sql[i] === '$' ? dollarStringEnd(sql, i) : undefined;
  return end === undefined ? undefined : { end, code: "''" };
}

/**
 * SQL with its comments blanked to a space and its strings to '', as DuckDB's tokenizer tells them
 * apart: -- to the end of the line, /* … *\/ nested, '…' with '' inside, E'…' with backslash
 * escapes, $$…$$ and $tag$…$tag$. A "quoted identifier" is kept, since it names a table. What is
 * left is the code, where a word is a name; in a comment or a string it is only text. Text left
 * open (a string with no closing quote) runs to the end, as DuckDB reads it.
 */
export function sqlCode(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const text = textAt(sql, i);
    out += text?.code ?? sql[i];
    i = text?.end ?? i + 1;
  }
  return out;
}

/**
 * SQL up to its last code: without the semicolons that end it and the comments and blanks around
 * them, so that it can sit inside parentheses (`SELECT 1; -- done` is `SELECT 1`).
 */
export function withoutTrailingSemicolons(sql: string): string {
  let end = 0;
  let i = 0;
  while (i < sql.length) {
    const text = textAt(sql, i);
    if (text) {
      // A comment stands for a blank; a string or a quoted identifier is code.
      if (text.code !== ' ') end = text.end;
      i = text.end;
      continue;
    }
    if (!/[\s;]/.test(sql[i] ?? '')) end = i + 1;
    i++;
  }
  return sql.slice(0, end);
}
