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
 * A six-field cron in AWS's form (minute hour day month weekday year), which inlet reads with seconds
 * first: one ending in a year (0 0 1 1 * 2030) was refused naming 2030 as a day of the week, and one
 * with AWS's ? for the day or weekday it leaves open (0 12 * * ? *, noon each day) was taken, and ran
 * at minute 12 of every hour. Gives the five fields inlet reads it as (? as *), with what told it;
 * undefined for any other cron.
 */
export function awsForm(expression: string): { told: string; five: string } | undefined {
  const values = expression.trim().split(/\s+/);
  if (values.length !== 6) return undefined;
  const last = values[5] ?? '';
  const year = /^(?:19|2\d)\d\d(?:[-,/]\d+)*$/.test(last);
  // In the seconds-first reading ? stands in the day (4th) or weekday (6th) field; AWS puts it 3rd or 5th.
  if (!year && values[2] !== '?' && values[4] !== '?') return undefined;
  const five = values
    .slice(0, 5)
    .map((value) => (value === '?' ? '*' : value))
    .join(' ');
  return {
    told: year ? `ends in a year (${last})` : `has ? as its ${values[2] === '?' ? 'third' : 'fifth'} field`,
    five,
  };
}
