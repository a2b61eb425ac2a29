/**
 * A random UUID v4, built from crypto.getRandomValues, which every browser that runs this ES2020 code has,
 * on plain-http pages too; crypto.randomUUID exists only in secure contexts.
 */
export function uuid(): string {
  // Each 0 takes 4 random bits, the 8 (the variant) 2; the 4 is the version.
  return '00000000-0000-4000-8000-000000000000'.replace(/[08]/g, (digit) =>
    (+digit ^ ((crypto.getRandomValues(new Uint8Array(1))[0] as number) & (15 >> (+digit / 4)))).toString(16),
  );
}
