/** The key-value store the tracker keeps ids, the opt-out flag and unsent events in. */
export interface Store {
  /** The value stored, or undefined for none. */
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  del(key: string): void;
  /** The keys stored that start with `prefix`, in localStorage or in this page's memory. */
  names(prefix: string): string[];
}

/** The subset of the Web Storage API the store uses. */
export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Wraps localStorage under the `inlet.` prefix. Storage can be blocked, full or
 * missing (privacy modes, sandboxed iframes), so every call falls back to memory for this page.
 */
export function createStore(storage?: StorageLike | null): Store {
  const memory: Record<string, string> = {};
  return {
    get(key) {
      // Without storage the call throws, as a blocked one does, and memory answers.
      try {
        const value = (storage as StorageLike).getItem(`inlet.${key}`);
        if (value != null) return value;
      } catch {}
      return memory[key];
    },
    set(key, value) {
      // Kept in memory only where storage fails (none throws too): a copy kept besides outlived another
      // tab's reset() or delivery of the key, and came back, a logged-out user's id with the next event.
      try {
        (storage as StorageLike).setItem(`inlet.${key}`, value);
      } catch {
        memory[key] = value;
        // Full storage keeps the old value, which get() would return instead of this one.
        try {
          (storage as StorageLike).removeItem(`inlet.${key}`);
        } catch {}
      }
    },
    del(key) {
      delete memory[key];
      try {
        (storage as StorageLike).removeItem(`inlet.${key}`);
      } catch {}
    },
    names(prefix) {
      const keys = new Set(Object.keys(memory));
      try {
        // The page's own keys, cut alike, name nothing get() finds (it reads under `inlet.`).
        for (const key of Object.keys(storage as object)) keys.add(key.slice(6));
      } catch {}
      return [...keys].filter((key) => key.startsWith(prefix));
    },
  };
}

/** `window.localStorage`, or undefined where reading the property itself throws (blocked storage). */
export function browserStorage(): StorageLike | undefined {
  try {
    return window.localStorage;
  } catch {}
}
