import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { clearStamp, isBuildCurrent, sourcesHash, writeStamp } from './build-stamp.ts';
import { bundle, GZIP_BUDGET } from './bundle.ts';

// Writes dist/inlet.js (IIFE), dist/inlet.<hash>.js (same bytes, for immutable caching),
// dist/inlet.mjs (ESM), dist/manifest.json and dist/types/*.d.ts, then the stamp of the sources they
// were built from; fails over the size budget. With --if-changed, does nothing when dist/ already
// holds a whole build of the current sources (the browser tests ask for that).

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
if (process.argv.includes('--if-changed') && isBuildCurrent()) {
  console.log('dist/ is already built from the current sources');
  process.exit(0);
}
// Taken before bundling, so a source edited during the build leaves a stamp that no longer matches.
const sources = sourcesHash();
const result = await bundle();

if (result.gzipBytes > GZIP_BUDGET) {
  console.error(
    `inlet.js is ${result.gzipBytes} bytes gzipped, over the ${GZIP_BUDGET}-byte budget; make it smaller.`,
  );
  process.exit(1);
}

mkdirSync(dist, { recursive: true });
// A build that fails part-way must not leave the stamp of the build before vouching for its files.
clearStamp();
const hashed = `inlet.${result.hash}.js`;
// Written beside and renamed over, so a collector serving dist/ never sees a half-written file.
const write = (file: string, text: string): void => {
  writeFileSync(`${dist}/.${file}.tmp`, text);
  renameSync(`${dist}/.${file}.tmp`, `${dist}/${file}`);
};
for (const file of readdirSync(dist)) {
  if (/^inlet\.[0-9a-f]{8}\.js$/.test(file) && file !== hashed) rmSync(`${dist}/${file}`);
}
write('inlet.js', result.iife);
write(hashed, result.iife);
write('inlet.mjs', result.esm);
const manifest = {
  file: 'inlet.js',
  hashed,
  integrity: result.integrity,
  bytes: result.minBytes,
  gzip: result.gzipBytes,
};
write('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.types.json`], { stdio: 'inherit' });
// tsc keeps the sources' .ts specifiers in declarations; consumers without allowImportingTsExtensions need .js.
for (const file of readdirSync(`${dist}/types`)) {
  const path = `${dist}/types/${file}`;
  writeFileSync(path, readFileSync(path, 'utf8').replace(/(from '\.\/[\w-]+)\.ts'/g, "$1.js'"));
}
writeStamp(sources);
console.log(
  `dist/inlet.js: ${result.minBytes} bytes minified, ${result.gzipBytes} gzipped (budget ${GZIP_BUDGET}); ${hashed}`,
);
