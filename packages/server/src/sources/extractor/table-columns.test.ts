import { describe, expect, it } from 'vitest';
import type { ColumnPlan } from './column-plan.ts';
import { checkTableColumns } from './table-columns.ts';
import type { TableTarget } from './table-options.ts';

const columns = (...names: string[]): ColumnPlan[] =>
  names.map((name) => ({ name, sourceType: 'text', csvType: 'VARCHAR' }));
const merge = (primaryKey: string[], cursor = 'updated_at'): TableTarget => ({
  name: 'orders',
  mode: 'merge',
  cursor,
  primaryKey,
});

describe('checkTableColumns', () => {
  it('says when a configured column differs from one of the result only in case, or by a letter or two', () => {
    const result = columns('Id', 'customer_id', 'updated_at');
    // It listed the columns, Id among them, and left the user to spot that only the case differed.
    expect(() => checkTableColumns('crm', merge(['id']), result)).toThrow(
      'crm.orders: primary_key "id" is not a column of the result (did you mean Id? names are case-sensitive); its columns are: Id, customer_id, updated_at',
    );
    expect(() => checkTableColumns('crm', merge(['Id'], 'updatedat'), result)).toThrow(
      'crm.orders: cursor "updatedat" is not a column of the result (did you mean updated_at?); its columns are: Id, customer_id, updated_at',
    );
    expect(() => checkTableColumns('crm', merge(['Id', 'tenant']), result)).toThrow(
      'crm.orders: primary_key "tenant" is not a column of the result; its columns are: Id, customer_id, updated_at',
    );
    expect(() => checkTableColumns('crm', merge(['Id', 'customer_id']), result)).not.toThrow();
  });
});
