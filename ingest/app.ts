import { Hono } from 'hono';
import { z } from 'zod';
import { alertInputSchema } from '../correlator/alert.ts';
import { requireRole, type AuthEnv, type Authenticate } from '../runtime/auth.ts';
import { limitBody, type BodyBudget } from '../runtime/body-limit.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { RouteDoc } from '../runtime/openapi.ts';
import { invalid, ProblemError, unavailable } from '../runtime/problem.ts';
import { ingest, type Accept, type IngestOutcome } from './ingest.ts';
import type { RateDecision } from './rate-limit.ts';
import { SIGNATURE_HEADER, verifySignature } from './signature.ts';
import { isSourceName, sources, type SourceName } from './sources/index.ts';

/** What the ingest app needs, injected by the process that serves it. */
export type IngestDeps = {
  authenticate: Authenticate;
  accept: Accept;
  maxBodyBytes: number;
  /** The process's bytes of bodies being read at once (503 past it), shared with the API. */
  bodyBudget: BodyBudget;
  /** Alerts one delivery may carry. */
  maxAlertsPerDelivery: number;
  /** Per-token rate limit. */
  limit: (tokenKey: string) => RateDecision;
  signatureToleranceSeconds: number;
  now: () => number;
  metrics: Metrics;
};

const sourceNames = Object.keys(sources) as [SourceName, ...SourceName[]];
const namesOf = (keep: (source: (typeof sources)[SourceName]) => boolean) =>
  sourceNames.filter((name) => keep(sources[name])).join(', ');

/** The ingest route as the API document describes it, from the same table of sources it reads. */
export const ingestRoutes = {
  ingest: {
    method: 'post',
    path: '/api/v1/ingest/{source}',
    tag: 'Ingest',
    summary: 'Accept a monitoring tool’s webhook',
    description:
      'Each tool posts its own webhook body to its own source (see docs/sources.md); `generic` takes canonical alerts: one object, an array, or NDJSON. The answer comes once the delivery and its alerts are durable in PostgreSQL. Served by the ingest role (port 8080 in the Docker set-up).',
    role: 'ingest',
    queryToken: true,
    params: { source: z.enum(sourceNames).meta({ description: 'The tool that sends.' }) },
    headers: ['Idempotency-Key', 'X-Tocsin-Signature'],
    body: z.union([
      alertInputSchema,
      z.array(alertInputSchema),
      z.looseObject({}).meta({ description: 'The tool’s own webhook body.' }),
    ]),
    otherMediaTypes: {
      'application/x-ndjson': `One JSON value per line (also \`application/ndjson\`, \`application/jsonl\`): ${namesOf((s) => 'ndjson' in s && s.ndjson === true)}.`,
      ...Object.fromEntries(
        [...new Set(sourceNames.flatMap((n) => sources[n].mediaTypes ?? []))].map((type) => [
          type,
          `Read by ${namesOf((s) => (s.mediaTypes ?? []).includes(type))}.`,
        ]),
      ),
    },
    response: {
      status: 202,
      description:
        'Accepted and durable: how many alerts; `duplicate` when this delivery came before.',
      schema: z.object({ accepted: z.number().int(), duplicate: z.literal(true).optional() }),
    },
    errors: [
      [401, 'No valid token, or a signing token’s delivery without a valid `X-Tocsin-Signature`.'],
      [403, 'The token lacks the role `ingest`, or is bound to another source.'],
      [404, 'No such source.'],
      [
        413,
        'The body is over the size limit, or carries more alerts than one delivery may (`TOCSIN_MAX_ALERTS_PER_DELIVERY`).',
      ],
      [
        415,
        'A `Content-Type` the source does not read, or a compressed body (`Content-Encoding`).',
      ],
      [422, 'The payload is well-formed but cannot be used as sent (an old schema, say).'],
      429,
      [
        503,
        'PostgreSQL is away, more alerts wait to be stored than `TOCSIN_INGEST_MAX_BACKLOG`, or the bodies being read fill `TOCSIN_MAX_BODY_BYTES_IN_FLIGHT`.',
      ],
    ],
  },
} satisfies Record<string, RouteDoc>;

type Answer = { status: 202; body: { accepted: number; duplicate?: true } };

function toResponse(outcome: IngestOutcome): Answer {
  switch (outcome.kind) {
    case 'accepted':
      return {
        status: 202,
        body: outcome.duplicate
          ? { accepted: outcome.accepted, duplicate: true }
          : { accepted: outcome.accepted },
      };
    case 'too-many-alerts':
      throw new ProblemError(
        413,
        'too-many-alerts',
        'Too many alerts in one delivery',
        `This delivery carries ${outcome.count} alerts; one delivery may carry at most ${outcome.max}. Send them in several.`,
      );
    case 'unknown-source':
      throw new ProblemError(
        404,
        'unknown-source',
        'Unknown source',
        `No normalizer for source "${outcome.source}".`,
      );
    case 'unsupported-media-type':
      throw new ProblemError(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        `Content-Type "${outcome.contentType}" is not accepted here; send ${outcome.expected.join(', ')}.`,
      );
    case 'malformed':
    case 'invalid':
      throw invalid(outcome.errors);
    case 'unprocessable':
      throw new ProblemError(
        422,
        'unprocessable-payload',
        'The payload cannot be used as sent',
        outcome.detail,
        outcome.pointer === undefined ? {} : { pointer: outcome.pointer },
      );
    case 'unavailable':
      throw unavailable(outcome.detail);
    case 'overloaded':
      throw unavailable('Tocsin is accepting more alerts than it can store right now.', 1);
  }
}

