import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { closeDuckDB, openDuckDB } from '../../engine/allocator.ts';
import {
  copyByDay,
  type DataLayout,
  publish,
  readLakeTable,
  sqlString,
  syncPath,
  writeLakeTable,
} from '../../lake/index.ts';
import type { Logger } from '../../log/index.ts';
import { compactLogPartition, LOG_PARQUET } from './log-compactor.ts';
import { type LogKind, logTableManifest, readJsonColumns } from './log-tables.ts';

export interface LogBatch {
  /** Names every file the batch writes, so writing the same batch again overwrites instead of adding. */
  base: string;
  tables: Array<{ kind: LogKind; name: string; rows: string[] }>;
  /** NDJSON reject records for lake/_rejects/<stream>/dt=<today>/. */
  rejects?: { stream: string; lines: string[] };
}

export interface PreparedLogWrite {
  /** Where the files will appear; recorded before publish() so a crash in between can be undone. */
  paths: string[];
  /** fsyncs each file and renames it into the lake. */
  publish(): void;
  discard(): void;
}

export interface LogLakeWriter {
  prepare(batch: LogBatch): Promise<PreparedLogWrite>;
  /** Merges the small files named `<prefix>…` in the partition directories of `paths`; failures are only logged. */
  compact(paths: string[], prefix: string): Promise<void>;
  close(): void;
}

/**
 * A batch's rows go to DuckDB in files of about this many characters. Its JSON reader parses 2,048
 * records at a time and holds them: one batch of 3,000 records with 60 KB messages failed with "Out
 * of Memory" under the writer's 512 MB, and the tailer retried it for ever (docs/benchmarks.md).
 */
const CHUNK_CHARS = 32 * 1024 * 1024;

/** rows cut into runs of about maxChars each (a row longer than that is a run of its own). */
export function chunksOf(rows: string[], maxChars: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const row of rows) {
    if (current.length > 0 && chars + row.length > maxChars) {
      chunks.push(current);
      current = [];
      chars = 0;
    }
    current.push(row);
    chars += row.length + 1;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Creates a directory and fsyncs its parent, so a new partition survives a power cut with its files. */
function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  ensureDir(dirname(dir));
  mkdirSync(dir);
  syncPath(dirname(dir));
}

/**
 * Writes log rows (NDJSON strings) as Hive-partitioned Parquet with a dedicated DuckDB, never the
 * sandboxed query engine. Files are staged under data/tmp and appear in the lake by atomic rename.
 */
export async function createLogLakeWriter(options: {
  layout: DataLayout;
  logger: Logger;
  /** Small files of one writer in a partition that trigger a merge (loader.compact_min_files). */
  compactMinFiles: number;
  now?: () => number;
}): Promise<LogLakeWriter> {
  const { layout, logger } = options;
  const now = options.now ?? Date.now;
  const tmpRoot = join(layout.tmp, 'logs');
  mkdirSync(join(tmpRoot, 'duckdb'), { recursive: true });
  const instance = await openDuckDB({
    // One thread: one output file per partition, and a tailer should not take the machine's cores.
    threads: '1',
    memory_limit: '512MB',
    // Lets row groups be capped in bytes (LOG_PARQUET); on one thread, rows keep their order anyway.
    preserve_insertion_order: 'false',
    temp_directory: join(tmpRoot, 'duckdb'),
    autoload_known_extensions: 'false',
    autoinstall_known_extensions: 'false',
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  const manifests = new Set<string>();

  const ensureManifest = (kind: LogKind, name: string, dir: string) => {
    if (manifests.has(dir)) return;
    const wanted = logTableManifest(kind, name);
    ensureDir(dir);
    if (JSON.stringify(readLakeTable(dir)) !== JSON.stringify(wanted)) writeLakeTable(dir, wanted);
    manifests.add(dir);
  };

  return {
    async prepare(batch) {
      const staging = join(tmpRoot, batch.base);
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      const moves: Array<{ from: string; to: string; dir: string }> = [];
      try {
        for (const table of batch.tables) {
          if (table.rows.length === 0) continue;
          const tableDir = join(layout.lake, table.name);
          ensureManifest(table.kind, table.name, tableDir);
          // Files written so far per partition: the next one's name is numbered after them.
          const written = new Map<string, number>();
          for (const [part, rows] of chunksOf(table.rows, CHUNK_CHARS).entries()) {
            const input = join(staging, `${table.name}-${part}.ndjson`);
            const output = join(staging, `${table.name}-${part}`);
            await writeFile(input, `${rows.join('\n')}\n`);
            // Log times span any days (a backfill of old logs, or POST /logs from anyone with a
            // write key): copyByDay writes them a bounded number of days at a time.
            await copyByDay(connection, {
              select:
                `SELECT * FROM read_json(${sqlString(input)}, columns=${readJsonColumns(table.kind)}, ` +
                `format='newline_delimited', maximum_object_size=67108864)`,
              out: output,
              format: LOG_PARQUET,
            });
            rmSync(input, { force: true });
            for (const partition of readdirSync(output).sort()) {
              for (const file of readdirSync(join(output, partition)).sort()) {
                const n = written.get(partition) ?? 0;
                written.set(partition, n + 1);
                const dir = join(tableDir, partition);
                const name = `${batch.base}${n === 0 ? '' : `-${n}`}.parquet`;
                moves.push({ from: join(output, partition, file), to: join(dir, name), dir });
              }
            }
          }
        }
        if (batch.rejects && batch.rejects.lines.length > 0) {
          const dir = join(
            layout.rejects,
            batch.rejects.stream,
            `dt=${new Date(now()).toISOString().slice(0, 10)}`,
          );
          const from = join(staging, 'rejects.ndjson');
          writeFileSync(from, `${batch.rejects.lines.join('\n')}\n`);
          moves.push({ from, to: join(dir, `${batch.base}.ndjson`), dir });
        }
      } catch (error) {
        rmSync(staging, { recursive: true, force: true });
        throw error;
      }
      return {
        paths: moves.map((m) => m.to),
        publish() {
          for (const move of moves) {
            ensureDir(move.dir);
            publish(move.from, move.to, move.dir);
          }
          rmSync(staging, { recursive: true, force: true });
        },
        discard() {
          rmSync(staging, { recursive: true, force: true });
        },
      };
    },
    async compact(paths, prefix) {
      const dirs = new Set(paths.filter((p) => p.endsWith('.parquet')).map((p) => dirname(p)));
      for (const dir of dirs) {
        try {
          const merged = await compactLogPartition(connection, dir, prefix, options.compactMinFiles);
          if (merged) logger.debug({ dir, prefix, ...merged }, 'compacted log files');
        } catch (error) {
          // The batch is already durable; the merge is tried again after the next one.
          logger.warn({ err: error, dir }, 'compacting log files failed; will retry');
        }
      }
    },
    close() {
      connection.closeSync();
      closeDuckDB(instance);
    },
  };
}
