import { describe, expect, it } from 'vitest';
import { createProgress, type Output, processOutput, renderTable, renderTableToFit } from './output.ts';
import { displayWidth } from './text-width.ts';

describe('renderTable', () => {
  it('lines up columns holding wide (East Asian) characters as a terminal shows them', () => {
    const table = renderTable(
      ['city', 'n'],
      [
        ['東京都', 1],
        ['Paris', 22],
        ['서울', 333],
      ],
    );
    const lines = table.trimEnd().split('\n');
    const bar = (line: string) => displayWidth(line.slice(0, line.search(/[│┼]/)));
    expect(lines.map(bar)).toEqual([7, 7, 7, 7, 7]);
    expect(lines[1]).toBe('───────┼────');
    // Cut at the width too: 30 wide characters take 60 columns.
    const cut =
      renderTable(['t'], [['漢'.repeat(100)]], 20)
        .trimEnd()
        .split('\n')[2] ?? '';
    expect(displayWidth(cut)).toBeLessThanOrEqual(20);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('shows control characters in values and names as escapes, never sends them to the terminal', () => {
    // Event properties are whatever a page sent: an escape sequence in one cleared the screen or
    // recoloured it, and a carriage return or tab broke the table's lines.
    const table = renderTable(
      ['a\u001b[31m', 'b'],
      [
        ['\u001b[2J\rx\ty\u0007', 'p\u202eq\u0085'],
        ['ok', null],
      ],
    );
    const lines = table.trimEnd().split('\n');
    for (const line of lines) expect(line).not.toMatch(/[\p{Cc}\u202e]/u);
    expect(lines[0]).toMatch(/^a\\u001b\[31m +│ b$/);
    expect(lines[2]).toBe('\\u001b[2J\\rx\\ty\\u0007 │ p\\u202eq\\u0085');
    const bar = lines[2]?.indexOf('│');
    expect([lines[0], lines[3]].map((line) => line?.indexOf('│'))).toEqual([bar, bar]);
  });

  it('keeps NULL apart from the text NULL, and an empty or space-padded text visible', () => {
    // All three showed as NULL or as a blank: a table could not tell a missing value from text.
    const table = renderTable(['a', 'b', 'c', 'd', 'e', 'f'], [[null, 'NULL', '', ' x ', '"q"', 'x y']]);
    expect(table.split('\n')[2]).toBe('NULL │ "NULL" │ "" │ " x " │ "\\"q\\"" │ x y');
  });

  it('shows the JSON text of a JSON column as it is, in a table and a row at a time', () => {
    // Quoted as text is, the JSON string "a,b" showed as "\"a,b\"".
    const row = ['"a,b"', 'null', null, '"a,b"'];
    const json = new Set([0, 1, 2]);
    expect(renderTable(['j', 'n', 'none', 't'], [row], 60, json).split('\n')[2]).toBe(
      '"a,b" │ null │ NULL │ "\\"a,b\\""',
    );
    const rows = renderTableToFit(['j', 'n', 'none', 't'], [row], 12, undefined, json).split('\n');
    expect(rows.slice(1, 5)).toEqual(['j    │ "a,b"', 'n    │ null', 'none │ NULL', 't    │ "\\"a,b\\""']);
  });

  it('lines up emoji sequences (skin tones, families, flags) as one character of two columns', () => {
    const values = ['👍🏽', '👨‍👩‍👧', '🇯🇵', '❤️', 'é', 'ab'];
    expect(values.map(displayWidth)).toEqual([2, 2, 2, 2, 1, 2]);
    // Cut between sequences, never inside one.
    const cut = renderTable(['t'], [['👨‍👩‍👧'.repeat(10)]], 7).split('\n')[2];
    expect(cut).toBe(`${'👨‍👩‍👧'.repeat(3)}…`);
  });

  it('renders many rows (inlet query --max-rows 300000)', () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => [i]);
    expect(renderTable(['n'], rows).split('\n')).toHaveLength(300_003);
  });
});

describe('progress bars', () => {
  it('are drawn on a terminal only, and not under CI even when stdout is a terminal', () => {
    const drawn = (output: Omit<Output, 'out' | 'err'>) => {
      let err = '';
      const progress = createProgress(
        { ...output, out: () => {}, err: (text) => (err += text) },
        'Sending',
        10,
      );
      progress.update(5);
      progress.done(10);
      return err;
    };
    expect(drawn({ isTty: true, progress: true })).toContain('10/10');
    expect(drawn({ isTty: true, progress: false })).toBe('');
    expect(drawn({ isTty: true })).toBe('');
    expect(processOutput({ CI: 'true' }).progress).toBe(false);
  });
});
