import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InletError } from '../../errors/index.ts';
import type { Logger } from '../../log/index.ts';
import { createOnce } from '../../state/index.ts';

const DAY_MS = 86_400_000;
const SALT_FILE = /^(\d{4}-\d{2}-\d{2})\.salt$/;

const SALT_BYTES = 32;

/**
 * A day's salt, undefined when there is none yet; one cut short (by a crash of an older inlet) is
 * removed. One that cannot be read refuses the events to hash, naming it: it failed every event as
 * an error inlet did not foresee (500), the whole day.
 */
function readSalt(path: string): Buffer | undefined {
  let salt: Buffer;
  try {
    salt = readFileSync(path);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') return undefined;
    throw new InletError(
      'SALT_UNREADABLE',
      `The visitor-hash salt ${path} cannot be read (${message}), so no event can be stored; give inlet's user that file (chown), or move it out of the data directory and inlet makes a new one (visitors of that day are then counted anew).`,
      { retryAfterSeconds: 60 },
    );
  }
  if (salt.length === SALT_BYTES) return salt;
  rmSync(path, { force: true });
  return undefined;
}

/** Deletes the salts of days that began more than 48 hours before `at`. */
function removeExpiredSalts(dir: string, at: number): void {
  for (const name of readdirSync(dir)) {
    const match = SALT_FILE.exec(name);
    if (match && at - Date.parse(`${match[1]}T00:00:00Z`) > 2 * DAY_MS)
      rmSync(join(dir, name), { force: true });
  }
}

const EXPIRY_EVERY_MS = 3_600_000;

/**
 * Deletes salts older than 48 hours now and every hour. A hasher deletes them only when its day
 * turns, on the first IP it hashes, so with no traffic for days a salt that ties hashes to IPs stayed.
 */
export function startSaltExpiry(options: { dir: string; logger?: Logger; now?: () => number }): {
  stop(): void;
} {
  const now = options.now ?? Date.now;
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  removeExpiredSalts(options.dir, now());
  const timer = setInterval(() => {
    try {
      removeExpiredSalts(options.dir, now());
    } catch (error) {
      options.logger?.error(
        { err: error, dir: options.dir },
        'deleting visitor-hash salts older than 48 hours failed; check that inlet may write this directory',
      );
    }
  }, EXPIRY_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * The longest hashed text (site, IP and user agent) whose hash is kept: a browser's user agent is a
 * few hundred characters, a request's may be as long as its headers (16 KB).
 */
const CACHED_CHARS = 1024;

/**
 * Replaces the raw IP with hash(daily salt, site, IP, user agent). Each UTC day gets a new random
 * salt; salts older than 48 hours are deleted, so a hash can no longer be tied back to an IP.
 * The day's hashes of the last cacheSize visitors are kept (a server SDK's batch interleaves many
 * visitors, each hashed anew, about a tenth of the collector's CPU), and dropped when the day turns.
 */
export function createVisitorHasher(options: { dir: string; now?: () => number; cacheSize?: number }) {
  const now = options.now ?? Date.now;
  const cacheSize = options.cacheSize ?? 10_000;
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  let day = '';
  // The UTC day (days since 1970) the salt and the cached hashes are of.
  let dayNumber = Number.NaN;
  let salt: Buffer = Buffer.alloc(0);
  // Site, then IP, then user agent (a Map a level), so that a visitor's hash is found without
  // joining the three into one key for every event; kept[] holds them in the order they came, and
  // next is where the oldest, which goes first, stands in it.
  const hashes = new Map<string, Map<string, Map<string, string>>>();
  const kept: Array<[string, string, string]> = [];
  let next = 0;

  const rotate = (today: string, at: number) => {
    const path = join(options.dir, `${today}.salt`);
    const saved = readSalt(path);
    if (saved) salt = saved;
    else {
      // Created whole or not at all, so two processes sharing a data directory agree on one salt
      // and none hashes with an empty one (an unsalted hash of an IP can be reversed).
      salt = randomBytes(SALT_BYTES);
      if (!createOnce(path, salt)) salt = readSalt(path) ?? salt;
    }
    removeExpiredSalts(options.dir, at);
    day = today;
  };

  return (site: string, ip: string | undefined, userAgent: string | undefined): string | null => {
    if (!ip) return null;
    const at = now();
    if (Math.floor(at / DAY_MS) !== dayNumber) {
      const today = new Date(at).toISOString().slice(0, 10);
      if (today !== day) rotate(today, at);
      // Only once the day's salt is read: a salt that cannot be read is tried again next time.
      dayNumber = Math.floor(at / DAY_MS);
      hashes.clear();
      kept.length = 0;
      next = 0;
    }
    const agent = userAgent ?? '';
    const ofIp = hashes.get(site)?.get(ip);
    const cached = ofIp?.get(agent);
    if (cached !== undefined) return cached;
    const text = `${site}\0${ip}\0${agent}`;
    const hash = createHash('sha256').update(salt).update(text).digest('hex').slice(0, 16);
    if (text.length > CACHED_CHARS || cacheSize < 1) return hash;
    if (kept.length >= cacheSize) {
      const [oldSite, oldIp, oldAgent] = kept[next] as [string, string, string];
      const ofSite = hashes.get(oldSite);
      const agents = ofSite?.get(oldIp);
      agents?.delete(oldAgent);
      if (agents?.size === 0) ofSite?.delete(oldIp);
      if (ofSite?.size === 0) hashes.delete(oldSite);
    }
    kept[next] = [site, ip, agent];
    next = (next + 1) % cacheSize;
    // Looked up again: the oldest visitor, gone above, may have been the last of this site and IP.
    let ofSite = hashes.get(site);
    if (!ofSite) {
      ofSite = new Map();
      hashes.set(site, ofSite);
    }
    let agents = ofSite.get(ip);
    if (!agents) {
      agents = new Map();
      ofSite.set(ip, agents);
    }
    agents.set(agent, hash);
    return hash;
  };
}
