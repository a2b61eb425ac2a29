import { createTracker } from './tracker.ts';
import type { Inlet, TrackerOptions } from './types.ts';
import { warn } from './warn.ts';

const nothing = (): void => {};
/** What createTracker() gives without a write key or a collector: every call records nothing. */
const untracked: Inlet = {
  page: nothing,
  track: nothing,
  identify: nothing,
  login: nothing,
  search: nothing,
  watch: () => nothing,
  reset: nothing,
  optOut: nothing,
  optIn: nothing,
  flush: nothing,
};

/**
 * The heartbeat option in seconds: a number or its text ("30"), false for off; undefined for the default.
 * heartbeat: '30s' (with its unit) turned page heartbeats off without a word, as data-heartbeat="30s" did.
 */
function heartbeatOf(heartbeat: unknown): number | undefined {
  if (heartbeat == null) return undefined;
  const seconds =
    typeof heartbeat === 'number' || typeof heartbeat === 'string' ? Number(heartbeat) : Number.NaN;
  if (!Number.isNaN(seconds)) return seconds;
  if (heartbeat !== false)
    warn(
      `createTracker() takes heartbeat in seconds (30) or 0 for off, not ${typeof heartbeat === 'string' ? `"${heartbeat}"` : `a value of type ${typeof heartbeat}`}; heartbeats are off.`,
    );
  return 0;
}

/**
 * A true-or-false option: a boolean, or its text ("false" from an environment variable or a form,
 * which as a truthy string respected Do-Not-Track, kept automatic page views or read the hash when
 * told not to); undefined for the default. Anything else warns and is taken for what it is truthy as.
 */
function flagOf(name: string, value: unknown): boolean | undefined {
  if (value == null || typeof value === 'boolean') return value ?? undefined;
  const text = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  if (text === 'true' || text === 'false') return text === 'true';
  warn(
    `createTracker() takes ${name} as true or false, not ${typeof value === 'string' ? `"${value}"` : `a value of type ${typeof value}`}; taken as ${Boolean(value)}.`,
  );
  return Boolean(value);
}

/**
 * The trackers createTracker() made in this page, by write key and collector. A second tracker of a site
 * (a component's effect run twice by React's StrictMode, a module run again by hot reload, two parts of an
 * app each setting up tracking) counted every page view, navigation and heartbeat twice.
 */
const made = new Map<string, Inlet>();

/**
 * createTracker() for bundlers. The script tag's build reads its options from checked data-* attributes;
 * an app's own options are checked here, so the 4 KB script tag does not carry the checks. Without `api`
 * it threw "Cannot read properties of undefined (reading 'replace')", and an `api` given as a URL object
 * threw "options.api.replace is not a function"; without `writeKey` every batch was refused.
 */
export function createModuleTracker(options: TrackerOptions): Inlet {
  const { writeKey, api } = options ?? {};
  if (!writeKey || typeof writeKey !== 'string' || !api) {
    warn(
      `createTracker() needs ${writeKey ? 'api, the collector\'s address such as "https://collect.example.com"' : "writeKey, the site's write key (wk_…) from inlet.yaml"}; nothing is tracked without it.`,
    );
    return untracked;
  }
  // An api without its scheme (collect.example.com) was fetched relative to the page, from the page's
  // own server, and every event was lost there without a word.
  if (!/^https?:\/\/[^/]/i.test(String(api))) {
    warn(
      `createTracker() needs api as a whole address such as "https://collect.example.com", not "${api}"; nothing is tracked without it.`,
    );
    return untracked;
  }
  const checked = {
    ...options,
    api: String(api),
    heartbeat: heartbeatOf(options.heartbeat),
    respectDnt: flagOf('respectDnt', options.respectDnt),
    autoPageview: flagOf('autoPageview', options.autoPageview),
    hashRouting: flagOf('hashRouting', options.hashRouting),
  };
  // The tracker sends to the api without its trailing slashes.
  const site = `${writeKey} ${checked.api.replace(/\/+$/, '')}`;
  const before = made.get(site);
  if (before) {
    warn(
      `createTracker() ran before on this page for ${writeKey}: it returns the tracker made then, with the options given then, so that nothing is counted twice.`,
    );
    return before;
  }
  const tracker = createTracker(checked);
  made.set(site, tracker);
  return tracker;
}
