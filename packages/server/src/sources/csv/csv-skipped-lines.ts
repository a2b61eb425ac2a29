import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const QUOTE = 0x22;
const SPACE = 0x20;
const LINE_BREAK = 0x0a;

/** Whether a quote is on one of a file's first `skip` lines; reads no further than them. */
function quoteInFirstLines(path: string, skip: number): boolean {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let lines = 0;
    for (let at = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, at);
      if (read === 0) return false;
      for (let i = 0; i < read; i++) {
        if (buffer[i] === QUOTE) return true;
        if (buffer[i] === LINE_BREAK && ++lines === skip) return false;
      }
      at += read;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The file DuckDB is to read for one whose first `skip` lines skip: passes over: the file itself,
 * or, when a quote is on one of those lines, a copy at `out` with those quotes written as spaces.
 * DuckDB's skip passes over records, not lines, so such a quote (a title "Orders, exported …)
 * opened a field that ran to the end of the file, which it skipped whole: no row was imported, or
 * its sniffer failed. The copy has the same lines, so a line named in it is the file's.
 */
export async function withSkippedLinesUnquoted(path: string, skip: number, out: string): Promise<string> {
  if (skip === 0 || !quoteInFirstLines(path, skip)) return path;
  let lines = 0;
  const unquote = new Transform({
    transform(chunk: Buffer, _, done) {
      if (lines >= skip) return done(null, chunk);
      const copy = Buffer.from(chunk);
      for (let i = 0; i < copy.length && lines < skip; i++) {
        if (copy[i] === QUOTE) copy[i] = SPACE;
        else if (copy[i] === LINE_BREAK) lines += 1;
      }
      done(null, copy);
    },
  });
  mkdirSync(dirname(out), { recursive: true });
  await pipeline(createReadStream(path), unquote, createWriteStream(out));
  return out;
}
