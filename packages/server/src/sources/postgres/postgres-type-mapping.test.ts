import { describe, expect, it } from 'vitest';
import { numericType, type PostgresType, planPostgresColumns } from './postgres-type-mapping.ts';

const typmod = (precision: number, scale: number) => ((precision << 16) | (scale & 0x7ff)) + 4;

describe('postgres type mapping', () => {
  it('keeps numeric exact: DECIMAL when DuckDB can hold it, text otherwise', () => {
    expect(numericType(typmod(12, 2))).toBe('DECIMAL(12,2)');
    expect(numericType(typmod(38, 38))).toBe('DECIMAL(38,38)');
    expect(numericType(typmod(39, 2))).toBeUndefined();
    // PostgreSQL 15 allows a negative scale (rounding to tens); DuckDB does not.
    expect(numericType(typmod(5, -2))).toBeUndefined();
    expect(numericType(-1)).toBeUndefined();
  });

  it('follows a domain to its base type and keeps arrays of enums as text lists', () => {
    const types = new Map<number, PostgresType>([
      [
        1,
        {
          oid: 1,
          name: 'money_amount',
          kind: 'd',
          category: 'N',
          elem: 0,
          base: 1700,
          baseTypmod: typmod(10, 2),
        },
      ],
      [1700, { oid: 1700, name: 'numeric', kind: 'b', category: 'N', elem: 0, base: 0, baseTypmod: -1 }],
      [2, { oid: 2, name: '_mood', kind: 'b', category: 'A', elem: 3, base: 0, baseTypmod: -1 }],
      [3, { oid: 3, name: 'mood', kind: 'e', category: 'E', elem: 0, base: 0, baseTypmod: -1 }],
    ]);
    const [amount, moods] = planPostgresColumns(
      [
        { name: 'amount', typeOid: 1, typmod: -1, declared: 'money_amount' },
        { name: 'moods', typeOid: 2, typmod: -1, declared: 'mood[]' },
      ],
      types,
    );
    expect(amount?.plan).toEqual({ name: 'amount', sourceType: 'money_amount', csvType: 'DECIMAL(10,2)' });
    expect(moods?.select).toBe('array_to_json(q."moods")');
    expect(moods?.plan.convert).toContain(`ELSE from_json_strict({}, '["VARCHAR"]') END`);
  });
});
