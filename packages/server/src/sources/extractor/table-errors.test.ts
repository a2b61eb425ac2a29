import { describe, expect, it } from 'vitest';
import { InletError } from '../../errors/index.ts';
import type { DatabaseTable } from './database-options.ts';
import { tableSyncError } from './table-errors.ts';

const options = {
  source: 'crm',
  table: { name: 'orders' } as DatabaseTable,
  url: 'postgres://inlet:s3cret@db:5432/app',
  statementTimeoutMs: 5000,
  server: 'PostgreSQL',
  quoteIdent: (name: string) => `"${name}"`,
  classify: (error: unknown) => (error as { kind?: 'timeout' | 'server' }).kind,
  configFile: 'prod.yaml',
};

describe('tableSyncError', () => {
  it('words timeouts, server failures and bad values, and never shows the password', () => {
    const timeout = tableSyncError(
      Object.assign(new Error('canceling statement'), { kind: 'timeout' }),
      options,
    );
    expect(timeout).toMatchObject({
      code: 'SOURCE_QUERY_FAILED',
      message: expect.stringContaining(
        'crm.orders: PostgreSQL stopped the query after statement_timeout_ms (5000 ms)',
      ),
    });
    const server = tableSyncError(
      Object.assign(new Error('connection to postgres://inlet:s3cret@db lost'), { kind: 'server' }),
      options,
    );
    expect(server).toMatchObject({
      code: 'SOURCE_QUERY_FAILED',
      message: expect.stringContaining('PostgreSQL refused or broke off the query'),
    });
    expect(server.message).not.toContain('s3cret');
    expect(tableSyncError(new Error('Conversion Error'), options)).toMatchObject({
      code: 'SOURCE_DATA_INVALID',
    });
  });

  it('passes an inlet error through unchanged', () => {
    const cancelled = new InletError('SYNC_CANCELLED', 'stopped');
    expect(tableSyncError(cancelled, options)).toBe(cancelled);
  });
});
