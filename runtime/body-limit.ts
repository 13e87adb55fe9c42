import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ProblemError, unavailable } from './problem.ts';

const tooLarge = (maxBytes: number) =>
  new ProblemError(
    413,
    'body-too-large',
    'Request body too large',
    `The limit is ${maxBytes} bytes.`,
  );

const busy = () =>
  unavailable(
    'The request bodies being read already take the memory set aside for them ' +
      '(TOCSIN_MAX_BODY_BYTES_IN_FLIGHT); retry shortly.',
    1,
  );

/**
 * The bytes of request bodies one process reads at once. Each body is bounded (413), but a
 * thousand clients each sending most of a 5 MiB body, slowly, would hold 5 GB until their
 * requests time out: a request takes its declared length (or, sent in chunks, the largest body)
 * from this budget before its body is read, gives it back once answered (for ingest, once its
 * alerts are stored: a body read and waiting for its commit still counts), and is a 503 with
 * Retry-After when the budget cannot cover it. A request without a body takes nothing.
 */
export class BodyBudget {
  readonly maxBytes: number;
  #used = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes taken by the requests being read now. */
  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` if the budget covers them. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.maxBytes) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}

/**
 * 413 for a body over the limit, 503 when the process's budget of bodies in flight cannot take
 * it. A GET or HEAD has no body (a Request cannot carry one), so it passes untouched. A body with
 * a Content-Length (Node's parser reads exactly that many bytes) is checked by its header, which
 * keeps @hono/node-server's fast path for reading it: touching the web-stream body, as Hono's
 * bodyLimit does, builds the whole web Request, about a fifth of an ingest request's CPU and as
 * much of an API read's. A chunked body is counted as it streams, by bodyLimit, and takes the
 * largest body from the budget.
 */
export function limitBody(maxBytes: number, budget: BodyBudget): MiddlewareHandler {
  const streaming = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge(maxBytes);
    },
  });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('Content-Length');
    const chunked = c.req.header('Transfer-Encoding') !== undefined;
    // Neither header: over HTTP/1.1 there is no body (a DELETE, a POST without one), so nothing
    // is taken from the budget; a Request made in-process may still carry one, counted as it
    // streams.
    if (length === undefined && !chunked) return streaming(c, next);
    const declared = length !== undefined && !chunked;
    if (declared && (!/^\d+$/.test(length.trim()) || Number(length) > maxBytes))
      throw tooLarge(maxBytes);
    const bytes = declared ? Number(length) : maxBytes;
    if (!budget.take(bytes)) throw busy();
    try {
      return declared ? await next() : await streaming(c, next);
    } finally {
      budget.give(bytes);
    }
  };
}
