import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stdoutOf } from '../../test/child-processes.ts';
import { AS_NOBODY, configIn, nobodyCanRun, runCli, tempDir } from '../../test/helpers.ts';
import { BIN } from '../../test/inlet-process.ts';
import { writeEvents } from '../../test/lake-fixtures.ts';
import { dataLayout } from '../lake/index.ts';
import { ExitCode } from './exit-codes.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

// The catalog only reads: it made data/tmp/models, the spill folder of model builds, as it opened
// the DuckDB it shares with them.
describe('inlet catalog and docs check write nothing', () => {
  it('leave a fresh directory without a data_dir', async () => {
    const dir = join(temp.dir, 'fresh');
    const config = configIn(dir, 'data_dir: ./data\n');
    for (const argv of [['catalog'], ['catalog', 'events'], ['catalog', 'stg_events'], ['docs', 'check']]) {
      const run = await runCli([...argv, '--config', config]);
      expect([argv, run.code, existsSync(join(dir, 'data'))]).toEqual([argv, ExitCode.OK, false]);
    }
  });

  it('make no spill folder in a lake with events', async () => {
    const dir = join(temp.dir, 'lake');
    const config = configIn(dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
    const layout = dataLayout(join(dir, 'data'));
    await writeEvents(layout, [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
    const run = await runCli(['catalog', 'events', '--format', 'json', '--config', config]);
    expect([run.code, JSON.parse(run.out).rows]).toEqual([ExitCode.OK, 1]);
    expect(existsSync(join(layout.tmp, 'models'))).toBe(false);
  });
});

// Root writes anywhere, so the catalog is run as nobody over a data_dir nobody may only read.
describe.skipIf(!nobodyCanRun(BIN))('inlet catalog over a data_dir it may not write', () => {
  it('lists the lake, where it said DATA_DIR_UNUSABLE', async () => {
    const owned = tempDir();
    try {
      chmodSync(owned.dir, 0o755);
      const config = configIn(owned.dir, 'data_dir: ./data\nmodels:\n  builtin: false\n');
      await writeEvents(dataLayout(join(owned.dir, 'data')), [{ ts: '2026-11-20T10:00:00Z', name: 'login' }]);
      const out = await stdoutOf(
        process.execPath,
        [BIN, 'catalog', 'events', '--format', 'json', '--config', config],
        { ...AS_NOBODY, env: { ...process.env, INLET_LOG_LEVEL: 'silent' } },
      );
      expect(JSON.parse(out)).toMatchObject({ name: 'events', rows: 1 });
    } finally {
      owned.cleanup();
    }
  }, 60_000);
});
