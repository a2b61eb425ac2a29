import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { PostgresField, PostgresType } from './postgres-type-mapping.ts';

/**
 * The part of a PostgreSQL client the source uses, declared here so the rest of the source does not
 * depend on pg's types (and a test or another driver can provide the same shape).
 */
export interface PostgresConnection {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Describes the columns a query returns without running it to completion. */
  describe(sql: string): Promise<PostgresField[]>;
  /** pg_type rows for these oids. */
  types(oids: number[]): Promise<PostgresType[]>;
  /**
   * Streams the output of COPY … TO STDOUT. rowCount() (after the chunks end) is what the server
   * says it sent, so a stream cut short cannot pass for a finished one.
   */
  copyOut(sql: string): { chunks: AsyncIterable<Buffer>; rowCount(): Promise<number> };
  /** Whether the connection is gone (the server restarted or ended it), so no query can run on it. */
  lost(): boolean;
  close(): Promise<void>;
}

// Every session is read-only, stopped after the statement timeout, and prints values in the forms
// the type mapping expects (UTC, ISO dates, hex bytea) whatever the server's defaults are.
const sessionSettings = (statementTimeoutMs: number) =>
  [
    `SET statement_timeout = ${statementTimeoutMs}`,
    `SET idle_in_transaction_session_timeout = ${statementTimeoutMs}`,
    'SET default_transaction_read_only = on',
    "SET TimeZone = 'UTC'",
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    'SET extra_float_digits = 3',
    "SET client_encoding = 'UTF8'",
    "SET bytea_output = 'hex'",
    'SET standard_conforming_strings = on',
  ].join('; ');

/** Cancels the statement a session runs, from a session of its own: that one is busy sending COPY. */
async function cancelBackend(url: string, pid: number | null | undefined): Promise<void> {
  if (!pid) return;
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: url,
    application_name: 'inlet',
    connectionTimeoutMillis: 15_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    // Only inlet's own COPY: behind a pooler (pgbouncer) the pid the session was given is not a backend's.
    await client.query(
      "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND application_name = 'inlet' AND query LIKE 'COPY %'",
      [pid],
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * COPY's chunks. A reader that stops early (a part that failed to convert) cancels the COPY and
 * reads what is left until its end: the stream destroyed mid-copy stopped the connection reading,
 * and every later query of the source waited behind it.
 */
async function* copyChunks(stream: Readable, cancel: () => Promise<void>): AsyncIterable<Buffer> {
  let ended = false;
  stream.once('end', () => {
    ended = true;
  });
  try {
    yield* stream.iterator({ destroyOnReturn: false });
  } finally {
    if (!ended && !stream.destroyed) {
      await cancel().catch(() => undefined);
      stream.resume();
      await finished(stream).catch(() => undefined);
    }
  }
}

/** Connects with pg (loaded on first use, so configuring a source costs nothing until it syncs). */
export async function connectPostgres(options: {
  url: string;
  statementTimeoutMs: number;
}): Promise<PostgresConnection> {
  const { default: pg } = await import('pg');
  const { to: copyTo } = await import('pg-copy-streams');
  const client = new pg.Client({
    connectionString: options.url,
    application_name: 'inlet',
    connectionTimeoutMillis: 15_000,
    keepAlive: true,
  });
  // An idle client reports a dropped connection as an event; the next call fails with it instead.
  // The end of a connection during a query or COPY (a FATAL error: the server terminated it) is
  // known from that error, before the socket's end reaches the client.
  let lost = false;
  const markLost = () => {
    lost = true;
  };
  const watch = (error: unknown) => {
    if ((error as { severity?: unknown })?.severity === 'FATAL') lost = true;
  };
  client.on('error', markLost);
  client.on('end', markLost);
  await client.connect();
  try {
    await client.query(sessionSettings(options.statementTimeoutMs));
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  const copies = new Set<{ destroy(): void }>();
  return {
    async query<Row>(sql: string, params?: unknown[]) {
      try {
        return (await client.query(sql, params)).rows as Row[];
      } catch (error) {
        watch(error);
        throw error;
      }
    },
    async describe(sql) {
      const result = await client.query(`SELECT * FROM (${sql}) AS q LIMIT 0`);
      const oids = result.fields.map((f) => f.dataTypeID);
      const mods = result.fields.map((f) => f.dataTypeModifier);
      // The server names the table column a field plainly is (through subqueries and CTEs too; 0
      // for an expression), so a query's columns get their comments as well as a table's.
      const tables = result.fields.map((f) => f.tableID);
      const attnums = result.fields.map((f) => f.columnID);
      const described = (
        await client.query<{ t: string; comment: string | null }>(
          'SELECT format_type(f.oid, f.typmod) AS t, CASE WHEN f.tab <> 0 THEN col_description(f.tab, f.col) END AS comment ' +
            'FROM unnest($1::oid[], $2::int[], $3::oid[], $4::int[]) WITH ORDINALITY AS f(oid, typmod, tab, col, n) ORDER BY n',
          [oids, mods, tables, attnums],
        )
      ).rows;
      return result.fields.map((f, i) => ({
        name: f.name,
        typeOid: f.dataTypeID,
        typmod: f.dataTypeModifier,
        declared: described[i]?.t ?? String(f.dataTypeID),
        comment: described[i]?.comment,
      }));
    },
    async types(oids) {
      const rows = await client.query<PostgresType>(
        'SELECT oid::int AS oid, typname AS name, typtype AS kind, typcategory AS category, ' +
          'typelem::int AS elem, typbasetype::int AS base, typtypmod AS "baseTypmod" FROM pg_type WHERE oid = ANY($1::oid[])',
        [oids],
      );
      return rows.rows;
    },
    copyOut(sql) {
      const stream = client.query(copyTo(sql));
      stream.on('error', watch);
      copies.add(stream);
      stream.once('close', () => copies.delete(stream));
      const pid = (client as unknown as { processID?: number | null }).processID;
      return {
        chunks: copyChunks(stream, () => cancelBackend(options.url, pid)),
        async rowCount() {
          // Queries run in order, so once this answers, COPY's completion message has been read.
          await client.query('SELECT 1');
          return stream.rowCount;
        },
      };
    },
    lost: () => lost,
    async close() {
      for (const stream of copies) stream.destroy();
      // end() waits for the server; a connection stuck mid-COPY is dropped instead.
      await Promise.race([
        client.end().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 2000).unref()),
      ]);
    },
  };
}
