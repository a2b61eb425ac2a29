import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bundledFixture } from '../../test/bundled-fixture.ts';
import { startTogether } from '../../test/fixtures/state/start-together.ts';
import { tempDir } from '../../test/helpers.ts';
import { MIGRATIONS, openStateStore } from './index.ts';

const execFileAsync = promisify(execFile);

describe('state store', () => {
  it('refuses a state store that is a folder or not a database, naming the file and what to do', () => {
    const temp = tempDir();
    const folder = join(temp.dir, 'a', 'state.sqlite');
    mkdirSync(folder, { recursive: true });
    expect(() => openStateStore(folder)).toThrow(
      expect.objectContaining({ code: 'DATA_DIR_UNUSABLE', message: expect.stringContaining(folder) }),
    );
    const garbage = join(temp.dir, 'state.sqlite');
    writeFileSync(garbage, 'not a database, but long enough to be read as a header: '.repeat(20));
    expect(() => openStateStore(garbage)).toThrow(
      expect.objectContaining({
        code: 'DATA_DIR_UNUSABLE',
        message: expect.stringContaining('restore it from a backup'),
      }),
    );
    temp.cleanup();
  });

  it('keeps checkpoints across reopen and shares them between two handles', () => {
    const temp = tempDir();
    const path = join(temp.dir, 'state.sqlite');
    const a = openStateStore(path);
    const b = openStateStore(path);
    a.setCheckpoint('tail:nginx', '/var/log/nginx/access.log', { inode: 12, offset: 4096 });
    expect(b.getCheckpoint('tail:nginx', '/var/log/nginx/access.log')).toEqual({ inode: 12, offset: 4096 });
    a.close();
    b.close();
    const c = openStateStore(path);
    expect(c.getCheckpoint('tail:nginx', '/var/log/nginx/access.log')).toEqual({ inode: 12, offset: 4096 });
    c.deleteCheckpoint('tail:nginx', '/var/log/nginx/access.log');
    expect(c.getCheckpoint('tail:nginx', '/var/log/nginx/access.log')).toBeUndefined();
    c.close();
    temp.cleanup();
  });
});

describe('state store shared by processes', () => {
  it('opens in two processes that create it at the same moment, and migrates it once', async () => {
    const temp = tempDir();
    const dirs = Array.from({ length: 20 }, (_, i) => join(temp.dir, String(i)));
    const script = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'state', 'open-at.ts');
    const barrier = join(temp.dir, 'barrier');
    mkdirSync(barrier);
    const run = async () =>
      execFileAsync(process.execPath, [await bundledFixture(script), barrier, '40', ...dirs], {
        cwd: join(import.meta.dirname, '..', '..'),
        encoding: 'utf8',
      });
    // Both loaded first, however long that takes, then started at one moment.
    const runs = [run(), run()];
    await startTogether(barrier, runs);
    const outputs = await Promise.all(runs);
    for (const { stdout } of outputs) expect(stdout.trim().split('\n')).toEqual(dirs.map(() => 'ok'));
    for (const dir of dirs) {
      const store = openStateStore(join(dir, 'state.sqlite'));
      expect(store.db.prepare('SELECT id FROM _migrations ORDER BY id').all()).toEqual(
        MIGRATIONS.map((m) => ({ id: m.id })),
      );
      store.close();
    }
    temp.cleanup();
  }, 20_000);
});
