import { describe, expect, it } from 'vitest';
import type { SplitLine } from './line-splitter.ts';
import { createRecordJoiner } from './record-joiner.ts';

/** Lines as the splitter gives them, one byte offset after another. */
const split = (...texts: string[]): SplitLine[] => {
  let at = 0;
  return texts.map((text) => {
    const line = { text, start: at, end: at + Buffer.byteLength(text) + 1 };
    at = line.end;
    return line;
  });
};

describe('record joiner', () => {
  const start = /^\d{4}-/;
  const isFirst = (line: string) => start.test(line);

  it('joins lines to the record before them, keeps blank lines inside a record and drops them at its end', () => {
    const join = createRecordJoiner({ isFirst, maxLines: 100, maxBytes: 1000 });
    const lines = split('  orphan', '2026- a', 'x', '', 'y', '', '', '2026- b');
    const out = lines.flatMap((l) => join.push(l));
    expect(out).toEqual([
      { text: '  orphan', start: 0, end: 9, truncated: false },
      { text: '2026- a\nx\n\ny', start: 9, end: 24, truncated: false },
    ]);
    expect(join.pendingStart()).toBe(24);
    expect(join.finish()).toEqual({ text: '2026- b', start: 24, end: 32, truncated: false });
    expect(join.pendingStart()).toBeUndefined();
  });

  it('cuts a record at maxBytes as at maxLines, and drops its lines until the next first line', () => {
    const join = createRecordJoiner({ isFirst, maxLines: 100, maxBytes: 12 });
    const out = split('2026- a', 'bcd', 'efgh', 'ijk', '2026- b').flatMap((l) => join.push(l));
    expect(out).toEqual([{ text: '2026- a\nbcd', start: 0, end: 17, truncated: true }]);
    expect(join.skipping()).toBe(false);
    expect(join.pendingStart()).toBe(21);
  });

  it('refuses a first line too long on its own and drops the lines of its record', () => {
    const join = createRecordJoiner({ isFirst, maxLines: 100, maxBytes: 12 });
    const [a, b, c] = split('2026- aaaaaa', '  at x', '2026- b');
    const long = { ...(a as SplitLine), tooLongBytes: 5000 };
    expect(join.push(long)).toEqual([{ ...long, truncated: true }]);
    expect(join.push(b as SplitLine)).toEqual([]);
    expect(join.skipping()).toBe(true);
    expect(join.push(c as SplitLine)).toEqual([]);
    expect(join.pendingStart()).toBe(c?.start);
  });
});
