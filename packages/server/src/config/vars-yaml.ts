import {
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  type ScalarTag,
  type Tags,
  visit,
} from 'yaml';
import { VarDate } from './var-date.ts';
import { VarFloat } from './var-float.ts';
import { collectionKeyMessage, unknownTag, unknownTagMessage } from './yaml-tags.ts';

// dbt reads vars (dbt_project.yml's vars:, --vars) with PyYAML's SafeLoader: YAML 1.1, where yes, no,
// on and off are booleans, 017 is octal 15, 1_000 is 1000, 1:30 is 90 and 2026-01-01 a date, but 1e3
// (no point) and 1.0e3 (no sign in the exponent) are strings. A ported model renders {{ var('x') }}
// as dbt does only if inlet resolves a plain value as PyYAML does; these are its resolvers
// (yaml/resolver.py) and constructors (yaml/constructor.py), which the yaml package's own YAML 1.1
// schema follows only roughly (it takes y and n for booleans, 09 for 9 and 1e3 for 1000).

const TAG = 'tag:yaml.org,2002:';
const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
// A date alone has two-digit month and day; with a time, one digit will do.
const TIMESTAMP =
  /^(?:\d{4}-\d\d-\d\d|\d{4}-\d\d?-\d\d?(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)$/;
const TIMESTAMP_PARTS =
  /^(\d{4})-(\d\d?)-(\d\d?)(?:(?:[Tt]|[ \t]+)(\d\d?):(\d\d):(\d\d)(?:\.(\d*))?(?:[ \t]*(Z|([-+])(\d\d?)(?::(\d\d))?))?)?$/;

/** The sign of a number as written, and its digits without the sign or the _ that group them. */
function signed(source: string): { sign: number; digits: string } {
  const digits = source.replaceAll('_', '');
  return digits.startsWith('-') || digits.startsWith('+')
    ? { sign: digits.startsWith('-') ? -1 : 1, digits: digits.slice(1) }
    : { sign: 1, digits };
}

/** 1:30:05 in base 60, as YAML 1.1 reads a time written as a number. */
const sexagesimal = (digits: string) =>
  digits.split(':').reduce((total, part) => total * 60 + Number(part), 0);

/**
 * PyYAML's construct_yaml_int: 0b binary, 0x hex, a leading 0 octal, a : base 60. Python's int has
 * no limit, so one past 2^53 is a bigint, which renders every digit, where a number would round.
 */
function pythonInt(source: string): number | bigint {
  const { sign, digits } = signed(source);
  const octal = digits.startsWith('0') && digits !== '0' && !/^0[bx]/.test(digits);
  const magnitude = digits.includes(':')
    ? digits.split(':').reduce((total, part) => total * 60n + BigInt(part), 0n)
    : BigInt(octal ? `0o${digits.slice(1)}` : digits);
  const value = sign < 0 ? -magnitude : magnitude;
  const exact = Number(value);
  return Number.isSafeInteger(exact) ? exact : value;
}

/** PyYAML's construct_yaml_float, a VarFloat so that it renders as Python prints a float (1.0, inf). */
function pythonFloat(source: string): VarFloat {
  const { sign, digits } = signed(source.toLowerCase());
  if (digits === '.inf') return new VarFloat(sign * Number.POSITIVE_INFINITY);
  if (digits === '.nan') return new VarFloat(Number.NaN);
  return new VarFloat(sign * (digits.includes(':') ? sexagesimal(digits) : Number(digits)));
}

/** The +HH:MM of a zone offset in minutes, and Python's repr() of the datetime.timezone it makes. */
function pythonZone(offset: number): { text: string; repr: string } {
  const two = (n: number) => String(n).padStart(2, '0');
  const size = Math.abs(offset);
  const text = `${offset < 0 ? '-' : '+'}${two(Math.floor(size / 60))}:${two(size % 60)}`;
  if (offset === 0) return { text, repr: 'datetime.timezone.utc' };
  // timedelta keeps its seconds positive, so -01:30 is days=-1, seconds=81000.
  const delta = offset > 0 ? `seconds=${offset * 60}` : `days=-1, seconds=${86_400 + offset * 60}`;
  return { text, repr: `datetime.timezone(datetime.timedelta(${delta}))` };
}

/**
 * A timestamp as the date or datetime PyYAML makes of it, as dbt renders one: alone, Python's
 * str() (2026-01-01, 2026-01-01 10:00:00, with .ffffff when it has a fraction and +HH:MM when it
 * has a zone, Z being +00:00); in a list or a map, its repr() (datetime.date(2026, 1, 1)).
 */
function pythonTimestamp(source: string): VarDate {
  const [, year, month, day, hour, minute, second, fraction = '', zone, sign, zoneHours, zoneMinutes] =
    TIMESTAMP_PARTS.exec(source) ?? [];
  const two = (n: string | number) => String(n).padStart(2, '0');
  const date = `${year}-${two(month ?? '')}-${two(day ?? '')}`;
  const ymd = [year, month, day].map(Number);
  const problem = timestampProblem(ymd, [hour, minute, second].map(Number));
  if (hour === undefined) return new VarDate(date, `datetime.date(${ymd.join(', ')})`, problem);
  const micros = fraction.slice(0, 6).padEnd(6, '0');
  const time = `${date} ${two(hour)}:${minute}:${second}${/[1-9]/.test(micros) ? `.${micros}` : ''}`;
  // repr() leaves out a zero microsecond, and then a zero second.
  const fields = [...ymd, Number(hour), Number(minute), Number(second), Number(micros)];
  while (fields.length > 5 && fields.at(-1) === 0) fields.pop();
  const offset =
    zone === undefined
      ? undefined
      : zone === 'Z'
        ? 0
        : (sign === '-' ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes ?? 0));
  const tz = offset === undefined ? undefined : pythonZone(offset);
  return new VarDate(
    `${time}${tz?.text ?? ''}`,
    `datetime.datetime(${fields.join(', ')}${tz ? `, tzinfo=${tz.repr}` : ''})`,
    problem,
  );
}

