import type { z } from 'zod';
import { namesNear } from '../edit-distance.ts';
import { durationTextMs } from './duration.ts';
import { sizeBytes } from './memory-size.ts';
import { CRON_EXAMPLE } from './workflow-schema.ts';

type Issue = z.core.$ZodIssue;

/**
 * How a path is written: sources[0].tables[1].path in inlet.yaml (brackets); columns.x.tests.0 in
 * a model's YAML (dots), as its errors have always named a place.
 */
export type PathStyle = 'brackets' | 'dots';

/** sources[0].tables[1].path; the prefix is where the checked value sits in inlet.yaml. */
export function issuePath(path: readonly PropertyKey[], prefix = '', style: PathStyle = 'brackets'): string {
  let out = prefix;
  for (const part of path)
    out +=
      typeof part === 'number' && style === 'brackets'
        ? `[${part}]`
        : out
          ? `.${String(part)}`
          : String(part);
  return out || '(top level)';
}

/** The value at a path of the parsed file, or undefined. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

/** "a", "b" or "c": zod's own words were `Invalid option: expected one of "a"|"b"|"c"`. */
function choices(values: readonly unknown[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : quoted.join('');
}

/** What a YAML writer calls each type zod expects. */
const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (indented key: value lines)',
  record: 'a mapping (indented key: value lines)',
};

const typeWords = (expected: string) => TYPE_WORDS[expected] ?? expected;

/** What was written, in the same words; a short text is shown back, a long one could be a secret. */
function givenWords(given: unknown): string {
  if (given === null) return 'empty (null)';
  if (Array.isArray(given)) return 'a list';
  if (typeof given === 'string') return given.length <= 40 ? `the text ${JSON.stringify(given)}` : 'text';
  if (typeof given === 'number' || typeof given === 'boolean') return String(given);
  return typeWords(typeof given);
}

/**
 * For a number of bytes or milliseconds written with its unit (segment_bytes: 64MB, timeout_ms: 1h),
 * the number to write: "must be a number, not the text "64MB"" left the unit those keys take unsaid.
 */
function unitHint(key: PropertyKey | undefined, expected: string, given: unknown): string {
  if (expected !== 'number' || typeof given !== 'string' || typeof key !== 'string') return '';
  // "60000" in quotes is told to lose its quotes (quoteHint), not that 60000 is 60000 ms.
  if (readsAs(given) === 'number') return '';
  const bytes = key.endsWith('_bytes') ? sizeBytes(given) : undefined;
  if (bytes !== undefined) return `; give it in bytes: ${given} is ${Math.round(bytes)}`;
  const ms = key.endsWith('_ms') ? durationTextMs(given.trim()) : undefined;
  return ms === undefined ? '' : `; give it in milliseconds: ${given} is ${ms}`;
}

/** Text that YAML reads as a number or as true/false once it is written without quotes. */
function readsAs(text: string): 'number' | 'boolean' | undefined {
  if (/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(text.trim())) return 'number';
  if (text === 'true' || text === 'false') return 'boolean';
  return undefined;
}

/**
 * Why a value is not of the type written. A write key of digits, a name such as 2024 or true: YAML
 * read it as a number or a boolean, and quotes keep it text. A port or a flag in quotes (port:
 * "8080", port: "${PORT}", honor_dnt: "true"): quotes make it text, and "must be a number, not the
 * text "8080"" left the reader to wonder how 8080 is not a number.
 */
function quoteHint(expected: string, given: unknown, key: PropertyKey | undefined): string {
  if (typeof given === 'string' && readsAs(given) !== undefined) {
    const wanted = expected === 'int' ? 'number' : expected;
    if (readsAs(given) !== wanted) return '';
    if (typeof key !== 'string')
      return '; it is in quotes, which make it text in YAML: write it without them';
    return `; it is in quotes, which make it text in YAML: write it without them, ${key}: ${given.trim()} (a \${NAME} reference too: ${key}: \${NAME}, not ${key}: "\${NAME}")`;
  }
  if (expected !== 'string' || (typeof given !== 'number' && typeof given !== 'boolean')) return '';
  return `; YAML reads it as ${typeWords(typeof given)}: put it in quotes as written ("…") to give it as text`;
}

