import { z } from 'zod';
// The module itself, not config/index.ts: that one loads the sources, which load this file.
import { memorySize } from '../../config/memory-size.ts';
import {
  checkModeOptions,
  checkUniqueNames,
  deriveTableName,
  type TableTarget,
  tableModeFields,
  tableTarget,
} from './table-options.ts';

/** One table of a database source: a table to copy, or a query whose rows become the table. */
export interface DatabaseTable extends TableTarget {
  /** schema.table (or table) exactly as the database spells it. */
  table?: string | undefined;
  query?: string | undefined;
}

const nameOf = (entry: { name?: string | undefined; table?: string | undefined }) =>
  entry.name ?? (entry.table ? deriveTableName(entry.table.split('.').at(-1) ?? '') : undefined);

/**
 * The statements a query: may be. The query runs as SELECT * FROM (query) AS q, so the database
 * itself refuses anything else without running it, but with "syntax error at or near FROM"; this
 * says what is wrong before connecting.
 */
const READING_STATEMENTS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/**
 * Where the /* comment at `start` ends (past its *\/), or -1 when nothing closes it. PostgreSQL nests
 * them (/* a /* b *\/ c *\/ is one comment); MySQL ends one at the first *\/.
 */
function commentEnd(query: string, start: number, nested: boolean): number {
  let depth = 0;
  for (let i = start; i < query.length - 1; i++) {
    const two = query.slice(i, i + 2);
    if (two === '/*' && (nested || depth === 0)) depth++;
    else if (two === '*/') depth--;
    else continue;
    i++;
    if (depth === 0) return i + 1;
  }
  return -1;
}

