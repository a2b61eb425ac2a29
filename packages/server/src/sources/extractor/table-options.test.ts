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
    // primary_key: [id, id] was taken without a word, for a database table and a csv table alike.
    for (const source of [
      {
        ...database,
        tables: [{ table: 'public.orders', mode: 'merge', cursor: 'at', primary_key: ['id', 'id'] }],
      },
      {
        name: 'files',
        type: 'csv',
        tables: [{ path: 'o.csv', mode: 'merge', cursor: 'at', primary_key: ['id', 'at', 'id'] }],
      },
    ])
      expect(() => parseConfig({ sources: [source] })).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringMatching(
            /sources\[0\]\.tables\[0\]\.primary_key: names the column "id" twice \(id, (at, )?id\); name each column of the key once/,
          ),
        }),
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

  it('refuses a deleted_column that is a primary_key column or the cursor, which hid every row of the view without a word', () => {
    // deleted_column: id was taken: every row has its key, so every row read as deleted, and
    // SELECT count(*) FROM crm.customers gave 0 after a sync that said it copied them all.
    const merge = {
      table: 'public.customers',
      mode: 'merge',
      cursor: 'updated_at',
      primary_key: ['tenant', 'id'],
    };
    expect(() =>
      parseConfig({ sources: [{ ...database, tables: [{ ...merge, deleted_column: 'id' }] }] }),
    ).toThrow(
      'sources[0].tables[0].deleted_column: is id, a column of primary_key, which every row has (a row without one is refused), ' +
        'so every row would read as deleted and the view would show none; name the column that is NULL while a row is live ' +
        'and set once it is deleted (such as deleted_at), or remove deleted_column',
    );
    expect(() =>
      parseConfig({
        sources: [
          {
            name: 'files',
            type: 'csv',
            tables: [
              { path: 'c.csv', mode: 'merge', primary_key: 'Id', cursor: 'Upd', deleted_column: 'Upd' },
            ],
          },
        ],
      }),
    ).toThrow(
      'sources[0].tables[0].deleted_column: is Upd, the cursor, which every changed row has, ' +
        'so every such row would read as deleted and the view would hide it; name the column that is NULL while a row is live ' +
        'and set once it is deleted (such as deleted_at), or remove deleted_column',
    );
    expect(() =>
      parseConfig({ sources: [{ ...database, tables: [{ ...merge, deleted_column: 'deleted_at' }] }] }),
    ).not.toThrow();
  });
});
