import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ProblemError } from './problem.ts';

const tooLarge = (maxBytes: number) =>
  new ProblemError(
    413,
    'body-too-large',
    'Request body too large',
    `The limit is ${maxBytes} bytes.`,
  );

/**
 * 413 for a body over the limit. A GET or HEAD has no body (a Request cannot carry one), so it
 * passes untouched. A body with a Content-Length (Node's parser reads exactly that many bytes)
 * is checked by its header, which keeps @hono/node-server's fast path for reading it: touching
 * the web-stream body, as Hono's bodyLimit does, builds the whole web Request, about a fifth of
 * an ingest request's CPU and as much of an API read's. A chunked body is counted as it streams,
 * by bodyLimit.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const streaming = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge(maxBytes);
    },
  });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('Content-Length');
    if (length !== undefined && c.req.header('Transfer-Encoding') === undefined) {
      if (!/^\d+$/.test(length.trim()) || Number(length) > maxBytes) throw tooLarge(maxBytes);
      return next();
    }
    return streaming(c, next);
  };
}
