import type { z } from 'zod';
import { databaseOptionsSchema } from '../extractor/index.ts';

/**
 * Options of a `type: postgres` source: `url` (from `${ENV}`), `tables` (each a table or a query,
 * with its mode), a statement timeout and the Parquet part size. See docs/databases.md.
 */
export const postgresOptionsSchema = databaseOptionsSchema(
  {
    type: 'postgres',
    schemes: ['postgres', 'postgresql'],
    example: 'postgres://inlet@db.internal:5432/app',
    other: { type: 'mysql', schemes: ['mysql', 'mariadb'], servers: 'MySQL or MariaDB' },
  },
  { nestedComments: true },
);

export type PostgresOptions = z.output<typeof postgresOptionsSchema>;
