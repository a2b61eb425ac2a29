/** @module catalog: every table and view with columns, size, partitions, freshness, descriptions and lineage. */

export { type Catalog, createCatalog } from './catalog.ts';
export type { CatalogSource } from './catalog-source.ts';
export type { CatalogColumn, CatalogTable, CatalogTableDetail, TableKind } from './catalog-table.ts';
export type { DocsGap } from './docs-check.ts';
export type { Lineage, LineageNode } from './lineage.ts';
