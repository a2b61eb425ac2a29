import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';

export type Site = InletConfig['sites'][number];

/**
 * Resolves a write key to its site, for every intake that takes write keys (events and logs);
 * throws 401 errors naming the problem. howToSend tells a client without a key where to put it,
 * unless a call says where its protocol takes one.
 */
export function createSiteKeys(sites: readonly Site[], howToSend: string) {
  const byKey = new Map<string, Site>(sites.map((site) => [site.write_key, site]));
  return (writeKey: string | undefined, howTo = howToSend): Site => {
    if (!writeKey) throw new InletError('MISSING_WRITE_KEY', `No write key: send it ${howTo}.`);
    const site = byKey.get(writeKey);
    if (!site)
      throw new InletError(
        'UNKNOWN_WRITE_KEY',
        byKey.size === 0
          ? 'No site is set up in inlet.yaml, so no write key is known; add one under sites: (an id and a write_key) and restart inlet.'
          : 'Unknown write key; check the key against the sites in inlet.yaml.',
      );
    return site;
  };
}
