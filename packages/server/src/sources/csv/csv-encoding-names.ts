import iconv from 'iconv-lite';
import { editDistance } from '../../edit-distance.ts';
import { BYTES_AS_TEXT, canonicalEncoding, isKnownEncoding } from './csv-type-mapping.ts';

/** The encodings most files are in, named when nothing comes close to the one given. */
const COMMON = 'utf-8, shift_jis, cp932, euc-jp, gbk, gb18030, big5, euc-kr, latin1, windows-1252, utf-16le';

/**
 * Names iconv-lite does not know that stand for one it does (Windows' names for its code pages, and
 * those editors give UTF-8 with a byte order mark or without: UTF-8 BOM, utf-8-sig, UTF-8N), or for
 * one it cannot read, which no name a few letters off would help with (JIS, whose closest is sjis),
 * and those of its codecs that are no encoding of characters (hex, base64).
 */
const OTHER_NAMES: Array<{ name: RegExp; meant: string[] } | { name: RegExp; todo: string }> = [
  { name: /^utf8/, meant: ['utf-8 (which reads a file with a byte order mark and one without)'] },
  { name: /^cp65001$/, meant: ["utf-8 (Windows' code page 65001)"] },
  { name: /^unicode$/, meant: ["utf-16le (Excel's Unicode Text)"] },
  {
    name: /^ansi$/,
    meant: ["windows-1252 (Windows' ANSI in Western Europe and the Americas)", 'cp932 (in Japan)'],
  },
  {
    name: BYTES_AS_TEXT,
    todo: "hex and base64 are iconv-lite's ways of writing bytes as text, not encodings of characters: set the one the file is in (utf-8, the default, if encoding: is left out)",
  },
  {
    name: /^(jis\d*|iso2022jp.*|csiso2022jp)$/,
    todo: 'iconv-lite, which inlet reads files through, has no ISO-2022-JP (JIS): save the file as UTF-8 or Shift_JIS, or convert it (iconv -f ISO-2022-JP -t UTF-8)',
  },
];

/** A name of iconv-lite's as people write it: shift_jis, euc-jp, windows-1252, iso-8859-15, utf-16le. */
const shown = (name: string) =>
  name
    .replace(/^shiftjis$/, 'shift_jis')
    .replace(/^(euc|koi8|tis|big5)(?=[a-z0-9])/, '$1-')
    .replace(/^(utf|windows)(?=\d)/, '$1-')
    .replace(/^iso8859(?=\d)/, 'iso-8859-');

/** The codec a name of iconv-lite's resolves to, so that its aliases are offered once. */
function codecOf(encodings: Record<string, unknown>, name: string): string {
  let at = name;
  for (let next = encodings[at]; typeof next === 'string'; next = encodings[at]) at = next;
  return at;
}

/**
 * The names iconv-lite knows closest to one it does not: those it starts with (utf8bom, eucjpms), or
 * a few letters off (shiftjs), a short name fewer; one name a codec, three at most.
 */
function closestNames(given: string): string[] {
  // Loaded by iconv-lite on the first look-up, which isKnownEncoding made.
  const encodings = (iconv.encodings ?? {}) as Record<string, unknown>;
  const edits = given.length <= 4 ? 1 : 2;
  const ranked = Object.keys(encodings)
    .filter((name) => !name.startsWith('_') && !BYTES_AS_TEXT.test(name))
    .map((name) => ({
      name,
      rank:
        name.length >= 4 && given.startsWith(name)
          ? 0
          : Math.abs(name.length - given.length) <= edits
            ? editDistance(name, given)
            : Number.POSITIVE_INFINITY,
    }))
    .filter(({ rank }) => rank <= edits);
  const best = Math.min(...ranked.map(({ rank }) => rank));
  const codecs = new Map<string, string>();
  for (const { name, rank } of ranked.sort((a, b) => a.name.localeCompare(b.name)))
    if (rank === best && !codecs.has(codecOf(encodings, name))) codecs.set(codecOf(encodings, name), name);
  return [...codecs.values()].slice(0, 3).map(shown);
}

/**
 * What is wrong with a table's encoding:, or undefined when inlet can read it: the name given, the
 * closest one inlet knows where one is close, and where the encodings it reads are listed. It was
 * told "use utf-8, shift_jis, cp932 or euc-jp" whatever was given, though iconv-lite, which inlet
 * reads through, reads GBK, Big5, EUC-KR, Latin-1, Windows-1252, UTF-16 and more.
 */
export function encodingProblem(encoding: string): string | undefined {
  if (isKnownEncoding(encoding)) return undefined;
  const given = canonicalEncoding(encoding);
  const other = OTHER_NAMES.find(({ name }) => name.test(given));
  const what = `"${encoding}" is not an encoding inlet can read`;
  if (other && 'todo' in other) return `${what}; ${other.todo}`;
  const meant = other?.meant ?? closestNames(given);
  const list = 'docs/csv.md (Encodings)';
  if (meant.length === 0) return `${what}; use one of those listed in ${list}, such as ${COMMON}`;
  const guess = meant.length === 1 ? meant[0] : `${meant.slice(0, -1).join(', ')} or ${meant.at(-1)}`;
  return `${what}; did you mean ${guess}? Those it reads are listed in ${list}`;
}
