import { type ColumnPlan, JSON_FROM_TEXT, NUMERIC_TEXT_ORDER } from '../extractor/index.ts';

/** A result column as PostgreSQL describes it. */
export interface PostgresField {
  name: string;
  typeOid: number;
  typmod: number;
  /** format_type(): the declared type, e.g. numeric(12,2). */
  declared: string;
  /** The comment on the table column the field is, when it is one plainly (not an expression). */
  comment?: string | null | undefined;
}

/** A row of pg_type, enough to follow domains and arrays to the type they hold. */
export interface PostgresType {
  oid: number;
  name: string;
  /** typtype: b base, d domain, e enum, c composite, r range… */
  kind: string;
  /** typcategory: A for arrays. */
  category: string;
  elem: number;
  base: number;
  baseTypmod: number;
}

/** A column to copy: the expression COPY writes for it, and how DuckDB reads it back. */
export interface PostgresColumn {
  select: string;
  plan: ColumnPlan;
  /**
   * What a cursor's WHERE compares, where the copy keeps another value than the source has: a
   * numeric(p,s) NaN, copied as NULL, is then no value past the saved cursor (PostgreSQL sorts NaN
   * above every number, and matched it again on every run). The column itself when absent.
   */
  compared?: string;
  /** PostgresField's comment. */
  comment?: string | null | undefined;
}

// Types whose CSV text DuckDB reads directly as the lake type.
const DIRECT: Record<string, string> = {
  bool: 'BOOLEAN',
  int2: 'SMALLINT',
  int4: 'INTEGER',
  int8: 'BIGINT',
  oid: 'UINTEGER',
  float4: 'FLOAT',
  float8: 'DOUBLE',
  date: 'DATE',
  time: 'TIME',
  timetz: 'TIMETZ',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMPTZ',
  uuid: 'UUID',
};

// Element types an array keeps as a typed DuckDB list; other arrays stay JSON.
const LIST_ELEMENTS: Record<string, string> = {
  bool: 'BOOLEAN',
  int2: 'SMALLINT',
  int4: 'INTEGER',
  int8: 'BIGINT',
  float4: 'FLOAT',
  float8: 'DOUBLE',
  text: 'VARCHAR',
  varchar: 'VARCHAR',
  bpchar: 'VARCHAR',
  name: 'VARCHAR',
  uuid: 'UUID',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMPTZ',
};

/** DECIMAL(p,s) for numeric(p,s) when DuckDB can hold it exactly, else undefined (kept as text). */
export function numericType(typmod: number): string | undefined {
  if (typmod < 4) return undefined;
  const precision = ((typmod - 4) >> 16) & 0xffff;
  // PostgreSQL 15 stores the scale as an 11-bit signed number (negative scales round to tens).
  const rawScale = (typmod - 4) & 0x7ff;
  const scale = rawScale >= 1024 ? rawScale - 2048 : rawScale;
  if (precision < 1 || precision > 38 || scale < 0 || scale > precision) return undefined;
  return `DECIMAL(${precision},${scale})`;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'citext', 'char']);

const BC_TYPES = new Set(['date', 'timestamp', 'timestamptz']);

/**
 * PostgreSQL writes a date before year 1 as "0044-03-15 BC" (a time after the date part); DuckDB
 * reads "0044-03-15 (BC)", and took "0044-03-15 BC" for 44 AD without a word. Only values before
 * year 1 pay for the rewrite.
 */
const beforeChrist = (ref: string) =>
  `CASE WHEN ${ref} < '0001-01-01' THEN regexp_replace(${ref}::text, '^(\\S+)(.*) BC$', '\\1 (BC)\\2') ELSE ${ref}::text END`;

/** Follows domains down to the type they are built on. */
function resolve(types: Map<number, PostgresType>, oid: number, typmod: number) {
  let type = types.get(oid);
  let mod = typmod;
  for (let depth = 0; type?.kind === 'd' && depth < 10; depth++) {
    if (mod < 0) mod = type.baseTypmod;
    type = types.get(type.base);
  }
  return { type, typmod: mod };
}

function listType(types: Map<number, PostgresType>, elemOid: number, typmod: number) {
  const { type, typmod: mod } = resolve(types, elemOid, typmod);
  if (!type) return undefined;
  if (type.kind === 'e') return { element: 'VARCHAR', asText: false, bc: false };
  if (type.name === 'numeric') return { element: numericType(mod) ?? 'VARCHAR', asText: true, bc: false };
  const element = LIST_ELEMENTS[type.name];
  return element ? { element, asText: false, bc: BC_TYPES.has(type.name) } : undefined;
}

/**
 * A list of dates or times read from array_to_json, whose elements before year 1 end in " BC"
 * ("0044-03-15 BC", "0010-01-01T00:00:00+00:00 BC"). Only values that hold one take the slow way:
 * each element as text, the era moved where DuckDB reads it, then cast (strictly, as the rest).
 */
