import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { filesToImport } from './csv-imported-files.ts';

let dir: ReturnType<typeof tempDir> | undefined;
afterEach(() => dir?.cleanup());

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
});
