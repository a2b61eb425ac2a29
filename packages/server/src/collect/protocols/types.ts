import { InletError } from '../../errors/index.ts';
import type { IncomingEvent } from '../incoming.ts';

/** What every protocol adapter returns: the write key if the payload carries one, and the events. */
export interface ParsedIntake {
  writeKey: string | undefined;
  events: IncomingEvent[];
  /** Messages of a batch left out as invalid: the first one's error, and how many there were. */
  refused?: Refused;
  /** Where each event stood in the batch, when invalid messages were left out from between them. */
  positions?: number[];
  /**
   * How the request's protocol names the event that stood at a place in it, for an error about the
   * whole event: `batch[3]` (Segment), `e[3]` (inlet's format), `body` for a body holding one event.
   */
  eventField: (index: number) => string;
  /**
   * Where the protocol takes the write key, for the 401 when none came: the pixel, a GET, was told
   * to send it "as writeKey in the body".
   */
  keyHint?: string;
}

/**
 * eventField for a batch named `name`: `batch[3]`. Each name is made once and kept (up to the
 * batch's most messages, max), as every message of every batch is parsed under its name.
 */
export function indexedField(name: string, max: number): (index: number) => string {
  const names: string[] = [];
  return (index) => {
    if (index >= max) return `${name}[${index}]`;
    let field = names[index];
    if (field === undefined) {
      field = `${name}[${index}]`;
      names[index] = field;
    }
    return field;
  };
}

/** The invalid messages of a batch whose other messages are kept. */
export interface Refused {
  error: InletError;
  count: number;
  /** Where the message `error` names stood in the batch (the first invalid one); 0 if unknown. */
  index?: number;
}

/**
 * Parses each message of a batch, leaving out the invalid ones, as Segment's API does: one bad
 * message must not lose the rest of a batch (SDKs drop a batch answered 400, and a server SDK's
 * batch holds many users' events). A batch with no valid message is refused whole by its first error.
 */
export function parseEach<T>(
  list: readonly unknown[],
  parse: (raw: unknown, i: number) => T,
): { items: T[]; refused?: Refused; positions?: number[] } {
  const items: T[] = [];
  const positions: number[] = [];
  let refused: Refused | undefined;
  for (let i = 0; i < list.length; i++) {
    try {
      items.push(parse(list[i], i));
      positions.push(i);
    } catch (error) {
      if (!(error instanceof InletError)) throw error;
      if (refused) refused.count++;
      else refused = { error, count: 1, index: i };
    }
  }
  if (refused && items.length === 0) throw refused.error;
  return refused ? { items, refused, positions } : { items };
}
