import type { EventType } from '../../events/index.ts';
import { isObject } from '../fields.ts';
import { parseInletBatch } from './inlet.ts';
import { parseSegment } from './segment.ts';
import type { ParsedIntake } from './types.ts';

/** The protocols whose bodies may hold many events: Segment's (a batch, or one message) and inlet's. */
export type BatchProtocol = 'segment' | 'inlet';

/** Parses a Segment or inlet body; fixedType is the type of a Segment per-type route (/v1/track). */
export function parseBatch(
  json: unknown,
  protocol: BatchProtocol,
  fixedType: EventType | undefined,
): ParsedIntake {
  return protocol === 'segment' ? parseSegment(json, fixedType) : parseInletBatch(json);
}

/**
 * The events a body holds, as far as its list can be read without checking them: what refusing the
 * body refuses. A body without a readable list counts as one.
 */
export function eventsIn(json: unknown, protocol: BatchProtocol, fixedType: EventType | undefined): number {
  if (fixedType) return 1;
  const list = isObject(json) ? json[protocol === 'segment' ? 'batch' : 'e'] : undefined;
  return Array.isArray(list) && list.length > 0 ? list.length : 1;
}