const utf8 = new TextDecoder();

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The decoder of a body whose Content-Type declares a charset other than UTF-8 that a decoder
 * knows (an old Zabbix or shell script sending `charset=ISO-8859-1`, say), or null: read as
 * UTF-8, every "é" of such a body became U+FFFD. Any label of the WHATWG Encoding standard is
 * known (as TextDecoder reads it: ISO-8859-1 as windows-1252, its superset). An unknown or empty
 * label is read as UTF-8, as before: JSON is UTF-8 (RFC 8259), and refusing the body would lose
 * an alert a tool does not send again.
 */
function declaredDecoder(contentType: string | undefined): TextDecoder | null {
  const label = /;\s*charset\s*=\s*["']?([^"';\s]*)/i.exec(contentType ?? '')?.[1];
  if (!label) return null;
  try {
    const decoder = new TextDecoder(label);
    return decoder.encoding === 'utf-8' ? null : decoder;
  } catch {
    return null;
  }
}

/**
 * A body declared in another charset: as UTF-8 when its bytes are UTF-8 (a sender labelling its
 * UTF-8 `charset=ISO-8859-1` is common, and accented text in a legacy charset is almost never
 * valid UTF-8), otherwise as declared.
 */
function decodeDeclared(bytes: Uint8Array, decoder: TextDecoder): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decoder.decode(bytes);
  }
}

const signatureProblems = {
  missing: `This token signs its deliveries: send ${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">.`,
  malformed: `${SIGNATURE_HEADER} must read t=<unix seconds>,v1=<64 hex digits>.`,
  expired: `The signature's timestamp is outside the replay window; sign each request when it is sent.`,
  mismatch: `The signature does not match the body.`,
};

/**
 * The ingest HTTP app: `POST /api/v1/ingest/{source}`. It does not listen; the process does, and
 * the process's app renders its errors and unknown routes (its one `onError`). It has no
 * `onError` of its own: Hono's `route()` wraps every handler of a sub-app that has one in a
 * composer of its own, five per request here, a fifth of the ingest process's allocations.
 */
export function createIngestApp(deps: IngestDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.post(
    '/api/v1/ingest/:source',
    async (c, next) => {
      try {
        await next();
      } finally {
        const source = c.req.param('source');
        deps.metrics.ingestRequests.inc({
          source: isSourceName(source) ? source : 'unknown',
          status: String(c.res.status),
        });
      }
    },
    requireRole(deps.authenticate, 'ingest', { allowQueryToken: true }),
    async (c, next) => {
      const principal = c.get('principal');
      const source = c.req.param('source');
      if (principal.source !== null && principal.source !== source) {
        throw new ProblemError(
          403,
          'forbidden',
          'Not allowed',
          `This token may post to /api/v1/ingest/${principal.source} only.`,
        );
      }
      const decision = deps.limit(principal.tokenId ?? principal.name);
      if (!decision.allowed) {
        throw new ProblemError(
          429,
          'rate-limited',
          'Too many requests',
          'This token is over its rate limit; retry after the given delay.',
          { retryAfter: decision.retryAfterSeconds },
        );
      }
      await next();
    },
    limitBody(deps.maxBodyBytes, deps.bodyBudget),
    async (c) => {
      const principal = c.get('principal');
      const source = c.req.param('source');
      // A compressed body read as text is bytes of noise, refused as "not JSON" with them quoted.
      const encoding = c.req.header('Content-Encoding')?.trim().toLowerCase();
      if (encoding && encoding !== 'identity') {
        throw new ProblemError(
          415,
          'unsupported-content-encoding',
          'Unsupported content encoding',
          `Content-Encoding "${encoding.slice(0, 64)}" is not read here; send the body uncompressed.`,
        );
      }
      const decoder = declaredDecoder(c.req.header('Content-Type'));
      let body: string;
      if (principal.hmacSecret === null && decoder === null) body = await c.req.text();
      else {
        // A signature is checked over the bytes the sender signed: decoding first drops a byte
        // order mark and turns bytes that are not UTF-8 into U+FFFD, and it no longer matched.
        const bytes = new Uint8Array(await c.req.arrayBuffer());
        body = decoder === null ? utf8.decode(bytes) : decodeDeclared(bytes, decoder);
        if (principal.hmacSecret !== null) {
          const check = verifySignature(
            c.req.header(SIGNATURE_HEADER),
            principal.hmacSecret,
            bytes,
            deps.now(),
            deps.signatureToleranceSeconds,
          );
          if (!check.ok) {
            throw new ProblemError(
              401,
              'bad-signature',
              'Signature required',
              signatureProblems[check.reason],
            );
          }
        }
      }
      const idempotencyKey = c.req.header('Idempotency-Key')?.trim();
      if (idempotencyKey !== undefined && (idempotencyKey === '' || idempotencyKey.length > 255)) {
        throw invalid([
          { pointer: '/headers/Idempotency-Key', detail: 'must be 1 to 255 characters' },
        ]);
      }
      const outcome = await ingest(
        {
          source,
          contentType: c.req.header('Content-Type') ?? '',
          body,
          receivedAt: new Date(deps.now()),
          tokenId: principal.tokenId,
          idempotencyKey: idempotencyKey ?? null,
          header: (name) => c.req.header(name),
        },
        deps.accept,
        deps.maxAlertsPerDelivery,
      );
      const { status, body: answer } = toResponse(outcome);
      if (!answer.duplicate) deps.metrics.alertsAccepted.inc({ source }, answer.accepted);
      return c.json(answer, status);
    },
  );
  return app;
}
