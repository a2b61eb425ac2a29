import { randomBytes } from 'node:crypto';
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  parse as parseYaml,
  visit,
} from 'yaml';
import { InletError } from '../errors/index.ts';
import { readStepVars } from './vars-yaml.ts';
import { unknownTag } from './yaml-tags.ts';

export type Env = Record<string, string | undefined>;

// A default holds no "${": ${A:-${B}} nests a reference, which inlet does not expand.
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^}$]|\$(?!\{))*))?\}/g;

/**
 * A "${" left in a value once its references are marked is none inlet expands (${X with no }, ${},
 * ${X Y}, ${${X}}): it was kept as text, and data_dir: ${DATA_DIR (no }) made a folder of that name.
 */
function strayReference(value: string, offset: number | undefined, text: string, file: string): InletError {
  // The first "${" that is no reference: ${${X}} shows from its start.
  const at = value.replace(REFERENCE, (reference) => '_'.repeat(reference.length)).indexOf('${');
  const line = offset === undefined ? '' : ` at line ${text.slice(0, offset).split('\n').length}`;
  return new InletError(
    'CONFIG_INVALID',
    `${file} is not valid${line}: "${value.slice(at, at + 32)}" is no \${NAME} reference inlet expands; write \${NAME} or \${NAME:-default}, NAME of letters, digits and _ and no reference inside another (a value that holds "\${" as text can come from an environment variable).`,
  );
}

export function unsetVariable(name: string, file: string, env: Env): InletError {
  // Empty is taken as unset, as a shell's :- takes it: "not set" sent one who had set it looking elsewhere.
  const state = env[name] === '' ? 'set but empty, which inlet takes as not set' : 'referenced but not set';
  return new InletError(
    'CONFIG_INVALID',
    `${file}: environment variable ${name} is ${state}. ${env[name] === '' ? 'Give it a value' : 'Set it'}, or write \${${name}:-default}.`,
  );
}

/**
 * Replaces ${NAME} (and ${NAME:-default}) references with values from env; a missing one is an
 * error naming it, or, when onUnset is given, is told to it and left empty.
 */
export function expandEnv(text: string, env: Env, file: string, onUnset?: (name: string) => void): string {
  return text.replace(REFERENCE, (_match, name: string, fallback?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    if (!onUnset) throw unsetVariable(name, file, env);
    onUnset(name);
    return '';
  });
}

/** The top-level lists whose entries an unset ${VAR} leaves out, rather than stopping every command. */
type LeavesOut = 'sources' | 'workflows';

/** An unset ${VAR} inside the entry at this index of sources: or workflows:, at the keys of path. */
export interface UnsetInEntry {
  list: LeavesOut;
  entry: number;
  variable: string;
  path: (string | number)[];
}

/** The index of the top-level list's entry a node sits in (its ancestors are path), or undefined. */
function entryIndexOf(
  document: Document,
  list: LeavesOut,
  node: unknown,
  path: readonly unknown[],
): number | undefined {
  const entries = document.get(list, true);
  if (!isSeq(entries)) return undefined;
  const at = path.indexOf(entries);
  if (at < 0) return undefined;
  const index = entries.items.indexOf((path[at + 1] ?? node) as (typeof entries.items)[number]);
  return index < 0 ? undefined : index;
}

/** The keys and indexes from the document's root to a node (its ancestors are path), as zod's issues give them. */
function keysTo(node: unknown, path: readonly unknown[]): (string | number)[] {
  return path.flatMap<string | number>((ancestor, i) => {
    if (isPair(ancestor)) return isScalar(ancestor.key) ? [String(ancestor.key.value)] : [];
    if (isSeq(ancestor))
      return [ancestor.items.indexOf((path[i + 1] ?? node) as (typeof ancestor.items)[number])];
    return [];
  });
}

/**
 * Parses the YAML with each ${ENV} reference standing in as a plain word, then expands references
 * in the values only: a value holding ": ", "#" or a newline stays one value, and a reference may
 * sit in a flow map ({ port: ${PORT} }), where "{" would otherwise open one.
 */
