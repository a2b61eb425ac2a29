import { chmodSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, the inlet command's own module
import { ensureBundle } from '../bin/bundle.js';
import { stdoutOf } from './child-processes.ts';
import {
  API_TOKEN,
  AS_NOBODY,
  basicAuth,
  nobodyCanRun,
  queryApi,
  segmentMessage,
  tempDir,
} from './helpers.ts';
import { exited, inletConfigFile, startInletProcess } from './inlet-process.ts';

const temp = tempDir();
afterAll(() => temp.cleanup());

/** A package shaped like packages/server: the three entry points, one importing a shared module. */
function fakeServer(name: string): string {
  const server = join(temp.dir, name);
  const write = (path: string, text: string) => {
    mkdirSync(join(server, path, '..'), { recursive: true });
    writeFileSync(join(server, path), text);
  };
  write('package.json', '{ "type": "module" }');
  write('src/shared/answer.ts', 'export const answer: number = 41;\n');
  write(
    'src/cli/main.ts',
    "import { answer } from '../shared/answer.ts';\nexport async function main(): Promise<number> { return answer; }\n",
  );
  write('src/collect/intake-worker.ts', 'export {};\n');
  write('src/lake/segment-check-worker.ts', 'export {};\n');
  write('src/engine/query-process-child.ts', 'export {};\n');
  return server;
}

const runMain = async (path: string): Promise<number> =>
  // A query string per load, as a rebuilt bundle has the same path.
  (await import(`${pathToFileURL(path).href}?${statSync(path).mtimeMs}`)).main();

describe('the bundle the inlet command runs', () => {
  it('is built when missing, kept while no source is newer, and built again when one is', async () => {
    const server = fakeServer('staleness');
    const main = await ensureBundle(server);
    expect(main).toBe(join(server, 'dist', 'bundle', 'main.js'));
    expect(await runMain(main)).toBe(41);
    for (const worker of ['intake-worker-boot.js', 'segment-check-worker-boot.js', 'query-process-boot.js'])
      expect(statSync(join(server, 'dist', 'bundle', worker)).isFile()).toBe(true);

    const built = statSync(main).mtimeMs;
    // A test file is not part of the bundle: a newer one changes nothing.
    writeFileSync(join(server, 'src', 'shared', 'answer.test.ts'), 'export {};\n');
    const later = (built + 5_000) / 1000;
    utimesSync(join(server, 'src', 'shared', 'answer.test.ts'), later, later);
    await ensureBundle(server);
    expect(statSync(main).mtimeMs).toBe(built);

    // An edited source is.
    writeFileSync(join(server, 'src', 'shared', 'answer.ts'), 'export const answer: number = 42;\n');
    utimesSync(join(server, 'src', 'shared', 'answer.ts'), later, later);
    await ensureBundle(server);
    expect(statSync(main).mtimeMs).toBeGreaterThan(built);
    expect(await runMain(main)).toBe(42);
  });

  // A user who may not write the checkout (root installed it) must get EACCES, on which the inlet
  // command runs the sources through tsx; esbuild's own error for the directory carried no code.
  // Root writes anywhere, so nobody tries.
  const BUNDLE_JS = join(import.meta.dirname, '..', 'bin', 'bundle.js');
  it.skipIf(process.getuid?.() !== 0 || !nobodyCanRun(BUNDLE_JS))(
    'fails with EACCES where it may not write its build',
    async () => {
      const server = fakeServer('read-only');
      chmodSync(temp.dir, 0o755);
      const script = `import(${JSON.stringify(pathToFileURL(BUNDLE_JS).href)})
        .then((m) => m.ensureBundle(${JSON.stringify(server)}))
        .then(() => console.log('built'), (e) => console.log(e.code ?? e.message))`;
      const printed = await stdoutOf(process.execPath, ['-e', script], AS_NOBODY);
      expect(printed.trim()).toBe('EACCES');
    },
  );

  it('names the source and the line when a source does not compile', async () => {
    const server = fakeServer('broken');
    writeFileSync(join(server, 'src', 'shared', 'answer.ts'), 'export const answer = (;\n');
    await expect(ensureBundle(server)).rejects.toThrow(/answer\.ts:1/);
  });

  it("runs inlet's intake workers from the bundle", async () => {
    const { config, url } = await inletConfigFile(
      temp.dir,
      'collector: { workers: 1, worker_min_bytes: 1 }\n',
    );
    const child = await startInletProcess(config, url, API_TOKEN);
    try {
      const response = await fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basicAuth() },
        body: JSON.stringify({ batch: [segmentMessage('bundled-1'), segmentMessage('bundled-2')] }),
      });
      expect(response.status).toBe(200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^inlet_intake_worker_requests_total 1$/m);
      expect(
        await queryApi(url, "SELECT event_id FROM events WHERE event_id LIKE 'bundled-%' ORDER BY 1"),
      ).toEqual([{ event_id: 'bundled-1' }, { event_id: 'bundled-2' }]);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  });
});
