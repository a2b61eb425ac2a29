import type { z } from 'zod';
import { databaseOptionsSchema } from '../extractor/index.ts';

/**
 * Options of a `type: mysql` source (MySQL and MariaDB): `url` (from `${ENV}`), `tables` (each a
 * table or a query, with its mode), a statement timeout and the Parquet part size. See docs/databases.md.
 */
export const mysqlOptionsSchema = databaseOptionsSchema(
  {
    type: 'mysql',
    schemes: ['mysql', 'mariadb'],
    example: 'mysql://inlet@db.internal:3306/app',
    other: { type: 'postgres', schemes: ['postgres', 'postgresql'], servers: 'PostgreSQL' },
  },
  { nestedComments: false },
);

export type MysqlOptions = z.output<typeof mysqlOptionsSchema>;
