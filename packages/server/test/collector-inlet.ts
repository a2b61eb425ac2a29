// The inlet that collector.test.ts and its siblings share, one a file, and what their tests send it through.
import { afterAll, beforeAll, expect } from 'vitest';
import { basicAuth, startTestInlet } from './helpers.ts';

type TestInlet = Awaited<ReturnType<typeof startTestInlet>>;

/**
 * Starts an inlet for the calling file's tests (in beforeAll; closed in afterAll), with a 64 KB
 * request and a 4 KB event limit and no rate limits, and post, which POSTs to it as JSON with the
 * tests' write key as Basic credentials (headers replace these): a string as it is, bytes as a
 * blob, anything else as JSON.
 */
export function sharedCollectorInlet(): {
  inlet: TestInlet;
  post: (path: string, body: unknown, headers?: Record<string, string>) => Promise<Response>;
} {
  let started: TestInlet | undefined;
  beforeAll(async () => {
    started = await startTestInlet({
      limits: {
        request_bytes: 64 * 1024,
        event_bytes: 4 * 1024,
        per_ip_per_second: 0,
        per_write_key_per_second: 0,
      },
    });
  });
  afterAll(async () => started?.cleanup());
  // A file takes inlet when it loads, before beforeAll has started it: each read goes to the one started.
  const inlet = new Proxy({} as TestInlet, {
    get(_, key) {
      if (!started) throw new Error("the collector tests' inlet was read before beforeAll started it");
      return Reflect.get(started, key);
    },
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${inlet.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basicAuth(), ...headers },
      body:
        typeof body === 'string'
          ? body
          : body instanceof Uint8Array
            ? new Blob([new Uint8Array(body)])
            : JSON.stringify(body),
    });
  return { inlet, post };
}

/** Expects an inlet error: the response's status, its error's code and, when given, text in its message. */
export const expectError = async (response: Response, status: number, code: string, text?: string) => {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  if (text) expect(body.error.message).toContain(text);
};
