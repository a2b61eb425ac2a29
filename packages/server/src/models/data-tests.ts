import type { Json } from '@duckdb/node-api';
import { keywordSources, OUT_OF_MEMORY, tableGuess, withQuotedSchemaHint } from '../engine/index.ts';
import { sqlString } from '../lake/index.ts';
import type { BuildEngine } from './build-engine.ts';
import { testOutOfMemoryMessage } from './build-memory.ts';
import type { ColumnTest, ModelConfig } from './model-config.ts';
import { asSubquery } from './model-template.ts';
import { quoteColumn } from './sql-names.ts';
import { analyzeSelect } from './sql-references.ts';

/** One data test as SQL that selects the rows breaking it: none means it passes. */
export interface DataTest {
  model: string;
  name: string;
  sql: string;
  /** The same test comparing as text, for when DuckDB cannot cast one side to the other's type. */
  textSql?: string;
}

export interface DataTestResult {
  model: string;
  name: string;
  status: 'pass' | 'fail' | 'error';
  /** Rows that break the test. */
  failures: number;
  /** Up to five of them, to show. */
  sample: Record<string, Json>[];
  /** DuckDB's message when the test could not run. */
  message?: string;
}

function columnTestSql(
  relation: string,
  column: string,
  test: ColumnTest,
  resolve: (name: string) => string,
) {
  const col = quoteColumn(column);
  if (test === 'not_null')
    return { name: `not_null(${column})`, sql: `SELECT * FROM ${relation} WHERE ${col} IS NULL` };
  if (test === 'unique')
    return {
      name: `unique(${column})`,
      sql: `SELECT ${col}, count(*) AS n FROM ${relation} WHERE ${col} IS NOT NULL GROUP BY ALL HAVING count(*) > 1`,
    };
  if ('accepted_values' in test) {
    const { values } = test.accepted_values;
    const texts = values.map((v) => sqlString(String(v))).join(', ');
    // A number in the YAML also matches by value: as text alone, 1 refused a DECIMAL's 1.0.
    const numbers = values.filter((v): v is number => typeof v === 'number');
    const numeric =
      numbers.length > 0
        ? ` OR coalesce(TRY_CAST(${col}::VARCHAR AS DOUBLE) IN (${numbers.map((v) => `${sqlString(String(v))}::DOUBLE`).join(', ')}), false)`
        : '';
    return {
      name: `accepted_values(${column})`,
      sql: `SELECT ${col}, count(*) AS n FROM ${relation} WHERE ${col} IS NOT NULL AND NOT (${col}::VARCHAR IN (${texts})${numeric}) GROUP BY ALL`,
    };
  }
  const { to, field } = test.relationships;
  // The key is selected by name first: a field: the table lacks, read as p."zz" in the correlated
  // subquery, failed as 'Referenced table "p" not found!', naming neither the field nor the table.
  const check = (left: string, right: string) =>
    `SELECT DISTINCT c.${col} FROM ${relation} c WHERE c.${col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM (SELECT ${quoteColumn(field)} AS parent_key FROM ${resolve(to)}) p WHERE ${left} = ${right})`;
  return {
    name: `relationships(${column} → ${to}.${field})`,
    sql: check('p.parent_key', `c.${col}`),
    // A text id ('acct_9') against a number key failed the cast instead of the test.
    textSql: check('p.parent_key::VARCHAR', `c.${col}::VARCHAR`),
  };
}

/**
 * The tests a model's configuration declares, against relation (its published view, or its staged
 * files before they are published). resolve turns a model or table name into a relation; render
 * turns a custom test's template into SQL.
 */
