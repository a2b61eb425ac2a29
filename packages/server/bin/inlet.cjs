#!/usr/bin/env node
// The inlet command. The environment native code reads at start comes first (environment.cjs),
// then the command itself, an ES module (main.js).
require('./environment.cjs');

import('./main.js').catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
