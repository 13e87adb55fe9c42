import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';

/** One wrong input field: a JSON pointer (RFC 6901) into the body or the query, and why. */
export type FieldError = { pointer: string; detail: string };

/**
 * An expected failure that knows its RFC 9457 response. `code` is stable and machine-readable;
 * `type` is derived from it.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; retryAfter?: number; [key: string]: unknown } = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }
}

/** 400 for a body or query that fails validation, pointing at each bad field. */
export const invalid = (errors: FieldError[]) =>
  new ProblemError(
    400,
    'invalid-request',
    'The request is invalid',
    errors.map((e) => `${e.pointer || '/'}: ${e.detail}`).join('; '),
    { errors, pointer: errors[0]?.pointer ?? '' },
  );

/** 401 with a challenge: no credentials, or wrong ones. */
export const unauthorized = () =>
  new ProblemError(
    401,
    'unauthorized',
    'Authentication required',
    'Send a valid token as "Authorization: Bearer <token>".',
  );

/** 403: the token is valid but lacks the role the route needs. */
export const forbidden = (role: string) =>
  new ProblemError(403, 'forbidden', 'Not allowed', `This route needs the role "${role}".`);

/** 404 for a record or route that does not exist. */
export const notFound = (what: string) => new ProblemError(404, 'not-found', 'Not found', what);

/** 503 with Retry-After: a dependency is down and the client should retry. */
export const unavailable = (detail: string, retryAfter = 5) =>
  new ProblemError(503, 'unavailable', 'Service unavailable', detail, { retryAfter });

/** Escapes one path segment for a JSON pointer. */
export function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => '/' + String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

/** Renders a problem as application/problem+json. */
export function problemResponse(c: Context, problem: ProblemError): Response {
  const { retryAfter, ...extra } = problem.extra;
  if (problem.status === 401) c.header('WWW-Authenticate', 'Bearer realm="tocsin"');
  if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
  return c.body(
    JSON.stringify({
      type: `https://tocsin.dev/problems/${problem.code}`,
      title: problem.title,
      status: problem.status,
      ...(problem.detail === undefined ? {} : { detail: problem.detail }),
      instance: c.req.path,
      ...extra,
    }),
    problem.status,
    { 'Content-Type': 'application/problem+json' },
  );
}

/**
 * Whether err is Node's report that the client closed its connection before its request body
 * arrived (a Content-Length it never sent, an upload given up): nothing of ours failed.
 */
function isClientAbort(err: Error): boolean {
  return err.message === 'aborted' && (err as NodeJS.ErrnoException).code === 'ECONNRESET';
}

/**
 * The one onError of every Tocsin app: known problems as themselves, a client gone before its
 * body arrived as a 400 (nobody reads it, but metrics and logs do), errors `classify` recognizes
 * (a database outage, say) as what it makes of them, anything else as a logged 500.
 */
export function renderError(
  log: Logger,
  classify: (err: Error) => ProblemError | null = () => null,
) {
  return (err: Error, c: Context): Response => {
    if (err instanceof ProblemError) return problemResponse(c, err);
    if (isClientAbort(err)) {
      log.debug({ path: c.req.path }, 'client closed the connection before its body arrived');
      return problemResponse(
        c,
        new ProblemError(
          400,
          'request-aborted',
          'Request aborted',
          'The connection closed before the whole body arrived.',
        ),
      );
    }
    const known = classify(err);
    if (known) return problemResponse(c, known);
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = status === 413 ? 'body-too-large' : `http-${status}`;
      const title = status === 413 ? 'Request body too large' : err.message || 'Request failed';
      return problemResponse(c, new ProblemError(status, code, title, err.message || undefined));
    }
    log.error({ err, path: c.req.path }, 'unhandled error');
    return problemResponse(
      c,
      new ProblemError(500, 'internal', 'Internal error', 'The error was logged.'),
    );
  };
}

/** Renders unknown routes as RFC 9457 404s. */
export function renderNotFound(c: Context): Response {
  return problemResponse(c, notFound(`No route for ${c.req.method} ${c.req.path}`));
}
