import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, testConfig } from '../../test/helpers.ts';
import { walRecord } from '../../test/lake-fixtures.ts';
import { createReadLeases, dataLayout } from '../lake/index.ts';
import { segmentPath } from '../wal/index.ts';
import { createBuildEngine } from './build-engine.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

describe('the build engine beside a loader', () => {
  it('keeps the WAL segments it may read while it is open, and its views leave out loaded ones', async () => {
    const config = testConfig(join(temp.dir, 'data'), { models: { builtin: false } });
    const layout = dataLayout(config.data_dir);
    mkdirSync(layout.walEvents, { recursive: true });
    const loaded = segmentPath(layout.walEvents, 1);
    writeFileSync(loaded, walRecord({ event_id: 'loaded', ts: '2026-11-20T10:00:00.000Z' }));
    writeFileSync(
      segmentPath(layout.walEvents, 2),
      walRecord({ event_id: 'waiting', ts: '2026-11-20T10:00:01.000Z' }),
    );
    const leases = createReadLeases();
    const engine = await createBuildEngine({ config, layout, leases });
    try {
      await engine.refreshViews();
      expect((await engine.rows('SELECT count(*)::INTEGER AS n FROM events'))[0]?.n).toBe(2);
      // The loader has loaded segment 1 and retires it while models are being built.
      await leases.retire(loaded);
      await leases.settled();
      expect(existsSync(loaded)).toBe(true);
      await engine.refreshViews();
      const [view] = await engine.rows("SELECT sql FROM duckdb_views() WHERE view_name = 'events'");
      expect(String(view?.sql)).not.toContain(loaded);
      expect(await engine.rows('SELECT event_id FROM events')).toEqual([{ event_id: 'waiting' }]);
    } finally {
      engine.close();
    }
    await leases.settled();
    expect(existsSync(loaded)).toBe(false);
  });

  it('says DATA_DIR_UNUSABLE, naming the folder, when it cannot make its temporary folder', async () => {
    // inlet run, test, docs check and catalog open this engine: over a data_dir this user may not
    // write (or with a file where tmp/ should be) they ended with a bare EACCES or ENOTDIR, exit 5.
    const config = testConfig(join(temp.dir, 'file-in-the-way'), { models: { builtin: false } });
    const layout = dataLayout(config.data_dir);
    mkdirSync(layout.dataDir, { recursive: true });
    writeFileSync(layout.tmp, '');
    await expect(createBuildEngine({ config, layout })).rejects.toMatchObject({
      code: 'DATA_DIR_UNUSABLE',
      message: `data_dir ${layout.dataDir} cannot be used: ${layout.tmp} is a file where inlet keeps a folder. Move it out of the data directory.`,
    });
  });
});
