import { describe, expect, it } from 'vitest';
import { renderTable } from './output.ts';
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

  it('renders many rows (inlet query --max-rows 300000)', () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => [i]);
    expect(renderTable(['n'], rows).split('\n')).toHaveLength(300_003);
  });
});
