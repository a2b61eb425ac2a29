import type { IncomingEvent } from '../incoming.ts';

/** What every protocol adapter returns: the write key if the payload carries one, and the events. */
export interface ParsedIntake {
  writeKey: string | undefined;
  events: IncomingEvent[];
}
