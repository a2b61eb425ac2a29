import { once } from 'node:events';
import {
  accessSync,
  constants,
  createReadStream,
  createWriteStream,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';
// The module itself, not config/index.ts: that one loads the sources, which load this file.
import { configFileName } from '../../config/config-file-name.ts';
import type { InletConfig } from '../../config/index.ts';
import { InletError, isInletError } from '../../errors/index.ts';
import { checkTableColumns, syncTables, type TableJob } from '../extractor/index.ts';
import { relativePathStart } from '../relative-paths.ts';
import type { Source } from '../types.ts';
import type { CsvOptions, CsvTable } from './csv-config.ts';
import { type FilePart, fileLine, filesToImport, writeFilePart } from './csv-imported-files.ts';
import { refuseInfinity } from './csv-infinity.ts';
import { mayHoldOpenQuote } from './csv-open-quote.ts';
import {
  NOT_UTF8,
  readHint,
  setEncoding,
  TYPED_COLUMN_MISSING,
  typeName,
  UNKNOWN_TYPE,
  withoutDuckDbAdvice,
} from './csv-read-hints.ts';
import { NOTHING_IMPORTED, openQuoteRefused, tsvReadUnquoted, tsvUnquotedRefused } from './csv-refusals.ts';
import {
  findMixedLineBreak,
  findNotUtf8,
  findOpenQuote,
  findRaggedRecord,
  firstRecordFields,
  hasUtf8Bom,
  headerWithNul,
  isBlankFile,
  isEmptyJsonArray,
  isGzip,
  linesWhenSkipLeavesNothing,
  utf16Encoding,
} from './csv-shape.ts';
import { withSkippedLinesUnquoted } from './csv-skipped-lines.ts';
import type { CsvFormat } from './csv-type-mapping.ts';
import {
  csvDelimiter,
  decoderName,
  delimiterBytes,
  multiByteChars,
  needsDecoding,
  readSql,
} from './csv-type-mapping.ts';
import {
  DUPLICATE_KEY,
  duplicateKey,
  MAX_JSON_DEPTH,
  NOT_RECORDS,
  notRecords,
  refusedJson,
} from './json-refusals.ts';
import { scanJsonExport } from './json-scan.ts';

/** What an incremental or merge import remembers: each imported file with its size, mtime and digest. */
interface FilesPosition {
  files: Record<string, string>;
}

export interface MatchedFile {
  path: string;
  stamp: string;
}

/** Files matching a path whose last segment may hold * and ?, in name order. */
export function matchFiles(pattern: string): MatchedFile[] {
  const dir = dirname(pattern);
  const name = basename(pattern);
  // Not existsSync: a directory inlet may not enter, or a symbolic link that leads back to itself,
  // would read as no file at all.
  const statOf = (path: string) => {
    try {
      return statSync(path);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') throw error;
      return undefined;
    }
  };
  // A file removed between the listing and the stat is no match.
  const stamp = (path: string) => {
    const stat = statOf(path);
    return stat?.isFile() ? { path, stamp: `${stat.size}:${Math.trunc(stat.mtimeMs)}` } : undefined;
  };
  if (!/[*?]/.test(name)) return statOf(pattern) ? [stamp(pattern)].filter((f) => f !== undefined) : [];
  // A file where the directory should be (export.csv/*.csv) matches nothing.
  if (!statOf(dir)?.isDirectory()) return [];
  const regex = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );
  return readdirSync(dir)
    .filter((entry) => regex.test(entry))
    .sort()
    .map((entry) => stamp(join(dir, entry)))
    .filter((f) => f !== undefined);
}

/**
 * Decodes a file to UTF-8; returns the first line (1-based) that held bytes the encoding has no
 * character for, which iconv-lite decodes as U+FFFD (a UTF-8 export decoded as Shift_JIS, a Latin-1
 * one as CP932), if any. Encodings of Unicode may hold U+FFFD itself, so they are not looked at.
 */
