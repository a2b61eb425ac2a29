/** @module demo: a realistic synthetic month for a demo site, sent through the real intake path. */

export { FEATURE_DESCRIPTIONS, FEATURES } from './catalog.ts';
export { type DemoSend, planDemoSend, sendDemo, unfinishedDemoSend } from './demo-send.ts';
export {
  type DemoMessage,
  type DemoOptions,
  FIRST_DEMO_SEED,
  generateDemo,
  zoneOffsetMinutes,
} from './generator.ts';
export { sendBatches } from './send-batches.ts';

export const DEMO_SITE = { id: 'demo', write_key: 'wk_demo_public', honor_dnt: false } as const;
