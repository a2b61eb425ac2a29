/**
 * A file's bytes as UTF-8 text, or an Error saying what they are instead: UTF-16 (what Windows'
 * Notepad saves as "Unicode"), whose every other byte is 0, or a byte UTF-8 has not (é in Latin-1 or
 * Windows-1252), which was read as U+FFFD and became part of a path or a key without a word.
 */
export function utf8Text(bytes: Uint8Array): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new Error('is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = new TextDecoder('utf-8').decode(bytes);
    const line = text.slice(0, text.indexOf('\uFFFD')).split('\n').length;
    throw new Error(
      `is not UTF-8 text: line ${line} holds a byte UTF-8 has not (é in Latin-1 or Windows-1252, say); save it as UTF-8`,
    );
  }
}
