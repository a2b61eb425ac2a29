/**
 * A YAML 1.1 timestamp, which PyYAML makes a Python date or datetime. dbt renders one alone as
 * Python's str() (2026-01-01), and one inside a list or a map as its repr()
 * (datetime.date(2026, 1, 1)), as Python prints a list; a string would print '2026-01-01' there.
 */
export class VarDate {
  constructor(
    /** Python's str(): 2026-01-01, 2026-01-01 10:00:00+00:00. */
    readonly text: string,
    /** Python's repr(): datetime.date(2026, 1, 1), datetime.datetime(2026, 1, 1, 10, 0, tzinfo=…). */
    readonly repr: string,
    /** Why Python makes no date of it (day is out of range for month), where it is no real day or time. */
    readonly problem?: string,
  ) {}
  toString(): string {
    return this.text;
  }
}
