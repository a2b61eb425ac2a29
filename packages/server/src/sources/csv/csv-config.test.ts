import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.ts';

const csvSource = (table: Record<string, unknown>) => ({
  sources: [{ name: 'sales', type: 'csv', tables: [{ name: 'orders', ...table }] }],
});

describe('csv table configuration', () => {
  it('refuses * or ? in a directory of path:, where the sync said no file matches files that are there', () => {
    for (const [path, dir] of [
      ['exports/*/orders.csv', 'exports/*/'],
      ['/srv/drops/2026-1?/*.csv', '/srv/drops/2026-1?/'],
    ])
      expect(() => parseConfig(csvSource({ path }))).toThrow(
        `sources[0].tables[0].path: "${path}" has * or ? in a directory (${dir}), and a pattern matches the file names of one directory only; ` +
          'name the directory (exports/2026-12/*.csv), give each directory a table of its own, or gather the files in one directory',
      );
    expect(() => parseConfig(csvSource({ path: 'exports/2026-12/orders_*.csv' }))).not.toThrow();
  });

  it('says a pattern needs name: for its table, and which file name makes none, where it said "the file name" of a pattern', () => {
    const unnamed = (path: string) => ({ sources: [{ name: 'sales', type: 'csv', tables: [{ path }] }] });
    // It said "the file name does not make a lake table name" for drops/orders_*.csv too, which has no
    // one file name: a reader looked for what was wrong with the characters of orders_.
    expect(() => parseConfig(unnamed('drops/orders_*.csv'))).toThrow(
      'sources[0].tables[0].name: "drops/orders_*.csv" is a pattern, whose files make one table: name it with name: (lower-case letters, digits and _, such as name: orders)',
    );
    expect(() => parseConfig(unnamed('exports/取引先.csv'))).toThrow(
      'sources[0].tables[0].name: the file name 取引先 makes no lake table name; add name: with lower-case letters, digits and _',
    );
    expect(() => parseConfig(unnamed('exports/Account.csv'))).not.toThrow();
  });

  it("refuses a delimiter that is the quote or a line break, where the sync failed with DuckDB's binder error", () => {
    // delimiter: '"' failed each sync with "Binder Error: QUOTE must not appear in the DELIMITER
    // specification and vice versa", naming neither the key nor what to give.
    const separates = 'give the character that separates the fields, such as ",", ";", "|" or a tab ("\\t")';
    expect(() => parseConfig(csvSource({ path: 'orders.csv', delimiter: '"' }))).toThrow(
      `sources[0].tables[0].delimiter: cannot be ", which quotes a field that holds the delimiter; ${separates}`,
    );
    for (const delimiter of ['\n', '\r'])
      expect(() => parseConfig(csvSource({ path: 'orders.csv', delimiter }))).toThrow(
        `sources[0].tables[0].delimiter: cannot be a line break, which ends a row; ${separates}`,
      );
    for (const delimiter of [';', '\t', '|', '；'])
      expect(() => parseConfig(csvSource({ path: 'orders.csv', delimiter }))).not.toThrow();
  });

  it("refuses a DECIMAL of types: wider than 38 digits or with more after the point than in all, where the sync failed with DuckDB's binder error", () => {
    // types: { amount: "DECIMAL(40,2)" } failed each sync with "Binder Error: DECIMAL type width
    // must be between 1 and 38", naming neither the column nor the key.
    expect(() => parseConfig(csvSource({ path: 'orders.csv', types: { amount: 'DECIMAL(40,2)' } }))).toThrow(
      'sources[0].tables[0].types.amount: DECIMAL(40,2) has 40 digits, and a DECIMAL holds 1 to 38; give 38 or fewer, or VARCHAR to keep every digit as text',
    );
    expect(() => parseConfig(csvSource({ path: 'orders.csv', types: { amount: 'numeric(2, 5)' } }))).toThrow(
      'sources[0].tables[0].types.amount: numeric(2, 5) has 5 digits after the point and 2 in all; the second number is at most the first, as in DECIMAL(12,2)',
    );
    for (const type of ['DECIMAL(38,0)', 'decimal(12,2)', 'NUMERIC(5)', 'DECIMAL'])
      expect(() => parseConfig(csvSource({ path: 'orders.csv', types: { amount: type } }))).not.toThrow();
  });

  it('says once that path: names no file, where "" gave three messages, one with a blank file name', () => {
    // The whole message: the one line, and no other.
    const only = (path: string, message: string) =>
      expect(() => parseConfig({ sources: [{ name: 'sales', type: 'csv', tables: [{ path }] }] })).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: `inlet.yaml is not valid:\n  sources[0].tables[0].path: ${message}`,
        }),
      );
    for (const path of ['', '  '])
      only(
        path,
        'is empty; path: names a file, such as exports/orders.csv, or the files of a directory with a pattern (and name:) such as exports/*.csv',
      );
    only(
      'exports/',
      '"exports/" is a directory; path: names a file, or the files of a directory with a pattern (and name:) such as exports/*.csv',
    );
    expect(() =>
      parseConfig({ sources: [{ name: 'sales', type: 'csv', tables: [{ path: 'exports/.csv' }] }] }),
    ).toThrow(
      'sources[0].tables[0].name: ".csv" has no name before its extension, so makes no lake table name; add name: with lower-case letters, digits and _',
    );
  });
});
