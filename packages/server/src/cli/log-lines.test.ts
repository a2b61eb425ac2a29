import { describe, expect, it } from 'vitest';
import { logLine } from './log-lines.ts';

describe('logLine', () => {
  it('writes a record as time, level, message and key=value, quoting values with spaces', () => {
    const line = logLine({
      level: 40,
      time: '2026-12-06T12:30:50.000Z',
      msg: 'table not synced',
      code: 'SOURCE_SCHEMA_INVALID',
      error: 'primary_key "id" is not a column',
      rows: 3,
      roles: ['web', 'loader'],
    });
    expect(line.replace(/^\d\d:\d\d:\d\d /, '')).toBe(
      'WARN table not synced code=SOURCE_SCHEMA_INVALID error="primary_key \\"id\\" is not a column" rows=3 roles=["web","loader"]\n',
    );
  });

  it("keeps an unforeseen error's code and stack, a frame a line, and escapes control characters", () => {
    const err = {
      type: 'Error',
      code: 'ERR_TEST_FAULT',
      message: 'x is undefined',
      stack: 'Error: x is undefined\n    at f (a.ts:1:1)',
    };
    const line = logLine({ level: 20, time: '2026-12-06T12:30:50.000Z', msg: 'failed\u001b[2J', err });
    expect(line.split('\n').map((part) => part.replace(/^\d\d:\d\d:\d\d /, ''))).toEqual([
      'DEBUG failed\\u001b[2J err="ERR_TEST_FAULT: x is undefined"',
      '    at f (a.ts:1:1)',
      '',
    ]);
  });
});
