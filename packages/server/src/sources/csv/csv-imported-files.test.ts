import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { filesToImport, SETTLED_MS, type StampedFile } from './csv-imported-files.ts';

let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  dir?.cleanup();
  dir = undefined;
  vi.useRealTimers();
});

/** When the export files of a test were last written: whole seconds, which utimes gives back exactly. */
const WRITTEN = Date.parse('2026-12-07T10:00:00Z');

/** Writes an export file last changed at `mtime` and returns it as the file list stamps it. */
function exportFile(name: string, content: string, mtime = WRITTEN): StampedFile {
  dir ??= tempDir('inlet-imported-');
  const path = join(dir.dir, name);
  writeFileSync(path, content);
  utimesSync(path, mtime / 1000, mtime / 1000);
  return { path, stamp: `${Buffer.byteLength(content)}:${mtime}` };
}

/** A sync at `ms` after WRITTEN: only Date is faked, files are read for real. */
function syncAt(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(WRITTEN + ms);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const byName = (file: StampedFile) => basename(file.path);
const csv = { delimiter: Buffer.from(','), headLines: 1 };

/** Bytes this process has read so far, from Linux's /proc/self/io (rchar). */
const bytesRead = () => Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);

describe('files to import', () => {
  it.runIf(existsSync('/proc/self/io'))(
    'reads a file whose quoted field is still being written once, the line of its quote included',
    async () => {
      // The file was scanned for where its records end, then read again up to the quote to count
      // the lines before it: an export of many rows was read twice at every sync while it grew.
      dir = tempDir('inlet-imported-');
      const path = join(dir.dir, 'notes.csv');
      const rows = Array.from({ length: 100_000 }, (_, i) => `${i},a note of row ${i}\n`).join('');
      writeFileSync(path, `id,note\n${rows}100000,"a note still\nbeing written`);
      const { size, mtimeMs } = statSync(path);
      const file = { path, stamp: `${size}:${Math.floor(mtimeMs)}` };
      const before = bytesRead();
      const found = await filesToImport([file], {}, (f) => f.path, true, {
        delimiter: Buffer.from(','),
        headLines: 1,
      });
      const read = bytesRead() - before;
      expect(found.waiting).toEqual([{ file, line: 100_002 }]);
      expect(found.todo).toEqual([
        { file, from: 0, to: size - '100000,"a note still\nbeing written'.length, whole: false },
      ]);
      expect(read).toBeGreaterThanOrEqual(size);
      expect(read).toBeLessThan(1.5 * size);
    },
  );

  it('imports a file read whole (JSON) again only when its bytes changed, not its time alone, and says which are imported again', async () => {
    syncAt(SETTLED_MS + 1000);
    const users = exportFile('users.json', '[{"id":1}]');
    const first = await filesToImport([users], {}, byName, false);
    expect(first).toEqual({
      todo: [{ file: users, from: 0, to: 10, whole: true }],
      remembered: { 'users.json': `10:${WRITTEN}:${sha256('[{"id":1}]')}` },
      again: [],
      renamed: [],
      waiting: [],
    });
    const unchanged = await filesToImport([users], first.remembered, byName, false);
    expect(unchanged).toMatchObject({ todo: [], remembered: first.remembered, again: [] });
    // Copied again without its times, re-downloaded, touched: the rows are those imported.
    const touched = exportFile('users.json', '[{"id":1}]', WRITTEN - 5000);
    expect(await filesToImport([touched], first.remembered, byName, false)).toMatchObject({
      todo: [],
      remembered: { 'users.json': `10:${WRITTEN - 5000}:${sha256('[{"id":1}]')}` },
      again: [],
    });
    const rewritten = exportFile('users.json', '[{"id":22}]');
    expect(await filesToImport([rewritten], first.remembered, byName, false)).toMatchObject({
      todo: [{ file: rewritten, from: 0, to: 11, whole: true }],
      remembered: { 'users.json': `11:${WRITTEN}:${sha256('[{"id":22}]')}` },
      again: [rewritten],
    });
    // Remembered as size and time only, before digests were kept: imported in full, but whether it
    // is imported again is not known.
    expect(
      await filesToImport([rewritten], { 'users.json': `10:${WRITTEN - 5000}` }, byName, false),
    ).toMatchObject({
      todo: [{ file: rewritten, from: 0, to: 11, whole: true }],
      remembered: { 'users.json': `11:${WRITTEN}:${sha256('[{"id":22}]')}` },
      again: [],
    });
  });

  it('imports a last line left waiting, and a file left empty, once the file has been still for a minute, its size and time unchanged', async () => {
    syncAt(1000);
    const orders = exportFile('orders.csv', 'id,status\n1,new\n2,pa');
    const header = exportFile('header.csv', 'id,status');
    const empty = exportFile('empty.csv', '');
    const files = [orders, header, empty];
    const first = await filesToImport(files, {}, byName, true, csv);
    expect(first.todo).toEqual([{ file: orders, from: 0, to: 16, whole: false }]);
    syncAt(SETTLED_MS + 1000);
    const settled = await filesToImport(files, first.remembered, byName, true, csv);
    expect(settled).toEqual({
      todo: [
        { file: orders, from: 16, to: 20, whole: false },
        { file: header, from: 0, to: 9, whole: true },
        { file: empty, from: 0, to: 0, whole: true },
      ],
      remembered: {
        'orders.csv': `20:${WRITTEN}:${sha256('id,status\n1,new\n2,pa')}`,
        'header.csv': `9:${WRITTEN}:${sha256('id,status')}`,
        'empty.csv': `0:${WRITTEN}:${sha256('')}`,
      },
      again: [],
      renamed: [],
      waiting: [],
    });
    // Imported: the next sync has nothing of them to import. The empty file is imported at every
    // sync, where reading it refuses it as empty.
    expect(await filesToImport(files, settled.remembered, byName, true, csv)).toMatchObject({
      todo: [{ file: empty, from: 0, to: 0, whole: true }],
      remembered: settled.remembered,
    });
  });

  it('says nothing of a last line that waits for its line break while the file is unchanged, in CSV and JSON lines', async () => {
    syncAt(1000);
    const orders = exportFile('orders.csv', 'id,status\n1,new\n2,pa');
    const events = exportFile('events.ndjson', '{"id":1}\n{"id":2');
    const first = await filesToImport([orders], {}, byName, true, csv);
    const lines = await filesToImport([events], {}, byName, true);
    expect(first.remembered).toEqual({
      'orders.csv': `20:${WRITTEN}:${sha256('id,status\n1,new\n2,pa')}:16:${sha256('id,status\n1,new\n')}:0`,
    });
    expect(lines.remembered).toEqual({
      'events.ndjson': `16:${WRITTEN}:${sha256('{"id":1}\n{"id":2')}:9:${sha256('{"id":1}\n')}`,
    });
    syncAt(2000);
    expect(await filesToImport([orders], first.remembered, byName, true, csv)).toEqual({
      todo: [],
      remembered: first.remembered,
      again: [],
      renamed: [],
      waiting: [],
    });
    expect(await filesToImport([events], lines.remembered, byName, true)).toEqual({
      todo: [],
      remembered: lines.remembered,
      again: [],
      renamed: [],
      waiting: [],
    });
  });

  it('finds the quote an unchanged file waits for once, where it was remembered before quote lines were kept', async () => {
    syncAt(1000);
    const notes = exportFile('notes.csv', 'id,note\n1,a\n2,"first line\nsecond');
    const orders = exportFile('orders.csv', 'id,status\n1,new\n2,pa');
    const now = await filesToImport([notes, orders], {}, byName, true, csv);
    expect(now.waiting).toEqual([{ file: notes, line: 3 }]);
    // The entries as written before the line of the quote was kept: without their last field.
    const before = Object.fromEntries(
      Object.entries(now.remembered).map(([name, entry]) => [name, entry.replace(/:\d+$/, '')]),
    );
    expect(before['notes.csv']).toBe(
      `32:${WRITTEN}:${sha256('id,note\n1,a\n2,"first line\nsecond')}:12:${sha256('id,note\n1,a\n')}`,
    );
    expect(await filesToImport([notes, orders], before, byName, true, csv)).toEqual({
      todo: [],
      remembered: now.remembered,
      again: [],
      renamed: [],
      waiting: [{ file: notes, line: 3 }],
    });
  });

  it('takes a file remembered by size and time alone (before digests were kept) as imported while they hold, and as new once they change', async () => {
    syncAt(SETTLED_MS + 1000);
    const kept = exportFile('orders_1.csv', 'id,status\n1,new\n');
    const changed = exportFile('orders_2.csv', 'id,status\n2,new\n3,new\n');
    const remembered = { 'orders_1.csv': `16:${WRITTEN}`, 'orders_2.csv': `16:${WRITTEN - 5000}` };
    expect(await filesToImport([kept, changed], remembered, byName, true, csv)).toEqual({
      todo: [{ file: changed, from: 0, to: 22, whole: true }],
      remembered: {
        'orders_1.csv': `16:${WRITTEN}`,
        'orders_2.csv': `22:${WRITTEN}:${sha256('id,status\n2,new\n3,new\n')}`,
      },
      again: [],
      renamed: [],
      waiting: [],
    });
  });

  it('lists the parts to import in the order of the files, and the waits as the files were read: those resumed, then new ones', async () => {
    syncAt(1000);
    const grown = exportFile('b.csv', 'id,note\n1,a\n');
    const first = await filesToImport([grown], {}, byName, true, csv);
    const grownMore = exportFile('b.csv', 'id,note\n1,a\n2,b\n3,"c\nd', WRITTEN + 1000);
    const added = exportFile('a.csv', 'id,note\n7,x\n8,"y\nz');
    syncAt(2000);
    const found = await filesToImport([added, grownMore], first.remembered, byName, true, csv);
    expect(found.todo).toEqual([
      { file: added, from: 0, to: 12, whole: false },
      { file: grownMore, from: 12, to: 16, whole: false },
    ]);
    expect(found.waiting).toEqual([
      { file: grownMore, line: 4 },
      { file: added, line: 3 },
    ]);
    expect(Object.keys(found.remembered)).toEqual(['b.csv', 'a.csv']);
  });
});
