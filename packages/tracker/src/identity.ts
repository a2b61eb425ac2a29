import type { Store } from './store.ts';
import { uuid } from './uuid.ts';

/** A session ends after this long without an event, as in most analytics tools. */
export const SESSION_TIMEOUT_MS = 30 * 60 * 1000;

/** Anonymous id, user id and rolling session id, persisted so they survive page loads. */
export function createIdentity(store: Store) {
  return {
    anonymousId(): string {
      const stored = store.get('a');
      if (stored) return stored;
      const id = uuid();
      store.set('a', id);
      return id;
    },
    /** The current session id; starts a new one after 30 idle minutes and records `now` as activity. */
    session(now: number): string {
      const [id, last] = (store.get('s') ?? '').split('|');
      const current = id && now - +last < SESSION_TIMEOUT_MS ? id : uuid();
      store.set('s', `${current}|${now}`);
      return current;
    },
    userId(): string | undefined {
      return store.get('u');
    },
    setUserId(id: string): void {
      store.set('u', id);
    },
    /** Forgets every id, so the next event starts a new anonymous visitor and session. */
    wipe(): void {
      store.del('a');
      store.del('s');
      store.del('u');
    },
  };
}

export type Identity = ReturnType<typeof createIdentity>;
