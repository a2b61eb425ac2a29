import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { createCsvSpool } from './csv-spool.ts';

const temps: Array<{ cleanup(): void }> = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});

// Rows with quoted newlines, commas and doubled quotes: cutting at any newline would split them.
const rows = Array.from({ length: 200 }, (_, i) =>
  i % 3 === 0 ? `${i},"line one\nline ""two"", ${i}",x\n` : `${i},plain ${'日本'.repeat(i % 5)},"q"\n`,
);
const text = Buffer.from(rows.join(''));

describe('csv spool', () => {
  it('cuts files only between rows, however the stream splits the bytes', async () => {
    for (const chunkSize of [1, 7, 64, 4096]) {
      const temp = tempDir();
      temps.push(temp);
      const files: string[] = [];
      let converting = 0;
      const spool = createCsvSpool({
        dir: join(temp.dir, 'spool'),
        partBytes: 300,
        async onFile(path) {
          converting++;
          expect(converting).toBe(1);
          files.push(readFileSync(path, 'utf8'));
          await new Promise((resolve) => setTimeout(resolve, 1));
          converting--;
        },
      });
      for (let i = 0; i < text.length; i += chunkSize) await spool.write(text.subarray(i, i + chunkSize));
      await spool.end();
      // A file may overrun partBytes by at most the chunk that crossed it.
      expect(files.length).toBeGreaterThan(chunkSize > 300 ? 1 : 10);
      expect(files.join('')).toBe(text.toString('utf8'));
      for (const file of files) {
        expect(file.endsWith('\n')).toBe(true);
        expect((file.match(/"/g) ?? []).length % 2).toBe(0);
      }
    }
  });

  it('hands on one empty file when nothing arrived, and reports a failed conversion', async () => {
    const temp = tempDir();
    temps.push(temp);
    const seen: Array<{ empty: boolean; first: boolean }> = [];
    const empty = createCsvSpool({
      dir: join(temp.dir, 'a'),
      partBytes: 100,
      onFile: async (_path, info) => {
        seen.push(info);
      },
    });
    await empty.end();
    expect(seen).toEqual([{ empty: true, first: true }]);

    const failing = createCsvSpool({
      dir: join(temp.dir, 'b'),
      partBytes: 10,
      onFile: async () => {
        throw new Error('conversion failed');
      },
    });
    const attempt = async () => {
      for (let i = 0; i < 10; i++) await failing.write(Buffer.from('1,2,3\n4,5,6\n'));
      await failing.end();
    };
    await expect(attempt()).rejects.toThrow('conversion failed');
    await failing.abort();
  });
});
