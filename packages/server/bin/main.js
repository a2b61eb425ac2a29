// The inlet command, after inlet.cjs has set up the environment. It runs a bundle of inlet's
// TypeScript that it builds itself when the sources are newer (bundle.js), so there is no build
// step between a checkout and a running server.
import { pathToFileURL } from 'node:url';
import { ensureBundle } from './bundle.js';

let entry;
try {
  entry = pathToFileURL(await ensureBundle()).href;
} catch (error) {
  // Installed where inlet may not write its bundle: the sources run through tsx instead.
  if (!['EACCES', 'EPERM', 'EROFS'].includes(error?.code)) throw error;
  const { register } = await import('tsx/esm/api');
  register();
  entry = '../src/cli/main.ts';
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
