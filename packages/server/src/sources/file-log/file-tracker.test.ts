import {
  appendFileSync,
  closeSync,
  copyFileSync,
  openSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../../test/cleanups.ts';
import { tempDir } from '../../../test/helpers.ts';
import { readHead } from './file-reader.ts';
import { type Candidate, HEAD_BYTES, hashHead, planReads, type TrackedFile } from './file-tracker.ts';

const cleanups = cleanupAfterEach();

function setup() {
  const temp = tempDir();
  cleanups.push(temp.cleanup);
  const path = (name: string) => join(temp.dir, name);
  const candidate = (name: string): Candidate => {
    const s = statSync(path(name));
    return {
      path: path(name),
      dev: s.dev,
      ino: s.ino,
      size: s.size,
      mtimeMs: s.mtimeMs,
      gz: name.endsWith('.gz'),
    };
  };
  let known: TrackedFile[] = [];
  const plan = async (names: string[], now?: number) => {
    const result = await planReads(known, names.map(candidate), {
      now: now ?? Date.now(),
      readHead: (c, at) => readHead(c, HEAD_BYTES, at),
      startAtEnd: false,
    });
    known = result.files;
    const out = result.tasks.map((t) => `${t.candidate.path.slice(temp.dir.length + 1)}@${t.file.offset}`);
    // Pretend each task was read to its end, as the reader would.
    for (const task of result.tasks) {
      task.file.offset = task.candidate.size;
      if (task.candidate.gz) task.file.done = true;
    }
    return out;
  };
  const seed = (files: TrackedFile[]) => {
    known = files;
  };
  return { path, plan, known: () => known, seed };
}

const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `line ${from + i} ${'x'.repeat(40)}\n`).join('');

/**
 * a.log with 50 lines, all read; then 5 more written and the whole file copied to a.log.1, as
 * logrotate's copytruncate does before it truncates. Returns the offset read up to.
 */
async function readThenCopy(
  path: (name: string) => string,
  plan: (names: string[]) => Promise<string[]>,
): Promise<number> {
  writeFileSync(path('a.log'), lines(0, 50));
  await plan(['a.log']);
  const read = statSync(path('a.log')).size;
  appendFileSync(path('a.log'), lines(50, 55));
  copyFileSync(path('a.log'), path('a.log.1'));
  return read;
}

