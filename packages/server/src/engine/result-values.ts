import {
  DuckDBArrayType,
  DuckDBArrayValue,
  type DuckDBDateValue,
  DuckDBListType,
  DuckDBListValue,
  DuckDBMapType,
  DuckDBMapValue,
  DuckDBStructType,
  DuckDBStructValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBType,
  DuckDBTypeId,
  DuckDBUnionType,
  DuckDBUnionValue,
  type DuckDBValue,
  type DuckDBValueConverter,
  DuckDBVariantValue,
  fromVariantValue,
  type Json,
  JsonDuckDBValueConverter,
  VARIANT,
} from '@duckdb/node-api';
import { InletError } from '../errors/index.ts';

// DuckDB's Node bindings write DATE 'infinity' and '-infinity' (PostgreSQL's open-ended dates, which
// database sources copy as they are) as the day after the greatest date and the day before the
// least one, which no date can be: they are written as PostgreSQL and DuckDB write them.
const INFINITE_DATES = new Map<string, string>([
  ['5881580-07-11', 'infinity'],
  ['5877642-06-24 (BC)', '-infinity'],
]);

/**
 * Timestamps of a precision other than microseconds, whose infinities the bindings write as the
 * instant their stored number would be ('infinity'::TIMESTAMP_S as the year 292277026596): written
 * as DuckDB writes them instead, infinity and -infinity.
 */
const OTHER_PRECISIONS = new Map<DuckDBTypeId, (value: unknown) => bigint>([
  [DuckDBTypeId.TIMESTAMP_S, (value) => (value as DuckDBTimestampSecondsValue).seconds],
  [DuckDBTypeId.TIMESTAMP_MS, (value) => (value as DuckDBTimestampMillisecondsValue).millis],
  [DuckDBTypeId.TIMESTAMP_NS, (value) => (value as DuckDBTimestampNanosecondsValue).nanos],
]);
const INFINITY = 2n ** 63n - 1n;

/** Dates and timestamps of every precision, whose text may fall in year 0 (see inYearOne). */
const DATED = new Set([
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
]);

/**
 * A date's or timestamp's text with year 0 written as DuckDB writes it, 0001 (BC). The bindings
 * number the years before year 1 back from 1 BC, but leave year 0 itself as 0000: 31 December 1 BC
 * came out as 0000-12-31, a year no calendar has, where DuckDB writes 0001-12-31 (BC).
 */
function inYearOne(text: string): string {
  return text.startsWith('0000-') ? `0001${text.slice(4, 10)} (BC)${text.slice(10)}` : text;
}

/**
 * A FLOAT as the shortest decimal that is the same float, as DuckDB writes it. The bindings widen
 * it to a double, whose digits show the float's error: a REAL column's 0.1 came out as
 * 0.10000000149011612, and 123.456 as 123.45600128173828.
 */
function shortestFloat(value: number): number {
  if (!Number.isFinite(value) || (Number.isInteger(value) && Math.abs(value) < 2 ** 24)) return value;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

const HOUR_MS = 3_600_000;
/** The range of a JavaScript Date, and so of what Intl can be asked about. */
const DATE_LIMIT_MS = 8.64e15;
/** 400 Gregorian years, after which dates fall on the same weekdays again. */
const ERA_MS = 146_097 * 86_400_000;

/**
 * An instant beyond a Date's range moved by whole 400-year eras to just within it, where the zone
 * keeps the rules it has at the same spot of the era: its present ones (DuckDB's ICU extends them
 * forever, daylight saving time included) or, long before, its first offset (local mean time).
 * Written in UTC, such a value read 4 or 5 hours off in New York.
 */
function withinDateRange(ms: number): number {
  if (Math.abs(ms) <= DATE_LIMIT_MS) return ms;
  return ms - Math.sign(ms) * Math.ceil((Math.abs(ms) - DATE_LIMIT_MS) / ERA_MS) * ERA_MS;
}

/**
 * The UTC offset of a time zone at an instant, in seconds. Asking Intl costs ~17 µs, so offsets are
 * kept per hour of UTC in which the zone's offset does not change.
 */
function createOffsetFinder(timeZone: string): (ms: number) => number {
  const format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  const exact = (ms: number): number => {
    const name =
      format.formatToParts(withinDateRange(ms)).find((part) => part.type === 'timeZoneName')?.value ?? '';
    const match = /GMT([+-])(\d\d):(\d\d)(?::(\d\d))?/.exec(name);
    if (!match) return 0;
    const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4] ?? 0);
    return match[1] === '-' ? -seconds : seconds;
  };
  const hours = new Map<number, number>();
  return (ms) => {
    const hour = Math.floor(ms / HOUR_MS);
    let offset = hours.get(hour);
    if (offset === undefined) {
      const start = exact(hour * HOUR_MS);
      offset = start === exact(hour * HOUR_MS + HOUR_MS - 1) ? start : Number.NaN;
      if (hours.size >= 10_000) hours.clear();
      hours.set(hour, offset);
    }
    return Number.isNaN(offset) ? exact(ms) : offset;
  };
}

