// An intake worker, when inlet runs from its sources (the tests): the bundle's build of
// intake-worker.ts, as the inlet command runs it, else that TypeScript through tsx.
import { runEntry } from '../../bin/bundle.js';

await runEntry('intake-worker-boot', new URL('./intake-worker.ts', import.meta.url).href);
