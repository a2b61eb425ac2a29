import { describe, expect, it } from 'vitest';
import { InletError } from '../errors/index.ts';
import { shortOfMemory } from './query-messages.ts';

describe('an error of the engine’s process as it hands rows over', () => {
  it('is QUERY_OUT_OF_MEMORY, saying how to get the rows, when Node ran out of the memory it may hold', () => {
    // What process.send throws when the data limit refuses its buffer; it had no code, so it was a 500.
    expect(shortOfMemory(new Error('Data cannot be cloned, out of memory.'))).toMatchObject({
      code: 'QUERY_OUT_OF_MEMORY',
      message: expect.stringMatching(
        /\(Data cannot be cloned, out of memory\.\).*fewer rows \(max_rows\).*CSV/,
      ),
    });
  });

  it('leaves any other error as it is', () => {
    const other = new Error('Conversion Error: could not convert');
    expect(shortOfMemory(other)).toBe(other);
    const coded = new InletError('QUERY_TIMEOUT', 'out of memory, and of time');
    expect(shortOfMemory(coded)).toBe(coded);
  });
});
