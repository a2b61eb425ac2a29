/** @module sources/mysql: MySQL and MariaDB tables and queries streamed into the lake. */
import type { SourceKind } from '../types.ts';
import { mysqlOptionsSchema } from './mysql-config.ts';
import { createMysqlSource } from './mysql-source.ts';

export { type MysqlOptions, mysqlOptionsSchema } from './mysql-config.ts';
export { createMysqlSource } from './mysql-source.ts';
export { createCsvEncoder, planMysqlColumns } from './mysql-type-mapping.ts';

export const mysqlKind: SourceKind<typeof mysqlOptionsSchema> = {
  options: mysqlOptionsSchema,
  create: createMysqlSource,
};
