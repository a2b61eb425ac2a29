import { describe, expect, it } from 'vitest';
import { InletError } from '../errors/index.ts';
import { isDuckDBFault, shortOfMemory } from './query-messages.ts';

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

describe('an error of DuckDB after which it may answer no query', () => {
  it('is its INTERNAL or FATAL kind, led by DuckDB’s words or under inlet’s', () => {
    expect(isDuckDBFault(new Error('INTERNAL Error: Failed to bind column reference "val" [2.0]'))).toBe(
      true,
    );
    // What every query got after one, until the process was started again.
    const invalidated = new Error(
      'FATAL Error: Failed: database has been invalidated because of a previous fatal error. The database must be restarted prior to being used again.\nOriginal error: "Failed to bind column reference"',
    );
    expect(isDuckDBFault(invalidated)).toBe(true);
    expect(
      isDuckDBFault(
        new InletError('LAKE_UNREADABLE', 'The lake’s tables cannot be read', { cause: invalidated }),
      ),
    ).toBe(true);
  });

  it('is not an error of the query’s own that quotes those words', () => {
    expect(isDuckDBFault(new Error('Invalid Input Error: INTERNAL Error: made up'))).toBe(false);
    expect(isDuckDBFault(new Error('Binder Error: column "FATAL Error: x" not found'))).toBe(false);
  });
});
