/**
 * `promise`, or a failure naming `what` it waited for once `ms` have passed. A wait on a browser or a
 * socket that never ends otherwise fails only at the test's timeout, which says nothing of what it was.
 * The promise is left running; whatever it settles to later is handled here, so it is no unhandled rejection.
 */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}, in vain`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
