import { appendFileSync, mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../test/cleanups.ts';
import { tempDir } from '../../test/helpers.ts';
import { walRecord } from '../../test/lake-fixtures.ts';
import { segmentPath } from '../wal/index.ts';
import { createWalViewCheck, MAX_LEFT_OUT } from './wal-view-check.ts';

const cleanups = cleanupAfterEach();

const record = (id: string) =>
  walRecord({ event_id: id, ts: '2026-11-20T10:00:00.000Z', properties: { n: id } });
const corrupt = (id: string) => record(id).replace(`"n":"${id}"`, '"n":"!"');
const checksum = (line: string) => line.slice(6, 14);

function setup() {
  const temp = tempDir();
  cleanups.push(temp.cleanup);
  const dir = `${temp.dir}/wal`;
  mkdirSync(dir);
  return { dir, path: (segment: number) => segmentPath(dir, segment), check: createWalViewCheck(dir) };
}

describe('createWalViewCheck', () => {
  it('names the checksums of bad records, verifying an open segment again from the start when it is cut back or replaced', async () => {
    const { path, check } = setup();
    const bad = corrupt('b');
    writeFileSync(path(1), record('a') + bad);
    expect(await check.files()).toEqual([{ path: path(1), leaveOut: [checksum(bad)] }]);
    appendFileSync(path(1), record('c'));
    expect(await check.files()).toEqual([{ path: path(1), leaveOut: [checksum(bad)] }]);
    // Cut back to its first record (a write the disk refused, undone): the bad record is gone.
    truncateSync(path(1), record('a').length);
    expect(await check.files()).toEqual([{ path: path(1), leaveOut: [] }]);
    // Written anew under the same name (the WAL folder deleted while inlet ran), longer than before.
    const other = corrupt('d');
    rmSync(path(1));
    writeFileSync(path(1), record('a') + record('c') + other);
    expect(await check.files()).toEqual([{ path: path(1), leaveOut: [checksum(other)] }]);
  });

  it('leaves out a folder under a segment name, which has no records to read', async () => {
    const { path, check } = setup();
    writeFileSync(path(1), record('a'));
    mkdirSync(path(2));
    writeFileSync(path(3), record('c'));
    // It failed with "EISDIR: illegal operation on a directory, read", and so did every query.
    expect(await check.files()).toEqual([
      { path: path(1), leaveOut: [] },
      { path: path(3), leaveOut: [] },
    ]);
  });

  it('leaves out a segment deleted (loaded) between the listing and its check, and those skip names', async () => {
    const { path, check } = setup();
    writeFileSync(path(1), record('a'));
    writeFileSync(path(2), record('b'));
    writeFileSync(path(3), record('c'));
    const files = await check.files((file) => {
      // The loader retires segment 1 (skip), and deletes segment 2 as the check lists it.
      if (file === path(2)) rmSync(file);
      return file === path(1);
    });
    expect(files).toEqual([{ path: path(3), leaveOut: [] }]);
  });

  it('leaves out a segment with more bad records than the view can name, until the loader has loaded it', async () => {
    const { path, check } = setup();
    writeFileSync(
      path(1),
      record('a') + Array.from({ length: MAX_LEFT_OUT + 1 }, (_, i) => corrupt(`x${i}`)).join(''),
    );
    writeFileSync(path(2), record('b'));
    expect((await check.files()).map((file) => file.path)).toEqual([path(2)]);
  });
});
