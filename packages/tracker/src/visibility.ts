/** Heartbeats count time someone can see, so they run only while the tab is visible. */
export const isVisible = (): boolean => document.visibilityState === 'visible';

/** Calls `listener` on every visibility change. */
export const onVisibilityChange = (listener: () => void): void =>
  document.addEventListener('visibilitychange', listener);
