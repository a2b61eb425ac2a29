import { configFileName, type InletConfig, keyIn } from '../config/index.ts';
import { InletError } from '../errors/index.ts';

export type Site = InletConfig['sites'][number];

/** The sites of a configuration, and the file they were read from, which refusals name. */
export type SitesConfig = Pick<InletConfig, 'sites' | 'configPath'>;

/**
 * A key of the sites where an answer says to set it: "sites[].origins in prod.yaml", the file in
 * use, where answers said inlet.yaml whatever file --config named.
 */
export const siteKeyIn = (key: string, config: Pick<InletConfig, 'configPath'>): string =>
  keyIn(key, configFileName(config));

/** Why no write key is known, with no site set up: where to add one. */
const noSiteMessage = (config: Pick<InletConfig, 'configPath'>): string =>
  config.configPath === undefined
    ? 'No site is set up, as no configuration file was read, so no write key is known; create inlet.yaml with a site under sites: (an id and a write_key) and restart inlet.'
    : `No site is set up in ${configFileName(config)}, so no write key is known; add one under sites: (an id and a write_key) and restart inlet.`;

/**
 * Resolves a write key to its site, for every intake that takes write keys (events and logs);
 * throws 401 errors naming the problem. howToSend tells a client without a key where to put it,
 * unless a call says where its protocol takes one.
 */
export function createSiteKeys(config: SitesConfig, howToSend: string) {
  const byKey = new Map<string, Site>(config.sites.map((site) => [site.write_key, site]));
  return (writeKey: string | undefined, howTo = howToSend): Site => {
    if (!writeKey) throw new InletError('MISSING_WRITE_KEY', `No write key: send it ${howTo}.`);
    const site = byKey.get(writeKey);
    if (!site)
      throw new InletError(
        'UNKNOWN_WRITE_KEY',
        byKey.size === 0
          ? noSiteMessage(config)
          : `Unknown write key; check the key against ${siteKeyIn('the sites', config)}.`,
      );
    return site;
  };
}
