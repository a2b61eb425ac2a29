/**
 * @module @inlet/tracker: the browser tracker as an ES module. The script-tag build (`inlet.js`)
 * wraps the same createTracker() and reads its options from data-* attributes.
 */

export { createTracker } from './tracker.ts';
export type {
  Inlet,
  InletGlobal,
  Props,
  TrackerOptions,
  WatchOptions,
  WireBatch,
  WireContext,
  WireEvent,
} from './types.ts';
