import type { MysqlField, MysqlRead } from './mysql-type-mapping.ts';

/**
 * The part of a MySQL client the source uses, declared here so the rest of the source does not
 * depend on mysql2's types.
 */
export interface MysqlConnection {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Describes the columns a query returns without running it to completion. */
  describe(sql: string): Promise<MysqlField[]>;
  /** Streams the rows of a query in batches, as text values (bytes as hex), pausing the server while the reader is busy. */
  rows(sql: string, reads: Map<string, MysqlRead>): AsyncIterable<Array<Array<string | null>>>;
  /** Quotes a value as a SQL literal. */
  escape(value: string): string;
  /** Whether the connection is gone (the server restarted or killed it), so no query can run on it. */
  lost(): boolean;
  close(): Promise<void>;
}

interface Mysql2Field {
  name: string;
  columnType: number;
  columnLength: number;
  decimals: number;
  flags: number;
  characterSet: number;
  extendedFormat?: string;
  extendedTypeName?: string;
}

interface CastField {
  name: string;
  type: string;
  string(encoding?: string): string | null;
  buffer(): Buffer | null;
}

interface RowEvents {
  on(event: 'result', listener: (row: Array<string | null>) => void): RowEvents;
  on(event: 'error', listener: (error: Error) => void): RowEvents;
  on(event: 'end', listener: () => void): RowEvents;
}

const BATCH_ROWS = 1000;
/**
 * A batch also ends at about this many bytes of JavaScript strings: a thousand rows of a table of
 * 1,000 columns held ~32 MB, and the five batches in flight made most of a 931 MB peak.
 */
const BATCH_BYTES = 2 * 1024 * 1024;
const MAX_BATCHES = 4;
// What V8 spends on a string and its place in the row's array, besides the characters.
const VALUE_OVERHEAD = 32;

/**
 * A query's rows in batches. Handing over rows one by one through an async iterator costs a
 * promise per row; batches cost one per thousand. The connection is paused while batches wait, so
 * memory stays bounded, by rows and by bytes (a wide table's rows are large). A reader that stops early (a part that failed to convert) stops the query
 * and waits for its end: left paused mid-result, it held every later query on the connection.
 */
async function* rowBatches(
  query: unknown,
  connection: {
    pause(): void;
    resume(): void;
    on(event: 'error', listener: (error: Error) => void): unknown;
    off(event: 'error', listener: (error: Error) => void): unknown;
  },
  stopQuery: () => Promise<void>,
): AsyncIterable<Array<Array<string | null>>> {
  const ready: Array<Array<Array<string | null>>> = [];
  let batch: Array<Array<string | null>> = [];
  let batchBytes = 0;
  let done = false;
  let failure: Error | undefined;
  let paused = false;
  let discarding = false;
  let wake: (() => void) | undefined;
  let ended: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const fail = (error: Error) => {
    failure ??= error;
    ended();
    notify();
  };
  // mysql2 reports a connection lost mid-result (the server restarted or killed it, the network
  // dropped) on the connection, not on a streamed query, which then never ends: the sync waited
  // for good, and `inlet sync` exited 0 having copied nothing once nothing else kept it alive.
  connection.on('error', fail);
  (query as RowEvents)
    .on('result', (row) => {
      if (discarding) return;
      batch.push(row);
      for (const value of row) batchBytes += VALUE_OVERHEAD + (value?.length ?? 0);
      if (batch.length < BATCH_ROWS && batchBytes < BATCH_BYTES) return;
      ready.push(batch);
      batch = [];
      batchBytes = 0;
      if (ready.length >= MAX_BATCHES && !paused) {
        paused = true;
        connection.pause();
      }
      notify();
    })
    .on('error', fail)
    .on('end', () => {
      if (batch.length > 0) ready.push(batch);
      done = true;
      ended();
      notify();
    });
  try {
    while (true) {
      if (failure) throw failure;
      const next = ready.shift();
      if (next) {
        if (paused && ready.length < MAX_BATCHES / 2) {
          paused = false;
          connection.resume();
        }
        yield next;
      } else if (done) return;
      else
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
    }
  } finally {
    if (!done && !failure) {
      discarding = true;
      ready.length = 0;
      connection.resume();
      // Killed, the query ends with an error; without the privilege, its rows are read and dropped.
      await stopQuery().catch(() => undefined);
      await finished;
    }
    connection.off('error', fail);
  }
}

