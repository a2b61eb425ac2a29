import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.ts';

/** The message a configuration gives for a csv table in this encoding, or undefined when it is read. */
function refusal(encoding: string): string | undefined {
  try {
    parseConfig({ sources: [{ name: 'crm', type: 'csv', tables: [{ path: 'clients.csv', encoding }] }] });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const LISTED = 'Those it reads are listed in docs/csv.md (Encodings)';

describe('a csv table encoding inlet cannot read', () => {
  it('is named, with the closest name inlet knows or what it stands for, and where the encodings are listed', () => {
    // Each was told "use utf-8, shift_jis, cp932 or euc-jp", which named neither the encoding given nor
    // the many others inlet reads (GBK, Big5, EUC-KR, Windows-1252…).
    const where = 'inlet.yaml is not valid:\n  sources[0].tables[0].encoding: ';
    expect(refusal('shiftjs')).toBe(
      `${where}"shiftjs" is not an encoding inlet can read; did you mean shift_jis? ${LISTED}`,
    );
    for (const [given, meant] of [
      ['Shift-JISS', 'shift_jis'],
      ['eucjpms', 'euc-jp'],
      ['gbk2312', 'gb2312'],
      ['windows1252x', 'windows-1252'],
      ['UTF-8 BOM', 'utf-8 (which reads a file with a byte order mark and one without)'],
      ['utf-8-sig', 'utf-8 (which reads a file with a byte order mark and one without)'],
      ['UTF-8N', 'utf-8 (which reads a file with a byte order mark and one without)'],
      ['cp65001', "utf-8 (Windows' code page 65001)"],
      ['Unicode', "utf-16le (Excel's Unicode Text)"],
      ['ANSI', "windows-1252 (Windows' ANSI in Western Europe and the Americas) or cp932 (in Japan)"],
      ['latin', 'latin1, latin2 or latin3'],
    ])
      expect(refusal(given)).toContain(
        `"${given}" is not an encoding inlet can read; did you mean ${meant}? ${LISTED}`,
      );
    // JIS is a few letters from sjis, which it is not: iconv-lite has no ISO-2022-JP.
    for (const given of ['jis', 'ISO-2022-JP'])
      expect(refusal(given)).toContain(
        `"${given}" is not an encoding inlet can read; iconv-lite, which inlet reads files through, has no ISO-2022-JP (JIS): save the file as UTF-8 or Shift_JIS, or convert it (iconv -f ISO-2022-JP -t UTF-8)`,
      );
    // iconv-lite's hex and base64 were taken, and a file read in one imported as a header of digits and no rows.
    for (const given of ['hex', 'Base64'])
      expect(refusal(given)).toContain(
        `"${given}" is not an encoding inlet can read; hex and base64 are iconv-lite's ways of writing bytes as text, not encodings of characters: set the one the file is in (utf-8, the default, if encoding: is left out)`,
      );
    // Nothing close: those most files are in.
    expect(refusal('klingon')).toContain(
      '"klingon" is not an encoding inlet can read; use one of those listed in docs/csv.md (Encodings), such as utf-8, shift_jis, cp932, euc-jp, gbk, gb18030, big5, euc-kr, latin1, windows-1252, utf-16le',
    );
  });

  it('is none of those docs/csv.md lists under Encodings, written as it writes them', () => {
    const doc = readFileSync(
      join(import.meta.dirname, '..', '..', '..', '..', '..', 'docs', 'csv.md'),
      'utf8',
    );
    const section = doc.slice(
      doc.indexOf('\n## Encodings'),
      doc.indexOf('\n## ', doc.indexOf('\n## Encodings') + 1),
    );
    // The table's rows, below its head (| language | `encoding:` |).
    const rows = section
      .split('\n')
      .filter((line) => /^\| .* \| `/.test(line) && !line.startsWith('| language'));
    const names = rows.flatMap((row) =>
      [...(row.split(' | ')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]),
    );
    expect(names).toEqual(
      expect.arrayContaining(['utf-8', 'shift_jis', 'gbk', 'big5', 'euc-kr', 'windows-1252']),
    );
    expect(names.length).toBeGreaterThan(40);
    for (const name of names) expect(refusal(name ?? ''), name).toBeUndefined();
  });
});