/** A statement's first keyword, upper-cased, past leading comments (--, #, /* *\/) and parentheses. */
function firstKeyword(query: string, nested: boolean): string {
  let i = 0;
  for (;;) {
    const rest = query.slice(i);
    const skip = /^(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|\()/.exec(rest)?.[0].length;
    const end = skip === undefined && rest.startsWith('/*') ? commentEnd(query, i, nested) : -1;
    if (skip !== undefined) i += skip;
    else if (end !== -1) i = end;
    else return (/^[A-Za-z_]+/.exec(rest)?.[0] ?? '').toUpperCase();
  }
}

/**
 * Where a query opens a /* comment no *\/ closes, past quoted text, names and -- comments; or -1.
 * The query runs as SELECT * FROM (query) AS q, and the database's error quoted that wrapper, the
 * comment having swallowed it.
 */
function unclosedComment(query: string, nested: boolean): number {
  for (let i = 0; i < query.length; i++) {
    const two = query.slice(i, i + 2);
    const quote = query[i] === "'" || query[i] === '"' || query[i] === '`' ? query[i] : undefined;
    const dollar = query[i] === '$' ? /^\$(?:[A-Za-z_]\w*)?\$/.exec(query.slice(i))?.[0] : undefined;
    const close = quote ?? dollar ?? (two === '--' ? '\n' : undefined);
    if (close !== undefined) {
      const end = query.indexOf(close, i + (dollar?.length ?? 1));
      if (end === -1) return -1;
      i = end + close.length - 1;
    } else if (two === '/*') {
      const end = commentEnd(query, i, nested);
      if (end === -1) return i;
      i = end - 1;
    }
  }
  return -1;
}

/**
 * Where the query's statement text ends, past the ; that ends it and the comments and blanks after
 * it, and where the first ; outside quoted text and comments is (-1 for none): a ; before the end is
 * a second statement. Quoted text, names and comments (-- and /* *\/; # where the database is
 * MySQL) are read past as in unclosedComment; undefined for one that nothing closes.
 */
function statementEnd(query: string, nested: boolean): { end: number; semicolon: number } | undefined {
  let end = 0;
  let semicolon = -1;
  for (let i = 0; i < query.length; i++) {
    const two = query.slice(i, i + 2);
    const quote = query[i] === "'" || query[i] === '"' || query[i] === '`' ? query[i] : undefined;
    const dollar = query[i] === '$' ? /^\$(?:[A-Za-z_]\w*)?\$/.exec(query.slice(i))?.[0] : undefined;
    const lineComment = two === '--' || (!nested && query[i] === '#');
    const close = quote ?? dollar ?? (lineComment ? '\n' : undefined);
    if (close !== undefined) {
      // MySQL's strings, and PostgreSQL's E'…', take \' for a quote: "SELECT 'a\'; b'" is one statement.
      const escapes =
        quote !== undefined &&
        quote !== '`' &&
        (!nested || (quote === "'" && /(?:^|\W)[eE]$/.test(query.slice(0, i))));
      const found = escapes ? quoteEnd(query, i) : query.indexOf(close, i + (dollar?.length ?? 1));
      const stop = found === -1 ? query.length : found + close.length;
      if (!lineComment) end = stop;
      i = stop - 1;
    } else if (two === '/*') {
      const stop = commentEnd(query, i, nested);
      if (stop === -1) return undefined;
      i = stop - 1;
    } else if (query[i] === ';' && semicolon === -1) semicolon = i;
    else if (!/[\s;]/.test(query[i] ?? '')) end = i + 1;
  }
  return { end, semicolon };
}

/** Where the quoted text opened at `i` closes, past the characters a \ escapes; -1 if it does not. */
function quoteEnd(query: string, i: number): number {
  for (let j = i + 1; j < query.length; j++) {
    if (query[j] === '\\') j++;
    else if (query[j] === query[i]) return j;
  }
  return -1;
}

/**
 * The query without the ; that ends it and the comments and blanks after it: inlet wraps it in
 * SELECT * FROM (…) AS q, where a ; before a last comment ("SELECT …; -- the orders") stayed
 * inside, a syntax error. One with a comment that nothing closes is left as it is.
 */
function withoutTrailingSemicolons(query: string, nested: boolean): string {
  const ends = statementEnd(query, nested);
  return ends === undefined ? query : query.slice(0, ends.end);
}

/**
 * The statement after the first, when the query holds more than one (SELECT …; SELECT …), which
 * the database refused inside inlet's SELECT * FROM (…) AS q as "syntax error at or near ";"".
 */
function secondStatement(query: string, nested: boolean): string | undefined {
  const ends = statementEnd(query, nested);
  if (ends === undefined || ends.semicolon === -1 || ends.semicolon >= ends.end) return undefined;
  return query.slice(ends.semicolon + 1, ends.end).replace(/^[\s;]+/, '');
}

/** A table entry; `nested`: the database nests /* comments (PostgreSQL). */
const databaseTable = (nested: boolean) =>
  z
    .strictObject({
      table: z.string().min(1).optional(),
      query: z.string().min(1).optional(),
      ...tableModeFields,
    })
    .superRefine((entry, ctx) => {
      if (entry.table && entry.query)
        ctx.addIssue({ code: 'custom', path: ['table'], message: 'give either table or query, not both' });
      else if (!entry.table && !entry.query)
        ctx.addIssue({
          code: 'custom',
          path: ['table'],
          message:
            'is required, or query: instead; add table: with the table to copy (schema.table), or query: with a SELECT whose rows become the table and name: for it',
        });
      else if (!nameOf(entry))
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message: entry.query
            ? 'a query needs a name for its table in the lake'
            : `"${entry.table}" does not make a lake table name; add name: with lower-case letters, digits and _`,
        });
      // Split at every dot, "app.order.items" was sent as three names, which PostgreSQL refused as
      // "cross-database references are not implemented".
      if (entry.table && entry.table.split('.').length > 2)
        ctx.addIssue({
          code: 'custom',
          path: ['table'],
          message: `"${entry.table}" has more than one dot; write schema.table, and copy a table whose name holds a dot with query: (SELECT * FROM schema."the.table") and name:`,
        });
      const statement = entry.query === undefined ? undefined : firstKeyword(entry.query, nested);
      if (statement !== undefined && !READING_STATEMENTS.has(statement))
        ctx.addIssue({
          code: 'custom',
          path: ['query'],
          message: `must be one SELECT (or WITH … SELECT) whose rows become the table; it starts with ${statement || 'no keyword'}, and inlet only reads from a source. Copy a table with table:, or write the SELECT that gives the rows`,
        });
      const comment = entry.query === undefined ? -1 : unclosedComment(entry.query, nested);
      if (entry.query !== undefined && comment !== -1)
        ctx.addIssue({
          code: 'custom',
          path: ['query'],
          message: `opens a /* comment that no */ closes (${JSON.stringify(entry.query.slice(comment, comment + 30))}); close it with */, or write the comment after -- on its own line`,
        });
      const second = entry.query === undefined ? undefined : secondStatement(entry.query, nested);
      if (second !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['query'],
          message: `holds more than one statement (${JSON.stringify(second.length > 60 ? `${second.slice(0, 60)}…` : second)} follows the ; after the first); give one SELECT a table, and each other its own entry with a name:, or join them in one (UNION ALL, JOIN)`,
        });
      checkModeOptions(entry, ctx);
    })
    .transform(
      (entry): DatabaseTable => ({
        ...tableTarget({ ...entry, name: nameOf(entry) ?? '' }),
        table: entry.table,
        // Ends with a line break: inlet wraps it in SELECT * FROM (…) AS q, and a comment on its last
        // line (-- or #) swallowed the closing part.
        query: entry.query === undefined ? undefined : `${withoutTrailingSemicolons(entry.query, nested)}\n`,
      }),
    );

