/** @module catalog: every table and view with columns, size, partitions, freshness, descriptions and lineage. */

export {
  type Catalog,
  type CatalogColumn,
  type CatalogTable,
  type CatalogTableDetail,
  createCatalog,
} from './catalog.ts';
export type { CatalogSource } from './catalog-source.ts';
export type { DocsGap } from './docs-check.ts';
export type { Lineage, LineageNode } from './lineage.ts';