/** The key that names an entry of each list of named entries in inlet.yaml. */
const ENTRY_NAMES: Record<string, string> = { workflows: 'name', sources: 'name', sites: 'id' };

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * For a list of named entries written as a mapping: keyed by name (workflows: { nightly: { cron: … } },
 * as docs/scheduler.md's example of one workflow invites), or one entry without its -. "must be a
 * list, not a mapping" said neither where the name goes nor what makes a list.
 */
function listHint(key: PropertyKey | undefined, expected: string, given: unknown): string {
  const nameKey = typeof key === 'string' ? ENTRY_NAMES[key] : undefined;
  if (expected !== 'array' || nameKey === undefined || !isMapping(given)) return '';
  const keys = Object.keys(given);
  if (keys.length > 0 && !(nameKey in given) && keys.every((entry) => isMapping(given[entry])))
    return `; write each as a list item that holds its ${nameKey}: "- ${nameKey}: ${keys[0]}" under ${String(key)}:, with the keys of ${keys[0]} under it (docs/configuration.md shows one)`;
  if (nameKey in given)
    return `; put "- " before its first key to make it the list's item: "- ${nameKey}: …" (docs/configuration.md shows one)`;
  return '';
}

/**
 * What to write for a key that is missing, for the keys a first inlet.yaml most often leaves out;
 * the rest are told the kind of value.
 */
const REQUIRED_HINTS: Record<string, string> = {
  tables:
    'list the tables to copy, e.g. tables: [{ table: public.accounts }] for a database or tables: [{ path: exports/plans.csv }] for files',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${DATABASE_URL} is inlet.yaml syntax, not a template
  url: 'give the connection URL, e.g. url: ${DATABASE_URL} with the URL in that environment variable',
  name: 'give it a name that starts with a lower-case letter and holds only lower-case letters, digits and _ (at most 63)',
  type: 'give its type, e.g. type: postgres',
  path: 'give the file path or glob, e.g. path: exports/*.csv',
  cron: CRON_EXAMPLE,
};

/** A workflow's name, which may hold a - too: the hint for a source's sent a workflow's the wrong way. */
const WORKFLOW_NAME_HINT =
  'give it a name that starts with a lower-case letter and holds only lower-case letters, digits, - and _ (at most 63)';

function requiredHint(path: readonly PropertyKey[], expected: string): string {
  const key = path.at(-1);
  if (key === 'name' && path[0] === 'workflows' && path.length === 3) return WORKFLOW_NAME_HINT;
  const hint = typeof key === 'string' ? REQUIRED_HINTS[key] : undefined;
  if (hint) return hint;
  if (expected === 'array') return `give a list, e.g. ${String(key)}: [ … ]`;
  return `add ${String(key)}: with ${typeWords(expected)}`;
}

/** The quote hint for a union (trust_proxy: true or a number) whose alternatives include the type the text reads as. */
function unionQuoteHint(types: readonly string[], given: unknown, key: PropertyKey | undefined): string {
  if (typeof given !== 'string') return '';
  const reads = readsAs(given);
  return reads && types.includes(typeWords(reads)) ? quoteHint(reads, given, key) : '';
}

/** "at least 1", "more than 0", for too_small and too_big. */
function bound(kind: 'least' | 'most', limit: number | bigint, inclusive: boolean | undefined): string {
  if (inclusive === false) return `${kind === 'least' ? 'more' : 'less'} than ${limit}`;
  return `at ${kind} ${limit}`;
}

/** The types the alternatives of a union expect at the union's own path, e.g. text or a list. */
function unionTypes(issue: Extract<Issue, { code: 'invalid_union' }>): string[] {
  const errors = 'errors' in issue ? issue.errors : [];
  const expected = errors.flatMap((alternative) =>
    alternative.flatMap((i) =>
      i.code === 'invalid_type' && i.path.length === 0 ? [i.expected as string] : [],
    ),
  );
  return [...new Set(expected.map(typeWords))];
}

/** A schema as keysAt walks it: zod's own description of a wrapper (optional, default, pipe) or a container. */
interface SchemaNode {
  _zod: {
    def: { type: string; innerType?: SchemaNode; in?: SchemaNode; element?: SchemaNode; shape?: object };
  };
}

/** The keys the object at path in schema takes (through lists, optionals, defaults and transforms); none when it is no object. */
function keysAt(schema: SchemaNode, path: readonly PropertyKey[]): string[] {
  let node: SchemaNode | undefined = schema;
  let at = 0;
  while (node) {
    const def: SchemaNode['_zod']['def'] = node._zod.def;
    const next: SchemaNode | undefined = def.innerType ?? def.in;
    if (next) node = next;
    else if (def.type === 'array' && typeof path[at] === 'number') {
      node = def.element;
      at++;
    } else if (def.type === 'object' && def.shape && at < path.length)
      node = (def.shape as Record<string, SchemaNode>)[String(path[at++])];
    else return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
  }
  return [];
}

/** " (did you mean retries?)" for unknown keys a letter or two from keys the schema takes there. */
function meantKeys(
  keys: readonly string[],
  schema: SchemaNode | undefined,
  path: readonly PropertyKey[],
): string {
  if (!schema) return '';
  const meant = namesNear(keys, keysAt(schema, path));
  return meant.length > 0 ? ` (did you mean ${meant.join(', ')}?)` : '';
}

/**
 * One line for one zod issue, in the words of the file: "sources[0].tables: is required; list the
 * tables to copy, …" where zod says "Invalid input: expected array, received undefined".
 * raw is the value that was checked; prefix is where it sits in inlet.yaml.
 */
export function describeIssue(
  issue: Issue,
  raw: unknown,
  prefix = '',
  style: PathStyle = 'brackets',
  /** The schema that refused raw, to name the key meant by one unknown. */
  schema?: unknown,
): string {
  const where = issuePath(issue.path, prefix, style);
  const given = valueAt(raw, issue.path);
  // A schema's own message (.min(1, 'must list at least one path')) already says it in words.
  const zodWording = /^(Invalid|Too (small|big))\b/.test(issue.message);
  if (!zodWording && issue.code !== 'unrecognized_keys' && issue.code !== 'invalid_value')
    return `${where}: ${issue.message}`;
  switch (issue.code) {
    case 'unrecognized_keys': {
      // YAML 1.1's merge key, as docker-compose files use it: "unknown key "<<"" said nothing of why.
      const merge = issue.keys.includes('<<')
        ? `${where}: "<<" (a YAML merge key, <<: *anchor) is not read: inlet reads YAML 1.2, which has none; write the keys out`
        : '';
      const others = issue.keys.filter((key) => key !== '<<');
      if (others.length === 0) return merge;
      const unknown = `${where}: unknown key ${others.map((k) => `"${k}"`).join(', ')}${meantKeys(others, schema as SchemaNode | undefined, issue.path)}; check the spelling against the configuration reference in docs/configuration.md`;
      return merge ? `${merge}\n  ${unknown}` : unknown;
    }
    case 'invalid_value': {
      const shown = typeof given === 'string' && given.length <= 40 ? `, not ${JSON.stringify(given)}` : '';
      return `${where}: must be ${choices(issue.values)}${shown}`;
    }
    case 'invalid_type':
      if (given === undefined) return `${where}: is required; ${requiredHint(issue.path, issue.expected)}`;
      return `${where}: must be ${typeWords(issue.expected)}, not ${givenWords(given)}${quoteHint(issue.expected, given, issue.path.at(-1))}${unitHint(issue.path.at(-1), issue.expected, given)}${listHint(issue.path.at(-1), issue.expected, given)}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return `${where}: must not be empty`;
      if (issue.origin === 'array' && Number(issue.minimum) === 1) return `${where}: must list at least one`;
      if (issue.origin === 'number' || issue.origin === 'int')
        return `${where}: must be ${bound('least', issue.minimum, issue.inclusive)}, not ${givenWords(given)}`;
      return `${where}: ${issue.message}`;
    case 'too_big':
      if (issue.origin === 'number' || issue.origin === 'int')
        return `${where}: must be ${bound('most', issue.maximum, issue.inclusive)}, not ${givenWords(given)}`;
      return `${where}: ${issue.message}`;
    case 'invalid_union': {
      const types = unionTypes(issue);
      if (types.length === 0) return `${where}: ${issue.message}`;
      const wanted = `${types.slice(0, -1).join(', ')}${types.length > 1 ? ' or ' : ''}${types.at(-1)}`;
      return given === undefined
        ? `${where}: is required; give ${wanted}`
        : `${where}: must be ${wanted}, not ${givenWords(given)}${unionQuoteHint(types, given, issue.path.at(-1))}`;
    }
    default:
      return `${where}: ${issue.message}`;
  }
}
