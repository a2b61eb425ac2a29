const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z: from there on toISOString writes a six-digit year with a sign. */
const YEAR_10000_MS = 253_402_300_800_000;

const digits = (count: number, width: number): string[] =>
  Array.from({ length: count }, (_, i) => String(i).padStart(width, '0'));
const TWO = digits(100, 2);
const THREE = digits(1000, 3);

/**
 * Builds isoTime(ms), the text new Date(ms).toISOString() gives, for the two times of every event.
 * toISOString formats through the C library's printf, ~4 % of the collector's CPU an event; here
 * the day's part (2026-12-04T) is kept from the last call, as a request's events fall on one day or
 * a few, and the time of day is put together from tables. Times before 1970 or from year 10000 on
 * (and what is no time) go to toISOString, which writes them, or throws, as before.
 */
export function createIsoFormatter(): (ms: number) => string {
  let day = Number.NaN;
  let dayPrefix = '';
  return (ms) => {
    if (!(ms >= 0 && ms < YEAR_10000_MS)) return new Date(ms).toISOString();
    // A Date drops the fraction of a millisecond (epoch seconds with decimals leave one).
    const whole = Math.trunc(ms);
    const today = Math.floor(whole / DAY_MS);
    if (today !== day) {
      day = today;
      dayPrefix = new Date(today * DAY_MS).toISOString().slice(0, 11);
    }
    let rest = whole - today * DAY_MS;
    const milli = rest % 1000;
    rest = (rest - milli) / 1000;
    const second = rest % 60;
    rest = (rest - second) / 60;
    const minute = rest % 60;
    const hour = (rest - minute) / 60;
    return `${dayPrefix}${TWO[hour]}:${TWO[minute]}:${TWO[second]}.${THREE[milli]}Z`;
  };
}
