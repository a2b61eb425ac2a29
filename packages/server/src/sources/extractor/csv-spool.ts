import { mkdirSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

/** CSV bytes from a source, cut into files of about partBytes, each handed on to be converted. */
export interface CsvSpool {
  /** Appends CSV bytes; chunks may split rows anywhere, files are cut only between rows. */
  write(chunk: Buffer): Promise<void>;
  /** Hands on the last file and waits until every file has been handled. */
  end(): Promise<void>;
  /** Deletes what is left; waits for a conversion in flight and ignores its outcome. */
  abort(): Promise<void>;
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;
const WRITE_BYTES = 1 << 20;

/** Where the first row ends in chunk, given whether the bytes before it left a quoted field open. */
function rowEnd(chunk: Buffer, openQuote: boolean): number {
  let quoted = openQuote;
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i];
    if (byte === QUOTE) quoted = !quoted;
    else if (byte === NEWLINE && !quoted) return i;
  }
  return -1;
}

function countQuotes(chunk: Buffer): number {
  let count = 0;
  for (let i = chunk.indexOf(QUOTE); i !== -1; i = chunk.indexOf(QUOTE, i + 1)) count++;
  return count;
}

/**
 * Spools a CSV stream to disk so memory stays flat whatever the table size, while the previous file
 * is being converted: the source keeps streaming during conversion, and at most two files exist.
 * A newline ends a row only outside quotes; a doubled quote inside a field flips the state twice,
 * so counting quotes is enough to find row boundaries.
 * onFile gets each file in order; `empty` marks a last file that received nothing.
 */
export function createCsvSpool(options: {
  dir: string;
  partBytes: number;
  onFile(path: string, info: { empty: boolean; first: boolean }): Promise<void>;
}): CsvSpool {
  mkdirSync(options.dir, { recursive: true });
  let seq = 0;
  let handed = 0;
  let file: { path: string; handle: FileHandle } | undefined;
  let bytes = 0;
  let openQuote = false;
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  let converting: Promise<void> = Promise.resolve();
  let failure: unknown;

  const current = async () => {
    if (!file) {
      const path = join(options.dir, `spool-${String(seq++).padStart(6, '0')}.csv`);
      file = { path, handle: await open(path, 'w') };
    }
    return file;
  };
  const flush = async () => {
    if (buffered.length === 0) return;
    const target = await current();
    const chunks = buffered;
    buffered = [];
    bufferedBytes = 0;
    await target.handle.writev(chunks);
  };
  const append = (chunk: Buffer) => {
    if (chunk.length === 0) return;
    buffered.push(chunk);
    bufferedBytes += chunk.length;
    bytes += chunk.length;
    if (countQuotes(chunk) % 2 === 1) openQuote = !openQuote;
  };
  const handOn = async (last: boolean) => {
    await flush();
    const done = await current();
    file = undefined;
    await done.handle.close();
    const empty = bytes === 0;
    bytes = 0;
    openQuote = false;
    await converting;
    if (failure) throw failure;
    if (last && empty && handed > 0) {
      rmSync(done.path, { force: true });
      return;
    }
    const first = handed++ === 0;
    converting = options
      .onFile(done.path, { empty, first })
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => rmSync(done.path, { force: true }));
  };

  return {
    async write(chunk) {
      if (failure) throw failure;
      if (bytes + chunk.length >= options.partBytes) {
        const end = rowEnd(chunk, openQuote);
        if (end !== -1) {
          append(chunk.subarray(0, end + 1));
          await handOn(false);
          append(chunk.subarray(end + 1));
          return;
        }
      }
      append(chunk);
      if (bufferedBytes >= WRITE_BYTES) await flush();
    },
    async end() {
      await handOn(true);
      await converting;
      if (failure) throw failure;
    },
    async abort() {
      await converting;
      buffered = [];
      await file?.handle.close().catch(() => undefined);
      file = undefined;
      rmSync(options.dir, { recursive: true, force: true });
    },
  };
}
