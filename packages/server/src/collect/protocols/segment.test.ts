import { describe, expect, it } from 'vitest';
import { parseSegment } from './segment.ts';

describe("Segment's page and screen category", () => {
  it("keeps a screen call's category in its properties, as analytics.js copies a page call's there", () => {
    // analytics-node's screen({ category }) and the mobile SDKs send it beside name only.
    const { events } = parseSegment(
      {
        batch: [
          { type: 'screen', name: 'Settings', category: 'Account', userId: 'u1' },
          { type: 'page', name: 'Cart', category: 'Shop', userId: 'u1', properties: { path: '/cart' } },
          { type: 'page', category: 'Shop', userId: 'u1', properties: { category: 'Shop' } },
          { type: 'page', category: 'Shop', userId: 'u1', properties: { category: 'own' } },
          { type: 'screen', name: 'Home', userId: 'u1' },
        ],
      },
      undefined,
    );
    expect(events.map((e) => e.properties)).toEqual([
      { category: 'Account' },
      { path: '/cart', category: 'Shop' },
      { category: 'Shop' },
      { category: 'own' },
      {},
    ]);
  });

  it('holds a category that is no string to the limits properties have, naming it', () => {
    const deep: unknown[] = [];
    let inner = deep;
    for (let i = 0; i < 70; i++) inner = inner[0] = [] as unknown[];
    expect(() => parseSegment({ type: 'screen', userId: 'u1', category: deep }, 'screen')).toThrow(
      'body.category: nests objects or arrays more than 64 levels deep',
    );
  });
});
