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
});
