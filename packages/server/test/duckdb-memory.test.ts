import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledFixture } from './bundled-fixture.ts';
import { runChild, stdoutOf } from './child-processes.ts';
import { tempDir } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'duckdb-memory');
const FIXTURE = join(FIXTURES, 'copies.ts');
// Required before the bundle runs, as bin/inlet.cjs requires it before main.js: in a bundle, the
// fixture's own import of it runs only after DuckDB's library (imported as a package) has loaded.
const ENVIRONMENT = join(import.meta.dirname, '..', 'bin', 'environment.cjs');

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
    const args = ['--require', ENVIRONMENT, await bundledFixture(FIXTURE), temp.dir, mode, '2500'];
    const out = await stdoutOf(process.execPath, args, { env });
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
    const churn = await bundledFixture(join(FIXTURES, 'churn.ts'));
    const run = await runChild(process.execPath, ['--require', ENVIRONMENT, churn]);
    expect({ signal: run.signal, status: run.status, out: run.stdout.trim() }).toEqual({
      signal: null,
      status: 0,
      out: 'ok',
    });
  });
});