/**
 * An offset as PostgreSQL writes it: +09, -03:30, +09:18:59. DuckDB (1.5) writes a local mean
 * time's +09:18:59 as +09:18 beside a time shifted by the whole offset, text that reads back 59
 * seconds off; the seconds are kept so that it reads back as the same instant.
 */
function offsetText(seconds: number): string {
  const abs = Math.abs(seconds);
  const parts = [Math.floor(abs / 3600), Math.floor((abs % 3600) / 60), abs % 60];
  while (parts.length > 1 && parts.at(-1) === 0) parts.pop();
  return `${seconds < 0 ? '-' : '+'}${parts.map((part) => String(part).padStart(2, '0')).join(':')}`;
}

/** Where a JSON text may hold a number a JavaScript number cannot: 16 digits, or a 3-digit exponent. */
const MAYBE_UNSAFE_NUMBER = /\d{16}|[eE][+-]?\d{3}/;

/**
 * The JSON text with each number a JavaScript number cannot hold as written (an integer past 2^53,
 * such as a 64-bit id, or one past a double's range) made a string of its digits: parsed as a
 * number, order_id 9007199254740993 became 9007199254740992, and 1e400 null.
 */
function quoteUnsafeNumbers(text: string): string {
  let out = '';
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      continue;
    }
    if (c !== 45 /* - */ && (c < 48 || c > 57)) continue;
    let end = i + 1;
    while (end < text.length && /[0-9eE+.-]/.test(text.charAt(end))) end++;
    const token = text.slice(i, end);
    const value = Number(token);
    if (!Number.isFinite(value) || (/^-?\d+$/.test(token) && !Number.isSafeInteger(value))) {
      out += `${text.slice(copied, i)}"${token}"`;
      copied = end;
    }
    i = end - 1;
  }
  return out + text.slice(copied);
}

/** A JSON value as itself; DuckDB checked it is JSON, but text that is not stays text. */
function parsedJson(text: string): Json {
  try {
    return JSON.parse(MAYBE_UNSAFE_NUMBER.test(text) ? quoteUnsafeNumbers(text) : text) as Json;
  } catch {
    return text;
  }
}

type Parse = (value: Json) => Json;

/** What parses the JSON values inside a value of this type; undefined when it holds none. */
function jsonParser(type: DuckDBType): Parse | undefined {
  if (type.alias === 'JSON') return (value) => (typeof value === 'string' ? parsedJson(value) : value);
  if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) {
    const item = jsonParser(type.valueType);
    return item && ((value) => (Array.isArray(value) ? value.map(item) : value));
  }
  if (type instanceof DuckDBMapType) {
    const key = jsonParser(type.keyType);
    const entry = jsonParser(type.valueType);
    if (!key && !entry) return undefined;
    // A map comes as a list of {key, value} objects.
    return (value) => {
      if (!Array.isArray(value)) return value;
      for (const pair of value) {
        if (pair === null || typeof pair !== 'object' || Array.isArray(pair)) continue;
        if (key) pair.key = key(pair.key ?? null);
        if (entry) pair.value = entry(pair.value ?? null);
      }
      return value;
    };
  }
  if (type instanceof DuckDBStructType) {
    const fields = type.entryNames.flatMap((name, i) => {
      const entry = type.entryTypes[i];
      const parse = entry && jsonParser(entry);
      return parse ? [[name, parse] as const] : [];
    });
    if (fields.length === 0) return undefined;
    return (value) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      for (const [name, parse] of fields) value[name] = parse(value[name] ?? null);
      return value;
    };
  }
  return undefined;
}

/**
 * What parses the JSON values of a result's rows in place, or undefined when it has none. The
 * bindings hand a converter each value's type without its JSON alias, so the result's columns say.
 * With jsonText, a JSON column's own values stay their text, as a CSV field or a table cell writes
 * them (a JSON null the text null, apart from SQL NULL); those inside a list, struct or map are
 * parsed still, for the nested value is written as one JSON text that holds them.
 */
export function createJsonParser(
  types: DuckDBType[],
  jsonText = false,
): ((rows: Json[][]) => Json[][]) | undefined {
  const columns = types.flatMap((type, i) => {
    const parse = jsonText && type.alias === 'JSON' ? undefined : jsonParser(type);
    return parse ? [[i, parse] as const] : [];
  });
  if (columns.length === 0) return undefined;
  return (rows) => {
    for (const row of rows) for (const [i, parse] of columns) row[i] = parse(row[i] ?? null);
    return rows;
  };
}

