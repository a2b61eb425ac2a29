import { describe, expect, it } from 'vitest';
import { sqlCode } from './sql-code.ts';

describe('sqlCode', () => {
  it('blanks comments and strings as DuckDB reads them, and keeps quoted identifiers', () => {
    expect(sqlCode("SELECT a -- events\nFROM t /* x /* events */ y */ WHERE b = 'it''s events'")).toBe(
      "SELECT a  \nFROM t   WHERE b = ''",
    );
    expect(sqlCode("SELECT E'a\\' events', $$ events $$, $q$ 'x $q$, $1, a$b FROM \"odd--name\"")).toBe(
      "SELECT E'', '', '', $1, a$b FROM \"odd--name\"",
    );
    expect(sqlCode('{# FROM events #}SELECT 1 FROM t')).toBe(' SELECT 1 FROM t');
    // Unterminated text ends the code rather than run on forever.
    expect(sqlCode("SELECT 'events")).toBe("SELECT ''");
    expect(sqlCode('SELECT 1 /* events')).toBe('SELECT 1  ');
  });
});
