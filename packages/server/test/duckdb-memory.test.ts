import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChild, stdoutOf } from './child-processes.ts';
import { tempDir } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'duckdb-memory');
const FIXTURE = join(FIXTURES, 'copies.ts');

/**
 * How many MB a process's RSS kept after four copies and 2.5 s idle: DuckDB opened as inlet opens
 * it, or with DuckDB's and jemalloc's own defaults (no DUCKDB_JE_MALLOC_CONF).
 */
async function keptMb(mode: 'inlet' | 'defaults'): Promise<number> {
  const temp = tempDir();
  try {
    const env = { ...process.env };
    delete env.DUCKDB_JE_MALLOC_CONF;
    if (mode === 'defaults') env.DUCKDB_JE_MALLOC_CONF = '';
    const out = await stdoutOf(process.execPath, ['--import', 'tsx', FIXTURE, temp.dir, mode, '2500'], {
      env,
    });
    return (JSON.parse(out) as { grewMb: number }).grewMb;
  } finally {
    temp.cleanup();
  }
}

describe("DuckDB's allocator in the inlet command", { timeout: 120_000 }, () => {
  it('gives back what read_json and the Parquet writer freed once idle, also after another instance closed', async () => {
    const defaults = await keptMb('defaults');
    expect(defaults).toBeGreaterThan(40);
    expect(await keptMb('inlet')).toBeLessThan(defaults / 2);
  });

  it('lives through instances closed back to back (turning the threads on again never races a close)', async () => {
    // A connection to another instance of the app, closed a moment later, crashed the process (SIGSEGV).
    const run = await runChild(process.execPath, ['--import', 'tsx', join(FIXTURES, 'churn.ts')]);
    expect({ signal: run.signal, status: run.status, out: run.stdout.trim() }).toEqual({
      signal: null,
      status: 0,
      out: 'ok',
    });
  });
});
