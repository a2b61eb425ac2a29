import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.ts';

const database = { name: 'crm', type: 'postgres', url: 'postgres://db/app' };
const full = 'mode is full (the default when mode: is not set), which copies the whole table every run';

describe('table options', () => {
  it('refuses a cursor or primary_key on a full table, which copied the whole table every run without a word', () => {
    // cursor: updated_at written without mode: incremental was taken, and each run copied every row.
    expect(() =>
      parseConfig({ sources: [{ ...database, tables: [{ table: 'public.orders', cursor: 'id' }] }] }),
    ).toThrow(
      `sources[0].tables[0].cursor: is only used with mode incremental or merge, and ${full}: ` +
        'set mode: incremental (or merge, with a primary_key), or remove cursor',
    );
    for (const source of [
      { ...database, tables: [{ table: 'public.orders', primary_key: ['tenant', 'id'] }] },
      { name: 'files', type: 'csv', tables: [{ path: 'orders.csv', mode: 'full', primary_key: 'id' }] },
    ])
      expect(() => parseConfig({ sources: [source] })).toThrow(
        `sources[0].tables[0].primary_key: is only used with mode merge, and ${full}: set mode: merge (with a cursor), or remove primary_key`,
      );
    expect(() =>
      parseConfig({
        sources: [
          {
            ...database,
            tables: [
              { table: 'public.orders', mode: 'incremental', cursor: 'id' },
              { table: 'public.customers', mode: 'merge', cursor: 'updated_at', primary_key: 'id' },
            ],
          },
        ],
      }),
    ).not.toThrow();
  });
});
