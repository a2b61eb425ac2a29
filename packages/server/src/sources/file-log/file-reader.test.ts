import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  constants,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from '../../../test/cleanups.ts';
import { tempDir } from '../../../test/helpers.ts';
import { type PartialLine, readHead, readTask } from './file-reader.ts';
import { HEAD_BYTES, hashHead, type TrackedFile } from './file-tracker.ts';
import type { SplitLine } from './line-splitter.ts';

const cleanups = cleanupAfterEach();

/** A file tracked from its start, and a read of what is new in it that says what it read. */
function setup() {
  const temp = tempDir();
  cleanups.push(temp.cleanup);
  const path = join(temp.dir, 'app.log');
  writeFileSync(path, '');
  const { dev, ino } = statSync(path);
  const file: TrackedFile = {
    dev,
    ino,
    gz: false,
    head: '',
    headBytes: 0,
    headAt: 0,
    offset: 0,
    done: false,
    size: 0,
    mtimeMs: 0,
    path,
    seenAt: 0,
  };
  const partials = new Map<string, PartialLine>();
  const read = async () => {
    const stat = statSync(path);
    // As the tracker does: the head grows with the file up to HEAD_BYTES.
    const content = readFileSync(path);
    file.headBytes = Math.min(HEAD_BYTES, content.length);
    file.head = hashHead(content.subarray(0, file.headBytes));
    const lines: SplitLine[] = [];
    let bytes = 0;
    const outcome = await readTask(
      {
        candidate: { path, dev: stat.dev, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, gz: false },
        file,
      },
      {
        maxLineBytes: 256,
        signal: new AbortController().signal,
        partials,
        onLines: async (split, f) => {
          lines.push(...split);
          f.offset = split.at(-1)?.end ?? f.offset;
        },
        onBytes: (n) => {
          bytes += n;
        },
      },
    );
    return { outcome: outcome.status, lines, bytes };
  };
  return { path, file, read };
}

/** Gives a reader blocked opening the named pipe at path its writer, so nothing is left waiting. */
const releasePipe = (path: string) => {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // No reader waits (ENXIO), or no pipe is there any more.
  }
};

describe('file reader', () => {
  it('reads only the new bytes of a line still waiting for its newline, and keeps it whole once it comes', async () => {
    const { path, read } = setup();
    writeFileSync(path, `ok\n${'x'.repeat(100_000)}`);
    expect(await read()).toMatchObject({ outcome: 'read', lines: [{ text: 'ok', start: 0, end: 3 }] });
    appendFileSync(path, 'y'.repeat(50_000));
    // The 100,000 bytes already read are not read again.
    expect(await read()).toEqual({ outcome: 'read', lines: [], bytes: 50_000 });
    expect((await read()).bytes).toBe(0);
    appendFileSync(path, '\nnext\n');
    const { lines, bytes } = await read();
    expect(bytes).toBe(6);
    // As before: the over-long line keeps its first max_line_bytes bytes and its length.
    expect(lines).toEqual([
      { text: 'x'.repeat(256), start: 3, end: 150_004, tooLongBytes: 150_000 },
      { text: 'next', start: 150_004, end: 150_009 },
    ]);
  });

  it('takes a named pipe put where the scan found the file for a file gone, without waiting for a writer', async () => {
    // Opened as a file, the pipe waited for a writer for good: the source read nothing more, and the
    // process could not exit.
    const { path, file } = setup();
    writeFileSync(path, 'a\n');
    const stat = statSync(path);
    const candidate = {
      path,
      dev: stat.dev,
      ino: stat.ino,
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      gz: false,
    };
    rmSync(path);
    execFileSync('mkfifo', [path]);
    cleanups.push(() => releasePipe(path));
    expect(await readHead(candidate, HEAD_BYTES)).toBeUndefined();
    expect(
      await readTask(
        { candidate, file },
        { maxLineBytes: 256, signal: new AbortController().signal, onLines: async () => {} },
      ),
    ).toEqual({ status: 'gone' });
  });

  it('reads a waiting line again from its start when its bytes were written over in place', async () => {
    // The file's first KiB, which tells a file emptied and written again, is the same: the line's
    // own first bytes are what tell that what was read of it is not in the file any more.
    const { path, read } = setup();
    writeFileSync(path, `${'h'.repeat(1100)}\n${'a'.repeat(500)}`);
    await read();
    writeFileSync(path, `${'h'.repeat(1100)}\n${'c'.repeat(600)}\n`);
    expect((await read()).lines).toEqual([
      { text: 'c'.repeat(256), start: 1101, end: 1702, tooLongBytes: 600 },
    ]);
  });

  it('reads a waiting line again from its start when the file was emptied and written again', async () => {
    const { path, file, read } = setup();
    writeFileSync(path, `${'a'.repeat(2000)}`);
    await read();
    writeFileSync(path, `${'b'.repeat(2500)}\n`);
    file.offset = 0;
    expect((await read()).lines).toEqual([
      { text: 'b'.repeat(256), start: 0, end: 2501, tooLongBytes: 2500 },
    ]);
  });
});
