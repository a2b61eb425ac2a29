import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AS_NOBODY, configIn, jsonLines, nobodyCanRun, tempDir } from '../../test/helpers.ts';
import { BIN } from '../../test/inlet-process.ts';
import { dataLayout, writeLakeTable } from '../lake/index.ts';
import { ExitCode } from './exit-codes.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** Customers synced with a merge key: counting them numbers each id's latest version, over every row. */
const CUSTOMERS = 2_000_000;
const lake = join(temp.dir, 'lake');
// The least models.memory_limit inlet.yaml takes; the merge's window over 2,000,000 rows needs more.
const config = configIn(lake, 'data_dir: ./data\nmodels:\n  builtin: false\n  memory_limit: 64MB\n');

beforeAll(async () => {
  // Root writes anywhere: nobody reads the lake and may write nowhere in it.
  chmodSync(temp.dir, 0o755);
  const customers = join(dataLayout(join(lake, 'data')).lake, 'sources', 'crm', 'customers');
  mkdirSync(customers, { recursive: true });
  const writer = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    await writer.run(
      `COPY (SELECT i AS id, 'customer ' || i || ' of the crm, with a name long enough' AS name, TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS updated_at FROM range(${CUSTOMERS}) t(i)) TO '${customers}/part-000001-1.parquet'`,
    );
  } finally {
    writer.closeSync();
  }
  writeLakeTable(customers, {
    name: 'crm.customers',
    kind: 'source',
    files: '*.parquet',
    merge: { key: ['id'], order_by: 'updated_at' },
  });
}, 120_000);

/** A folder for os.tmpdir() of inlet's process (TMPDIR), which nobody may write as in /tmp. */
function systemTemp(name: string): string {
  const dir = join(temp.dir, name);
  mkdirSync(dir);
  chmodSync(dir, 0o1777);
  return dir;
}

/** inlet catalog <argv> as a process of its own, with TMPDIR given, as this user or as nobody. */
function catalog(
  argv: string[],
  tmp: string,
  as: typeof AS_NOBODY = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'catalog', ...argv],
      { ...as, timeout: 90_000, env: { ...process.env, TMPDIR: tmp, INLET_LOG_LEVEL: 'silent' } },
      (error, out, err) => {
        // A run the timeout killed has no exit code, which fails every test's expectation of one.
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : ExitCode.OK;
        resolve({ code, out, err: `${err}${error?.killed ? '(killed after 90 s)' : ''}` });
      },
    );
  });
}

// The catalog's DuckDB had no folder to spill to once it stopped making data/tmp/models, so counting
// a table's rows that needs more than models.memory_limit ran out of memory.
describe('inlet catalog over a table whose count needs more than models.memory_limit', () => {
  it('counts it, spilling under the system temporary folder, and leaves nothing there or in data_dir', async () => {
    const tmp = systemTemp('tmp-own');
    const run = await catalog(['crm.customers', '--format', 'json', '--config', config], tmp);
    expect([run.code, run.err]).toEqual([ExitCode.OK, '']);
    expect(JSON.parse(run.out)).toMatchObject({ name: 'crm.customers', rows: CUSTOMERS });
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(join(lake, 'data', 'tmp'))).toBe(false);
  }, 120_000);

  it.skipIf(!nobodyCanRun(BIN))(
    'counts it over a data_dir this user may not write',
    async () => {
      const tmp = systemTemp('tmp-nobody');
      const run = await catalog(['--format', 'json', '--config', config], tmp, AS_NOBODY);
      expect([run.code, run.err]).toEqual([ExitCode.OK, '']);
      const listed = jsonLines<{ name: string; rows: number | null }>(run.out);
      expect(listed.find((table) => table.name === 'crm.customers')).toMatchObject({ rows: CUSTOMERS });
      expect(readdirSync(tmp)).toEqual([]);
    },
    120_000,
  );

  it('says what to do where it cannot spill, where it said the error was not foreseen', async () => {
    // TMPDIR names a folder that is not there, so no spill folder can be made in it.
    const missing = join(temp.dir, 'tmp-missing');
    const run = await catalog(['crm.customers', '--config', config], missing);
    expect(run.code).toBe(ExitCode.QUERY);
    expect(run.err).toContain(
      `Counting the rows of crm.customers for the catalog needed more memory than models.memory_limit (64MB) allows, and no folder could be made in the system's temporary folder (${missing}) for it to spill to`,
    );
    expect(run.err).toContain(
      'set TMPDIR to a folder this user may write in, or raise models.memory_limit in inlet.yaml.',
    );
  }, 120_000);
});

describe("the catalog's spill folders", () => {
  it('removes those a process that has ended left behind, and no other', async () => {
    const tmp = systemTemp('tmp-left');
    const ended = spawnSync(process.execPath, ['-e', '']).pid;
    const left = join(tmp, `inlet-spill-${ended}-a1b2c3`);
    mkdirSync(left);
    writeFileSync(join(left, 'duckdb_temp_storage_DEFAULT-0.tmp'), 'spilled');
    // This test's process runs, so its folder may be in use; the others are no catalog's.
    const kept = [`inlet-spill-${process.pid}-d4e5f6`, 'inlet-spill-notes', `inlet-test-${ended}-x`];
    for (const name of kept) mkdirSync(join(tmp, name));
    const fresh = configIn(join(temp.dir, 'fresh'), 'data_dir: ./data\nmodels:\n  builtin: false\n');
    const run = await catalog(['events', '--format', 'json', '--config', fresh], tmp);
    expect([run.code, run.err]).toEqual([ExitCode.OK, '']);
    expect(readdirSync(tmp).sort()).toEqual(kept.sort());
  }, 60_000);
});
