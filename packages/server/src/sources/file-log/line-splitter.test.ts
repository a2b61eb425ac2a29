import { describe, expect, it } from 'vitest';
import { createLineSplitter } from './line-splitter.ts';

describe('line splitter', () => {
  it('joins lines across chunks, reports byte offsets and drops \\r', () => {
    const split = createLineSplitter(100);
    const a = split.push(Buffer.from('one\r\ntw'), 10);
    const b = split.push(Buffer.from('o\nthr'), 17);
    expect(a).toEqual([{ text: 'one', start: 10, end: 15 }]);
    expect(b).toEqual([{ text: 'two', start: 15, end: 19 }]);
    // The unfinished line is not consumed until its newline comes (or a .gz ends).
    expect(split.finish(22)).toEqual({ text: 'thr', start: 19, end: 22 });
  });

  it('keeps a multi-byte character split between chunks whole', () => {
    const split = createLineSplitter(100);
    const bytes = Buffer.from('日本\n');
    expect(split.push(bytes.subarray(0, 4), 0)).toEqual([]);
    expect(split.push(bytes.subarray(4), 4)).toEqual([{ text: '日本', start: 0, end: 7 }]);
  });

  it('keeps only the head of a line over the limit, however many chunks it spans', () => {
    const split = createLineSplitter(8);
    expect(split.push(Buffer.from('abcdefghij\nok\n'), 0)).toEqual([
      { text: 'abcdefgh', start: 0, end: 11, tooLongBytes: 10 },
      { text: 'ok', start: 11, end: 14 },
    ]);
    expect(split.push(Buffer.from('x'.repeat(5)), 14)).toEqual([]);
    expect(split.push(Buffer.from('y'.repeat(50)), 19)).toEqual([]);
    expect(split.push(Buffer.from('z\n'), 69)).toEqual([
      { text: 'xxxxxyyy', start: 14, end: 71, tooLongBytes: 56 },
    ]);
  });

  it('cuts the head of a line over the limit between characters, not inside one', () => {
    // Cut inside 日 (3 bytes), the head kept in the rejects ended with U+FFFD, which the line has not.
    const split = createLineSplitter(8);
    expect(split.push(Buffer.from('ab日本語\n'), 0)).toEqual([
      { text: 'ab日本', start: 0, end: 12, tooLongBytes: 11 },
    ]);
    expect(split.push(Buffer.from('日本'), 12)).toEqual([]);
    expect(split.push(Buffer.from('語\n'), 18)).toEqual([
      { text: '日本', start: 12, end: 22, tooLongBytes: 9 },
    ]);
    // A head that ends on a whole character keeps it.
    expect(split.push(Buffer.from('abcde日xyz\n'), 22)).toEqual([
      { text: 'abcde日', start: 22, end: 34, tooLongBytes: 11 },
    ]);
  });

  it('passes over zero bytes before a line, across chunks, and keeps those inside one', () => {
    const split = createLineSplitter(8);
    expect(split.push(Buffer.alloc(20), 0)).toEqual([]);
    expect(split.push(Buffer.concat([Buffer.alloc(30), Buffer.from('ok\na\0b\n')]), 20)).toEqual([
      { text: 'ok', start: 50, end: 53 },
      { text: 'a\0b', start: 53, end: 57 },
    ]);
  });
});
