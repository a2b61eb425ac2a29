/**
 * A YAML float written with a point (1.0, 2.50, .5): dbt reads YAML in Python, where 1.0 stays a
 * float and renders as 1.0, where JavaScript's number would render it as 1.
 */
export class VarFloat {
  constructor(readonly value: number) {}
  /** Python's str() of a float: the shortest digits, .0 when whole, an exponent from 1e16 and below 1e-4. */
  toString(): string {
    const x = this.value;
    if (Number.isNaN(x)) return 'nan';
    if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
    if (Object.is(x, -0)) return '-0.0';
    const [digits = '', exponent = '0'] = x.toExponential().split('e');
    const power = Number(exponent);
    if (power < -4 || power >= 16)
      return `${digits}e${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`;
    const fixed = String(x);
    return fixed.includes('.') ? fixed : `${fixed}.0`;
  }
}
