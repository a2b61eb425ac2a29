/** Says in the browser console what the tracker left undone and why, as "inlet: …" like every line of it. */
export const warn = (message: string): void => console.warn(`inlet: ${message}`);
