import type { EventType } from '../events/index.ts';
import type { Json } from './fields.ts';

/** What a protocol adapter extracts from one message before enrichment; every adapter produces this. */
export interface IncomingEvent {
  /** The client's message id; when absent, a hash of the message is used so exact retries still collapse. */
  eventId: string | null;
  type: EventType;
  name: string | null;
  /** Client clock, epoch ms. */
  timestamp: number | undefined;
  /** When the client sent the request, epoch ms; with timestamp it corrects clock skew. */
  sentAt: number | undefined;
  anonymousId: string | null;
  userId: string | null;
  sessionId: string | null;
  url: string | null;
  referrer: string | null;
  title: string | null;
  campaign: Json;
  properties: Json;
  context: Json;
  /**
   * Set when a server-side SDK forwards the end user's values instead of its own. Undefined takes
   * the request's; null (a Segment message without context.userAgent) takes it only from a browser
   * (a request with an Origin), as an SDK's request carries its HTTP client's (okhttp, node).
   */
  userAgent: string | null | undefined;
  ip: string | undefined;
}

/** What the HTTP layer knows about the request that carried the events. */
export interface RequestMeta {
  receivedAt: number;
  ip: string | undefined;
  userAgent: string | undefined;
  origin: string | undefined;
  /** The browser asks not to be tracked (DNT: 1 or Sec-GPC: 1): a site with honor_dnt stores nothing of it. */
  doNotTrack?: boolean;
}
