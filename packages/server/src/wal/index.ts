/** @module wal: segmented append-only log with per-record checksums, group-committed fsync and crash recovery. */

export { type DeletedSegment, walDeletedLogger } from './deleted-segments.ts';
export {
  type BadRecord,
  type BodyVisitor,
  checkLine,
  checksumAsRead,
  encodeRecord,
  encodeRecords,
  findBadRecords,
  type LineCheck,
  scanLines,
  verifySegmentFile,
  withoutLoneSurrogates,
} from './record.ts';
export { type RecoveryResult, recoverSegment } from './recovery.ts';
export { createSealedSegments, type WalSegments } from './sealed-segments.ts';
export { listSegments, segmentId, segmentName, segmentPath, straySegments } from './segment-files.ts';
export { createWalWriter, type WalWriter, type WalWriterOptions } from './segment-writer.ts';
export {
  type SkippedReason,
  skippedReason,
  walCounters,
  walRecoveredLogger,
  walStrayLogger,
} from './wal-metrics.ts';
export { walWritableLogger } from './write-failures.ts';
