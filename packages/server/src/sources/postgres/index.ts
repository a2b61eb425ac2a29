/** @module sources/postgres: PostgreSQL tables and queries copied into the lake with COPY … TO STDOUT. */
import type { SourceKind } from '../types.ts';
import { postgresOptionsSchema } from './postgres-config.ts';
import { createPostgresSource } from './postgres-source.ts';

export { type PostgresOptions, postgresOptionsSchema } from './postgres-config.ts';
export { createPostgresSource } from './postgres-source.ts';
export { planPostgresColumns } from './postgres-type-mapping.ts';

export const postgresKind: SourceKind<typeof postgresOptionsSchema> = {
  options: postgresOptionsSchema,
  create: createPostgresSource,
};
