// The inlet command runs one bundle of inlet's TypeScript, built by esbuild (~0.3 s) the first time
// the command runs and again whenever a source is newer than it, so a checkout still needs no build
// step. Running the sources through tsx instead cost every process ~40 MB at rest and ~60 MB more
// under load (the transpiler and a compiled copy of every module), and each worker thread as much again
// (docs/benchmarks.md). Tests import the sources directly, and the processes and threads those
// start run the bundle (runEntry); `node --enable-source-maps` maps stack traces from the bundle
// back to them.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The workers are their own entry points, named as the sources start them (new URL('./…-boot.js')).
const ENTRIES = {
  main: 'cli/main.ts',
  'intake-worker-boot': 'collect/intake-worker.ts',
  'segment-check-worker-boot': 'lake/segment-check-worker.ts',
  'query-process-boot': 'engine/query-process-child.ts',
};

/** The newest modification time among the files the bundle is built from. */
function newestInput(server) {
  let newest = Math.max(
    statSync(import.meta.filename).mtimeMs,
    statSync(join(server, 'package.json')).mtimeMs,
  );
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(server, 'src'));
  return newest;
}

/** The newest input time the bundle in out was built from, or -1 when there is none. */
function builtFrom(out) {
  try {
    return Number(readFileSync(join(out, 'inputs'), 'utf8'));
  } catch {
    return -1;
  }
}

/**
 * The bundle's entry point, built first when it is missing or older than a source. Builds run in a
 * directory of their own and each file is then renamed into place, so processes starting at the
 * same moment never load a half-written file.
 */
export async function ensureBundle(server = join(import.meta.dirname, '..')) {
  // One directory below dist/, as every source is one below src/: the paths a source builds from its
  // own directory (the tracker's dist, the built-in project, the worker scripts beside it) then lead
  // to the same places from the bundle.
  const out = join(server, 'dist', 'bundle');
  const main = join(out, 'main.js');
  const inputs = newestInput(server);
  if (builtFrom(out) >= inputs) return main;
  const { build } = await import('esbuild');
  const tmp = join(server, 'dist', `.bundle-${process.pid}-${Date.now()}`);
  // Made here, not by esbuild, whose error for a directory it may not create carries no code: a
  // user who may not write the checkout then gets EACCES, and main.js runs the sources instead.
  mkdirSync(tmp, { recursive: true });
  try {
    await build({
      entryPoints: Object.fromEntries(
        Object.entries(ENTRIES).map(([name, path]) => [name, join(server, 'src', path)]),
      ),
      outdir: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      logLevel: 'silent',
    });
    mkdirSync(out, { recursive: true });
    // main.js last, then the time of the newest input it was built from: a source edited during the
    // build is newer than that, so the next start builds again.
    const names = readdirSync(tmp).sort((a, b) => Number(a === 'main.js') - Number(b === 'main.js'));
    for (const name of names) renameSync(join(tmp, name), join(out, name));
    writeFileSync(join(tmp, 'inputs'), String(inputs));
    renameSync(join(tmp, 'inputs'), join(out, 'inputs'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return main;
}

/**
 * Runs an entry point (a name of ENTRIES) in a process or thread started from the sources (the
 * tests): the bundle's build of it, built first when a source is newer, so it runs these very
 * sources. Where inlet may not write its bundle, the entry's TypeScript (source, a URL) through tsx.
 */
export async function runEntry(name, source, server = join(import.meta.dirname, '..')) {
  let main;
  try {
    main = await ensureBundle(server);
  } catch (error) {
    if (!['EACCES', 'EPERM', 'EROFS'].includes(error?.code)) throw error;
    const { register } = await import('tsx/esm/api');
    register();
    return import(source);
  }
  return import(pathToFileURL(join(dirname(main), `${name}.js`)).href);
}
