import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { findRaggedRecord, firstRecordFields } from './csv-shape.ts';

describe('findRaggedRecord', () => {
  const ragged = (text: string, options = { delimiter: ',', skip: 0 }) => {
    const temp = tempDir();
    const path = join(temp.dir, 'f.csv');
    writeFileSync(path, text);
    return findRaggedRecord(path, options).finally(() => temp.cleanup());
  };

  it('names the line of the first record with another field count than the header', async () => {
    expect(await ragged('a,b\n1,2\n3,4,5\n6\n')).toEqual({ line: 3, fields: 3, expected: 2 });
    expect(await ragged('a,b\n1,2\n3\n')).toEqual({ line: 3, fields: 1, expected: 2 });
    // The last line without a newline counts too.
    expect(await ragged('a,b\n1,2\n3,4,5')).toEqual({ line: 3, fields: 3, expected: 2 });
  });

  it('reads quoted delimiters, doubled quotes and line breaks as one field, and passes over blank lines', async () => {
    expect(await ragged('\uFEFFa,b\r\n"x, y","say ""hi""\nthere"\r\n\r\n2,3\r\n')).toBeUndefined();
    // A record over two lines is named by the line it starts on.
    expect(await ragged('a,b\n"1\n2",3\n"4\n5",6,7\n')).toEqual({ line: 4, fields: 3, expected: 2 });
  });

  it('takes a quote inside a field for text, and one after spaces at the start of a field as opening it', async () => {
    // O"Brien opened a quoted field that ran to the end of the file, and the short line went unseen.
    expect(await ragged('id,name,c\n1, "a,b",x\n2,O"Brien,y\n3,z\n')).toEqual({
      line: 4,
      fields: 2,
      expected: 3,
    });
    expect(await ragged('id,name\n1,5" screen\n2,"a ""b"" c"\n3,say "hi"\n')).toBeUndefined();
  });

  it('counts with the table delimiter and after the lines skipped', async () => {
    expect(await ragged('a;b\n1;2,5\n', { delimiter: ';', skip: 0 })).toBeUndefined();
    expect(await ragged('Export of 2026-12-01\na,b\n1,2\n', { delimiter: ',', skip: 1 })).toBeUndefined();
    expect(await ragged('Export, 2026-12-01, all\na,b\n1,2,3\n', { delimiter: ',', skip: 1 })).toEqual({
      line: 3,
      fields: 3,
      expected: 2,
    });
  });
});

describe('firstRecordFields', () => {
  it('counts the fields of the first record after the lines skipped, quoted line breaks included', () => {
    const temp = tempDir();
    const fields = (text: string, skip = 0) => {
      const path = join(temp.dir, 'f.csv');
      writeFileSync(path, text);
      return firstRecordFields(path, { delimiter: ',', skip });
    };
    try {
      expect(fields('\uFEFFemail\r\na@x\r\n')).toBe(1);
      expect(fields('\n\n"a\nb, c",d\n1,2\n')).toBe(2);
      expect(fields('Export, 2026-12-01\nemail\n', 1)).toBe(1);
      expect(fields('email')).toBe(1);
      expect(fields('\n\n')).toBeUndefined();
    } finally {
      temp.cleanup();
    }
  });
});