/**
 * How deep a value may nest (lists, structs, maps and JSON within each other) to be handed over:
 * DuckDB makes values thousands deep ('[[[…]]]'::JSON, a VARIANT, json_transform), where copying
 * one to the server and writing it as JSON or CSV ran out of stack, a 500. DuckDB's own
 * max_expression_depth is as many.
 */
const MAX_VALUE_DEPTH = 1000;

function nestsTooDeep(value: Json, depth: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth >= MAX_VALUE_DEPTH) return true;
  for (const item of Array.isArray(value) ? value : Object.values(value))
    if (nestsTooDeep(item, depth + 1)) return true;
  return false;
}

/** A column as a message names it: its name, unless the name is a long expression. */
const columnLabel = (names: readonly string[], i: number) => {
  const name = names[i];
  return name !== undefined && name.length <= 64 ? `column ${i + 1} ("${name}")` : `column ${i + 1}`;
};

const tooDeep = (column: string) =>
  new InletError(
    'QUERY_INVALID',
    `A value of ${column} nests more than ${MAX_VALUE_DEPTH} levels deep (lists, structs or JSON within each other), deeper than an answer can carry; select it as text (::VARCHAR) or a part of it (json_extract(col, '$.a')).`,
  );

/**
 * The error for one that ran out of JavaScript's stack converting a result's values (the bindings'
 * converter walks a value nested thousands deep); any other error as it is.
 */
export function tooDeepToConvert(error: unknown): unknown {
  if (!(error instanceof RangeError) || !/Maximum call stack size exceeded/.test(error.message)) return error;
  return new InletError(
    'QUERY_INVALID',
    'A value of the answer nests too deep to be read (lists, structs or JSON within each other, thousands of levels); select such a column as text (::VARCHAR) or a part of it.',
  );
}

/** The rows, refused naming the column when a value nests deeper than an answer can carry. */
export function withinDepth(names: readonly string[], rows: Json[][]): Json[][] {
  for (const row of rows)
    row.forEach((value, i) => {
      if (nestsTooDeep(value, 0)) throw tooDeep(columnLabel(names, i));
    });
  return rows;
}

/** Whether a type is JSON or holds JSON anywhere inside. */
function holdsJson(type: DuckDBType): boolean {
  if (type.alias === 'JSON') return true;
  if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) return holdsJson(type.valueType);
  if (type instanceof DuckDBStructType) return type.entryTypes.some(holdsJson);
  if (type instanceof DuckDBMapType) return holdsJson(type.keyType) || holdsJson(type.valueType);
  return false;
}

