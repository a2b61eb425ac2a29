import { CronExpressionParser } from 'cron-parser';

/** Each field of a five-field cron, in order, with what it takes; a sixth, seconds, may come first. */
const FIELDS = [
  ['minute', '0-59'],
  ['hour', '0-23'],
  ['day-of-month', '1-31'],
  ['month', '1-12 or JAN-DEC'],
  ['day-of-week', '0-7 (0 and 7 are Sunday) or SUN-SAT'],
] as const;
const SECONDS = ['seconds', '0-59'] as const;

const parses = (expression: string): boolean => {
  try {
    CronExpressionParser.parse(expression);
    return true;
  } catch {
    return false;
  }
};

/**
 * What is wrong with the first field of a cron that cron-parser refuses, each field tried alone
 * among *s; undefined when none is wrong alone. cron-parser said only "got value 25 expected range
 * 0-23", which inlet turned into "is not a cron expression" with neither the field nor its range.
 */
export function cronFieldProblem(expression: string): string | undefined {
  const values = expression.trim().split(/\s+/);
  const fields = values.length === 6 ? [SECONDS, ...FIELDS] : FIELDS;
  if (values.length !== fields.length) return undefined;
  const at = values.findIndex(
    (_value, i) => !parses(values.map((value, j) => (j === i ? value : '*')).join(' ')),
  );
  const field = fields[at];
  if (field === undefined) return undefined;
  const [name, takes] = field;
  return `the ${name} field is ${values[at]}; it takes ${takes}, as a value, a list (1,5), a range (1-5) or a step (*/2)`;
}
