import { describe, expect, it } from 'vitest';
import { createIsoFormatter, parseClfTime, parseIsoTime, parseLogTime } from './log-timestamp.ts';

describe('log timestamps', () => {
  it('reads Common Log Format times with their offsets', () => {
    expect(parseClfTime('10/Oct/2026:13:55:36 +0900')).toBe(Date.parse('2026-10-10T04:55:36Z'));
    expect(parseClfTime('10/Oct/2026:13:55:36 -0530')).toBe(Date.parse('2026-10-10T19:25:36Z'));
    expect(parseClfTime('10/Oct/2026:13:55:36 0900')).toBeUndefined();
    expect(parseClfTime('10/oct/2026:13:55:36 +0900')).toBeUndefined();
    expect(parseLogTime('[01/Jan/2027:00:00:00 +0000]')).toBe(Date.parse('2027-01-01T00:00:00Z'));
  });

  it("reads Common Log Format times with fractions of a second (Apache's %{msec_frac}t), or without an offset in the configured zone", () => {
    expect(parseLogTime('10/Oct/2026:13:55:36.123 +0900')).toBe(Date.parse('2026-10-10T04:55:36.123Z'));
    expect(parseLogTime('[10/Oct/2026:13:55:36.123456 -0500]')).toBe(
      Date.parse('2026-10-10T18:55:36.123Z') + 0.456,
    );
    expect(parseLogTime('10/Oct/2026:13:55:36,5 +0000')).toBe(Date.parse('2026-10-10T13:55:36.500Z'));
    // HAProxy's accept date, [10/Oct/2026:13:55:36.123], is in the machine's zone.
    expect(parseLogTime('10/Oct/2026:13:55:36.123', 'Asia/Tokyo')).toBe(
      Date.parse('2026-10-10T04:55:36.123Z'),
    );
    expect(parseLogTime('10/Oct/2026:13:55:36', 'America/Chicago')).toBe(Date.parse('2026-10-10T18:55:36Z'));
    expect(parseLogTime('31/Feb/2026:13:55:36.123 +0000')).toBeUndefined();
    expect(parseLogTime('10/Oct/2026:13:55:36.123 +0999')).toBeUndefined();
    expect(parseLogTime('10/Foo/2026:13:55:36.123 +0000')).toBeUndefined();
  });

  it('reads ISO 8601 with Z, offsets, fractions, a space or a comma', () => {
    expect(parseIsoTime('2026-10-10T13:55:36.123+09:00')).toBe(Date.parse('2026-10-10T04:55:36.123Z'));
    expect(parseIsoTime('2026-10-10T13:55:36Z')).toBe(Date.parse('2026-10-10T13:55:36Z'));
    expect(parseIsoTime('2026-10-10 13:55:36,5 +0100')).toBe(Date.parse('2026-10-10T12:55:36.500Z'));
    expect(parseIsoTime('2026-10-10T13:55:36.123456789Z')).toBe(
      Date.parse('2026-10-10T13:55:36.123Z') + 0.456,
    );
    expect(parseIsoTime('2026-13-10T13:55:36Z')).toBeUndefined();
  });

  it('reads a time that names UTC or GMT after it, as PostgreSQL and Ruby write them', () => {
    // PostgreSQL's %m ("2026-10-10 04:55:36.123 UTC") and Ruby's Time#utc.to_s were rejected.
    expect(parseLogTime('2026-10-10 04:55:36.123 UTC', 'Asia/Tokyo')).toBe(
      Date.parse('2026-10-10T04:55:36.123Z'),
    );
    expect(parseLogTime('2026-10-10 04:55:36 GMT', 'Asia/Tokyo')).toBe(Date.parse('2026-10-10T04:55:36Z'));
    // Other zone abbreviations name no one offset (CST is three of them): still rejected.
    expect(parseLogTime('2026-10-10 13:55:36 CST')).toBeUndefined();
  });

  it("reads a zone's name after its offset, as Go's time.Time.String() and java.time's ZonedDateTime write it", () => {
    const at = Date.parse('2026-10-10T04:55:36.123Z');
    // Both were rejected as unrecognised timestamps; the offset is the time's, the name adds nothing.
    expect(parseLogTime('2026-10-10 13:55:36.123 +0900 JST', 'America/Chicago')).toBe(at);
    expect(parseLogTime('2026-10-10 13:55:36.123456789 +0900 JST m=+0.001234567')).toBe(at + 0.456);
    expect(parseLogTime('2026-10-10 10:40:36.123 +0545 +0545')).toBe(at);
    expect(parseLogTime('2026-10-10 04:55:36.123 +0000 UTC', 'Asia/Tokyo')).toBe(at);
    expect(parseLogTime('2026-10-10T13:55:36.123+09:00[Asia/Tokyo]')).toBe(at);
    expect(parseLogTime('2026-10-10T04:55:36.123Z[UTC]', 'Asia/Tokyo')).toBe(at);
    // A name without an offset still names no one offset.
    expect(parseLogTime('2026-10-10 13:55:36 CST')).toBeUndefined();
    expect(parseLogTime('2026-10-10T13:55:36[Asia/Tokyo]')).toBeUndefined();
  });

  it('reads the Apache error log, RFC 1123 and syslog times, a syslog time in the year that puts it in the past', () => {
    // Apache's error log ([Sat Oct 10 13:55:36.123456 2026]) and syslog write the server's wall clock.
    expect(parseLogTime('[Sat Oct 10 13:55:36.123456 2026]', 'Asia/Tokyo')).toBe(
      Date.parse('2026-10-10T04:55:36.123Z') + 0.456,
    );
    expect(parseLogTime('Sat Oct  3 13:55:36 2026')).toBe(Date.parse('2026-10-03T13:55:36Z'));
    expect(parseLogTime('Sat, 10 Oct 2026 13:55:36 GMT', 'Asia/Tokyo')).toBe(
      Date.parse('2026-10-10T13:55:36Z'),
    );
    expect(parseLogTime('Sat, 10 Oct 2026 13:55:36 +0900')).toBe(Date.parse('2026-10-10T04:55:36Z'));
    expect(parseLogTime('10 Oct 2026 13:55:36 -0130')).toBe(Date.parse('2026-10-10T15:25:36Z'));
    // Syslog has no year: the one that puts the time at most a day ahead of now (December's lines
    // read in January are last year's).
    const month = (m: number) =>
      ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m];
    const syslog = (d: Date) =>
      `${month(d.getUTCMonth())} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
    const hourAgo = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
    expect(parseLogTime(syslog(hourAgo))).toBe(hourAgo.getTime());
    const inAWeek = new Date(Math.floor(Date.now() / 1000) * 1000 + 7 * 86_400_000);
    const yearBefore = new Date(inAWeek);
    yearBefore.setUTCFullYear(inAWeek.getUTCFullYear() - 1);
    if (!(inAWeek.getUTCMonth() === 1 && inAWeek.getUTCDate() === 29))
      expect(parseLogTime(syslog(inAWeek))).toBe(yearBefore.getTime());
    // Still refused: a day that does not exist, a weekday without its date, a month not in English.
    expect(parseLogTime('Sat Feb 30 13:55:36 2026')).toBeUndefined();
    expect(parseLogTime('Sat 13:55:36 2026')).toBeUndefined();
    expect(parseLogTime('10 Okt 2026 13:55:36 GMT')).toBeUndefined();
  });

  it('rejects dates and times that do not exist instead of rolling them over', () => {
    // 31 Feb was stored as 3 March, 13:99 as 14:39: a garbled time landed on another day.
    expect(parseClfTime('31/Feb/2026:13:55:39 +0000')).toBeUndefined();
    expect(parseClfTime('29/Feb/2026:13:55:39 +0000')).toBeUndefined();
    expect(parseClfTime('29/Feb/2028:13:55:39 +0000')).toBe(Date.parse('2028-02-29T13:55:39Z'));
    expect(parseClfTime('10/Oct/2026:13:55:36 +0999')).toBeUndefined();
    expect(parseIsoTime('2026-04-31T10:00:00Z')).toBeUndefined();
    expect(parseIsoTime('2026-10-10T13:99:00Z')).toBeUndefined();
    expect(parseIsoTime('2026-10-10T13:55:61Z')).toBeUndefined();
    expect(parseIsoTime('2026-10-10T13:55:36+25:00')).toBeUndefined();
    expect(parseIsoTime('2026-10-10T13:55:36+09:75')).toBeUndefined();
    expect(parseLogTime('2026-02-30 08:00:00', 'Asia/Tokyo')).toBeUndefined();
    // A leap second is written as :60 and kept as the next second.
    expect(parseIsoTime('2026-12-31T23:59:60Z')).toBe(Date.parse('2027-01-01T00:00:00Z'));
  });

  it('reads a time without an offset in the configured zone, across a DST change', () => {
    expect(parseIsoTime('2026-10-10 13:55:36', 'Asia/Tokyo')).toBe(Date.parse('2026-10-10T04:55:36Z'));
    expect(parseIsoTime('2026-10-10 13:55:36')).toBe(Date.parse('2026-10-10T13:55:36Z'));
    // Berlin: CEST (+2) in July, CET (+1) in December.
    expect(parseIsoTime('2026-07-01T12:00:00', 'Europe/Berlin')).toBe(Date.parse('2026-07-01T10:00:00Z'));
    expect(parseIsoTime('2026-12-01T12:00:00', 'Europe/Berlin')).toBe(Date.parse('2026-12-01T11:00:00Z'));
  });

  it('moves a time in the daylight-saving gap forward by the gap, as java.time, PostgreSQL and DuckDB do', () => {
    // New York skips 02:00–03:00 on 2026-03-08: 02:30 was stored as 01:30 EST (06:30Z), an hour
    // before the line was written; it is 03:30 EDT.
    expect(parseIsoTime('2026-03-08 02:30:00', 'America/New_York')).toBe(Date.parse('2026-03-08T07:30:00Z'));
    expect(parseIsoTime('2026-03-08 01:59:59', 'America/New_York')).toBe(Date.parse('2026-03-08T06:59:59Z'));
    expect(parseIsoTime('2026-03-08 03:00:00', 'America/New_York')).toBe(Date.parse('2026-03-08T07:00:00Z'));
    expect(parseLogTime('Sun Mar 8 02:30:00 2026', 'America/New_York')).toBe(
      Date.parse('2026-03-08T07:30:00Z'),
    );
    // East of Greenwich too: Berlin skips 02:00–03:00 on 2026-03-29.
    expect(parseIsoTime('2026-03-29 02:30:00', 'Europe/Berlin')).toBe(Date.parse('2026-03-29T01:30:00Z'));
  });

  it('reads a time in the hour repeated when clocks go back as the earlier of the two, on either side of Greenwich', () => {
    // New York repeats 01:00–02:00 on 2026-11-01: 01:30 EDT (05:30Z) comes first, then 01:30 EST.
    expect(parseIsoTime('2026-11-01 01:30:00', 'America/New_York')).toBe(Date.parse('2026-11-01T05:30:00Z'));
    // Berlin repeats 02:00–03:00 on 2026-10-25: 02:30 was read as CET (01:30Z), the later; it is CEST.
    expect(parseIsoTime('2026-10-25 02:30:00', 'Europe/Berlin')).toBe(Date.parse('2026-10-25T00:30:00Z'));
    expect(parseIsoTime('2026-10-25 02:00:00', 'Europe/Berlin')).toBe(Date.parse('2026-10-25T00:00:00Z'));
    expect(parseLogTime('Sun Oct 25 02:59:59 2026', 'Europe/Berlin')).toBe(
      Date.parse('2026-10-25T00:59:59Z'),
    );
    // Either side of the repeated hour there is one reading.
    expect(parseIsoTime('2026-10-25 01:59:59', 'Europe/Berlin')).toBe(Date.parse('2026-10-24T23:59:59Z'));
    expect(parseIsoTime('2026-10-25 03:00:00', 'Europe/Berlin')).toBe(Date.parse('2026-10-25T02:00:00Z'));
    expect(parseIsoTime('2026-11-01 02:00:00', 'America/New_York')).toBe(Date.parse('2026-11-01T07:00:00Z'));
    // Lord Howe goes back half an hour (02:00 +11 to 01:30 +10:30) on 2026-04-05.
    expect(parseIsoTime('2026-04-05 01:45:00', 'Australia/Lord_Howe')).toBe(
      Date.parse('2026-04-04T14:45:00Z'),
    );
  });

  it('tells epoch seconds, milliseconds and microseconds apart, as numbers or strings', () => {
    const ms = Date.parse('2026-10-10T04:55:36.250Z');
    expect(parseLogTime(ms / 1000)).toBe(ms);
    expect(parseLogTime(ms)).toBe(ms);
    expect(parseLogTime(ms * 1000)).toBe(ms);
    expect(parseLogTime(String(ms / 1000))).toBe(ms);
    expect(parseLogTime(true)).toBeUndefined();
    expect(parseLogTime('yesterday')).toBeUndefined();
    expect(parseLogTime(-5)).toBeUndefined();
  });

  it('keeps microseconds, and cuts nanoseconds off, in every shape a time comes in', () => {
    const iso = createIsoFormatter();
    const at = (value: unknown, zone?: string) => {
      const ms = parseLogTime(value, zone);
      return ms === undefined ? undefined : iso(ms);
    };
    expect(at('2026-12-04T10:00:00.123456Z')).toBe('2026-12-04T10:00:00.123456Z');
    expect(at('2026-12-04T10:00:00.123456789Z')).toBe('2026-12-04T10:00:00.123456Z');
    expect(at('2026-12-04 19:00:00,000001', 'Asia/Tokyo')).toBe('2026-12-04T10:00:00.000001Z');
    expect(at('2026/12/04 10:00:00.999999')).toBe('2026-12-04T10:00:00.999999Z');
    expect(at('04/Dec/2026:10:00:00.123456 +0000')).toBe('2026-12-04T10:00:00.123456Z');
    expect(at('Fri Dec 04 10:00:00.123456 2026')).toBe('2026-12-04T10:00:00.123456Z');
    // Fluent Bit's json_date_format double, as a JSON number and as text.
    expect(at(1796378400.123456)).toBe('2026-12-04T10:00:00.123456Z');
    expect(at('1796378400.123456')).toBe('2026-12-04T10:00:00.123456Z');
    expect(at('1796378400.1234569')).toBe('2026-12-04T10:00:00.123456Z');
    // nginx's $msec, milliseconds only; epoch ms with a fraction, µs and ns.
    expect(at('1796378400.123')).toBe('2026-12-04T10:00:00.123Z');
    expect(at(1796378400123.456)).toBe('2026-12-04T10:00:00.123456Z');
    expect(at('1796378400123456')).toBe('2026-12-04T10:00:00.123456Z');
    expect(at('1796378400123456789')).toBe('2026-12-04T10:00:00.123456Z');
    expect(at('2026-12-04T10:00:00Z')).toBe('2026-12-04T10:00:00.000Z');
  });
});
