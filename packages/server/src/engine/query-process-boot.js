// The query engine's process runs inlet's TypeScript as the server does: through tsx, registered
// here (the bundle builds its own query-process-boot.js from query-process-child.ts instead).
import { register } from 'tsx/esm/api';

register();
await import('./query-process-child.ts');
