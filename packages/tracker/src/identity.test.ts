import { describe, expect, it } from 'vitest';
import { createIdentity, SESSION_TIMEOUT_MS } from './identity.ts';
import { createStore } from './store.ts';

const memory = () => {
  const data = new Map<string, string>();
  return createStore({
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  });
};

describe('createIdentity', () => {
  it('keeps one anonymous id across page loads', () => {
    const store = memory();
    const first = createIdentity(store).anonymousId();
    expect(createIdentity(store).anonymousId()).toBe(first);
  });

  it('keeps the session while events keep coming, and starts a new one after 30 idle minutes', () => {
    const ids = createIdentity(memory());
    const start = 1_800_000_000_000;
    const session = ids.session(start);
    expect(ids.session(start + SESSION_TIMEOUT_MS - 1)).toBe(session);
    // Activity rolls the window forward: 50 minutes after the start, but 20 after the last event.
    expect(ids.session(start + 50 * 60_000)).toBe(session);
    const next = ids.session(start + 50 * 60_000 + SESSION_TIMEOUT_MS);
    expect(next).not.toBe(session);
  });

  it('forgets user, anonymous id and session on wipe', () => {
    const ids = createIdentity(memory());
    const anonymous = ids.anonymousId();
    const session = ids.session(1);
    ids.setUserId('user-1');
    expect(ids.userId()).toBe('user-1');
    ids.wipe();
    expect(ids.userId()).toBeUndefined();
    expect(ids.anonymousId()).not.toBe(anonymous);
    expect(ids.session(2)).not.toBe(session);
  });

  it('keeps the session and the new user id while localStorage is full, rather than its last stored values', () => {
    const data = new Map<string, string>();
    const store = createStore({
      getItem: (key) => data.get(key) ?? null,
      setItem: (key, value) => {
        if (data.size >= 2) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        data.set(key, value);
      },
      removeItem: (key) => void data.delete(key),
    });
    const ids = createIdentity(store);
    const start = 1_800_000_000_000;
    const first = ids.session(start);
    ids.setUserId('user-a');
    // The site's own data fills the origin's quota; events keep coming a minute apart.
    const later = Array.from({ length: 40 }, (_, i) => ids.session(start + (i + 1) * 60_000));
    expect(new Set(later)).toEqual(new Set([first]));
    // Another user logs in on this browser: their events must not carry the first user's id.
    ids.setUserId('user-b');
    expect(ids.userId()).toBe('user-b');
  });
});
