/** A random UUID v4; `crypto.randomUUID` exists only in secure contexts, so plain-http pages build one. */
export function uuid(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  const random = (): number =>
    c?.getRandomValues ? (c.getRandomValues(new Uint8Array(1))[0] as number) : Math.random() * 256;
  // Each 0 takes 4 random bits, the 8 (the variant) 2; the 4 is the version.
  return '00000000-0000-4000-8000-000000000000'.replace(/[08]/g, (digit) =>
    (+digit ^ (random() & (15 >> (+digit / 4)))).toString(16),
  );
}
