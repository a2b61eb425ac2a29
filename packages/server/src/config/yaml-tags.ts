import { type Document, isCollection, type Node, parseDocument, visit } from 'yaml';

/**
 * The first tag in a parsed document that YAML does not know (!foo, !!js/function), said as inlet
 * says it: PyYAML's safe_load refuses such a tag, where the yaml package reads the value as text and
 * Node prints a YAMLWarning. text is the text the document was parsed from; undefined when all is known.
 */
export function unknownTag(
  document: Document,
  text: string,
): { tag: string; line?: number; column?: number } | undefined {
  const problem = document.warnings.find((warning) => warning.code === 'TAG_RESOLVE_FAILED');
  if (!problem) return undefined;
  const where = problem.linePos?.[0];
  const tag = text.slice(problem.pos[0], problem.pos[1]).split(/\s/)[0] ?? '';
  return { tag, line: where?.line, column: where?.col };
}

/** The sentence that refuses an unknown tag, with its line and column when known. */
export function unknownTagMessage(found: { tag: string; line?: number; column?: number }): string {
  const where = found.line === undefined ? '' : ` (line ${found.line}, column ${found.column})`;
  return `the tag ${found.tag}${where} is not one YAML knows; quote the value to pass it as text.`;
}

/**
 * The first key that is a list or a map ([a, b]: 1), said as inlet says it: PyYAML refuses it as
 * unhashable, where the yaml package made it text ("[ a, b ]") under a Node warning of its own.
 */
export function collectionKeyMessage(document: Document | Node, text: string): string | undefined {
  let message: string | undefined;
  visit(document, {
    Pair(_key, pair) {
      if (!isCollection(pair.key)) return;
      const range = pair.key.range;
      const before = range ? text.slice(0, range[0]).split('\n') : undefined;
      const where = before ? ` (line ${before.length}, column ${(before.at(-1) ?? '').length + 1})` : '';
      const shown = range ? text.slice(range[0], range[1]).trim() : String(pair.key);
      message = `the key ${shown}${where} is a list or a map; a key must be a name, such as a: 1.`;
      return visit.BREAK;
    },
  });
  return message;
}

/**
 * The first line of a YAML error, as inlet says it after "is not valid YAML: ": without the colon
 * yaml ends it with, and a second document in words, where yaml told a JavaScript caller "Source
 * contains multiple documents; please use YAML.parseAllDocuments()".
 */
export function yamlErrorLine(error: unknown): string {
  const { code, message, linePos } = error as {
    code?: string;
    message: string;
    linePos?: Array<{ line: number }>;
  };
  if (code === 'MULTIPLE_DOCS') {
    const where = linePos?.[0] ? ` at line ${linePos[0].line}` : '';
    return `a second YAML document starts${where} (after a --- line), and inlet reads one; remove the --- line, or what follows it`;
  }
  const first = (message.split('\n')[0] ?? '').replace(/:$/, '');
  // The yaml package reads nesting by recursion: thousands of [ or { deep ran out of stack, which
  // it gives as its message, "Maximum call stack size exceeded at line 1, column 3149".
  return first.replace(
    /^Maximum call stack size exceeded/,
    'lists or maps nest deeper than inlet reads (thousands of levels); nest them less deeply,',
  );
}

/**
 * YAML as inlet reads its own files (YAML 1.2): the yaml package's parse, except that a tag YAML
 * does not know is an error naming it, not a Node warning and a value read as text.
 */
export function parseYamlStrictly(text: string): unknown {
  // Errors only: a key that is a list or a map is named by the validation that follows, as an
  // unknown key, where yaml printed a Node warning of its own too.
  const document = parseDocument(text, { logLevel: 'error' });
  if (document.errors[0]) throw document.errors[0];
  const found = unknownTag(document, text);
  if (found) throw new Error(unknownTagMessage(found));
  return document.toJS();
}
