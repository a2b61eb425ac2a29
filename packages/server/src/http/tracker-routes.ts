import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { InletError } from '../errors/index.ts';
import { type Script, script, sendScript } from './script-reply.ts';

const DIST = join(import.meta.dirname, '..', '..', '..', 'tracker', 'dist');

interface Bundle {
  version: string;
  script: Script;
  hashed: string;
  /** The hashed file's own bytes; mid-build, inlet.js may already be the next build. */
  hashedScript: Script | undefined;
}

const readIfThere = (path: string): Buffer | undefined => {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
};

/** The built tracker, re-read when a new build replaces it. */
function createBundleReader(dist: string) {
  let cached: Bundle | undefined;
  return (): Bundle => {
    const path = join(dist, 'inlet.js');
    const manifestPath = join(dist, 'manifest.json');
    // Both files: a build writes inlet.js before the manifest, and a request in between must not
    // keep the new code paired with the old hash.
    let version: string;
    try {
      version = `${statSync(path).mtimeMs} ${statSync(manifestPath).mtimeMs}`;
    } catch {
      throw new InletError('NOT_FOUND', 'The browser tracker is not built; run npm run build.');
    }
    if (cached?.version !== version) {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { hashed: string };
      const hashedCode = readIfThere(join(dist, manifest.hashed));
      cached = {
        version,
        script: script(readFileSync(path)),
        hashed: manifest.hashed,
        hashedScript: hashedCode && script(hashedCode),
      };
    }
    return cached;
  };
}

/** GET /inlet.js (short cache) and GET /inlet.<hash>.js (immutable), the tracker for the snippet. */
export function registerTrackerRoutes(app: FastifyInstance, dist = DIST) {
  const bundle = createBundleReader(dist);
  app.get('/inlet.js', async (request, reply) =>
    sendScript(request, reply, bundle().script, 'public, max-age=300'),
  );
  app.get<{ Params: { hash: string } }>('/inlet.:hash', async (request, reply) => {
    const current = bundle();
    if (`inlet.${request.params.hash}` !== current.hashed || !current.hashedScript) {
      throw new InletError(
        'NOT_FOUND',
        `/inlet.${request.params.hash} is not the tracker build this inlet serves: the current one is /${current.hashed} (a snippet pinned to a hash needs the new one after an upgrade; /inlet.js is always the current build).`,
      );
    }
    return sendScript(request, reply, current.hashedScript, 'public, max-age=31536000, immutable');
  });
}
