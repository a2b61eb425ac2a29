import { describe, expect, it } from 'vitest';
import { basicAuth, queryApi, segmentMessage, startTestInlet } from './helpers.ts';

/** Sends one event as if through proxies that set X-Forwarded-For, and returns its visitor_hash. */
async function visitorBehind(url: string, id: string, forwardedFor: string): Promise<unknown> {
  const response = await fetch(`${url}/v1/track`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: basicAuth(),
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
      'x-forwarded-for': forwardedFor,
    },
    body: JSON.stringify(segmentMessage(id)),
  });
  expect(response.status).toBe(200);
  const [row] = await queryApi(url, `SELECT visitor_hash FROM events WHERE event_id = '${id}'`);
  return row?.visitor_hash;
}

describe('server.trust_proxy', () => {
  it('takes the client address its own proxies added, so a client cannot choose its address', async () => {
    const oneHop = await startTestInlet({ server: { host: '127.0.0.1', port: 0, trust_proxy: true } });
    try {
      // The proxy appends the address it saw; whatever the client sent comes before it.
      const a = await visitorBehind(oneHop.url, 'p1', '198.51.100.1, 203.0.113.7');
      const b = await visitorBehind(oneHop.url, 'p2', '198.51.100.2, 203.0.113.7');
      const c = await visitorBehind(oneHop.url, 'p3', '203.0.113.8');
      expect(a).toBe(b);
      expect(c).not.toBe(a);
    } finally {
      await oneHop.cleanup();
    }
    // Proxies that append the client's port (Azure Application Gateway): one visitor, whatever port.
    const withPorts = await startTestInlet({ server: { host: '127.0.0.1', port: 0, trust_proxy: true } });
    try {
      const plain = await visitorBehind(withPorts.url, 'r1', '203.0.113.7');
      expect(await visitorBehind(withPorts.url, 'r2', '203.0.113.7:50123')).toBe(plain);
      expect(await visitorBehind(withPorts.url, 'r3', '198.51.100.1, 203.0.113.7:50124')).toBe(plain);
      const v6 = await visitorBehind(withPorts.url, 'r4', '2001:db8::1');
      expect(await visitorBehind(withPorts.url, 'r5', '[2001:db8::1]:443')).toBe(v6);
      expect(v6).not.toBe(plain);
    } finally {
      await withPorts.cleanup();
    }
    // Two proxies (a CDN, then a load balancer): the client is the second address from the right.
    const twoHops = await startTestInlet({ server: { host: '127.0.0.1', port: 0, trust_proxy: 2 } });
    try {
      const a = await visitorBehind(twoHops.url, 'q1', '198.51.100.1, 203.0.113.7, 10.0.0.2');
      const b = await visitorBehind(twoHops.url, 'q2', '203.0.113.7, 10.0.0.3');
      const c = await visitorBehind(twoHops.url, 'q3', '203.0.113.9, 10.0.0.2');
      expect(a).toBe(b);
      expect(c).not.toBe(a);
    } finally {
      await twoHops.cleanup();
    }
  });

  it('holds an IPv6 client to limits.per_ip_per_second by its /64, through which it could rotate', async () => {
    // Each address of 2001:db8:1:2::/64 found a full bucket: six requests at once from one client
    // under a limit of one a second all passed, and so would have any number. Sent together, as the
    // bucket refills only after a second.
    const limited = await startTestInlet({
      server: { host: '127.0.0.1', port: 0, trust_proxy: true },
      limits: { per_ip_per_second: 1, per_write_key_per_second: 0 },
    });
    const send = (id: string, address: string) =>
      fetch(`${limited.url}/v1/track`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: basicAuth(),
          'x-forwarded-for': address,
        },
        body: JSON.stringify(segmentMessage(id)),
      });
    try {
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) => send(`v6-${i}`, `2001:db8:1:2:${i}::${i + 1}`)),
      );
      expect(responses.filter((response) => response.status === 429).length).toBeGreaterThanOrEqual(4);
      // Another /64 has a bucket of its own.
      expect((await send('v6-other', '2001:db8:1:3::1')).status).toBe(200);
    } finally {
      await limited.cleanup();
    }
  });
});
