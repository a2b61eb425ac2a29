import { describe, expect, it } from 'vitest';
import { addressKey, createRateLimiter } from './rate-limit.ts';

describe('createRateLimiter', () => {
  it('refills a key at its rate and keeps keys apart', () => {
    let t = 0;
    const limit = createRateLimiter(10, () => t);
    expect(limit('a', 10)).toBe(true);
    expect(limit('a')).toBe(false);
    expect(limit('b', 10)).toBe(true);
    t = 500;
    expect(limit('a', 5)).toBe(true);
    expect(limit('a')).toBe(false);
  });

  it('takes a request larger than the whole bucket once the bucket is full, then holds the rate', () => {
    // A 2,500-event batch under a limit of 1,000 events a second: refused for good, the client
    // would retry it after each Retry-After forever.
    let t = 0;
    const limit = createRateLimiter(1000, () => t);
    expect(limit('k', 2500)).toBe(true);
    // The 1,500 taken beyond the bucket are paid back before anything else passes.
    t = 1000;
    expect(limit('k', 1)).toBe(false);
    t = 1502;
    expect(limit('k', 1)).toBe(true);
    expect(limit('k', 2500)).toBe(false);
    t = 2600;
    expect(limit('k', 2500)).toBe(true);
  });

  it('tells a refused request how many whole seconds until it can pass', () => {
    let t = 0;
    const limit = createRateLimiter(1000, () => t);
    expect(limit('k', 2500)).toBe(true);
    // 1,500 in debt: one more event waits 1.501 s, so Retry-After is 2 (1 was retried into more 429s).
    expect(limit('k')).toBe(false);
    expect(limit.retryAfter('k')).toBe(2);
    t = 1000;
    expect(limit('k')).toBe(false);
    expect(limit.retryAfter('k')).toBe(1);
    // Another full batch waits for the debt and a whole bucket.
    expect(limit('k', 2500)).toBe(false);
    expect(limit.retryAfter('k', 2500)).toBe(2);
    expect(limit.retryAfter('unknown')).toBe(1);
  });

  it('a rate of 0 takes everything', () => {
    const limit = createRateLimiter(0, () => 0);
    expect(limit('k', 1_000_000)).toBe(true);
  });
});

describe('addressKey', () => {
  it('keys an IPv6 address by its /64, however it is written, and an IPv4 address by itself', () => {
    // By the whole address, a client rotating through its /64 found a full bucket at each request.
    for (const address of [
      '2001:db8:1:2::1',
      '2001:0db8:0001:0002:ffff::9',
      '2001:DB8:1:2:3:4:5:6',
      '2001:db8:1:2::1%eth0',
    ])
      expect(addressKey(address)).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('')).toBe('');
  });
});
