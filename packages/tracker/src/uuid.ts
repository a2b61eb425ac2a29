/** A random UUID v4; `crypto.randomUUID` exists only in secure contexts, so plain-http pages build one. */
export function uuid(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = (Math.random() * 256) | 0;
  bytes[6] = ((bytes[6] as number) & 15) | 64;
  bytes[8] = ((bytes[8] as number) & 63) | 128;
  let hex = '';
  for (let i = 0; i < 16; i++)
    hex +=
      (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') +
      ((bytes[i] as number) + 256).toString(16).slice(1);
  return hex;
}
