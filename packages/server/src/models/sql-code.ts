/**
 * SQL with its comments and the insides of its string literals blanked out, as DuckDB's tokenizer
 * tells them apart: -- to the end of the line, nested block comments, '…' with '' inside,
 * E'…' with backslash escapes, $tag$…$tag$, and a model's {# … #}. A "quoted identifier" is kept, since it names a
 * table. What is left is the code, where a word names a table; in a comment or a string it does not.
 */
export function sqlCode(sql: string): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end;
      out += ' ';
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      out += ' ';
    } else if (c === '{' && next === '#') {
      // A model's Jinja comment, {# … #}, which its build drops.
      const end = sql.indexOf('#}', i + 2);
      i = end === -1 ? n : end + 2;
      out += ' ';
    } else if (c === "'") {
      // E'it\'s' escapes with a backslash; a plain string only with ''.
      const backslash = /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < n) {
        if (backslash && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i++;
      }
      i++;
      out += "''";
    } else if (c === '"') {
      const start = i;
      i++;
      while (i < n && !(sql[i] === '"' && sql[i + 1] !== '"')) i += sql[i] === '"' ? 2 : 1;
      i++;
      out += sql.slice(start, i);
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      // $$…$$ and $tag$…$tag$ are strings; $1 and a$b are not.
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? n : end + tag.length;
        out += "''";
      } else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}
