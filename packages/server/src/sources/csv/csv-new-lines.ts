// Deciding what of a table's files is new since the files it imported (incremental, merge).
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TableRun } from '../extractor/index.ts';
import type { CsvTable } from './csv-config.ts';
import { type MatchedFile, unreadable } from './csv-file-list.ts';
import { filesToImport, writeFilePart } from './csv-imported-files.ts';
import type { CsvBatch, CsvJobContext } from './csv-job-context.ts';
import type { CsvFormat } from './csv-type-mapping.ts';
import { delimiterBytes, multiByteChars } from './csv-type-mapping.ts';

/**
 * Whether a table's files that grew have only their new lines imported: a JSON array ends in its ],
 * and a file in UTF-16 or UTF-32 has line breaks of more than one byte, so such files are imported
 * whole. In merge too: a file that still starts with the bytes imported from it holds those rows
 * unchanged, so the lines after them are all it adds, and later than the rows before, as merge
 * orders the versions of a key of the same cursor.
 */
const resumable = (table: CsvTable) =>
  table.mode !== 'full' && table.format !== 'json' && !/^(utf-?(16|32)|ucs)/i.test(table.encoding);

/**
 * The note for lines of a file that wait for a quoted field to close: a row still being written, or
 * a stray quote, which holds them back until the file is still for SETTLED_MS or MAX_ROW_BYTES follow it.
 */
const quoteWait = (where: string, file: string, line: number, format: CsvFormat) =>
  `${where}: line ${line} of ${file} opens a quoted field (") that no quote closes yet, so it and the lines after it wait for the closing quote, as a row still being written. ` +
  'If the quote is stray, correct the line (a quote inside a field is written twice, ""): the lines wait until the file has not changed for a minute, ' +
  // A TSV file's quoting is DuckDB's guess (TSV exports need not quote), and for a quote left open it guesses none.
  (format === 'tsv'
    ? 'or until more than 8 MB follow the quote, and are then read as a TSV file with a quote left open is, without quoting: the quote is kept as text.'
    : 'or until more than 8 MB follow the quote, and the sync then fails naming it.');

/** The warning for a file of an incremental table imported again in full, its rows from before kept. */
function importedAgain(where: string, path: string, resumes: boolean, table: CsvTable): string {
  const why = resumes
    ? 'no longer starts with the lines imported from it (rewritten or cut short in place)'
    : 'changed since it was imported, and a .json file or one in UTF-16 is imported whole';
  const file = basename(path);
  // A file renamed by logrotate, under a path: that names one file, looks rewritten: the renamed
  // file is not matched, and the lines written to it after the last sync were lost without a word.
  const stem = file.includes('.') ? file.slice(0, file.lastIndexOf('.')) : file;
  const renamed =
    resumes && !/[*?]/.test(basename(table.path))
      ? `; if it was renamed instead (logrotate, mv), the lines written to it since the last sync are not read, as path: matches no other name: give path: a pattern that matches the renamed files too (${table.path.slice(0, table.path.length - basename(table.path).length)}${stem}*${file.slice(stem.length)}, with name: ${table.name}), whose new ones are then taken for it renamed`
      : '';
  return (
    `${where}: ${file} ${why}, so it is imported again in full, as a new file, and the rows imported from it before stay in the table; ` +
    `an export rewritten in place belongs in mode: merge, with a primary_key (docs/csv.md)${renamed}`
  );
}

/** Narrows the batch to the files, or the lines of them, not imported before; logs what it finds. */
export async function newSinceCursor(
  job: CsvJobContext,
  run: TableRun,
  files: MatchedFile[],
  imported: Record<string, string>,
  key: (file: MatchedFile) => string,
  batch: CsvBatch,
): Promise<void> {
  const { table, where } = job;
  const { head, notes } = batch;
  try {
    const resumes = resumable(table);
    const found = await filesToImport(files, imported, key, resumes, {
      delimiter: table.format === 'csv' || table.format === 'tsv' ? delimiterBytes(table) : undefined,
      multiByte: multiByteChars(table.encoding),
      headLines: head,
      skipLines: table.format === 'csv' || table.format === 'tsv' ? table.skip : 0,
    });
    if (table.mode === 'incremental')
      for (const file of found.again)
        run.logger.warn({ path: file.path }, importedAgain(where, file.path, resumes, table));
    for (const { file, line } of found.waiting) {
      const note = quoteWait(where, basename(file.path), line, table.format);
      run.logger.info({ path: file.path, line }, note);
      notes.push(note);
    }
    for (const { file, was } of found.renamed)
      run.logger.info(
        { path: file.path, was },
        `${where}: ${basename(file.path)} starts with the lines imported from ${basename(was)}, which is gone or no longer starts with them, ` +
          'so it is that file renamed (logrotate, mv): only the lines after them are imported',
      );
    batch.todo = found.todo.map((part) => part.file);
    batch.parts = found.todo;
    batch.position = { files: found.remembered };
    if (batch.todo.length > 0) mkdirSync(run.tmpDir, { recursive: true });
    batch.sources = [];
    for (const [i, part] of found.todo.entries())
      batch.sources.push(
        part.whole
          ? part.file.path
          : await writeFilePart(part, head, join(run.tmpDir, `part-${i}-${basename(part.file.path)}`)),
      );
  } catch (error) {
    throw unreadable(where, error);
  }
}
