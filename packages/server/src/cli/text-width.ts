// Columns a terminal gives a character: two for East Asian wide and fullwidth ones (CJK, kana,
// Hangul, fullwidth forms, most emoji, flags' regional indicators), none for combining marks and
// controls, one for the rest.
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x2753, 0x2755],
  [0x2795, 0x2797],
  [0x2b1b, 0x2b1c],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f1e6, 0x1f1ff],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x3fffd],
];

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cc}\p{Cf}]/u;

function charWidth(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x7f) return code < 0x20 ? 0 : 1;
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.some(([from, to]) => code >= from && code <= to) ? 2 : 1;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Asks for the emoji form of the character before it (❤ to ❤️), which a terminal shows two wide. */
const EMOJI_PRESENTATION = '\ufe0f';

/**
 * The characters a reader sees, with the columns each takes. A terminal draws a user-perceived
 * character (a grapheme: 👍🏽, 👨‍👩‍👧, 🇯🇵, é) as its first code point is wide, or two wide in emoji
 * form; counted by code point, a family of three was 6 columns and pushed its row out of line.
 */
export function* characters(text: string): Generator<{ text: string; width: number }> {
  for (const { segment } of graphemes.segment(text)) {
    const first = segment.codePointAt(0) ?? 0;
    const width = charWidth(String.fromCodePoint(first));
    yield { text: segment, width: width === 1 && segment.includes(EMOJI_PRESENTATION) ? 2 : width };
  }
}

/** How many terminal columns text takes. */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = 0;
  for (const char of characters(text)) width += char.width;
  return width;
}

/** text cut to at most maxWidth columns, ending in … when it was cut. */
export function fitWidth(text: string, maxWidth: number): string {
  if (displayWidth(text) <= maxWidth) return text;
  let out = '';
  let width = 0;
  for (const char of characters(text)) {
    if (width + char.width > maxWidth - 1) break;
    out += char.text;
    width += char.width;
  }
  return `${out}…`;
}

/** text padded with spaces to width columns. */
export function padWidth(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}
