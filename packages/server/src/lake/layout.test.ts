import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChild } from '../../test/child-processes.ts';
import { configIn, tempDir } from '../../test/helpers.ts';
import { BIN } from '../../test/inlet-process.ts';
import { dataLayout, makeDataFolders } from './layout.ts';

/** Whether this process may mount a file system (root, as in the CI container). */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'inlet-mount-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describe('the data directory', () => {
  // Node's recursive mkdir, told ENOENT for a folder whose parent is there, retries for good: inlet
  // start spun at full CPU and said nothing. In a process of its own, which a timeout can end.
  it('refuses a data_dir under /proc at once, where making it spun for good', async () => {
    const temp = tempDir();
    try {
      const config = configIn(temp.dir, 'data_dir: /proc/inlet-test\nserver: { port: 1 }\n');
      const start = await runChild(process.execPath, [BIN, 'start', '--config', config], { timeout: 30_000 });
      expect(start.status, start.stderr).toBe(3);
      expect(start.stderr).toMatch(
        /^DATA_DIR_UNUSABLE: data_dir \/proc\/inlet-test cannot be used: making \/proc\/inlet-test failed with (ENOENT \(its folder \/proc is there, but its file system makes no folders, as \/proc and \/sys make none\)|EACCES)\./,
      );
    } finally {
      temp.cleanup();
    }
  }, 60_000);

  // Node's recursive mkdir throws ENOENT for EROFS: "making …/data failed with ENOENT" sent people
  // looking for a missing parent on a systemd unit's read-only /var/lib.
  it.skipIf(!canMount())('names a read-only file system as such, where it said ENOENT', () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'inlet-readonly-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', mountPoint]);
    try {
      const layout = dataLayout(join(mountPoint, 'inlet', 'data'));
      expect(() => makeDataFolders(layout, [layout.lake], 'prod.yaml')).toThrow(
        expect.objectContaining({
          code: 'DATA_DIR_UNUSABLE',
          message: `data_dir ${layout.dataDir} cannot be used: making ${layout.lake} failed with EROFS (a read-only file system). Set data_dir in prod.yaml to a directory on a writable file system, or make this one writable (a systemd unit with ProtectSystem= needs it in ReadWritePaths=; a container, a volume there).`,
        }),
      );
    } finally {
      execFileSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  // inlet run, sync and the loader make their folders and wrote in them unchecked: on a data directory
  // made before its file system turned read-only, inlet run ended with "an error inlet did not
  // foresee: EROFS: … open '…/state/locks/model-daily.lock.123.tmp'" (exit 5).
  it.skipIf(!canMount())(
    'refuses folders that are there but cannot be written in, as inlet start does',
    () => {
      const mountPoint = mkdtempSync(join(tmpdir(), 'inlet-readonly-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]);
      try {
        const layout = dataLayout(join(mountPoint, 'data'));
        const locks = join(layout.state, 'locks');
        makeDataFolders(layout, [locks, layout.lake], 'prod.yaml');
        execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
        expect(() => makeDataFolders(layout, [locks, layout.lake], 'prod.yaml')).toThrow(
          expect.objectContaining({
            code: 'DATA_DIR_UNUSABLE',
            message: expect.stringContaining(
              `data_dir ${layout.dataDir} cannot be used: writing in ${locks} failed with EROFS (a read-only file system).`,
            ),
          }),
        );
      } finally {
        execFileSync('umount', [mountPoint]);
        rmSync(mountPoint, { recursive: true, force: true });
      }
    },
  );
});
