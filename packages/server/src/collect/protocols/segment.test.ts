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

describe('a Segment body sent to the wrong route', () => {
  const message = { type: 'track', event: 'Signed Up', userId: 'u1' };

  it('says a batch sent to a route for one message is a batch, where it asked for a userId', () => {
    expect(() => parseSegment({ batch: [message] }, 'track')).toThrow(
      'batch: this route takes one track message, not a batch; send batches to /v1/batch',
    );
  });

  it('says one message sent to /v1/batch is one message, and where it goes', () => {
    expect(() => parseSegment(message, undefined)).toThrow(
      'batch: must be an array of messages ({"batch": [ … ]}); this body is one track message: send it to /v1/track, or inside a batch',
    );
    // A body that is no message says only what a batch is.
    expect(() => parseSegment({ batch: 'x' }, undefined)).toThrow(
      'batch: must be an array of messages ({"batch": [ … ]})',
    );
  });

  it('says an array of messages must come as the batch of an object', () => {
    expect(() => parseSegment([message], undefined)).toThrow(
      'body: must be a JSON object, {"batch": [ … ]}, not an array; send the messages as its batch',
    );
    expect(() => parseSegment([message], 'track')).toThrow(
      'body: must be a JSON object (one track message), not an array; send several to /v1/batch as {"batch": [ … ]}',
    );
  });
});
