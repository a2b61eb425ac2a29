// What the steps of one table's import share (csv-source.ts's csvJob runs them in turn).
import type { InletConfig } from '../../config/index.ts';
import type { CsvTable } from './csv-config.ts';
import type { MatchedFile } from './csv-file-list.ts';
import type { FilePart } from './csv-imported-files.ts';

/** What an incremental or merge import remembers: each imported file with its size, mtime and digest. */
export interface FilesPosition {
  files: Record<string, string>;
}

/** One table of a csv source, with the words its messages use. */
export interface CsvJobContext {
  source: string;
  table: CsvTable;
  config: InletConfig;
  /** The table's path:, resolved against the project directory. */
  pattern: string;
  /** source.table, which starts each message. */
  where: string;
  /** The configuration file a message says to edit. */
  configFile: string;
  /** A CSV or TSV table, not JSON. */
  delimited: boolean;
}

/** The files a run reads, as the steps narrow them and copy them for DuckDB. */
export interface CsvBatch {
  /** The files read. */
  todo: MatchedFile[];
  /** What is read of each file of todo: the file, or the lines added to it since it was imported. */
  sources: string[];
  /** What DuckDB reads for each file of todo: its source, or a copy decoded or cleaned up. */
  readable: string[];
  /** The part of each file of todo read (incremental, merge), and the lines read above it. */
  parts: Array<FilePart | undefined>;
  position: FilesPosition | undefined;
  /** What the sync says of the table beside its rows: lines that wait for a quote. */
  notes: string[];
  /** The lines above a file's rows: skip:, and its header. */
  head: number;
}