async function decodeToUtf8(from: string, to: string, encoding: string): Promise<number | undefined> {
  const unicode = /^(utf|ucs|cesu)/i.test(encoding);
  let line = 1;
  let bad: number | undefined;
  const look = new Transform({
    decodeStrings: false,
    transform(chunk: string, _, done) {
      if (!unicode && bad === undefined) {
        const at = chunk.indexOf('\uFFFD');
        if (at !== -1) bad = line + (chunk.slice(0, at).match(/\n/g)?.length ?? 0);
        else line += chunk.match(/\n/g)?.length ?? 0;
      }
      done(null, chunk);
    },
  });
  await pipeline(
    createReadStream(from),
    iconv.decodeStream(decoderName(encoding)),
    look,
    createWriteStream(to),
  );
  return bad;
}

/**
 * A lone surrogate escape in JSON text ("\ud83d" with no low half after it, or a low half alone),
 * not one of an escaped pair and not text after an escaped backslash ("\\ud83d").
 */
const LONE_SURROGATE_ESCAPE =
  /(?<=(?:^|[^\\])(?:\\\\)*)(?:\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})/g;

/**
 * A copy of a JSON export with its lone surrogate escapes written as \ufffd (U+FFFD), which DuckDB
 * can read; a line at a time, as JSON strings hold no raw newline, so memory holds one line.
 */
