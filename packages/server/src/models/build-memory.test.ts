import { describe, expect, it } from 'vitest';
import { configFileName } from '../config/index.ts';
import { outOfMemoryMessage, testOutOfMemoryMessage } from './build-memory.ts';

const DUCKDB = 'Out of Memory Error: failed to allocate data of size 16.0 MiB (50.5 MiB/61.0 MiB used)';
const memory = {
  limit: '64MB',
  spillFolder: '/srv/inlet/data/tmp/models',
  configFile: configFileName({ configPath: undefined }),
};

// With no configuration file read, they said "raise models.memory_limit in a new ./inlet.yaml", or
// (a data test) in inlet.yaml, a file that is not there.
describe('out of memory with no configuration file read', () => {
  it("a model's build says where the limit can be set, as other messages do", () => {
    const node = { name: 'big', kind: 'seed' as const, config: { materialized: 'table' } };
    expect(outOfMemoryMessage(node, DUCKDB, memory)).toBe(
      `Building big needed more memory than models.memory_limit (64MB) allows, even with what did not fit spilled to /srv/inlet/data/tmp/models: raise models.memory_limit, which a new ./inlet.yaml can set. DuckDB says: ${DUCKDB}`,
    );
  });

  it('a data test says so too', () => {
    expect(testOutOfMemoryMessage(DUCKDB, memory)).toBe(
      `${DUCKDB} The test needed more memory than models.memory_limit (64MB) allows, even with what did not fit spilled to /srv/inlet/data/tmp/models: raise models.memory_limit, which a new ./inlet.yaml can set, or make the test read fewer rows (filter them in its SQL)`,
    );
  });
});
