import { describe, expect, it } from 'vitest';
import { createStore, type StorageLike } from './store.ts';

describe('createStore', () => {
  it('keeps values in localStorage under the inlet. prefix', () => {
    const data = new Map<string, string>();
    const storage: StorageLike = {
      getItem: (key) => data.get(key) ?? null,
      setItem: (key, value) => void data.set(key, value),
      removeItem: (key) => void data.delete(key),
    };
    const store = createStore(storage);
    store.set('a', 'anon-1');
    expect(data.get('inlet.a')).toBe('anon-1');
    expect(createStore(storage).get('a')).toBe('anon-1');
    store.del('a');
    expect(data.has('inlet.a')).toBe(false);
  });

  it('falls back to memory when storage throws (blocked or full), without throwing itself', () => {
    const broken: StorageLike = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    const store = createStore(broken);
    store.set('s', 'session');
    expect(store.get('s')).toBe('session');
    store.del('s');
    expect(store.get('s')).toBeUndefined();
  });

  it("names the keys stored under a prefix, another page's in localStorage and this page's kept in memory", () => {
    // As localStorage, whose own properties are its keys.
    const items: Record<string, string> = {};
    const storage: StorageLike = {
      getItem: (key) => items[key] ?? null,
      setItem: (key, value) => {
        if (key.endsWith('full')) throw new Error('QuotaExceededError');
        items[key] = value;
      },
      removeItem: (key) => delete items[key],
    };
    Object.defineProperties(items, Object.getOwnPropertyDescriptors(storage));
    for (const name of Object.keys(storage)) Object.defineProperty(items, name, { enumerable: false });
    createStore(items as unknown as StorageLike).set('q.wk.a', '1');
    const store = createStore(items as unknown as StorageLike);
    store.set('q.wk.full', '2');
    store.set('a', 'anon-1');
    expect(store.names('q.wk.').sort()).toEqual(['q.wk.a', 'q.wk.full']);
  });

  it('works without any storage', () => {
    const store = createStore(null);
    store.set('u', 'user-1');
    expect(store.get('u')).toBe('user-1');
  });
});
