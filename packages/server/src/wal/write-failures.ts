import { InletError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { monotonicMs } from './monotonic-clock.ts';
import { SEGMENT_DELETED } from './segment-rewrite.ts';

/** The code of the refusal the writer makes itself when the disk is nearly full. */
export const LOW_SPACE = 'INLET_DISK_LOW';

/** What went wrong, in words a client can pass on; the log has the whole error. */
function reason(error: unknown): string {
  switch ((error as { code?: string } | undefined)?.code) {
    case 'ENOSPC':
      return 'the disk is full';
    case LOW_SPACE:
      return 'the disk is nearly full';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EFBIG':
      return 'a segment file reached the file size limit';
    case 'EIO':
      return 'the disk reported an I/O error';
    case 'EACCES':
    case 'EPERM':
      return 'the WAL directory is not writable';
    case 'ENOENT':
    case SEGMENT_DELETED:
      return 'its folder or open segment was deleted while inlet ran, and cannot be made again';
    case 'ENOTDIR':
      return 'a file stands where its folder should be';
    default:
      return 'the disk refused the write';
  }
}

/** What an operator should do about it, for the log line. */
function remedy(error: unknown): string {
  switch ((error as { code?: string } | undefined)?.code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case SEGMENT_DELETED:
      return 'make the WAL folder a writable folder again (do not delete it while inlet runs)';
    case 'EACCES':
    case 'EPERM':
      return 'give this user the WAL folder';
    default:
      return 'free space or fix the disk';
  }
}

/** The 503 an append gets while the WAL cannot be written, saying why. */
export const unavailable = (cause: unknown) =>
  new InletError(
    'WAL_UNAVAILABLE',
    `The write-ahead log cannot be written right now (${reason(cause)}); retry shortly.`,
    {
      retryAfterSeconds: 5,
      cause,
    },
  );

/** How often an outage that keeps coming back (a disk hovering at its limit) is logged again. */
const OUTAGE_LOG_MS = 60_000;

/**
 * onWritableChange for a WAL: an error line when writing starts to fail, and an info line when it
 * works again. A disk that hovers at wal.min_free_bytes, refused and freed by the loader in turn,
 * is logged once a minute with how often it happened, not at every turn.
 */
export function walWritableLogger(logger: Logger, wal: string): (error: unknown) => void {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let loggedReason = '';
  let outages = 0;
  let open = false;
  return (error) => {
    if (error === undefined) {
      if (open) logger.info({ wal }, 'the write-ahead log takes writes again');
      open = false;
      return;
    }
    outages += 1;
    const why = reason(error);
    if (why === loggedReason && monotonicMs() - loggedAt < OUTAGE_LOG_MS) return;
    logger.error(
      { wal, code: (error as { code?: string }).code, detail: (error as Error).message, outages },
      `the write-ahead log cannot be written (${why}): events get 503 until it can; ${remedy(error)}`,
    );
    loggedAt = monotonicMs();
    loggedReason = why;
    outages = 0;
    open = true;
  };
}