async function withoutLoneSurrogateEscapes(from: string, to: string): Promise<void> {
  const out = createWriteStream(to);
  const lines = createInterface({
    input: createReadStream(from, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines)
    if (!out.write(`${line.replace(LONE_SURROGATE_ESCAPE, '\\ufffd')}\n`)) await once(out, 'drain');
  out.end();
  await finished(out);
}

/**
 * Why a path with no wildcard matched no file when something is there, or undefined: matchFiles
 * passes over it, and "no file matches" a path that is there misled. Not throwIfNoEntry: a path under
 * a file (export.csv/x.csv) throws ENOTDIR, which is no entry either.
 */
function whyNotAFile(path: string, table: CsvTable): string | undefined {
  let link: ReturnType<typeof lstatSync>;
  let stats: ReturnType<typeof statSync>;
  try {
    link = lstatSync(path);
  } catch {
    return undefined;
  }
  try {
    stats = statSync(path);
  } catch {
    // A link whose file is gone (an export moved or renamed under it): said as no file at all.
    return link.isSymbolicLink()
      ? `${path} is a symbolic link to ${readlinkSync(path)}, which does not exist; point the link at the export file, or remove it.`
      : undefined;
  }
  if (stats.isDirectory())
    return `${path} is a directory; path: names a file, or the files of a directory with a pattern such as ${join(table.path, `*.${table.format}`)}.`;
  // A named pipe, a socket or a device: matchFiles takes regular files only.
  if (!stats.isFile())
    return `${path} is no regular file (a named pipe, a socket or a device), and inlet imports export files; write the export to a file and point path: at it.`;
  return undefined;
}

/**
 * A file or directory the user inlet runs as may not read, said as such: Node's own words
 * (EACCES: permission denied, open '…') came as a file that could not be parsed.
 */
function unreadable(where: string, error: unknown): unknown {
  const { code, path } = error as NodeJS.ErrnoException;
  if (code === 'ELOOP' && path !== undefined)
    return new InletError(
      'SOURCE_FILE_UNREADABLE',
      `${where}: inlet cannot read ${path} (a symbolic link that leads back to itself); point the link at the export file, or remove it. ${NOTHING_IMPORTED}`,
    );
  if ((code !== 'EACCES' && code !== 'EPERM') || path === undefined) return error;
  return new InletError(
    'SOURCE_FILE_UNREADABLE',
    `${where}: inlet may not read ${path} (permission denied); give the user inlet runs as read permission on it, and on the directories above it. ${NOTHING_IMPORTED}`,
  );
}

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

function csvJob(source: string, table: CsvTable, config: InletConfig): TableJob {
  const { baseDir } = config;
  const pattern = isAbsolute(table.path) ? table.path : resolve(baseDir, table.path);
  const where = `${source}.${table.name}`;
  const configFile = configFileName(config);
  return {
    target: table,
    async extract(run) {
      let files: MatchedFile[];
      try {
        files = matchFiles(pattern);
      } catch (error) {
        throw unreadable(where, error);
      }
      const why =
        files.length === 0 && !/[*?]/.test(basename(pattern)) ? whyNotAFile(pattern, table) : undefined;
      if (why !== undefined) throw new InletError('SOURCE_FILE_NOT_FOUND', `${where}: ${why}`);
      const imported =
        table.mode === 'full' ? {} : ((run.position as FilesPosition | undefined)?.files ?? {});
      // A drop directory whose files are moved away once imported failed every sync until the next
      // file came: an incremental or merge table that has imported files has nothing new then.
      const importedBefore = Object.keys(imported).length;
      if (files.length === 0 && importedBefore > 0) {
        const note =
          `${where}: no file matches ${pattern}, so nothing new was imported; the table keeps the rows of the ` +
          `${importedBefore === 1 ? 'file' : `${importedBefore} files`} imported before, no longer there (moved away once imported, or path: changed)`;
        run.logger.info({ pattern }, note);
        return { rows: 0, position: { files: imported }, notes: [note] };
      }
      if (files.length === 0)
        throw new InletError(
          'SOURCE_FILE_NOT_FOUND',
          `${where}: no file matches ${pattern}; check this table's path${isAbsolute(table.path) ? '' : `: ${table.path} (${relativePathStart(config)})`}.`,
        );
      // Keyed relative to inlet.yaml, so moving the project does not import everything again.
      const key = (file: MatchedFile) => relative(baseDir, file.path);
      // Its compressed bytes were taken for a header with a NUL byte, with advice (tr -d) that ruins
      // it, or, in incremental, searched for lines. Files imported before and unchanged are not opened.
      let gzip: MatchedFile | undefined;
      try {
        gzip = files.find((file) => !imported[key(file)]?.startsWith(`${file.stamp}:`) && isGzip(file.path));
      } catch (error) {
        throw unreadable(where, error);
      }
      if (gzip)
        throw new InletError(
          'SOURCE_DATA_INVALID',
          `${where}: ${basename(gzip.path)} is compressed with gzip, which a csv source does not read; ` +
            `unpack it (gunzip -k ${basename(gzip.path)}) and point path: at the file that gives. ${NOTHING_IMPORTED}`,
        );
      let todo = files;
      // What is read of each file of todo: the file, or the lines added to it since it was imported.
      let sources = files.map((file) => file.path);
      let position: FilesPosition | undefined;
      // The part of each file of todo read (incremental, merge), and the lines read above it.
      let parts: Array<FilePart | undefined> = [];
      // What the sync says of the table beside its rows: lines that wait for a quote.
      const notes: string[] = [];
      const head = table.format === 'csv' || table.format === 'tsv' ? table.skip + (table.header ? 1 : 0) : 0;
      /** The line of todo[i] that line `line` of what is read of it is. */
      const lineOf = async (i: number, line: number) => {
        const part = parts[i];
        return part ? fileLine(part, head, line) : line;
      };
      if (table.mode !== 'full') {
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
          todo = found.todo.map((part) => part.file);
          parts = found.todo;
          position = { files: found.remembered };
          if (todo.length > 0) mkdirSync(run.tmpDir, { recursive: true });
          sources = [];
          for (const [i, part] of found.todo.entries())
            sources.push(
              part.whole
                ? part.file.path
                : await writeFilePart(part, head, join(run.tmpDir, `part-${i}-${basename(part.file.path)}`)),
            );
        } catch (error) {
          throw unreadable(where, error);
        }
      }
      if (todo.length === 0) return { rows: 0, position, notes };
      let readable = [...sources];
      for (const [i, file] of todo.entries()) {
        try {
          accessSync(file.path, constants.R_OK);
        } catch (error) {
          throw unreadable(where, error);
        }
        const source = sources[i] ?? file.path;
        const utf16 = needsDecoding(table.encoding) ? undefined : utf16Encoding(source);
        if (utf16)
          throw new InletError(
            'SOURCE_DATA_INVALID',
            `${where}: ${basename(file.path)} is UTF-16 (it starts with a UTF-16 byte order mark, as Excel's "Unicode Text" export does), not UTF-8; ` +
              `set encoding: ${utf16} for this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
          );
        // Decoded as the encoding set, its text became other characters, imported without a word.
        if (needsDecoding(table.encoding) && hasUtf8Bom(source))
          throw new InletError(
            'SOURCE_DATA_INVALID',
            `${where}: ${basename(file.path)} is UTF-8 (it starts with a UTF-8 byte order mark, as Excel's "CSV UTF-8" export does), not ${table.encoding}; ` +
              `remove encoding: ${table.encoding} from this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
          );
      }
      try {
        if (needsDecoding(table.encoding)) {
          mkdirSync(run.tmpDir, { recursive: true });
          readable = [];
          for (const [i, file] of todo.entries()) {
            if (run.signal.aborted) throw new Error('cancelled');
            const utf8 = join(run.tmpDir, `${i}-${basename(file.path)}`);
            const bad = await decodeToUtf8(sources[i] ?? file.path, utf8, table.encoding);
            // Decoded anyway, its text became other characters and U+FFFD, imported without a word.
            if (bad !== undefined)
              throw new InletError(
                'SOURCE_DATA_INVALID',
                `${where}: line ${await lineOf(i, bad)} of ${basename(file.path)} holds bytes that are not ${table.encoding}, as a file in another encoding does (a UTF-8 export without a byte order mark, a Latin-1 one); ` +
                  `set encoding: to the one it is in for this table in ${configFile} (utf-8, the default, for UTF-8; docs/csv.md). ${NOTHING_IMPORTED}`,
              );
            readable.push(utf8);
          }
        }
        const delimited = table.format === 'csv' || table.format === 'tsv';
        // DuckDB's skip passes over records, not lines: a quote on a line it skips ran to the end.
        if (delimited)
          for (const [i, path] of readable.entries())
            readable[i] = await withSkippedLinesUnquoted(
              path,
              table.skip,
              join(run.tmpDir, `skipped-${i}-${basename(path)}`),
            );
        // DuckDB's JSON reader refuses a UTF-8 byte order mark, which Windows programs write: "BOM
        // is not supported" (naming the line after it), and a .json array with one was taken for a
        // file of records that are not objects. A copy without it is read.
        if (!delimited && !needsDecoding(table.encoding))
          for (const [i, path] of readable.entries())
            if (hasUtf8Bom(path))
              readable[i] = await withoutBom(path, join(run.tmpDir, `${i}-${basename(path)}`));
        // A JSON array of no records ([]) is such a file too: read with records=true, DuckDB refused it.
        const isBlank = readable.map((path) => isBlankFile(path) || (!delimited && isEmptyJsonArray(path)));
        const blank = todo.filter((_, i) => isBlank[i]);
        // A delimited file always has its header. A JSON lines file of a day without events may
        // have no line at all, and adds no row; but a full table's files hold all its rows, so an
        // empty one is an export cut short. DuckDB read either as a column "json" of no rows.
        if (blank.length > 0 && (delimited || table.mode === 'full'))
          throw new InletError(
            'SOURCE_DATA_INVALID',
            `${where}: ${blank.map((f) => basename(f.path)).join(', ')} ${blank.length === 1 ? 'is' : 'are'} empty (${delimited ? 'no header, no rows' : 'no records'}), ` +
              'as an export cut short or failed upstream leaves it; nothing was imported and the table keeps its rows. ' +
              (delimited
                ? 'Write the file again; a file with only its header line imports as a table of no rows.'
                : 'Write the file again.'),
          );
        if (blank.length > 0) {
          readable = readable.filter((_, i) => !isBlank[i]);
          todo = todo.filter((_, i) => !isBlank[i]);
          parts = parts.filter((_, i) => !isBlank[i]);
          if (readable.length === 0) return { rows: 0, position, notes };
        }
        if (!delimited)
          for (const [i, path] of readable.entries()) {
            const lines = table.format === 'ndjson';
            const found = await scanJsonExport(path, { maxDepth: MAX_JSON_DEPTH, lines });
            if (!found) continue;
            const line = await lineOf(i, found.line);
            throw refusedJson(where, basename(todo[i]?.path ?? ''), { ...found, line }, lines);
          }
        if (delimited && table.skip > 0)
          for (const [i, path] of readable.entries()) {
            const lines = linesWhenSkipLeavesNothing(path, table.skip);
            if (lines === undefined) continue;
            const file = basename(todo[i]?.path ?? '');
            throw new InletError(
              'SOURCE_DATA_INVALID',
              (lines > table.skip
                ? `${where}: the lines of ${file} after the ${table.skip} that skip: passes over are blank, so nothing is left to read; `
                : `${where}: ${file} has only ${lines} line${lines === 1 ? '' : 's'} and skip: is ${table.skip}, so nothing is left to read; `) +
                `skip: counts the lines above the ${table.header ? 'header' : 'first row'}: set it to that number for this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
            );
          }
        if (delimited && table.header)
          for (const [i, path] of readable.entries()) {
            const header = headerWithNul(path, table.skip);
            if (header === undefined) continue;
            throw new InletError(
              'SOURCE_DATA_INVALID',
              `${where}: the header of ${basename(todo[i]?.path ?? '')} holds a NUL byte (${JSON.stringify(header)}), which would cut a column's name short; ` +
                `remove it from the header (tr -d '\\000' does it for a whole file). ${NOTHING_IMPORTED}`,
            );
          }
        if (delimited && table.delimiter === undefined && table.header)
          for (const [i, path] of readable.entries()) {
            const found = otherDelimiter(path, table);
            if (!found) continue;
            const file = basename(todo[i]?.path ?? '');
            // Setting delimiter: would break the files of the table that are split as they should be.
            const fine = readable.findIndex((other, j) => j !== i && !otherDelimiter(other, table));
            const [said, quoted] = [csvDelimiter(table), JSON.stringify(found)];
            throw new InletError(
              'SOURCE_DATA_INVALID',
              `${where}: the header of ${file} holds no "${said}" but is split into columns by ${quoted}; ` +
                (fine === -1
                  ? `set delimiter: ${quoted} for this table in ${configFile} (docs/csv.md), or delimiter: "${said}" for a file of one column. ${NOTHING_IMPORTED}`
                  : `${basename(todo[fine]?.path ?? '')} of the same table is split by "${said}", and the files of a table share one delimiter: ` +
                    `export ${file} split by "${said}", or give the files split by ${quoted} a table of their own, with a path: that matches them only (docs/csv.md). ${NOTHING_IMPORTED}`),
            );
          }
        // JSON with types: the columns DuckDB infers, the forced ones in their place, so that they
        // are read as such; a type for a column the files lack is left to the cast, which names it.
        const jsonColumns = async (paths: string[]) => {
          const forced = table.types ?? {};
          if (delimited || Object.keys(forced).length === 0) return undefined;
          const inferred = await run.writer.describe(readSql(paths, { ...table, types: undefined }));
          if (Object.keys(forced).some((name) => !inferred.some((c) => c.name === name))) return undefined;
          return inferred.map((c) => ({ name: c.name, type: forced[c.name] ?? c.type }));
        };
        // Whether DuckDB may have read a TSV file without quoting, for a quote left open in it.
        let readUnquoted = false;
        const write = async (paths: string[]) => {
          // A wider file passes over blank lines itself; its rows of NULL (",,") are rows of the export.
          const oneColumn =
            delimited &&
            paths.every(
              (path) => firstRecordFields(path, { delimiter: csvDelimiter(table), skip: table.skip }) === 1,
            );
          const select = readSql(paths, { ...table, oneColumn, jsonColumns: await jsonColumns(paths) });
          // Describing costs DuckDB one more pass over the files; only merge options need it.
          if (table.cursor || table.primaryKey || table.deletedColumn) {
            const columns = await run.writer.describe(select);
            checkTableColumns(
              source,
              table,
              columns.map((c) => ({ name: c.name, sourceType: c.type, csvType: c.type })),
            );
          }
          const part = run.nextPart();
          const rows = await run.writer.writeSelect(select, part);
          if (!delimited) await refuseInfinity(run.writer, part, where, todo, configFile);
          if (table.format === 'tsv') readUnquoted = await mayHoldOpenQuote(run.writer, part);
          return rows;
        };
        let rows: number;
        try {
          rows = await write(readable);
        } catch (error) {
          // A JSON export from a program that cut a string inside an emoji: DuckDB refuses the
          // half it kept. The files are read again with those halves as U+FFFD, as the collector does.
          if (isInletError(error) || !/Malformed JSON.*surrogate/s.test((error as Error).message))
            throw error;
          mkdirSync(run.tmpDir, { recursive: true });
          const repaired: string[] = [];
          for (const [i, path] of readable.entries()) {
            const copy = join(run.tmpDir, `repaired-${i}-${basename(path)}`);
            await withoutLoneSurrogateEscapes(path, copy);
            repaired.push(copy);
          }
          rows = await write(repaired);
        }
        run.progress(rows);
        // A TSV file's quoting is DuckDB's guess, and with a quote left open it guesses none: the file
        // was imported with its quotes as text and not a word, where a CSV file is refused for it.
        // Its files are looked through for the quote only when what DuckDB read shows one may be.
        if (readUnquoted)
          for (const [i, path] of readable.entries()) {
            const line = await findOpenQuote(path, { delimiter: csvDelimiter(table), skip: table.skip });
            if (line === undefined) continue;
            const note = tsvReadUnquoted(where, basename(todo[i]?.path ?? ''), await lineOf(i, line));
            run.logger.warn({ path: todo[i]?.path, line }, note);
            notes.push(note);
          }
        return { rows, position, notes };
      } catch (error) {
        // Interrupted by a stop, the file is not at fault: looking through it for why took seconds more.
        if (isInletError(error) || run.signal.aborted) throw error;
        const message = (error as Error).message;
        if (NOT_RECORDS.test(message)) throw await notRecords(where, readable, todo, table.format, lineOf);
        const twice = DUPLICATE_KEY.exec(message);
        if (twice) throw await duplicateKey(where, twice, readable, todo, lineOf);
        // DuckDB's binder words, "Column "x" in REPLACE list not found in FROM clause" for JSON, named
        // neither inlet.yaml's key nor the columns there are.
        if (table.types && TYPED_COLUMN_MISSING.test(message)) {
          const columns = (await run.writer.describe(readSql(readable, { ...table, types: undefined }))).map(
            (column) => column.name,
          );
          const missing = Object.keys(table.types).filter((name) => !columns.includes(name));
          if (missing.length > 0)
            throw new InletError(
              'SOURCE_DATA_INVALID',
              `${where}: types: names the column${missing.length > 1 ? 's' : ''} ${missing.map((name) => JSON.stringify(name)).join(', ')}, which ${todo.map((f) => basename(f.path)).join(', ')} does not have; ` +
                `its columns are ${columns.join(', ')}. Correct the name under types: for this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
            );
        }
        // DuckDB's catalog words, "Type with name INTEGR does not exist! Did you mean "JSON"?", named
        // neither the column nor inlet.yaml's key.
        const unknownType = UNKNOWN_TYPE.exec(message)?.[1];
        const typed =
          unknownType &&
          Object.entries(table.types ?? {}).find(([, type]) => typeName(type) === unknownType.toUpperCase());
        if (typed)
          throw new InletError(
            'SOURCE_DATA_INVALID',
            `${where}: types: gives the column ${JSON.stringify(typed[0])} the type ${typed[1]}, which DuckDB does not know; ` +
              `give it one such as VARCHAR, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP or DECIMAL(12,2) for this table in ${configFile} (docs/csv.md). ${NOTHING_IMPORTED}`,
          );
        /** DuckDB's message in the user's terms: the line and the file its export's, its advice left out. */
        const duckDbSaid = async () => {
          // DuckDB names the file and line; the temporary UTF-8 copy is named after the original. Its
          // line is one of what it read, which for lines appended to a file is not the file's.
          const csvLine = /CSV Error on Line: (\d+)/.exec(message);
          const read = readable.indexOf(/\n\s*file = (.*)/.exec(message)?.[1] ?? '');
          let said =
            csvLine && read !== -1
              ? message.replace(csvLine[0], `CSV Error on Line: ${await lineOf(read, Number(csvLine[1]))}`)
              : message;
          // DuckDB's JSON reader names the file it read, which for one decoded or without its byte
          // order mark is inlet's copy in data/tmp: the export is named instead.
          for (const [i, path] of readable.entries())
            if (path !== todo[i]?.path) said = said.replaceAll(`"${path}"`, `"${todo[i]?.path}"`);
          return withoutDuckDbAdvice(said);
        };
        // A CSV file is read with quoting, so a quote left open fails it. A TSV file's quoting is
        // DuckDB's guess, none for a file with a quote left open, which is then what likely failed it.
        if (table.format === 'csv' || table.format === 'tsv')
          for (const [i, path] of readable.entries()) {
            const line = await findOpenQuote(path, {
              delimiter: csvDelimiter(table),
              skip: table.skip,
            }).catch(() => undefined);
            if (line === undefined) continue;
            const file = basename(todo[i]?.path ?? '');
            throw table.format === 'csv'
              ? openQuoteRefused(where, file, await lineOf(i, line))
              : tsvUnquotedRefused(where, file, await lineOf(i, line), await duckDbSaid());
          }
        if (table.format === 'csv' || table.format === 'tsv')
          for (const [i, path] of readable.entries()) {
            const mixed = await findMixedLineBreak(path, {
              delimiter: csvDelimiter(table),
              skip: table.skip,
            }).catch(() => undefined);
            if (!mixed) continue;
            throw new InletError(
              'SOURCE_DATA_INVALID',
              `${where}: line ${await lineOf(i, mixed.line)} of ${basename(todo[i]?.path ?? '')} ends in ${mixed.found} where the lines before it end in ${mixed.first}, ` +
                'as a file joined or edited by Windows and Unix programs does, and DuckDB reads one kind a file; ' +
                `save it with one kind (dos2unix, or unix2dos, does it). ${NOTHING_IMPORTED}`,
            );
          }
        if (table.format === 'csv' || table.format === 'tsv') {
          const ragged = await firstRaggedRecord(readable, table).catch(() => undefined);
          if (ragged) {
            const { file, line, fields, expected } = ragged;
            throw new InletError(
              'SOURCE_DATA_INVALID',
              `${where}: line ${await lineOf(file, line)} of ${basename(todo[file]?.path ?? '')} has ${fields} field${fields === 1 ? '' : 's'} where ${table.header ? 'the header' : 'the first line'} has ${expected}; ` +
                `every line needs as many (a field that holds "${csvDelimiter(table)}" must be in double quotes). ` +
                `If the file uses another delimiter, set delimiter: for this table in ${configFile}; if lines above the header are not data, set skip: (docs/csv.md).`,
            );
          }
        }
        // DuckDB's line for a file that is not UTF-8 is where its reader was, often the header.
        if (!needsDecoding(table.encoding) && NOT_UTF8.test(message))
          for (const [i, path] of readable.entries()) {
            const found = await findNotUtf8(path).catch(() => undefined);
            if (!found) continue;
            const { line, character, byte } = found;
            throw new InletError(
              'SOURCE_DATA_INVALID',
              `${where}: line ${await lineOf(i, line)} of ${basename(todo[i]?.path ?? '')} is not UTF-8 (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at character ${character}); ` +
                `${setEncoding(configFile)}. Nothing was imported and the table keeps its rows.`,
            );
          }
        throw new InletError(
          'SOURCE_DATA_INVALID',
          `${where}: could not read ${todo.map((f) => basename(f.path)).join(', ')} as ${table.format} (${table.encoding})${readHint(message, table, configFile)}: ${await duckDbSaid()}`,
        );
      }
    },
  };
}

/** Copies a file to `out` without its first three bytes, a UTF-8 byte order mark; returns `out`. */
async function withoutBom(path: string, out: string): Promise<string> {
  mkdirSync(dirname(out), { recursive: true });
  await pipeline(createReadStream(path, { start: 3 }), createWriteStream(out));
  return out;
}

/**
 * The delimiter a file's header is split by when the table's default is not in it: a European
 * Excel export (;) or a tab-separated file named .csv read as one column, every line one value.
 */
function otherDelimiter(path: string, table: CsvTable): string | undefined {
  const fields = (delimiter: string) => firstRecordFields(path, { delimiter, skip: table.skip });
  if (fields(csvDelimiter(table)) !== 1) return undefined;
  return [';', '\t', '|', ','].find((d) => d !== csvDelimiter(table) && (fields(d) ?? 0) > 1);
}

/** The first file (by index) with a record of another field count than its first, and that record. */
async function firstRaggedRecord(paths: string[], table: CsvTable) {
  for (const [file, path] of paths.entries()) {
    const ragged = await findRaggedRecord(path, { delimiter: csvDelimiter(table), skip: table.skip });
    if (ragged) return { file, ...ragged };
  }
  return undefined;
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
