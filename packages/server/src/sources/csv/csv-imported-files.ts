import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** A matched file: its path and `size:mtime`, which tells most changes apart without reading it. */
export interface StampedFile {
  path: string;
  stamp: string;
}

/** The SHA-256 of a file's bytes, read as a stream so a large export does not hold up the process. */
async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The files an `incremental` or `merge` table has still to import, and what to remember of every
 * file once they are. A file is remembered as `size:mtime:sha256`. One whose time alone changed
 * (copied again without its times, re-downloaded, touched) holds the rows imported already, so it
 * is not imported again, which in `incremental` added every one of its rows a second time; its new
 * time is remembered so it is not read again. Files remembered before the digest was kept
 * (`size:mtime`) are compared by size and time alone, as they were.
 */
export async function filesToImport(
  files: StampedFile[],
  imported: Record<string, string>,
  key: (file: StampedFile) => string,
): Promise<{ todo: StampedFile[]; remembered: Record<string, string> }> {
  const todo: StampedFile[] = [];
  const remembered = { ...imported };
  for (const file of files) {
    const was = imported[key(file)];
    if (was === file.stamp || was?.startsWith(`${file.stamp}:`)) continue;
    const digest = await fileDigest(file.path);
    remembered[key(file)] = `${file.stamp}:${digest}`;
    const [wasSize, , wasDigest] = was?.split(':') ?? [];
    if (wasDigest === digest && wasSize === file.stamp.split(':')[0]) continue;
    todo.push(file);
  }
  return { todo, remembered };
}