/** What Python's datetime says of a timestamp that is no real day or time (2026-02-30), as dbt fails on it. */
function timestampProblem(
  [year = 0, month = 0, day = 0]: number[],
  [hour = 0, minute = 0, second = 0]: number[],
) {
  if (year < 1) return `year ${year} is out of range`;
  if (month < 1 || month > 12) return 'month must be in 1..12';
  if (
    day < 1 ||
    day > new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !leapYear(year) ? 1 : 0)
  )
    return 'day is out of range for month';
  if (hour > 23) return 'hour must be in 0..23';
  if (minute > 59) return 'minute must be in 0..59';
  if (second > 59) return 'second must be in 0..59';
  return undefined;
}

const leapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** The first date in vars that is no real day (2026-02-30), named by its key, which dbt refuses. */
function impossibleDateMessage(node: Document | Node): string | undefined {
  let message: string | undefined;
  visit(node, {
    Scalar(_key, scalar, path) {
      const value = scalar.value;
      if (!(value instanceof VarDate) || value.problem === undefined) return;
      // In a list (a: [2026-02-30]), the key of the list.
      const pair = [...path].reverse().find(isPair);
      const key = isPair(pair) && isScalar(pair.key) ? `${String(pair.key.value)}: ` : '';
      message = `${key}${scalar.source} is no date (${value.problem}), which dbt refuses; write a real date, or quote it ("${scalar.source}") to pass it as text.`;
      return visit.BREAK;
    },
  });
  return message;
}

/** The plain scalars PyYAML resolves to something other than a string or null (YAML 1.1's null is 1.2's). */
const PYYAML_SCALARS: ScalarTag[] = [
  { tag: `${TAG}bool`, default: true, test: BOOL, resolve: (s) => /^(?:yes|true|on)$/i.test(s) },
  { tag: `${TAG}int`, default: true, test: INT, resolve: pythonInt },
  { tag: `${TAG}float`, default: true, test: FLOAT, resolve: pythonFloat },
  { tag: `${TAG}timestamp`, default: true, test: TIMESTAMP, resolve: pythonTimestamp },
];
const REPLACED = new Set(PYYAML_SCALARS.map((tag) => tag.tag));

