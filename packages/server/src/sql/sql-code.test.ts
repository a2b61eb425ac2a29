import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { sqlCode, withoutTrailingSemicolons } from './sql-code.ts';

describe('sqlCode', () => {
  it('blanks comments and strings as DuckDB reads them, and keeps quoted identifiers', () => {
    expect(sqlCode("SELECT a -- events\nFROM t /* x /* events */ y */ WHERE b = 'it''s events'")).toBe(
      "SELECT a  \nFROM t   WHERE b = ''",
    );
    expect(sqlCode("SELECT E'a\\' events', $$ events $$, $q$ 'x $q$, $1, a$b FROM \"odd--name\"")).toBe(
      "SELECT E'', '', '', $1, a$b FROM \"odd--name\"",
    );
    // A quote inside a quoted identifier starts no string; "" is a quote inside one.
    expect(sqlCode('SELECT 1 AS "it\'s", 2 AS "a""b" FROM events')).toBe(
      'SELECT 1 AS "it\'s", 2 AS "a""b" FROM events',
    );
    // nameE'…' is the name nameE and a plain string, where a backslash escapes nothing.
    expect(sqlCode("SELECT nameE'a\\' AS events")).toBe("SELECT nameE'' AS events");
    expect(sqlCode("SELECT 1E'a\\' events' AS x")).toBe("SELECT 1E'' AS x");
    expect(sqlCode('SELECT $é$ events $é$, $1$ AS x')).toBe("SELECT '', $1$ AS x");
    expect(sqlCode('SELECT 1 /*/ events */, 2 /**/ AS x')).toBe('SELECT 1  , 2   AS x');
    // Unterminated text ends the code rather than run on forever.
    expect(sqlCode("SELECT 'events")).toBe("SELECT ''");
    expect(sqlCode('SELECT 1 /* events')).toBe('SELECT 1  ');
    expect(sqlCode('SELECT 1 /* a /* b */ events')).toBe('SELECT 1  ');
  });

  it('reads text as DuckDB does: what it blanks is what DuckDB does not run as code', async () => {
    // Each SQL yields one column, named x by the code sqlCode leaves and by DuckDB alike.
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      for (const sql of [
        'SELECT /* a /* b */ 1 AS y */ 1 AS x',
        "SELECT E'it\\'s 1 AS y' AS x",
        "SELECT e'\\\\' AS x -- ' AS y",
        'SELECT $t$ $$ AS y $t$ AS x',
        'SELECT 1 AS "x" -- "y',
      ]) {
        const reader = await connection.runAndReadAll(sql);
        expect(reader.columnNames(), sql).toEqual(['x']);
        expect(sqlCode(sql), sql).not.toMatch(/\by\b/);
      }
    } finally {
      connection.closeSync();
    }
  });
});

describe('withoutTrailingSemicolons', () => {
  it('ends SQL at its last code, leaving out the semicolons, comments and blanks after it', () => {
    expect(withoutTrailingSemicolons('SELECT 1 AS x; -- the end\n')).toBe('SELECT 1 AS x');
    expect(withoutTrailingSemicolons('SELECT 1 AS x\n;; /* a /* b */ ; */ ;\n')).toBe('SELECT 1 AS x');
    // A ; inside a string, a quoted name or a comment before the end is no end.
    expect(withoutTrailingSemicolons('SELECT \';\' AS "a;" -- ;\nFROM t;')).toBe(
      'SELECT \';\' AS "a;" -- ;\nFROM t',
    );
    expect(withoutTrailingSemicolons("SELECT 'open;")).toBe("SELECT 'open;");
    expect(withoutTrailingSemicolons(' ; -- nothing')).toBe('');
  });
});
