// An intake worker runs inlet's TypeScript as the main thread does: through tsx, registered here.
import { register } from 'tsx/esm/api';

register();
await import('./intake-worker.ts');
