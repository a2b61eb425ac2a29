import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'duckdb-memory', 'copies.mjs');

/** How many MB a process's RSS kept after four copies, with the given DUCKDB_JE_MALLOC_CONF (unset: inlet's). */
function keptMb(conf: string | undefined): number {
  const temp = tempDir();
  try {
    const env = { ...process.env };
    delete env.DUCKDB_JE_MALLOC_CONF;
    if (conf !== undefined) env.DUCKDB_JE_MALLOC_CONF = conf;
    const out = execFileSync(process.execPath, [FIXTURE, temp.dir], { env, encoding: 'utf8' });
    return (JSON.parse(out) as { grewMb: number }).grewMb;
  } finally {
    temp.cleanup();
  }
}

describe("DuckDB's allocator in the inlet command", () => {
  it('gives back the memory read_json and the Parquet writer freed, where its default kept it', () => {
    const inlet = keptMb(undefined);
    // An empty setting is jemalloc's and DuckDB's own defaults.
    const defaults = keptMb('');
    expect(defaults).toBeGreaterThan(40);
    expect(inlet).toBeLessThan(defaults / 2);
  });
});
