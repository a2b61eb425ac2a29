import { type Document, parseDocument } from 'yaml';

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
 * YAML as inlet reads its own files (YAML 1.2): the yaml package's parse, except that a tag YAML
 * does not know is an error naming it, not a Node warning and a value read as text.
 */
export function parseYamlStrictly(text: string): unknown {
  const document = parseDocument(text);
  if (document.errors[0]) throw document.errors[0];
  const found = unknownTag(document, text);
  if (found) throw new Error(unknownTagMessage(found));
  return document.toJS();
}
