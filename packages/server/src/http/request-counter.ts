import type { IncomingMessage } from 'node:http';
import type { Metrics } from '../metrics/index.ts';

/**
 * inlet_http_requests_total, one count a request. A request some route has can also be answered
 * straight on its socket (Node's parser failed in its body, or it timed out): the socket's answer is
 * then that request's, and its route counts it under the status given here, where the socket counted
 * it as "unmatched" and the route again (a client that hung up mid-body was a 400 and a 499).
 */
export function createRequestCounter(metrics: Metrics) {
  const requests = metrics.counter('inlet_http_requests_total', 'HTTP requests by route and status', [
    'route',
    'status',
  ]);
  const answeredOnSocket = new WeakMap<IncomingMessage, number>();
  return {
    /** A request a route answered (or would have: its client went away), counted under that route. */
    route(request: IncomingMessage, route: string, status: number): void {
      requests.inc({ route, status: String(answeredOnSocket.get(request) ?? status) });
    },
    /**
     * An answer written on a socket: for request, a request a route has, which its route counts with
     * this status; without one, counted under "unmatched" (no route has it: bytes that are not HTTP,
     * no Host, CONNECT).
     */
    socket(status: number, request?: IncomingMessage): void {
      if (request) answeredOnSocket.set(request, status);
      else requests.inc({ route: 'unmatched', status: String(status) });
    },
  };
}

export type RequestCounter = ReturnType<typeof createRequestCounter>;