export function modelTests(
  model: string,
  config: ModelConfig,
  relation: string,
  resolve: (name: string) => string,
  render: (sql: string) => string,
): DataTest[] {
  const tests: DataTest[] = [];
  for (const [column, value] of Object.entries(config.columns)) {
    if (typeof value === 'string') continue;
    for (const test of value.tests) tests.push({ model, ...columnTestSql(relation, column, test, resolve) });
  }
  config.tests.forEach((test, i) => {
    if ('unique' in test) {
      const columns = test.unique.map(quoteColumn).join(', ');
      tests.push({
        model,
        name: `unique(${test.unique.join(', ')})`,
        sql: `SELECT ${columns}, count(*) AS n FROM ${relation} GROUP BY ALL HAVING count(*) > 1`,
      });
    } else {
      tests.push({ model, name: test.name ?? `sql_${i + 1}`, sql: render(test.sql) });
    }
  });
  return tests;
}

/**
 * Runs each test; a test that cannot run is an error, which fails like a failing test. Once signal
 * aborts, the tests not yet run are left out.
 */
export async function runDataTests(
  engine: BuildEngine,
  tests: DataTest[],
  signal?: AbortSignal,
  /** Whether a name is a model or seed of the project, to say to build one a test reads. */
  isNode: (name: string) => boolean = () => false,
): Promise<DataTestResult[]> {
  const results: DataTestResult[] = [];
  const failing = async (sql: string) => {
    // Set inside a subquery below and run as text: SQL that closed it ran statements of its own
    // (a COPY into the lake), so it must be one SELECT, checked as a model's is.
    const analysis = await analyzeSelect(engine.connection, sql, 'a test');
    // Text DuckDB cannot parse fails as a Parser Error, as when the test ran, for the keyword hint.
    if (!analysis.ok) throw new Error(`${analysis.unparsed ? 'Parser Error: ' : ''}${analysis.reason}`);
    const count = await engine.rows(`SELECT count(*)::BIGINT AS n FROM ${asSubquery(sql)} AS failing`);
    const failures = Number(count[0]?.n ?? 0);
    const sample =
      failures > 0 ? await engine.rows(`SELECT * FROM ${asSubquery(sql)} AS failing LIMIT 5`) : [];
    return { failures, sample };
  };
  for (const test of tests) {
    if (signal?.aborted) break;
    try {
      const { failures, sample } = await failing(test.sql).catch((error: Error) => {
        if (test.textSql && /Conversion Error/.test(error.message)) return failing(test.textSql);
        throw error;
      });
      results.push({
        model: test.model,
        name: test.name,
        status: failures > 0 ? 'fail' : 'pass',
        failures,
        sample,
      });
    } catch (error) {
      results.push({
        model: test.model,
        name: test.name,
        status: 'error',
        failures: 0,
        sample: [],
        message: await errorMessage(engine, test.sql, error as Error, isNode),
      });
    }
  }
  return results;
}

/** Why a test could not run: DuckDB's first line, and what to do where DuckDB does not say. */
async function errorMessage(
  engine: BuildEngine,
  sql: string,
  error: Error,
  isNode: (name: string) => boolean,
): Promise<string> {
  const message = error.message.split('\n')[0] ?? '';
  // A column named in the configuration that the table lacks (a typo, or one since renamed).
  const column = /Referenced column "([^"]+)" not found/.exec(message)?.[1];
  if (column !== undefined)
    return `${message} ${column} is not a column of the table the test reads: fix its name in the test (under columns:, in unique:, a relationships test's field: or its SQL), or remove the test`;
  const absent = /Table with name (\S+) does not exist/.exec(message)?.[1];
  if (absent && isNode(absent))
    return `${absent}, which this test reads, has not been built; run inlet run ${absent} first`;
  // DuckDB's guess at the name meant is on the line after its first, which alone is kept.
  if (absent) {
    const guess = tableGuess(error.message);
    return `${absent}, which this test reads, is not a table or view in the lake${guess ? ` (did you mean ${guess}?)` : ''}: correct the name in the test (a relationships test's to:, or its SQL); inlet catalog lists the tables`;
  }
  if (OUT_OF_MEMORY.test(message)) return testOutOfMemoryMessage(message, engine.memory);
  // A source named as a keyword (left, order) written bare fails to parse, as in models and queries.
  const keywords = /Parser Error/.test(message)
    ? await keywordSources(engine.connection, sql, engine.sources)
    : [];
  return withQuotedSchemaHint(message, sql, keywords);
}
