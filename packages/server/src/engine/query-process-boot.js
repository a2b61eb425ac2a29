// The query engine's process, when inlet runs from its sources (the tests, or an install that may
// not write its bundle); the bundle builds its own query-process-boot.js from query-process-child.ts.
// It runs that bundle's boot, as the inlet command does: through tsx instead, each start took twice
// the CPU (1.2–1.8 s against 0.6 s), and the tests start an engine for every server, and every
// inlet query, they run.
import { runEntry } from '../../bin/bundle.js';

await runEntry('query-process-boot', new URL('./query-process-child.ts', import.meta.url).href);
