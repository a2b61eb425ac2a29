import { expect, it } from 'vitest';
import { mergeTable, syncError, withSourceHarness } from './source-harness.ts';

/**
 * What differs between the databases in the cases every database source must pass: the SQL that
 * builds and changes their tables, and the names the test file gave them. Each test file builds
 * one over the database and tables its own beforeAll set up.
 */
export interface DatabaseSourceDialect {
  /** The source's name in inlet.yaml, which is also its schema in the lake. */
  sourceName: string;
  /** The source's inlet.yaml entry with these tables and extra fields over them. */
  source: (tables: unknown[], extra?: Record<string, unknown>) => Record<string, unknown>;
  /** Runs one statement on the test's database connection. */
  sql: (text: string) => Promise<unknown>;
  /** The table's name qualified with the test's database or schema. */
  table: (name: string) => string;
  /** A literal the customers table's updated_at and deleted_at columns take for this UTC time. */
  timestamp: (utc: string) => string;
  /**
   * The primary_key the merge case configures: MySQL's case writes it as a list and
   * PostgreSQL's as a name, so that both forms of the setting stay exercised.
   */
  customersPrimaryKey: string | string[];
  /** Creates `visits`, 30,000 rows whose tenth holds a value that fails to convert on its way to the lake. */
  createVisitsWithBadValue: () => Promise<void>;
  /** What the failure message says of `visits` after "<source>.visits: ", naming the bad value. */
  badVisitsValue: RegExp;
  /** A table of the beforeAll setup that copies without error, and its row count; its ids run from 1. */
  healthyTable: { name: string; rows: number };
  /** The markers that start a comment running to the end of the line, by a name for each. */
  lineComments: Record<string, string>;
  /** A URL with the password s3cret-Pa55 to port 1, where nothing listens, and how messages must show it. */
  unreachableUrl: { withPassword: string; shown: string };
}

/**
 * Registers the cases that are the same behaviour on every database source. The beforeAll of the
 * calling file must have created `customers` (id, name, plan, updated_at, deleted_at: 佐藤 free,
 * 鈴木 pro, 高橋 free at 2026-11-01 00:00:00, :01 and :02 UTC) and the dialect's healthy table.
 */
export function databaseSourceCases(dialect: DatabaseSourceDialect): void {
  const { sourceName, source, sql, table, timestamp } = dialect;

  it('never shows the password in a connection error', async () => {
    await withSourceHarness(
      [source([{ table: 'x' }], { url: dialect.unreachableUrl.withPassword })],
      async (h) => {
        const error = await syncError(h, sourceName);
        expect(error).toMatchObject({ code: 'SOURCE_CONNECTION_FAILED' });
        expect(error.message).toContain(dialect.unreachableUrl.shown);
        expect(JSON.stringify(error)).not.toContain('s3cret');
        expect(String(error.message)).not.toContain('s3cret');
      },
    );
  });

  it('copies a query whose last line ends in a comment', async () => {
    // inlet wraps the query in SELECT * FROM (…) AS q, and the comment swallowed the closing part;
    // an incremental query is wrapped once more, with the cursor's condition after it.
    const from = table(dialect.healthyTable.name);
    const queries = Object.entries(dialect.lineComments).flatMap(([name, marker]) => [
      { query: `SELECT id FROM ${from} WHERE id <= 3 ${marker} the first only`, name: `${name}_comment` },
      {
        query: `SELECT id FROM ${from}\nWHERE id <= 2 ${marker} the first only\n`,
        name: `${name}_comment_incremental`,
        mode: 'incremental',
        cursor: 'id',
      },
    ]);
    const copied = (incrementalRows: number) =>
      queries.map((query) => ({ table: query.name, rows: query.mode ? incrementalRows : 3 }));
    await withSourceHarness([source(queries)], async (h) => {
      expect((await h.sync(sourceName)).tables).toEqual(copied(2));
      expect((await h.sync(sourceName)).tables).toEqual(copied(0));
    });
  });

  it('copies the next table after one whose value failed to convert while rows were still streaming', async () => {
    // The failed table's stream was abandoned mid-result (MySQL paused, PostgreSQL's COPY
    // destroyed), the connection stopped reading, and the next table's query waited behind it for good.
    await dialect.createVisitsWithBadValue();
    const healthy = dialect.healthyTable;
    await withSourceHarness(
      [source([{ table: table('visits') }, { table: table(healthy.name) }], { part_size_mb: 1 })],
      async (h) => {
        const error = await syncError(h, sourceName);
        expect(error).toMatchObject({ code: 'SOURCE_DATA_INVALID' });
        const message = error.message;
        expect(message).toMatch(new RegExp(`${sourceName}\\.visits: ${dialect.badVisitsValue.source}`));
        expect(message).toMatch(new RegExp(`Copied: ${healthy.name} \\(${healthy.rows} rows\\)\\.$`));
      },
    );
  });

  it('merge mode shows the latest row per key and hides soft-deleted rows', async () => {
    const customers = table('customers');
    await withSourceHarness(
      [
        source([
          mergeTable(customers, { primary_key: dialect.customersPrimaryKey, deleted_column: 'deleted_at' }),
        ]),
      ],
      async (h) => {
        expect((await h.sync(sourceName)).rows).toBe(3);
        await sql(
          `UPDATE ${customers} SET plan = 'pro', updated_at = ${timestamp('2026-11-02 00:00:00.5')} WHERE id = 1`,
        );
        await sql(
          `UPDATE ${customers} SET deleted_at = ${timestamp('2026-11-02 00:00:01')}, updated_at = ${timestamp('2026-11-02 00:00:01')} WHERE id = 3`,
        );
        await sql(
          `INSERT INTO ${customers} VALUES (4, '田中 😀', 'free', ${timestamp('2026-11-02 00:00:02')}, NULL)`,
        );
        expect((await h.sync(sourceName)).rows).toBe(3);
        // Nothing newer: only the row at the last cursor value copied is read again.
        expect((await h.sync(sourceName)).rows).toBe(1);
        // A row committed after that run with the same cursor value (times of whole seconds or
        // milliseconds tie), and a change to the row at it that left the cursor as it was: both
        // are copied, and the view shows the version copied last.
        await sql(
          `INSERT INTO ${customers} VALUES (5, '伊藤', 'free', ${timestamp('2026-11-02 00:00:02')}, NULL)`,
        );
        await sql(`UPDATE ${customers} SET plan = 'team' WHERE id = 4`);
        expect((await h.sync(sourceName)).rows).toBe(2);
        expect(await h.query(`SELECT id, name, plan FROM ${sourceName}.customers ORDER BY id`)).toEqual([
          { id: 1, name: '佐藤', plan: 'pro' },
          { id: 2, name: '鈴木', plan: 'pro' },
          { id: 4, name: '田中 😀', plan: 'team' },
          { id: 5, name: '伊藤', plan: 'free' },
        ]);
      },
    );
  });
}
