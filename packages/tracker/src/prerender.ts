/** Whether the browser is prerendering the page (speculation rules, the address bar), not showing it. */
const prerendering = (): boolean => !!(document as { prerendering?: boolean }).prerendering;

/**
 * Runs `task` now, or once a prerendered page is shown: it may never be, and then nothing it did
 * happened for anyone. Tasks deferred run in the order they came.
 */
export function whenShown(task: () => void): void {
  if (prerendering()) document.addEventListener('prerenderingchange', task, { once: true });
  else task();
}
