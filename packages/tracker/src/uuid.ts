/** A random UUID v4; `crypto.randomUUID` exists only in secure contexts, so plain-http pages build one. */
export function uuid(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(32);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < 32; i++) bytes[i] = Math.random() * 256;
  let i = 0;
  // Each 0 takes 4 random bits, the 8 (the variant) 2; the 4 is the version.
  return '00000000-0000-4000-8000-000000000000'.replace(/[08]/g, (digit) =>
    (+digit ^ ((bytes[i++] as number) & (15 >> (+digit / 4)))).toString(16),
  );
}
