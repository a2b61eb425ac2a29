/**
 * @module @inlet/tracker: the browser tracker as an ES module. The script-tag build (`inlet.js`)
 * wraps the same tracker and reads its options from data-* attributes; createTracker() checks its own.
 */

export { createModuleTracker as createTracker } from './module-tracker.ts';
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
