import type { TrackerOptions } from './types.ts';
import { warn } from './warn.ts';

/** A boolean attribute: present means on, unless it says "false". */
const flag = (value: string | undefined): boolean => value !== undefined && value !== 'false';

/**
 * Reads the tracker options from the script tag's `data-*` attributes (its `dataset`); `src` is the
 * script's own URL, whose origin is the default collector. Undefined when the write key is missing.
 */
export function readScriptOptions(
  data: Record<string, string | undefined>,
  src: string,
): TrackerOptions | undefined {
  if (!data.writeKey) {
    warn('nothing is tracked without data-write-key="wk_…" on the script tag.');
    return undefined;
  }
  // A misspelt option (data-respect-do-not-track, data-hash-route, data-heartbeats) or another tracker's
  // (data-do-not-track, data-honor-dnt) was ignored without a word, and with it the Do-Not-Track of visitors
  // who asked not to be tracked: a name that is no option but starts as one does, ends as one does
  // (a slip in its first letters: data-wirte-key, data-hearbeat, data-has-routing, data-atuo-pageview), or
  // speaks of Do-Not-Track, is named as the dataset has it (hashRoute; the attribute's spelling would not
  // fit the size budget). One slip anywhere in a name (a letter more, less or wrong, or two swapped) leaves
  // its first four letters or its end (Key, beat, outing, ageview) as they were: a test tries them all.
  // An edit distance would catch two slips too, but took more than the budget's last 63 bytes gzipped.
  // data-api is left to its prefix: names a slip away from it (data-app, data-aid) are other tools'.
  // Other tools' attributes on script tags (data-cfasync, data-cookieconsent, data-no-optimize, data-nscript,
  // Plausible's data-domain, for which the write key stands here) are none, and a warning for each was noise.
  for (const name in data)
    if (
      /^(?!(writeKey|api|hashRouting|respectDnt|heartbeat|autoPageview)$)(writ|api|hash|resp|hear|auto|.*(dnt|Dnt|NotTrack)|.*([kK]ey|beat|outing|age[vV]iew)$)/.test(
        name,
      )
    )
      warn(`unknown data-${name} ignored`);
  const heartbeat = data.heartbeat;
  // "off", "false" and "0" turn the page heartbeat off; an empty attribute keeps the default. "30s" turned
  // it off without a word, and so did "-30".
  const seconds = +(heartbeat || 15);
  if (!(seconds >= 0) && heartbeat !== 'off' && heartbeat !== 'false')
    warn(`data-heartbeat takes seconds ("30") or "off", not "${heartbeat}"; heartbeats are off.`);
  return {
    writeKey: data.writeKey,
    // A host without its scheme (collect.example.com) was fetched relative to the page, from the
    // page's own server, and every event was lost: it is taken as a host, in the page's scheme.
    // Trimmed, as fetch trims a URL: " https://…" was read, and must not be taken for a host.
    api: (data.api || new URL(src).origin).trim().replace(/^(?!https?:|\/)/i, '//'),
    hashRouting: flag(data.hashRouting),
    respectDnt: flag(data.respectDnt),
    heartbeat: Math.max(0, seconds) || 0,
    autoPageview: data.autoPageview !== 'false',
  };
}
