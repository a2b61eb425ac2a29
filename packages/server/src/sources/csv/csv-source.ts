// The csv source: a table's job runs, in turn, the steps of the modules beside this one.
import { isAbsolute, relative, resolve } from 'node:path';
// The module itself, not config/index.ts: that one loads the sources, which load this file.
import { configFileName } from '../../config/config-file-name.ts';
import type { InletConfig } from '../../config/index.ts';
import { syncTables, type TableJob } from '../extractor/index.ts';
import type { Source } from '../types.ts';
import type { CsvOptions, CsvTable } from './csv-config.ts';
import { type MatchedFile, matchTableFiles, noFileMatches, refuseGzip } from './csv-file-list.ts';
import { fileLine } from './csv-imported-files.ts';
import type { CsvBatch, CsvJobContext, FilesPosition } from './csv-job-context.ts';
import { newSinceCursor } from './csv-new-lines.ts';
import { checkReadable } from './csv-read-checks.ts';
import { explainReadError } from './csv-read-errors.ts';
import { checkEncodings, dropBlank, readableCopies } from './csv-readable-copies.ts';
import { writeAndRecord } from './csv-write.ts';

/** One table's import: list its files, decide what is new, check them, then read, check and write them. */
function csvJob(source: string, table: CsvTable, config: InletConfig): TableJob {
  const { baseDir } = config;
  const pattern = isAbsolute(table.path) ? table.path : resolve(baseDir, table.path);
  const where = `${source}.${table.name}`;
  const configFile = configFileName(config);
  const delimited = table.format === 'csv' || table.format === 'tsv';
  const job: CsvJobContext = { source, table, config, pattern, where, configFile, delimited };
  return {
    target: table,
    async extract(run) {
      const files = matchTableFiles(job);
      const imported =
        table.mode === 'full' ? {} : ((run.position as FilesPosition | undefined)?.files ?? {});
      const none = noFileMatches(job, run, files, imported);
      if (none) return none;
      // Keyed relative to inlet.yaml, so moving the project does not import everything again.
      const key = (file: MatchedFile) => relative(baseDir, file.path);
      refuseGzip(job, files, imported, key);
      const batch: CsvBatch = {
        todo: files,
        sources: files.map((file) => file.path),
        readable: [],
        parts: [],
        position: undefined,
        notes: [],
        head: table.format === 'csv' || table.format === 'tsv' ? table.skip + (table.header ? 1 : 0) : 0,
      };
      /** The line of todo[i] that line `line` of what is read of it is. */
      const lineOf = async (i: number, line: number) => {
        const part = batch.parts[i];
        return part ? fileLine(part, batch.head, line) : line;
      };
      if (table.mode !== 'full') await newSinceCursor(job, run, files, imported, key, batch);
      const { position, notes } = batch;
      if (batch.todo.length === 0) return { rows: 0, position, notes };
      batch.readable = [...batch.sources];
      checkEncodings(job, batch);
      try {
        await readableCopies(job, run, batch, lineOf);
        dropBlank(job, batch);
        if (batch.readable.length === 0) return { rows: 0, position, notes };
        await checkReadable(job, batch, lineOf);
        return await writeAndRecord(job, run, batch, lineOf);
      } catch (error) {
        return await explainReadError(job, run, batch, lineOf, error);
      }
    },
  };
}

/** A `type: csv` source: CSV, TSV and JSON exports imported into the lake, types inferred by DuckDB. */
export function createCsvSource(name: string, options: CsvOptions): Source {
  return {
    name,
    type: 'csv',
    sync(context) {
      // Relative paths are read where data_dir's are: next to inlet.yaml, or in the working directory.
      return syncTables({
        source: name,
        context,
        jobs: options.tables.map((t) => csvJob(name, t, context.config)),
        memoryLimit: options.memory_limit,
      });
    },
  };
}
