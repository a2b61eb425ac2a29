import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { acquireProcessLock, describeLockHolder, type ProcessLock } from '../state/index.ts';

/** This process's place among those that serve the API on a data directory. */
export interface ApiServer {
  /** The other processes that serve the API on it now, as a busy error names them. */
  others: string[];
  /** Leaves the list: held until the process stops serving. */
  lock: ProcessLock;
}

/**
 * Lists this process among those serving the API (collector or web role) on the data directory
 * whose state folder is stateDir, by a process lock of its own in state/api-servers/, and names the
 * others listed there that run now. The web role takes no lock of its own (several may share a data
 * directory), so this is how a start knows whether a token it would change is served by another.
 */
export function joinApiServers(stateDir: string): ApiServer {
  const dir = join(stateDir, 'api-servers');
  const name = `${randomUUID()}.lock`;
  const lock = acquireProcessLock(join(dir, name), () => new Error(`${name} is taken`));
  const others: string[] = [];
  for (const entry of readdirSync(dir)) {
    // Drafts of a lock being made end otherwise.
    if (entry === name || !entry.endsWith('.lock')) continue;
    const holder = describeLockHolder(join(dir, entry));
    if (holder) others.push(holder);
    // Left by a process gone (a crash): nobody else takes its name.
    else rmSync(join(dir, entry), { force: true });
  }
  return { others, lock };
}
