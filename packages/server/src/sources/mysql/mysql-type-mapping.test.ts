import { describe, expect, it } from 'vitest';
import { createCsvEncoder, type MysqlField, mysqlDecimal, planMysqlColumns } from './mysql-type-mapping.ts';

const field = (overrides: Partial<MysqlField>): MysqlField => ({
  name: 'c',
  type: 253,
  length: 80,
  decimals: 0,
  flags: 0,
  charset: 45,
  ...overrides,
});

describe('mysql type mapping', () => {
  it('reads decimal precision from the display length, signed or not', () => {
    expect(mysqlDecimal(field({ type: 246, length: 14, decimals: 2 }))).toBe('DECIMAL(12,2)');
    expect(mysqlDecimal(field({ type: 246, length: 13, decimals: 2, flags: 32 }))).toBe('DECIMAL(12,2)');
    expect(mysqlDecimal(field({ type: 246, length: 11, decimals: 0 }))).toBe('DECIMAL(10,0)');
    expect(mysqlDecimal(field({ type: 246, length: 67, decimals: 10 }))).toBeUndefined();
  });

  it('quotes only free text, and tells NULL from the empty string', () => {
    const columns = planMysqlColumns([
      field({ name: 'id', type: 8, length: 20 }),
      field({ name: 'name' }),
      field({ name: 'tags', type: 254, flags: 2048 }),
    ]);
    const encode = createCsvEncoder(columns);
    expect(encode(['1', 'a "quoted", text\nline', 'x,y'])).toBe('1,"a ""quoted"", text\nline","x,y"\n');
    expect(encode(['2', '', null])).toBe('2,"",\n');
  });
});