const quoteField = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A column's type as people know it: JSON where DuckDB's bindings say VARCHAR with an alias, at any
 * depth (a struct's JSON field, whose values come parsed, is JSON, not VARCHAR).
 */
export function typeName(type: DuckDBType): string {
  if (type.alias === 'JSON') return 'JSON';
  if (!holdsJson(type)) return type.toString();
  if (type instanceof DuckDBListType) return `${typeName(type.valueType)}[]`;
  if (type instanceof DuckDBArrayType) return `${typeName(type.valueType)}[${type.length}]`;
  if (type instanceof DuckDBStructType)
    return `STRUCT(${type.entryNames.map((name, i) => `${quoteField(name)} ${typeName(type.entryTypes[i] as DuckDBType)}`).join(', ')})`;
  if (type instanceof DuckDBMapType) return `MAP(${typeName(type.keyType)}, ${typeName(type.valueType)})`;
  return type.toString();
}

/**
 * A STRUCT value as an object of its fields, in the type's order. The bindings gather a struct's
 * fields in a plain object, where a field named __proto__ becomes the object's prototype when it
 * holds a struct, list or NULL, and is dropped when it holds a number or text: their converter then
 * failed on the prototype's own fields (a 500), or the field was left out of the answer.
 */
function structObject(
  value: DuckDBStructValue,
  type: DuckDBStructType,
  convert: DuckDBValueConverter<Json>,
): Json {
  const out: { [name: string]: Json } = {};
  type.entryNames.forEach((name, i) => {
    const entryType = type.entryTypes[i] as DuckDBType;
    if (name !== '__proto__') {
      out[name] = convert(value.entries[name] ?? null, entryType, convert);
      return;
    }
    const held = Object.getPrototypeOf(value.entries) as DuckDBValue | typeof Object.prototype;
    if (held === Object.prototype)
      throw new InletError(
        'QUERY_INVALID',
        `A struct field named "__proto__" (in ${type.toString()}) cannot be read through DuckDB's Node bindings when it holds a value of type ${entryType.toString()}; name it otherwise in the query ({'proto': …}, or struct_pack(proto := …)).`,
      );
    // An own field, not the prototype of the answer's object.
    Object.defineProperty(out, name, {
      value: convert(held as DuckDBValue, entryType, convert),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return out;
}

/**
 * A UNION value as {tag, value}, as the bindings write it, with the member's type found by its
 * place among the tags: the bindings look it up in a plain object, where a member named __proto__
 * found the object's prototype and their converter failed (a 500).
 */
function unionObject(
  value: DuckDBUnionValue,
  type: DuckDBUnionType,
  convert: DuckDBValueConverter<Json>,
): Json {
  const member = type.memberTypes[type.memberTags.indexOf(value.tag)];
  if (member === undefined)
    throw new InletError(
      'QUERY_INVALID',
      `A union value's tag "${value.tag}" is not a member of ${type.toString()}; DuckDB's Node bindings cannot read it.`,
    );
  return { tag: value.tag, value: convert(value.value, member, convert) };
}

/** An object with a field named __proto__ of its own, not the object's prototype. */
function withOwnProto(out: { [name: string]: Json }, value: Json): void {
  Object.defineProperty(out, '__proto__', { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A VARIANT value as the bindings' walker writes it, but with struct fields read as own fields. Its
 * structs' fields come in plain objects, where one named __proto__ holding a struct or list became
 * the object's prototype, which the walker then read as fields (a 500, "Unsupported type: ANY"),
 * and one holding NULL was dropped. Values that are not containers go to the bindings' walker.
 */
function variantJson(
  value: DuckDBValue,
  type: DuckDBType | undefined,
  convert: DuckDBValueConverter<Json>,
): Json {
  if (value === null) return null;
  if (value instanceof DuckDBVariantValue) return variantJson(value.value, value.type ?? type, convert);
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue)
    return value.items.map((item) => variantJson(item, undefined, convert));
  if (value instanceof DuckDBStructValue) {
    const out: { [name: string]: Json } = {};
    for (const name of Object.keys(value.entries))
      out[name] = variantJson(value.entries[name] ?? null, undefined, convert);
    const held = Object.getPrototypeOf(value.entries) as DuckDBValue | typeof Object.prototype;
    if (held !== Object.prototype) withOwnProto(out, variantJson(held as DuckDBValue, undefined, convert));
    return out;
  }
  if (value instanceof DuckDBMapValue)
    return value.entries.map((entry) => ({
      key: variantJson(entry.key, undefined, convert),
      value: variantJson(entry.value, undefined, convert),
    }));
  if (value instanceof DuckDBUnionValue)
    return { tag: value.tag, value: variantJson(value.value, undefined, convert) };
  return fromVariantValue(new DuckDBVariantValue(value, type), VARIANT, convert);
}

/**
 * How the engine writes a result's values into JSON and CSV: as DuckDB's JSON converter does, but
 * TIMESTAMPTZ values in the configured time zone with its offset (the bindings use the process's),
 * JSON values parsed, intervals as DuckDB's text, and infinite dates and timestamps as such.
 */
export function createValueConverter(timeZone: string): DuckDBValueConverter<Json> {
  const offsetAt = createOffsetFinder(timeZone);
  const zoned = (value: DuckDBTimestampTZValue): string => {
    if (!value.isFinite) return value.micros > 0n ? 'infinity' : '-infinity';
    const offset = offsetAt(Number(value.micros / 1000n));
    const local = new DuckDBTimestampValue(value.micros + BigInt(offset) * 1_000_000n);
    return `${inYearOne(local.toString())}${offsetText(offset)}`;
  };
  const convert: DuckDBValueConverter<Json> = (value, type, self) => {
    if (value === null) return null;
    if (type.typeId === DuckDBTypeId.TIMESTAMP_TZ) return zoned(value as DuckDBTimestampTZValue);
    const stored = OTHER_PRECISIONS.get(type.typeId)?.(value);
    if (stored === INFINITY) return 'infinity';
    if (stored === -INFINITY) return '-infinity';
    // The bindings' JSON for an interval is an object of its parts ({"months":0,"days":1,"micros":"0"}),
    // which a CSV cell or a chart cannot show; DuckDB's own text is what people write in SQL.
    if (type.typeId === DuckDBTypeId.INTERVAL) return String(value);
    if (type.typeId === DuckDBTypeId.DATE) {
      const text = (value as DuckDBDateValue).toString();
      return INFINITE_DATES.get(text) ?? inYearOne(text);
    }
    if (DATED.has(type.typeId)) return inYearOne(String(value));
    if (type.typeId === DuckDBTypeId.FLOAT && typeof value === 'number')
      return JsonDuckDBValueConverter(shortestFloat(value), type, self);
    if (type instanceof DuckDBStructType) return structObject(value as DuckDBStructValue, type, self);
    if (type instanceof DuckDBUnionType) return unionObject(value as DuckDBUnionValue, type, self);
    if (type.typeId === DuckDBTypeId.VARIANT) return variantJson(value, undefined, self);
    return JsonDuckDBValueConverter(value, type, self);
  };
  return convert;
}
