import { type ColumnPlan, JSON_FROM_TEXT, NUMERIC_TEXT_ORDER, TIME_TEXT_ORDER } from '../extractor/index.ts';

/** A result column as the MySQL protocol describes it. */
export interface MysqlField {
  name: string;
  /** Protocol type code (MYSQL_TYPE_*). */
  type: number;
  length: number;
  decimals: number;
  flags: number;
  charset: number;
  /** MariaDB's extended metadata: the real type behind a string column (json, uuid, inet6…). */
  extendedType?: string | undefined;
}

/** How the client must hand over a column's value: as text, or as hex for bytes that are not text. */
export type MysqlRead = 'text' | 'hex' | 'json';

export interface MysqlColumn {
  read: MysqlRead;
  plan: ColumnPlan;
  /** The expression the query reads the column by, written {}; the column itself when absent. */
  select?: string;
}

const T = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  BIT: 16,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  GEOMETRY: 255,
} as const;
const UNSIGNED = 32;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
const BINARY_CHARSET = 63;

const INTEGERS: Record<number, [string, string, string]> = {
  [T.TINY]: ['tinyint', 'TINYINT', 'UTINYINT'],
  [T.SHORT]: ['smallint', 'SMALLINT', 'USMALLINT'],
  [T.INT24]: ['mediumint', 'INTEGER', 'UINTEGER'],
  [T.LONG]: ['int', 'INTEGER', 'UINTEGER'],
  [T.LONGLONG]: ['bigint', 'BIGINT', 'UBIGINT'],
};

// MySQL has no ::text; CAST AS TEXT is PostgreSQL's.
const AS_TEXT = 'CAST({} AS CHAR)';

// MySQL's zero dates ('0000-00-00') have no equivalent; they become NULL. So do dates with a zero
// month or day ('2026-02-00', kept without NO_ZERO_IN_DATE), as Connector/J's convertToNull does:
// no date is meant, and one failed the whole table. MySQL writes the year with four digits.
const zeroDateNull = (cast: string) =>
  `CASE WHEN substr({}, 6, 2) = '00' OR substr({}, 9, 2) = '00' THEN NULL ELSE ${cast} END`;

/** DECIMAL(p,s) when DuckDB holds it exactly (p ≤ 38), from the protocol's display length. */
export function mysqlDecimal(field: MysqlField): string | undefined {
  const scale = field.decimals;
  const precision = field.length - (scale > 0 ? 1 : 0) - (field.flags & UNSIGNED ? 0 : 1);
  return precision >= 1 && precision <= 38 && scale <= precision
    ? `DECIMAL(${precision},${scale})`
    : undefined;
}

/**
 * Plans how each column is copied faithfully: how the client reads the value, the DuckDB type the
 * CSV field is parsed as, and the conversion that rebuilds the value (JSON, bytes, UTC times).
 */