describe('planning reads across rotation', () => {
  it('follows a rename (same inode) and reads the new file from the start', async () => {
    const { path, plan } = setup();
    writeFileSync(path('a.log'), lines(0, 10));
    expect(await plan(['a.log'])).toEqual(['a.log@0']);
    expect(await plan(['a.log'])).toEqual([]);
    appendFileSync(path('a.log'), lines(10, 12));
    const size = statSync(path('a.log')).size - lines(10, 12).length;
    renameSync(path('a.log'), path('a.log.1'));
    writeFileSync(path('a.log'), lines(12, 13));
    expect((await plan(['a.log', 'a.log.1'])).sort()).toEqual([`a.log.1@${size}`, 'a.log@0'].sort());
  });

  it('copytruncate: a copy of a file still intact is left alone; after the truncate it continues the old offset', async () => {
    const { path, plan } = setup();
    const read = await readThenCopy(path, plan);
    // Scanned between copy and truncate: only the original is read on.
    expect(await plan(['a.log', 'a.log.1'])).toEqual([`a.log@${read}`]);
    const after = statSync(path('a.log')).size;
    truncateSync(path('a.log'), 0);
    appendFileSync(path('a.log'), lines(55, 56));
    // The copy holds nothing unread (its size equals what was read), the truncated file starts again.
    expect(await plan(['a.log', 'a.log.1'])).toEqual(['a.log@0']);
    expect(statSync(path('a.log.1')).size).toBe(after);
  });

  it('copytruncate seen only after the truncate: the copy is read on from where the original stopped', async () => {
    const { path, plan } = setup();
    const read = await readThenCopy(path, plan);
    truncateSync(path('a.log'), 0);
    expect((await plan(['a.log', 'a.log.1'])).sort()).toEqual([`a.log.1@${read}`]);
    appendFileSync(path('a.log'), lines(55, 56));
    expect(await plan(['a.log', 'a.log.1'])).toEqual(['a.log@0']);
  });

  it('copytruncate refilled to the same size within one tick of the file clock is still seen', async () => {
    const { path, plan } = setup();
    // Linux stamps mtime from a coarse clock (a jiffy, 1–10 ms): writes within one tick leave it as
    // it was. Whole seconds here, so the stamp set again below is exactly the one planned with.
    const tick = 1_800_000_000;
    writeFileSync(path('a.log'), lines(100, 150));
    utimesSync(path('a.log'), tick, tick);
    expect(await plan(['a.log'])).toEqual(['a.log@0']);
    const size = statSync(path('a.log')).size;
    copyFileSync(path('a.log'), path('a.log.1'));
    truncateSync(path('a.log'), 0);
    // Lines as long as those before: the same size again, and in the same tick, the same mtime.
    appendFileSync(path('a.log'), lines(200, 250));
    utimesSync(path('a.log'), tick, tick);
    expect(statSync(path('a.log')).size).toBe(size);
    // The new lines are read; the copy holds only lines read already.
    expect((await plan(['a.log', 'a.log.1'])).sort()).toEqual(['a.log@0']);
    expect(await plan(['a.log', 'a.log.1'])).toEqual([]);
  });

  it('a .gz of a file already read continues at its offset; an unknown .gz is read once from the start', async () => {
    const { path, plan } = setup();
    writeFileSync(path('a.log.3.gz'), gzipSync(lines(0, 5)));
    writeFileSync(path('a.log'), lines(5, 40));
    expect((await plan(['a.log', 'a.log.3.gz'])).sort()).toEqual(['a.log.3.gz@0', 'a.log@0']);
    expect(await plan(['a.log', 'a.log.3.gz'])).toEqual([]);
    const read = statSync(path('a.log')).size;
    // logrotate with compress: a.log → a.log.1 → a.log.1.gz, a.log recreated.
    renameSync(path('a.log'), path('a.log.1'));
    writeFileSync(path('a.log.1.gz'), gzipSync(lines(5, 40)));
    unlinkSync(path('a.log.1'));
    writeFileSync(path('a.log'), '');
    renameSync(path('a.log.3.gz'), path('a.log.4.gz'));
    expect((await plan(['a.log', 'a.log.1.gz', 'a.log.4.gz'])).sort()).toEqual([`a.log.1.gz@${read}`]);
    expect(await plan(['a.log', 'a.log.1.gz', 'a.log.4.gz'])).toEqual([]);
  });

  it('a checkpoint whose heads were hashed from byte 0 still knows its files, and learns where zero bytes end', async () => {
    const { path, plan, known, seed } = setup();
    // A writer without O_APPEND, after a first copytruncate: zero bytes, then its lines.
    const writer = openSync(path('a.log'), 'w');
    const hole = lines(0, 40).length;
    let at = hole + writeSync(writer, lines(40, 50), hole);
    writeFileSync(path('b.log'), lines(0, 30));
    // What an older version saved after reading both to their end: no headAt, heads from byte 0.
    const legacy = (name: string): TrackedFile => {
      const s = statSync(path(name));
      return {
        dev: s.dev,
        ino: s.ino,
        gz: false,
        head: hashHead(readFileSync(path(name)).subarray(0, HEAD_BYTES)),
        headBytes: HEAD_BYTES,
        offset: s.size,
        done: false,
        size: s.size,
        mtimeMs: s.mtimeMs,
        path: path(name),
        seenAt: Date.now(),
      };
    };
    seed([legacy('a.log'), legacy('b.log')]);
    expect(await plan(['a.log', 'b.log'])).toEqual([]);
    expect(known().map((f) => f.headAt)).toEqual([hole, 0]);
    // The next copytruncate: the lines written since the last read are only in the copy.
    const read = at;
    at += writeSync(writer, lines(50, 55), at);
    copyFileSync(path('a.log'), path('a.log.1'));
    truncateSync(path('a.log'), 0);
    writeSync(writer, lines(55, 56), at);
    closeSync(writer);
    expect((await plan(['a.log', 'a.log.1', 'b.log'])).sort()).toEqual([`a.log.1@${read}`, `a.log@${at}`]);
  });

  it('a .gz of a copy that starts with zero bytes is recognised by the content after them', async () => {
    const { path, plan } = setup();
    const writer = openSync(path('a.log'), 'w');
    const hole = lines(0, 40).length;
    let at = hole + writeSync(writer, lines(40, 50), hole);
    expect(await plan(['a.log'])).toEqual([`a.log@${hole}`]);
    at += writeSync(writer, lines(50, 55), at);
    copyFileSync(path('a.log'), path('a.log.1'));
    truncateSync(path('a.log'), 0);
    closeSync(writer);
    const read = hole + lines(40, 50).length;
    expect(await plan(['a.log', 'a.log.1'])).toEqual([`a.log.1@${read}`]);
    // compress: a.log.1 → a.log.1.gz; nothing in it is unread, so it is only checked to its end.
    writeFileSync(path('a.log.1.gz'), gzipSync(readFileSync(path('a.log.1'))));
    unlinkSync(path('a.log.1'));
    expect(await plan(['a.log', 'a.log.1.gz'])).toEqual([`a.log.1.gz@${at}`]);
  });

  it('a file cut to a non-zero size that begins as before is read again from its start', async () => {
    const { path, plan } = setup();
    writeFileSync(path('a.log'), lines(0, 50));
    await plan(['a.log']);
    // As a writer that starts each run with the same lines leaves it, or truncate -s: its first KiB
    // is the same as before, and everything after the cut was written since.
    truncateSync(path('a.log'), lines(0, 30).length);
    appendFileSync(path('a.log'), lines(100, 105));
    expect(await plan(['a.log'])).toEqual(['a.log@0']);
    expect(await plan(['a.log'])).toEqual([]);
  });

  it('copytruncate whose truncated file begins as the copy: the copy goes on, the original starts again', async () => {
    const { path, plan } = setup();
    const read = await readThenCopy(path, plan);
    truncateSync(path('a.log'), 0);
    appendFileSync(path('a.log'), lines(0, 30));
    expect((await plan(['a.log', 'a.log.1'])).sort()).toEqual([`a.log.1@${read}`, 'a.log@0']);
    expect(await plan(['a.log', 'a.log.1'])).toEqual([]);
  });

  it('a file listed under an inode number a copy made since took over is looked at again, not read as listed', async () => {
    // old.log is listed, then deleted, and copytruncate's copy of a.log gets its inode number (ext4
    // hands a freed number out again at once). Taken for the file listed, the copy was matched to
    // a.log's record with old.log's size: its offset moved back to that size and the lines after it,
    // read already, were read again; a multi-line record cut there was written as at rest.
    const { path, plan, known, seed } = setup();
    writeFileSync(path('old.log'), lines(0, 20));
    const old = statSync(path('old.log'));
    writeFileSync(path('a.log'), lines(100, 200));
    await plan(['a.log']);
    const read = statSync(path('a.log')).size;
    unlinkSync(path('old.log'));
    copyFileSync(path('a.log'), path('a.log.1'));
    truncateSync(path('a.log'), 0);
    appendFileSync(path('a.log'), lines(200, 201));
    const copy = statSync(path('a.log.1'));
    const listed = (name: string, s: Stats): Candidate => ({
      path: path(name),
      dev: s.dev,
      ino: s.ino,
      size: s.size,
      mtimeMs: s.mtimeMs,
      birthtimeMs: s.birthtimeMs,
      gz: false,
    });
    // What the scan saw at the copy's inode number, before the copy was made: old.log.
    const stale = { ...listed('a.log.1', old), ino: copy.ino };
    const result = await planReads(known(), [listed('a.log', statSync(path('a.log'))), stale], {
      now: Date.now(),
      readHead: (c, at) => readHead(c, HEAD_BYTES, at),
      startAtEnd: false,
    });
    expect(
      result.tasks.map((t) => `${t.candidate.path.slice(path('').length + 1)}@${t.file.offset}`),
    ).toEqual(['a.log@0']);
    expect(result.deferred).toBe(1);
    seed(result.files);
    // Listed as it is now, the copy is a.log's content, read to its end already: nothing of it is
    // read again (the old code read it again from old.log's size).
    expect(await plan(['a.log', 'a.log.1'])).toEqual(['a.log@0']);
    expect(known().find((f) => f.ino === copy.ino)?.offset).toBe(read);
  });

  it('an inode reused for other content is a new file', async () => {
    const { path, plan, known } = setup();
    writeFileSync(path('a.log'), lines(0, 30));
    await plan(['a.log']);
    writeFileSync(path('a.log'), `${'other content '.repeat(200)}\n`);
    expect(await plan(['a.log'])).toEqual(['a.log@0']);
    expect(known()).toHaveLength(2);
  });

  it('forgets a file gone for a week', async () => {
    const { path, plan, known } = setup();
    writeFileSync(path('a.log'), lines(0, 3));
    writeFileSync(path('b.log'), lines(3, 6));
    await plan(['a.log', 'b.log']);
    await plan(['a.log'], Date.now() + 24 * 3600_000);
    expect(known()).toHaveLength(2);
    await plan(['a.log'], Date.now() + 8 * 24 * 3600_000);
    expect(known().map((f) => f.path.endsWith('a.log'))).toEqual([true]);
  });
});
