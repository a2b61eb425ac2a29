/**
 * Sends messages to a collector as Segment batches, a few requests at a time; resolves with how many
 * were accepted. Once signal aborts, no batch is sent or retried, and those in flight are awaited, so
 * the count is of every event the collector acknowledged.
 */
export async function sendBatches(options: {
  url: string;
  writeKey: string;
  messages: Iterable<Record<string, unknown>[]>;
  batchSize?: number;
  concurrency?: number;
  onProgress?: (sent: number) => void;
  signal?: AbortSignal;
}): Promise<number> {
  const { signal } = options;
  const batchSize = options.batchSize ?? 500;
  const auth = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const post = async (batch: Record<string, unknown>[]) => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${options.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
      });
      if (response.ok) break;
      if (signal?.aborted) return;
      // 429 and 503 say when to come back; anything else is a bug in the demo itself.
      if ((response.status !== 429 && response.status !== 503) || attempt >= 20) {
        throw new Error(
          `The collector refused a demo batch with ${response.status}: ${await response.text()}`,
        );
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000),
      );
    }
    sent += batch.length;
    options.onProgress?.(sent);
  };
  for (const group of options.messages) {
    for (let i = 0; i < group.length && !signal?.aborted; i += batchSize) {
      const request = post(group.slice(i, i + batchSize)).finally(() => inFlight.delete(request));
      inFlight.add(request);
      if (inFlight.size >= (options.concurrency ?? 4)) await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
  return sent;
}