export function planMysqlColumns(fields: MysqlField[]): MysqlColumn[] {
  return fields.map((field) => {
    const unsigned = (field.flags & UNSIGNED) !== 0;
    const column = (read: MysqlRead, sourceType: string, csvType: string, convert?: string): MysqlColumn => ({
      read,
      plan: { name: field.name, sourceType, csvType, ...(convert ? { convert } : {}), asText: AS_TEXT },
    });
    // Values the lake cannot order as MySQL compares them, so no cursor.
    const unordered = (column: MysqlColumn): MysqlColumn => ({
      ...column,
      plan: { ...column.plan, unordered: true },
    });
    const boolean = (read: MysqlRead, sourceType: string, csvType: string, convert: string): MysqlColumn => ({
      read,
      plan: {
        name: field.name,
        sourceType,
        csvType,
        convert,
        lakeType: 'BOOLEAN',
        asText: AS_TEXT,
        unordered: true,
      },
    });
    const integer = INTEGERS[field.type];
    if (integer) {
      const [name, signed, unsignedType] = integer;
      // BOOLEAN is tinyint(1) in MySQL; any non-zero value is true. An unsigned one holds up to 255,
      // which a TINYINT field refused, failing the table.
      if (field.type === T.TINY && field.length === 1)
        return unsigned
          ? boolean('text', 'tinyint(1) unsigned', 'UTINYINT', '{} <> 0')
          : boolean('text', 'tinyint(1)', 'TINYINT', '{} <> 0');
      return column('text', `${name}${unsigned ? ' unsigned' : ''}`, unsigned ? unsignedType : signed);
    }
    switch (field.type) {
      case T.FLOAT:
        // As text a FLOAT is written to six significant digits (123456.78125 as 123457); as a
        // DOUBLE (+ 0e0, which MySQL 5.7 takes too, unlike CAST AS DOUBLE) every digit it holds.
        return { ...column('text', 'float', 'FLOAT'), select: '{} + 0e0' };
      case T.DOUBLE:
        return column('text', 'double', 'DOUBLE');
      case T.DECIMAL:
      case T.NEWDECIMAL: {
        const decimal = mysqlDecimal(field);
        if (decimal) return column('text', decimal.toLowerCase(), decimal);
        const plan = {
          name: field.name,
          sourceType: 'decimal',
          csvType: 'VARCHAR',
          order: NUMERIC_TEXT_ORDER,
          asText: AS_TEXT,
        };
        return { read: 'text', plan };
      }
      case T.YEAR:
        return column('text', 'year', 'SMALLINT');
      case T.DATE:
      case T.NEWDATE:
        return column('text', 'date', 'VARCHAR', zeroDateNull('CAST({} AS DATE)'));
      case T.DATETIME:
        return column('text', 'datetime', 'VARCHAR', zeroDateNull('CAST({} AS TIMESTAMP)'));
      case T.TIMESTAMP:
        // The session runs in UTC, so a TIMESTAMP arrives as UTC wall time.
        return column('text', 'timestamp', 'VARCHAR', zeroDateNull("CAST({} || '+00' AS TIMESTAMPTZ)"));
      case T.TIME:
        // TIME spans -838:59:59…838:59:59, beyond a time of day; kept as text, ordered by its seconds.
        return { read: 'text', plan: { ...column('text', 'time', 'VARCHAR').plan, order: TIME_TEXT_ORDER } };
      case T.BIT:
        return field.length === 1
          ? boolean('hex', 'bit(1)', 'VARCHAR', "CAST('0x' || {} AS UBIGINT) <> 0")
          : column('hex', `bit(${field.length})`, 'VARCHAR', "CAST('0x' || {} AS UBIGINT)");
      case T.JSON:
        return unordered(column('json', 'json', 'VARCHAR', JSON_FROM_TEXT));
      case T.GEOMETRY:
        return unordered(column('hex', 'geometry', 'VARCHAR', 'unhex({})'));
    }
    if (field.extendedType === 'json') return unordered(column('text', 'json', 'VARCHAR', JSON_FROM_TEXT));
    if (field.extendedType === 'uuid') return column('text', 'uuid', 'UUID');
    // MySQL sorts an enum by its place in the list but compares it with a string as text.
    if (field.type === T.ENUM || field.flags & ENUM_FLAG) return unordered(column('text', 'enum', 'VARCHAR'));
    if (field.type === T.SET || field.flags & SET_FLAG) return unordered(column('text', 'set', 'VARCHAR'));
    if (field.charset === BINARY_CHARSET) return unordered(column('hex', 'binary', 'VARCHAR', 'unhex({})'));
    // MariaDB's inet4 and inet6 order as addresses, not as their text.
    if (field.extendedType) return unordered(column('text', field.extendedType, 'VARCHAR'));
    return column('text', 'text', 'VARCHAR');
  });
}

const NEEDS_QUOTES = /[",\n\r]/;

/**
 * Turns rows into CSV lines in the form the extractor's reader expects (NULL empty, '' quoted).
 * Only free text is checked for quoting: numbers, dates, hex and UUIDs never need it, and skipping
 * the check for them is a good part of the client's time per row. JSON is free text too, also
 * MariaDB's (text tagged json, read as text). Any column's '' is quoted: the hex of an empty binary
 * value is '', and unquoted it would read as NULL.
 */
export function createCsvEncoder(columns: MysqlColumn[]): (row: ReadonlyArray<string | null>) => string {
  const text = columns.map(
    (c) =>
      c.read === 'json' ||
      (c.plan.csvType === 'VARCHAR' && (!c.plan.convert || c.plan.convert === JSON_FROM_TEXT)),
  );
  return (row) => {
    let line = '';
    for (let i = 0; i < row.length; i++) {
      if (i > 0) line += ',';
      const value = row[i];
      if (value === null || value === undefined) continue;
      line +=
        value === ''
          ? '""'
          : text[i] && NEEDS_QUOTES.test(value)
            ? `"${value.replaceAll('"', '""')}"`
            : value;
    }
    return `${line}\n`;
  };
}