/**
 * YAML 1.1's tags for a set, an ordered map, pairs and bytes: PyYAML makes Python values of them that
 * dbt renders as Python does ({'x'}, [('b', 1)], b'hello'), where inlet rendered {} for the first
 * three and a SQL syntax error for the last.
 */
const UNRENDERED = new Map([
  [`${TAG}set`, 'a set'],
  [`${TAG}omap`, 'an ordered map'],
  [`${TAG}pairs`, 'a list of pairs'],
  [`${TAG}binary`, 'bytes'],
]);

/** The first value written with one of the UNRENDERED tags, said as inlet says it. */
function unrenderedTagMessage(document: Document, text: string): string | undefined {
  let message: string | undefined;
  visit(document, {
    Node(_key, node) {
      const kind = node.tag === undefined ? undefined : UNRENDERED.get(node.tag);
      if (kind === undefined) return;
      // The range is the value's; the tag stands before it.
      const at = node.range ? text.slice(0, node.range[0]).search(/!\S*\s*$/) : undefined;
      const before = at === undefined || at < 0 ? undefined : text.slice(0, at).split('\n');
      const where = before ? ` (line ${before.length}, column ${(before.at(-1) ?? '').length + 1})` : '';
      message = `the tag !!${node.tag?.slice(TAG.length)}${where} makes ${kind}, which inlet does not render as dbt does; write a list, a map or text instead.`;
      return visit.BREAK;
    },
  });
  return message;
}

/** A plain scalar's value as PyYAML resolves its text. */
function pyYamlValue(source: string): unknown {
  const tag = PYYAML_SCALARS.find((candidate) => candidate.test?.test(source));
  return tag ? tag.resolve(source, () => {}, {}) : source;
}

/**
 * YAML read as dbt reads vars (dbt_project.yml's vars:, --vars): YAML 1.1, as PyYAML resolves it.
 * A tag YAML does not know (!!js/function) or a key that is a list or a map is an error, as PyYAML's
 * safe_load makes it, where the yaml package read it as text and Node printed its YAMLWarning.
 */
export function parseVarsYaml(text: string): unknown {
  const document = parseDocument(text, {
    version: '1.1',
    logLevel: 'error',
    customTags: (tags: Tags) => [
      ...PYYAML_SCALARS,
      ...tags.filter((tag) => typeof tag !== 'object' || !REPLACED.has(tag.tag)),
    ],
  });
  if (document.errors[0]) throw document.errors[0];
  const found = unknownTag(document, text);
  if (found) throw new Error(unknownTagMessage(found));
  // A var named "[ a ]" would be no var anyone can name, as PyYAML's safe_load refuses it.
  const collectionKey = collectionKeyMessage(document, text) ?? unrenderedTagMessage(document, text);
  if (collectionKey) throw new Error(collectionKey);
  const impossible = impossibleDateMessage(document);
  if (impossible) throw new Error(impossible);
  return document.toJS();
}

/**
 * Resolves the plain values in each step's vars: (a parsed workflow's steps: node) as PyYAML would,
 * as parseVarsYaml reads --vars: a step's vars are its --vars. The rest of the workflow is read as
 * YAML 1.2, as all of inlet.yaml is. Returns what --vars would refuse in them ("steps[0].vars: the
 * key [a] (line 8, column 11) is a list or a map; …"); text is the text the steps were parsed from.
 */
export function readStepVars(steps: unknown, text: string): string | undefined {
  if (!isSeq(steps)) return undefined;
  for (const [index, step] of steps.items.entries()) {
    if (!isMap(step)) continue;
    const vars = step.get('vars', true);
    if (!isNode(vars)) continue;
    // A var named "[ a ]" would be no var anyone can name, as --vars and dbt_project.yml refuse it.
    const collectionKey = collectionKeyMessage(vars, text);
    if (collectionKey) return `steps[${index}].vars: ${collectionKey}`;
    visit(vars, {
      Scalar(key, node) {
        // A key stays a name; an explicitly tagged or quoted value keeps what it was read as.
        if (key === 'key' || node.tag || node.type !== 'PLAIN' || node.source === undefined) return;
        node.value = pyYamlValue(node.source);
      },
    });
    const impossible = impossibleDateMessage(vars);
    if (impossible) return `steps[${index}].vars: ${impossible}`;
  }
  return undefined;
}
