/** @module sources/file-log: access and application logs from files (tailed, checkpointed) and from Fluent Bit over HTTP. */
import type { SourceKind } from '../types.ts';
import { fileOptionsSchema } from './file-config.ts';
import { createFileSource } from './file-source.ts';

export { type FileOptions, fileOptionsSchema } from './file-config.ts';
export { createFileSource } from './file-source.ts';
export { type IntakeItem, parseJsonLines, recordsOf } from './http-log-records.ts';
export { createLogIntake, type LogIntake } from './log-intake.ts';
export { logTableManifest } from './log-tables.ts';
export { requestKey } from './request-ledger.ts';

/** `type: file` in inlet.yaml. */
export const fileKind: SourceKind<typeof fileOptionsSchema> = {
  options: fileOptionsSchema,
  create: createFileSource,
};
