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

/** The fields of a cron as written, each with its name and what it takes; undefined for an @alias. */
const namedFields = (expression: string) => {
  const values = expression.trim().split(/\s+/);
  const fields = values.length === 6 ? [SECONDS, ...FIELDS] : FIELDS;
  return values.length === fields.length ? fields.map((field, i) => ({ field, value: values[i] ?? '' })) : [];
};

/**
 * The first field that holds H, which cron-parser replaces with a value it picks at random at each
 * parse (Jenkins hashes the job's name, so its H stays put); undefined when none does. Day and month
 * names (THU) are not it.
 */
export function hashedField(expression: string): string | undefined {
  const hashed = namedFields(expression).find(({ value }) => /H/.test(value.replace(/[a-z]{3}/gi, '')));
  return hashed && `the ${hashed.field[0]} field is ${hashed.value}`;
}

/**
 * What is wrong with the first field of a cron that cron-parser refuses, each field tried alone
 * among *s; undefined when none is wrong alone. cron-parser said only "got value 25 expected range
 * 0-23", which inlet turned into "is not a cron expression" with neither the field nor its range.
 */
export function cronFieldProblem(expression: string): string | undefined {
  const fields = namedFields(expression);
  const values = fields.map(({ value }) => value);
  const wrong = fields.find(
    (_field, i) => !parses(values.map((value, j) => (j === i ? value : '*')).join(' ')),
  );
  if (wrong === undefined) return undefined;
  const [name, takes] = wrong.field;
  return `the ${name} field is ${wrong.value}; it takes ${takes}, as a value, a list (1,5), a range (1-5) or a step (*/2)`;
}

/**
 * The year a six-field cron ends in, as Quartz and AWS write one (0 0 1 1 * 2030): inlet's sixth
 * field is seconds, first, so 2030 was named as a day of the week; undefined when it ends in none.
 */
export function yearField(expression: string): string | undefined {
  const values = expression.trim().split(/\s+/);
  const last = values.at(-1) ?? '';
  return values.length === 6 && /^(?:19|2\d)\d\d(?:[-,/]\d+)*$/.test(last) ? last : undefined;
}
