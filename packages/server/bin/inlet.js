#!/usr/bin/env node
// The inlet command. inlet runs its TypeScript sources directly through tsx, so there is no build step
// between a checkout and a running server.
import './duckdb-memory.js';
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
