import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InletConfig } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { dataLayout } from '../lake/index.ts';
import { acquireProcessLock, type ProcessLock } from '../state/index.ts';
import { type ApiServer, joinApiServers } from './api-servers.ts';
import { type ApiToken, resolveApiToken } from './api-token.ts';

/** A process's place among those serving the API, and the token it serves. */
export interface ApiTokenClaim {
  server: ApiServer;
  token: ApiToken;
}

/** How long a start waits for another to finish its claim: one takes a few milliseconds. */
const WAIT_MS = 10_000;

/**
 * Lists this process among those serving the API on config.data_dir (joinApiServers) and resolves
 * the token it serves (resolveApiToken), both while holding data/state/api-token.lock: two
 * processes starting at one moment on a fresh data directory each looked before the other had
 * listed itself or recorded its token, and both started, serving two tokens. waitMs bounds the wait
 * for another start's claim (a test's is short).
 */
export async function claimApiToken(config: InletConfig, waitMs = WAIT_MS): Promise<ApiTokenClaim> {
  const state = dataLayout(config.data_dir).state;
  const guard = await waitForLock(join(state, 'api-token.lock'), config.data_dir, waitMs);
  try {
    const server = joinApiServers(state);
    try {
      return { server, token: resolveApiToken(config, server.others) };
    } catch (error) {
      server.lock.release();
      throw error;
    }
  } finally {
    guard.release();
  }
}

class Busy extends Error {
  constructor(readonly holder: string) {
    super(holder);
  }
}

/** The process lock at path, once another process claiming the token there has let it go. */
async function waitForLock(path: string, dataDir: string, waitMs: number): Promise<ProcessLock> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      return acquireProcessLock(path, (holder) => new Busy(holder));
    } catch (error) {
      if (!(error instanceof Busy)) throw error;
      if (Date.now() > until)
        throw new InletError(
          'DATA_DIR_IN_USE',
          `${error.holder} has been claiming the API token on ${dataDir} for over ${waitMs / 1000} s (a claim takes milliseconds): it is stuck. Stop it, then start this process again (lock file: ${path}).`,
        );
      await sleep(10);
    }
  }
}
