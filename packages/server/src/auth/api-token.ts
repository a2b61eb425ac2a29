import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { apiTokenProblem, type InletConfig, MIN_API_TOKEN_LENGTH } from '../config/index.ts';
import { InletError } from '../errors/index.ts';
import { dataLayout } from '../lake/index.ts';
import { createOnce } from '../state/index.ts';

export interface ApiToken {
  token: string;
  /** Whether this call generated it into path. */
  generated: boolean;
  /** data/state/api-token, where inlet keeps the token it generates. */
  path: string;
  /**
   * Where the token served before is kept (data/state/api-token.sha256 for its SHA-256, or the
   * generated data/state/api-token), when INLET_API_TOKEN replaces it: clients sending it are refused.
   */
  replaced?: string;
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The admin API token: INLET_API_TOKEN, or one generated once and kept in data/state/api-token.
 * A token given in INLET_API_TOKEN is recorded, by its SHA-256 only, in
 * data/state/api-token.sha256, so processes sharing the data directory serve one token: one
 * started without the variable is refused rather than serving a token of its own, and one given
 * another while others (the processes `others` names, from joinApiServers) serve the recorded one
 * is refused too. Started with a new token while no other serves, a process records it: that is
 * how a token is changed, and `replaced` then says where the old one was kept.
 */
export function resolveApiToken(config: InletConfig, others: string[] = []): ApiToken {
  const state = dataLayout(config.data_dir).state;
  const path = join(state, 'api-token');
  const recordPath = join(state, 'api-token.sha256');
  const recorded = readRecord(recordPath);
  if (config.apiToken) {
    const problem = apiTokenProblem(config.apiToken);
    if (problem) throw new InletError('CONFIG_INVALID', problem);
    const given = sha256(config.apiToken);
    if (recorded !== given) {
      // What the others serve: the token recorded, or else the one generated.
      const saved = recorded === undefined ? savedTokenIfUsable(path) : undefined;
      const served = recorded ?? (saved === undefined ? undefined : sha256(saved));
      if (others.length > 0 && served !== undefined && served !== given)
        throw new InletError(
          'DATA_DIR_IN_USE',
          `${others.join(', ')} serves the API on ${config.data_dir} with ${recorded === undefined ? `the token in ${path}` : `another INLET_API_TOKEN (its SHA-256 is in ${recordPath})`}, not the INLET_API_TOKEN given to this process, and each would refuse the other's clients. Give this process the token the other serves; to change the token, stop every inlet process serving the API on ${config.data_dir} (collector and web roles), then start them with the new INLET_API_TOKEN.`,
        );
      record(recordPath, given);
      if (served !== undefined && served !== given)
        return {
          token: config.apiToken,
          generated: false,
          path,
          replaced: recorded === undefined ? path : recordPath,
        };
    }
    return { token: config.apiToken, generated: false, path };
  }
  if (recorded !== undefined) {
    const saved = savedTokenIfUsable(path);
    // INLET_API_TOKEN was given the token inlet had generated: the same one still.
    if (saved !== undefined && sha256(saved) === recorded) return { token: saved, generated: false, path };
    throw new InletError(
      'CONFIG_INVALID',
      `INLET_API_TOKEN is not set, but ${others.length > 0 ? `${others.join(', ')} serves the API on ${config.data_dir} with the INLET_API_TOKEN it was given` : `the API on ${config.data_dir} was served with an INLET_API_TOKEN`} (its SHA-256 is in ${recordPath}), and a token of this process's own would refuse its clients. Start this process with the same INLET_API_TOKEN; or, to have inlet use the token it keeps in ${path} (generated when there is none), stop every inlet process serving the API there and delete ${recordPath}.`,
    );
  }
  const saved = readSavedToken(path);
  if (saved !== undefined) return { token: saved, generated: false, path };
  const token = `inlet_${randomBytes(24).toString('base64url')}`;
  mkdirSync(state, { recursive: true, mode: 0o700 });
  // Of two processes starting at once, the second takes the first one's token.
  if (!createOnce(path, `${token}\n`))
    return { token: readSavedToken(path) ?? token, generated: false, path };
  return { token, generated: true, path };
}

/** The SHA-256 recorded at path (its text), undefined when there is none. */
function readRecord(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') return undefined;
    throw new InletError(
      'CONFIG_INVALID',
      `${path} cannot be read (${message}). Give inlet's user the file, or, once no inlet process serves the API on this data directory, move it out of the way.`,
      { cause: error },
    );
  }
}

/** Records the SHA-256 of INLET_API_TOKEN at path, replacing whole what was there. */
function record(path: string, sha: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const draft = `${path}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(draft, `${sha}\n`, { mode: 0o600 });
  renameSync(draft, path);
}

/** The token kept at path; undefined when there is none, or none usable (then nothing serves it). */
function savedTokenIfUsable(path: string): string | undefined {
  try {
    return readSavedToken(path);
  } catch {
    return undefined;
  }
}

/** The token kept in data/state/api-token, undefined when there is none; refuses an unusable one. */
function readSavedToken(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') return undefined;
    // A folder under its name, or a file of another user: the start failed as an error inlet did not foresee.
    throw new InletError(
      'CONFIG_INVALID',
      `${path} cannot be read (${message}). Move it out of the data directory to have inlet generate a new token, give inlet's user the file, or set INLET_API_TOKEN.`,
      { cause: error },
    );
  }
  const token = text.trim();
  if (token.length >= MIN_API_TOKEN_LENGTH) return token;
  throw new InletError(
    'CONFIG_INVALID',
    `${path} holds ${token.length === 0 ? 'no API token' : 'an API token shorter than 16 characters'}. ` +
      'Delete the file to have inlet generate a new one, or set INLET_API_TOKEN.',
  );
}
