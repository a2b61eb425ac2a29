import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers.ts';
import { findNotUtf8 } from './csv-file-encoding.ts';
import { findMixedLineBreak, findRaggedRecord, firstRecordFields } from './csv-shape.ts';

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

describe('findNotUtf8', () => {
  const notUtf8 = (bytes: Buffer) => {
    const temp = tempDir();
    const path = join(temp.dir, 'f.csv');
    writeFileSync(path, bytes);
    return findNotUtf8(path).finally(() => temp.cleanup());
  };

  it('names the line and character of the first byte that is not UTF-8, counting characters, not bytes', async () => {
    const utf8 = (text: string) => Buffer.from(text, 'utf8');
    expect(await notUtf8(utf8('\uFEFFid,名前\n1,東京 🍣\n'))).toBeUndefined();
    expect(await notUtf8(Buffer.concat([utf8('id,名前\n1,東京'), Buffer.from([0xe9]), utf8('\n')]))).toEqual({
      line: 2,
      character: 5,
      byte: 0xe9,
    });
    // A sequence cut by a line break, or by the end of the file, is named where it began.
    expect(await notUtf8(Buffer.from([0x61, 0x0a, 0x62, 0xe3, 0x81, 0x0a]))).toEqual({
      line: 2,
      character: 2,
      byte: 0xe3,
    });
    expect(await notUtf8(Buffer.from([0x61, 0xf0, 0x9f]))).toEqual({ line: 1, character: 2, byte: 0xf0 });
    // An overlong form and a surrogate are not UTF-8 either.
    expect(await notUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).toEqual({ line: 1, character: 2, byte: 0xc0 });
    expect(await notUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toEqual({ line: 1, character: 1, byte: 0xed });
  });
});

describe('findMixedLineBreak', () => {
  const mixed = (text: string, skip = 0) => {
    const temp = tempDir();
    const path = join(temp.dir, 'f.csv');
    writeFileSync(path, text);
    return findMixedLineBreak(path, { delimiter: ',', skip }).finally(() => temp.cleanup());
  };

  it('names the first line that ends in another line break than the first, outside quoted fields and skipped lines', async () => {
    expect(await mixed('a,b\r\n1,2\r\n3,4\n5,6\r\n')).toEqual({ line: 3, found: 'LF', first: 'CRLF' });
    expect(await mixed('a,b\n1,2\r\n')).toEqual({ line: 2, found: 'CRLF', first: 'LF' });
    // Excel ends rows in CRLF and breaks lines in a cell with LF.
    expect(await mixed('a,b\r\n1,"x\ny ""z""\n"\r\n2,3\r\n')).toBeUndefined();
    expect(await mixed('Export of 2026-12-01\na,b\r\n1,2\r\n', 1)).toBeUndefined();
  });
});
