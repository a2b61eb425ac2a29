/** @module collect: protocol adapters (Segment, inlet, pixel), enrichment, limits and the shared intake path. */
export { createEnricher, type Enricher, startSaltExpiry } from './enrich/index.ts';
export type { IncomingEvent, RequestMeta } from './incoming.ts';
export {
  createIntake,
  createRecordEncoder,
  type Intake,
  type PreparedWrite,
  type RecordEncoder,
} from './intake.ts';
export type { IntakeJobResult } from './intake-worker.ts';
export { createIntakeWorkers, type IntakeWorkers } from './intake-workers.ts';
export { parseJson, parseJsonBody, refuseUtf16 } from './json-body.ts';
export { type BatchProtocol, eventsIn, parseBatch } from './protocols/batch.ts';
export { parseInletBatch } from './protocols/inlet.ts';
export { checkPixelEscapes, parsePixel } from './protocols/pixel.ts';
export { parsePlausible } from './protocols/plausible.ts';
export { parseSegment } from './protocols/segment.ts';
export type { ParsedIntake } from './protocols/types.ts';
export { parseUmami } from './protocols/umami.ts';
export { addressKey, createRateLimiter } from './rate-limit.ts';
export { createSiteKeys, type Site } from './site-keys.ts';
