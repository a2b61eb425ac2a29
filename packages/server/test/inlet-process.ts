// `inlet start` as a child process, for tests and scripts that kill it (crash.test.ts, bench/chaos.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { WRITE_KEY } from './helpers.ts';

/** The inlet command, as `npx inlet` runs it. */
export const BIN = join(import.meta.dirname, '..', 'bin', 'inlet.cjs');

/** A TCP port nothing listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * Writes dir/inlet.yaml for an inlet on a free port (data in dir/data, the `docs` site with the
 * tests' write key), with extra YAML after it; returns the file and the server's URL.
 */
export async function inletConfigFile(dir: string, extra = ''): Promise<{ config: string; url: string }> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'inlet.yaml');
  writeFileSync(
    config,
    `data_dir: ./data\nserver: { host: 127.0.0.1, port: ${port} }\nsites:\n  - id: docs\n    write_key: ${WRITE_KEY}\n${extra}`,
  );
  return { config, url: `http://127.0.0.1:${port}` };
}

/** Resolves once the process has exited (at once if it has). */
export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/** Starts `inlet start --config <config>` and resolves once url/healthz answers; rejects with its stderr if it exits or does not come up. */
export async function startInletProcess(
  config: string,
  url: string,
  apiToken: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--config', config], {
    env: { ...process.env, INLET_API_TOKEN: apiToken, INLET_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`inlet exited at start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`inlet did not start:\n${stderr}`);
}