const listBeforeChrist = (element: string) =>
  `WHEN contains({}, ' BC"') THEN list_transform(from_json_strict({}, '["VARCHAR"]'), ` +
  `x -> CAST(regexp_replace(x, '^(\\d+-\\d\\d-\\d\\d)T?(.*) BC$', '\\1 (BC) \\2') AS ${element})) `;

/**
 * Plans how each column of a query result is copied faithfully: the SELECT expression COPY writes
 * (text that DuckDB can parse) and the DuckDB type and conversion that rebuild the value. Unknown
 * types (ranges, composites, network addresses, …) keep their PostgreSQL text form.
 */
export function planPostgresColumns(
  fields: PostgresField[],
  types: Map<number, PostgresType>,
): PostgresColumn[] {
  return fields.map((field) => {
    const ref = `q.${quoteIdent(field.name)}`;
    const sourceType = field.declared;
    const column = (csvType: string, select = ref, convert?: string): PostgresColumn => ({
      select,
      plan: { name: field.name, sourceType, csvType, ...(convert ? { convert } : {}) },
      comment: field.comment,
    });
    // Values the lake cannot order as PostgreSQL compares them, so no cursor.
    const unordered = (csvType: string, select = ref, convert?: string): PostgresColumn => {
      const planned = column(csvType, select, convert);
      return { ...planned, plan: { ...planned.plan, unordered: true } };
    };
    const { type, typmod } = resolve(types, field.typeOid, field.typmod);
    if (!type) return unordered('VARCHAR');
    const direct = DIRECT[type.name];
    if (direct && BC_TYPES.has(type.name)) return column(direct, beforeChrist(ref));
    if (type.name === 'bool') return unordered(direct ?? 'BOOLEAN');
    if (direct) return column(direct);
    // An enum compares by its place in the type's list of labels, not as text.
    if (type.kind === 'e') return unordered('VARCHAR');
    switch (type.name) {
      case 'numeric': {
        // DuckDB's DECIMAL has no NaN, which numeric(p,s) allows: a NaN is copied as NULL rather than
        // fail its table. Unconstrained numeric stays text and keeps it.
        const decimal = numericType(typmod);
        const withoutNaN = `NULLIF(${ref}, 'NaN')`;
        if (decimal) return { ...column(decimal, withoutNaN), compared: withoutNaN };
        const text = column('VARCHAR');
        return { ...text, plan: { ...text.plan, order: NUMERIC_TEXT_ORDER } };
      }
      case 'json':
      case 'jsonb':
        return unordered('VARCHAR', ref, JSON_FROM_TEXT);
      case 'bytea':
        // COPY writes bytea as \x followed by hex digits.
        return unordered('VARCHAR', ref, 'unhex(substr({}, 3))');
      case 'interval': {
        // Parquet cannot store a negative interval, so it stays text, in the form DuckDB casts with
        // ::INTERVAL (PostgreSQL's own text except the + before a positive time part). As text
        // '10:00:00' > '1 day'; as intervals both compare with 30-day months and 24-hour days.
        // TRY_CAST: PostgreSQL 17's infinite intervals, which DuckDB has not, rank as NULL rather
        // than fail the run.
        const planned = column('VARCHAR', `replace(${ref}::text, '+', '')`);
        return { ...planned, plan: { ...planned.plan, order: 'TRY_CAST({} AS INTERVAL)' } };
      }
    }
    if (type.category === 'A') {
      const list = listType(types, type.elem, typmod);
      if (!list) return unordered('VARCHAR', `array_to_json(${ref})`, JSON_FROM_TEXT);
      // Strict: a value that does not fit fails the sync instead of turning into NULLs, and a
      // multi-dimensional array (its JSON starts [[) says so by name. numeric goes through text so
      // no digit is lost to a double.
      // A NaN in numeric(p,s)[] becomes NULL, as a lone numeric(p,s) NaN does (DECIMAL has none).
      const select = !list.asText
        ? `array_to_json(${ref})`
        : list.element === 'VARCHAR'
          ? `array_to_json(${ref}::text[])`
          : `array_to_json(array_replace(${ref}::text[], 'NaN', NULL))`;
      const name = field.name.replaceAll("'", "''");
      const multi =
        `column ${name} (${sourceType.replaceAll("'", "''")}) holds a multi-dimensional array, and the lake keeps arrays ` +
        `as lists of one dimension; copy it as JSON with a query: for this table (e.g. SELECT …, array_to_json(${name}) AS ${name} FROM …)`;
      return unordered(
        'VARCHAR',
        select,
        `CASE WHEN starts_with({}, '[[') THEN error('${multi}') ${list.bc ? listBeforeChrist(list.element) : ''}` +
          `ELSE from_json_strict({}, '["${list.element}"]') END`,
      );
    }
    // Text keeps its text; other types (inet, money, ranges, composites) order otherwise than their text.
    return TEXT_TYPES.has(type.name) ? column('VARCHAR') : unordered('VARCHAR');
  });
}
