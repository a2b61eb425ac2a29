// DuckDB quotes the line of the statement it ran where an error is, with a caret under it. A model's
// SQL runs inside inlet's statements (COPY (SELECT * FROM (…), DESCRIBE …), so that quote showed
// inlet's wrapper as LINE 1 where a dbt user looks for a line of their model's file.

/** DuckDB's quote of a line of the statement, the caret line under it, and whatever follows. */
const QUOTE = /\n\nLINE (\d+): (.*)\n( *)\^[^\n]*/;

/** The first lines of a message as one, for a model's one-line result. */
export const firstLines = (message: string) => message.split('\n').slice(0, 3).join(' ').trim();

/** The text DuckDB quoted, without the "..." it puts where it cut a long line. */
const quotedText = (quote: string) => quote.replace(/^\.\.\./, '').replace(/\.\.\.$/, '');

/**
 * DuckDB's message about a model's SQL, pointing into the model's file: "<file> line n: <error>",
 * then the model's line n with DuckDB's caret under what failed. The SQL a build runs keeps its
 * file's lines (front matter and template tags render to as many line breaks), and inlet's
 * statements start it on a line of their own, so DuckDB's LINE n is the file's n - 1 (n, for the
 * SQL run alone). A quote of inlet's own text, which no line of the model matches, is left out.
 */
export function modelErrorMessage(
  node: { name: string; path: string },
  message: string,
  sql: string,
): string {
  const found = QUOTE.exec(message);
  if (!found) return `${node.name}: ${firstLines(message)}`;
  const said = firstLines(message.slice(0, found.index));
  const [, number = '', quote = '', indent = ''] = found;
  const lines = sql.split('\n');
  const line = [Number(number) - 1, Number(number)].find((n) =>
    (lines[n - 1] ?? '').includes(quotedText(quote)),
  );
  if (line === undefined || quotedText(quote).trim() === '') return `${node.name}: ${said}`;
  const label = `LINE ${line}: `;
  const caret = ' '.repeat(indent.length - `LINE ${number}: `.length + label.length);
  return `${node.path} line ${line}: ${said}\n${label}${quote}\n${caret}^`;
}
