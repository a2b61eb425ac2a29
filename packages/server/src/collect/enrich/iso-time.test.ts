import { describe, expect, it } from 'vitest';
import { createIsoFormatter } from './iso-time.ts';

describe('isoTime', () => {
  it('writes what toISOString writes, across days, years and leap days', () => {
    const isoTime = createIsoFormatter();
    const times = [
      0,
      1,
      999,
      86_399_999,
      86_400_000,
      951_782_400_000, // 2000-02-29
      1_733_300_000_123,
      1_733_356_799_999, // the last millisecond of a day, then the first of the next
      1_733_356_800_000,
      253_402_300_799_999, // the last millisecond of year 9999
    ];
    // Times in random order, so each one comes after another day's as often as after its own.
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 48_271) % 2_147_483_647;
      times.push(Math.floor((seed / 2_147_483_647) * 4_102_444_800_000)); // up to 2100
    }
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('drops a fraction of a millisecond as a Date does', () => {
    const isoTime = createIsoFormatter();
    expect(isoTime(1_733_300_000_123.75)).toBe('2024-12-04T08:13:20.123Z');
  });

  it('leaves times before 1970 and from year 10000 to toISOString, and throws as it does on no time', () => {
    const isoTime = createIsoFormatter();
    expect(isoTime(-1)).toBe('1969-12-31T23:59:59.999Z');
    expect(isoTime(253_402_300_800_000)).toBe('+010000-01-01T00:00:00.000Z');
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(8.64e15 + 1)).toThrow(RangeError);
  });
});
