import { randomInt } from 'node:crypto';
import type { StateStore } from '../state/index.ts';
import { FIRST_DEMO_SEED, generateDemo } from './generator.ts';
import { sendBatches } from './send-batches.ts';

/** A demo month being sent; kept in the state store so an interrupted send resumes where it stopped. */
export interface DemoSend {
  seed: number;
  now: number;
  days: number;
  timezone: string;
  /** Days whose every event the collector has acknowledged. */
  sentDays: number;
}

const SCOPE = 'demo_send';

/** The send a previous run left unfinished for this site, if any. */
export function unfinishedDemoSend(state: StateStore, site: string): DemoSend | undefined {
  return state.getCheckpoint<DemoSend>(SCOPE, site);
}

/** A new month ending now: the first demo's seed for a site without events, a new one for another month. */
export function planDemoSend(options: { days: number; timezone: string; firstMonth: boolean }): DemoSend {
  const seed = options.firstMonth ? FIRST_DEMO_SEED : randomInt(2 ** 31 - 1);
  return { seed, now: Date.now(), days: options.days, timezone: options.timezone, sentDays: 0 };
}

/**
 * Sends the days of a demo month not yet sent, a day at a time, recording each day once the
 * collector acknowledged it; resolves with the events sent, and stops early once signal aborts. A
 * day cut short is sent again whole on resuming, and the loader drops the repeated event ids.
 */
export async function sendDemo(options: {
  state: StateStore;
  site: string;
  url: string;
  writeKey: string;
  send: DemoSend;
  onStart?: (total: number) => void;
  onProgress?: (sent: number) => void;
  signal?: AbortSignal;
}): Promise<number> {
  const { state, site, send } = options;
  const days = [
    ...generateDemo({ now: send.now, days: send.days, timezone: send.timezone, seed: send.seed }),
  ];
  const pending = days.slice(send.sentDays);
  options.onStart?.(pending.reduce((sum, day) => sum + day.length, 0));
  state.setCheckpoint(SCOPE, site, send);
  let sent = 0;
  for (const [i, day] of pending.entries()) {
    const before = sent;
    sent += await sendBatches({
      url: options.url,
      writeKey: options.writeKey,
      messages: [day],
      onProgress: (n) => options.onProgress?.(before + n),
      signal: options.signal,
    });
    // A day cut short is not recorded: it is sent again whole on resuming.
    if (sent - before === day.length)
      state.setCheckpoint(SCOPE, site, { ...send, sentDays: send.sentDays + i + 1 });
    if (options.signal?.aborted) return sent;
  }
  state.deleteCheckpoint(SCOPE, site);
  return sent;
}