/**
 * The memory of the DuckDB that writes a source's Parquet (and compacts its increments). Its default
 * holds tables of a few hundred columns; a CSV export of thousands needs more (docs/csv.md).
 */
export const sourceMemoryLimit = memorySize('192MB');

/**
 * The URL schemes a kind takes, an example, and the schemes of the other database kind with what
 * that kind is called (`mysql://` on a postgres source is a type: to change, not a URL to mend).
 */
interface UrlRule {
  type: string;
  schemes: string[];
  example: string;
  other: { type: string; schemes: string[]; servers: string };
}

/** Why a source's url is refused: named by its scheme alone, as the rest may hold a password. */
function urlProblem(value: string, url: UrlRule): string | undefined {
  if (url.schemes.some((scheme) => value.startsWith(`${scheme}://`))) return undefined;
  const other = url.other.schemes.find((scheme) => value.startsWith(`${scheme}://`));
  if (other)
    return (
      `is a ${other}:// URL, which a type: ${url.type} source does not take; a ${url.other.servers} database is a ` +
      `source of type: ${url.other.type} (or give a ${url.schemes[0]}:// URL such as ${url.example})`
    );
  return `must be a connection URL such as ${url.example}, usually from an environment variable`;
}

/** The options PostgreSQL and MySQL share; each kind adds its URL scheme check. */
export function databaseOptionsSchema(url: UrlRule, sql: { nestedComments: boolean }) {
  return z.strictObject({
    url: z.string().superRefine((value, context) => {
      const message = urlProblem(value, url);
      if (message) context.addIssue({ code: 'custom', message });
    }),
    tables: z.array(databaseTable(sql.nestedComments)).min(1).superRefine(checkUniqueNames),
    /** Every statement inlet runs on the source is stopped after this long. */
    statement_timeout_ms: z
      .number()
      .int()
      .positive()
      .default(60 * 60 * 1000),
    /** Rows are written to Parquet in parts of about this much source data (the spool on disk, not memory). */
    part_size_mb: z.number().int().min(1).max(4096).default(128),
    memory_limit: sourceMemoryLimit,
  });
}

export type DatabaseOptions = z.output<ReturnType<typeof databaseOptionsSchema>>;
