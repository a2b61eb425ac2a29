/**
 * Calls `listener` after every client-side navigation: history.pushState and replaceState (which fire no
 * event, so they are wrapped; `replaced` is true for replaceState), back and forward, and hash changes
 * when the site routes by hash.
 */
export function onNavigate(listener: (replaced: boolean) => void, hashRouting: boolean): void {
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      listener(method === 'replaceState');
    };
  }
  const moved = (): void => listener(false);
  addEventListener('popstate', moved);
  if (hashRouting) addEventListener('hashchange', moved);
}
