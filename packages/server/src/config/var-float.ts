import { isMap, isScalar, isSeq, parse as parseYaml, type ScalarTag, type Tags, visit } from 'yaml';

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

/**
 * YAML read as dbt reads vars (dbt_project.yml's vars:, --vars): as the yaml package does, but a
 * float written with a point is a VarFloat, so that 1.0 renders as 1.0.
 */
export function parseVarsYaml(text: string): unknown {
  return parseYaml(text, {
    customTags: (tags: Tags) =>
      tags.map((tag) =>
        typeof tag === 'object' && !('collection' in tag) && tag.tag === 'tag:yaml.org,2002:float'
          ? keepFloat(tag)
          : tag,
      ),
  });
}

/** The float tag, resolving a number written with a point to a VarFloat. */
const keepFloat = (tag: ScalarTag): ScalarTag => ({
  ...tag,
  resolve(source, onError, options) {
    const resolved = tag.resolve(source, onError, options);
    const value = isScalar(resolved) ? resolved.value : resolved;
    return source.includes('.') && typeof value === 'number' ? new VarFloat(value) : resolved;
  },
});

/**
 * Turns the numbers written with a point in each step's vars: (a parsed workflow's steps: node)
 * into VarFloats, as parseVarsYaml reads them; the rest of the workflow keeps plain numbers, which
 * its other fields (retries: 2.0) are checked as.
 */
export function keepStepVarFloats(steps: unknown): void {
  if (!isSeq(steps)) return;
  for (const step of steps.items) {
    if (!isMap(step)) continue;
    const vars = step.get('vars', true);
    if (!vars) continue;
    visit(vars, {
      Scalar(_key, node) {
        if (typeof node.value === 'number' && node.source?.includes('.'))
          node.value = new VarFloat(node.value);
      },
    });
  }
}
