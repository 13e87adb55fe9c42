import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';

/** Where and how a Tocsin process listens. */
export type ListenOptions = {
  port: number;
  hostname: string;
  /**
   * Time a client has to send a whole request, headers and body (TOCSIN_REQUEST_TIMEOUT_SECONDS);
   * after it Node answers 408 and closes the connection. Node's own default is 300 s: a client
   * that promises a body and sends it slowly, or not at all, would hold its socket and the body
   * read so far that long.
   */
  requestTimeoutMs: number;
};

/** Serves a Hono app's fetch on Node's HTTP server with Tocsin's request timeouts. */
export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  options: ListenOptions,
  onListening: (info: AddressInfo) => void,
): ServerType {
  const { port, hostname, requestTimeoutMs } = options;
  return serve(
    {
      fetch,
      port,
      hostname,
      serverOptions: {
        requestTimeout: requestTimeoutMs,
        // Node requires the headers' own limit (60 s by default) to be no longer.
        headersTimeout: Math.min(60_000, requestTimeoutMs),
        // Node looks for requests past their time every 30 s by default: a short timeout would
        // then last up to 30 s longer than set.
        connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeoutMs / 4)),
      },
    },
    onListening,
  );
}
