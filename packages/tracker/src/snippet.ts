import { readScriptOptions } from './script-options.ts';
import { createTracker } from './tracker.ts';
import type { Inlet } from './types.ts';
import { warn } from './warn.ts';

// The script-tag build: reads data-* from its own <script>, then replaces the queue stub
//   window.inlet = window.inlet || function () { (inlet.q = inlet.q || []).push(arguments); };
// with the tracker and replays what was queued, in order.

type Method = (...args: unknown[]) => unknown;
type Stub = { q?: ArrayLike<unknown>[]; track?: unknown };

const global = window as unknown as { inlet?: Stub };
const stub = global.inlet;
const script = document.currentScript ?? document.querySelector('script[data-write-key]');

// A second copy of the script on the page must not track everything twice.
if (!stub?.track && script instanceof HTMLScriptElement) {
  const options = readScriptOptions(script.dataset, script.src || location.href);
  if (options) {
    const tracker = createTracker(options);
    const call = (method: string, ...args: unknown[]): unknown => {
      const fn = (tracker as unknown as Record<string, Method | undefined>)[method];
      if (typeof fn === 'function') return fn(...args);
      warn(`unknown method "${method}"`);
    };
    global.inlet = Object.assign(call, tracker) satisfies Inlet;
    for (const args of stub?.q ?? []) call(...(Array.from(args) as [string, ...unknown[]]));
  }
}
