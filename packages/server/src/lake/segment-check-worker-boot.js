// The loader's checksum thread runs inlet's TypeScript as the main thread does: through tsx, registered here.
import { register } from 'tsx/esm/api';

register();
await import('./segment-check-worker.ts');
