/** Event properties or user traits: any JSON-serialisable values. */
export type Props = Record<string, unknown>;

/** One event on the wire, in the compact format the collector's `/collect` route reads. */
export interface WireEvent {
  /** Client UUID; the server deduplicates retries by it. */
  id: string;
  t: 'page' | 'track' | 'identify';
  n?: string;
  /** Client clock, epoch ms; the server corrects it with the batch's `sa`. */
  ts: number;
  a: string;
  u?: string;
  s: string;
  url: string;
  ref?: string;
  ti?: string;
  p?: Props;
  c: WireContext;
}

export interface WireContext {
  sw: number;
  sh: number;
  lang: string;
  library: 'inlet.js';
  /** Set when the site routes by `location.hash`, so the server can read the route from the hash. */
  hash_routing?: true;
  /**
   * The event's number in its page load, from 0: events of one millisecond keep the order they were
   * called in, in the outbox and in the lake (`ORDER BY ts, context->>'seq'`). Missing from events a
   * tracker before this one stored.
   */
  seq: number;
}

/** The request body of `POST {api}/collect`. */
export interface WireBatch {
  k: string;
  sa: number;
  e: WireEvent[];
}

/** What `createTracker` needs; the script tag fills it from its `data-*` attributes. */
export interface TrackerOptions {
  /** The site's public write key (`wk_…`). */
  writeKey: string;
  /** The collector's origin, e.g. `https://collect.example.com`. */
  api: string;
  /** Count `#/route` changes as page views and report the hash as part of the path. */
  hashRouting?: boolean;
  /** Send nothing when the browser signals Do-Not-Track or Global Privacy Control. */
  respectDnt?: boolean;
  /** Seconds between page heartbeats while the tab is visible; 0 turns them off. Default 15. */
  heartbeat?: number;
  /** Record page views on load and on SPA navigation. Default true. */
  autoPageview?: boolean;
}

export interface WatchOptions {
  /** Your id for the video or audio; defaults to the element's id or its source URL. */
  contentId?: string;
  /** Seconds between heartbeats while it plays in a visible tab. Default 15. */
  interval?: number;
}

/** The tracker's public API, also available as `window.inlet` from the script tag. */
export interface Inlet {
  /** Records a page view of the current URL; automatic unless `autoPageview` is false. */
  page(props?: Props): void;
  /** Records a custom event. */
  track(name: string, props?: Props): void;
  /** Ties this browser to your user id; later events carry it until `reset()`. */
  identify(userId: string, traits?: Props): void;
  /** `identify` (skipped when already identified as `userId` and no traits are given) plus a `login` event. */
  login(userId: string, traits?: Props): void;
  /** Records a `search` event; `resultsCount` 0 marks a search that found nothing. */
  search(query: string, resultsCount: number): void;
  /** Sends media events and heartbeats for a `<video>` or `<audio>`; returns a function that stops. */
  watch(media: HTMLMediaElement, options?: WatchOptions): () => void;
  /** Forgets the user id and starts a new anonymous id and session, e.g. on logout. */
  reset(): void;
  /** Stops all tracking in this browser and deletes what the tracker stored. */
  optOut(): void;
  /** Undoes `optOut()`. */
  optIn(): void;
  /** Sends buffered events now. */
  flush(): void;
}

/** `window.inlet` after the script tag loaded: the API, also callable as `inlet('track', name, props)`. */
export type InletGlobal = Inlet & ((method: keyof Inlet, ...args: unknown[]) => unknown);
