// The loader's checksum thread, when inlet runs from its sources (the tests): the bundle's build of
// segment-check-worker.ts, as the inlet command runs it, else that TypeScript through tsx, which
// took 0.8–2.7 s a start to compile against 0.2–0.5 s; every server the tests start with a
// collector and a loader starts one.
import { runEntry } from '../../bin/bundle.js';

await runEntry('segment-check-worker-boot', new URL('./segment-check-worker.ts', import.meta.url).href);
