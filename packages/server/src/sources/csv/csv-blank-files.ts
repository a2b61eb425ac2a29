import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Whether a file holds nothing but white space (or nothing at all): an export cut short or failed
 * upstream. DuckDB reads such a file as a table of one column "column0" and no rows, or one row of
 * NULLs, which would replace a full table's rows. Reads until the first other byte, so a file with
 * content costs one small read.
 */
export function isBlankFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let at = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, at);
      if (read === 0) return true;
      for (let i = 0; i < read; i++) {
        const byte = buffer[i] as number;
        // Space, tab, CR, LF, and the bytes of a UTF-8 byte order mark (EF BB BF) at the start.
        const bom = at + i < 3 && byte === [0xef, 0xbb, 0xbf][at + i];
        if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a && !bom) return false;
      }
      at += read;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The number of lines of a file when nothing but white space follows its first `skip` lines, or
 * undefined once a line after them holds something. Reads until that line, so a file with content
 * costs a small read. DuckDB's message for such a file was its CSV sniffer's, naming no line.
 */
export function linesWhenSkipLeavesNothing(path: string, skip: number): number | undefined {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let lines = 0;
    let open = false;
    for (let at = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, at);
      if (read === 0) return lines + (open ? 1 : 0);
      for (let i = 0; i < read; i++) {
        const byte = buffer[i] as number;
        if (byte === 0x0a) {
          lines += 1;
          open = false;
          continue;
        }
        open = true;
        const bom = at + i < 3 && byte === [0xef, 0xbb, 0xbf][at + i];
        if (lines >= skip && byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && !bom) return undefined;
      }
      at += read;
    }
  } finally {
    closeSync(fd);
  }
}