export function parseWithEnv(text: string, env: Env, file: string, unset: UnsetInEntry[]): Document {
  const references: string[] = [];
  const marker = `inlet_env_${randomBytes(6).toString('hex')}_`;
  const marked = text.replace(REFERENCE, (reference) => `${marker}${references.push(reference) - 1}_`);
  // Errors only: yaml printed a Node warning of its own for a key that is a list or a map ([a, b]: 1),
  // with a hint to run node --trace-warnings, beside the unknown key the validation names.
  const document = parseDocument(marked, { logLevel: 'error' });
  if (document.errors.length > 0) return document;
  // Only the line is said: a ${ENV} before the tag on its line moves the column in the text read.
  const tag = unknownTag(document, marked);
  if (tag)
    throw new InletError(
      'CONFIG_INVALID',
      `${file} is not valid YAML${tag.line === undefined ? '' : ` at line ${tag.line}`}: the tag ${tag.tag} is not one YAML knows; quote the value to pass it as text.`,
    );
  const token = new RegExp(`${marker}(\\d+)_`, 'g');
  const unmarked = (value: string): string =>
    value.replace(token, (_match, i: string) => references[Number(i)] ?? '');
  refuseReferenceInKey(document, marker, unmarked, marked, file);
  // Before ${ENV} is expanded: a step's vars are read again from their source text, which still holds
  // the reference's marker, so a: ${X} became the var "inlet_env_…_0_".
  const workflows = document.get('workflows', true);
  for (const [index, workflow] of isSeq(workflows) ? workflows.items.entries() : []) {
    if (!isMap(workflow)) continue;
    const problem = readStepVars(workflow.get('steps', true), marked);
    if (problem)
      throw new InletError(
        'CONFIG_INVALID',
        `${file} is not valid:\n  workflow "${workflow.get('name')}" (workflows[${index}]), ${problem}`,
      );
  }
  const whole = new RegExp(`^${marker}\\d+_$`);
  visit(document, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string') return;
      const text = unmarked(node.value);
      if (node.value.includes('${')) throw strayReference(text, node.range?.[0], marked, file);
      if (!node.value.includes(marker)) return;
      // A source's or a workflow's unset variable is decided on once the whole file is read
      // (loadConfig): commands that do not use that source run without it, and all without it.
      const list = (['sources', 'workflows'] as const).find(
        (name) => entryIndexOf(document, name, node, path) !== undefined,
      );
      const entry = list && entryIndexOf(document, list, node, path);
      const onUnset =
        list === undefined || entry === undefined
          ? undefined
          : (variable: string) => unset.push({ list, entry, variable, path: keysTo(node, path) });
      const expanded = expandEnv(text, env, file, onUnset);
      node.value = node.type === 'PLAIN' && whole.test(node.value) ? typedScalar(expanded) : expanded;
    },
  });
  return document;
}

/**
 * A ${NAME} in a key is an error: keys are names inlet knows or you choose (a step's vars), and one
 * expanded from the environment (server: { ${K}: 8080 }) changed what the file says without showing it,
 * where the documentation says values only.
 */
function refuseReferenceInKey(
  document: Document,
  marker: string,
  unmarked: (value: string) => string,
  marked: string,
  file: string,
): void {
  visit(document, {
    Pair(_key, pair) {
      const key = pair.key;
      if (!isScalar(key) || typeof key.value !== 'string' || !key.value.includes(marker)) return;
      const line = key.range ? ` at line ${marked.slice(0, key.range[0]).split('\n').length}` : '';
      throw new InletError(
        'CONFIG_INVALID',
        `${file} is not valid${line}: the key "${unmarked(key.value)}" holds a \${NAME} reference, which inlet expands in values only; write the key itself (port: \${PORT}, not \${KEY}: 8080).`,
      );
    },
  });
}

/** A number or true/false when the text reads as exactly one (port: ${PORT}), else the text itself. */
function typedScalar(text: string): unknown {
  // Silent: a value that is no YAML ([, a: b: c) or starts as a tag would (!s3cret) is text, and a
  // Node warning would print the variable's value, a password maybe.
  const value: unknown = parseYaml(text, { logLevel: 'silent' });
  const typed = typeof value === 'number' || typeof value === 'boolean';
  return typed && String(value) === text.trim() ? value : text;
}