/** Stops the statement a connection runs, from a connection of its own: that one is busy streaming. */
async function killQuery(url: string, threadId: number | null): Promise<void> {
  if (threadId === null) return;
  const { default: mysql } = await import('mysql2');
  const killer = mysql.createConnection({ uri: url, flags: ['-LOCAL_FILES'], connectTimeout: 15_000 });
  killer.on('error', () => undefined);
  const run = (sql: string, params: unknown[] = []) =>
    new Promise<unknown[]>((resolve, reject) =>
      killer.query(sql, params, (error, rows) => (error ? reject(error) : resolve(rows as unknown[]))),
    );
  try {
    // Only inlet's own query: behind a proxy (ProxySQL) the id the session was given is not the server's.
    const ours = await run(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'SELECT * FROM (%'",
      [threadId],
    );
    if (ours.length > 0) await run(`KILL QUERY ${Number(threadId)}`);
  } finally {
    killer.destroy();
  }
}

/** Connects with mysql2 (loaded on first use): LOCAL INFILE off, read-only, UTC, with a statement timeout. */
export async function connectMysql(options: {
  url: string;
  statementTimeoutMs: number;
}): Promise<MysqlConnection> {
  const { default: mysql } = await import('mysql2');
  const connection = mysql.createConnection({
    uri: options.url,
    // The server cannot ask for files from this machine.
    flags: ['-LOCAL_FILES'],
    multipleStatements: false,
    charset: 'UTF8MB4_UNICODE_CI',
    connectTimeout: 15_000,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
  const run = <Row>(sql: string, params: unknown[] = []) =>
    new Promise<{ rows: Row[]; fields: Mysql2Field[] }>((resolve, reject) => {
      connection.query(sql, params, (error, rows, fields) => {
        if (error) reject(error);
        else resolve({ rows: rows as Row[], fields: (fields ?? []) as unknown as Mysql2Field[] });
      });
    });
  let lost = false;
  // Errors of a query go to its callback; what arrives here is the connection's own end.
  connection.on('error', (error: Error & { fatal?: boolean }) => {
    if (error.fatal) lost = true;
  });
  connection.on('end', () => {
    lost = true;
  });
  await new Promise<void>((resolve, reject) =>
    connection.connect((error) => (error ? reject(error) : resolve())),
  );
  try {
    const [version] = (await run<{ v: string }>('SELECT VERSION() AS v')).rows;
    const seconds = Math.max(1, Math.ceil(options.statementTimeoutMs / 1000));
    // MariaDB and MySQL name their statement timeouts differently.
    await run(
      /mariadb/i.test(version?.v ?? '')
        ? `SET SESSION max_statement_time = ${seconds}`
        : `SET SESSION max_execution_time = ${options.statementTimeoutMs}`,
    );
    await run("SET SESSION time_zone = '+00:00'");
    await run('SET SESSION TRANSACTION READ ONLY');
    // The reader pauses the stream while a part is converted; the server must wait that long.
    await run('SET SESSION net_write_timeout = 600');
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      return (await run<Row>(sql, params)).rows;
    },
    async describe(sql) {
      const { fields } = await run(`SELECT * FROM (${sql}) AS q LIMIT 0`);
      return fields.map((f) => ({
        name: f.name,
        type: f.columnType,
        length: f.columnLength,
        decimals: f.decimals,
        flags: f.flags,
        charset: f.characterSet,
        extendedType: f.extendedFormat ?? f.extendedTypeName,
      }));
    },
    rows(sql, reads) {
      const special = new Map([...reads].filter(([, read]) => read !== 'text'));
      const query = connection.query({
        sql,
        rowsAsArray: true,
        // Values stay text: no Date objects, no float rounding, no JSON parsing on the way.
        typeCast: (field: CastField) => {
          const read = special.size === 0 ? undefined : special.get(field.name);
          if (read === 'hex') return field.buffer()?.toString('hex') ?? null;
          if (read === 'json') return field.string('utf8');
          return field.string();
        },
      });
      return rowBatches(query, connection, () => killQuery(options.url, connection.threadId));
    },
    escape: (value) => connection.escape(value),
    lost: () => lost,
    async close() {
      // end() waits for the server; a connection stuck mid-result is dropped instead.
      await Promise.race([
        new Promise<void>((resolve) => connection.end(() => resolve())),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
      connection.destroy();
    },
  };
}
