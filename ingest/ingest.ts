import { createHash } from 'node:crypto';
import type { Alert } from '../correlator/alert.ts';
import type { FieldError } from '../runtime/problem.ts';
import type { Notice } from './normalize.ts';
import { parsePayload } from './payload.ts';
import { isSourceName, sources } from './sources/index.ts';

/** One accepted delivery, ready to be made durable: the raw body, and what it normalized to. */
export type Submission = {
  source: string;
  tokenId: string | null;
  /** Idempotency-Key, or the tool's own delivery id: a second delivery with it is not stored. */
  idempotencyKey: string | null;
  contentType: string;
  body: string;
  alerts: Alert[];
  notice: Notice | null;
};

/** What became of a submission in the store. */
export type AcceptResult =
  | { kind: 'stored'; accepted: number; duplicate: boolean }
  | { kind: 'unavailable'; detail: string }
  | { kind: 'overloaded' };

/** Makes a submission durable; injected, so ingest knows nothing of the store. */
export type Accept = (submission: Submission) => Promise<AcceptResult>;

/** What became of one delivery; the route maps each kind to an HTTP answer. */
export type IngestOutcome =
  | { kind: 'accepted'; accepted: number; duplicate: boolean }
  | { kind: 'unknown-source'; source: string }
  | { kind: 'unsupported-media-type'; contentType: string; expected: string[] }
  | { kind: 'malformed'; errors: FieldError[] }
  | { kind: 'invalid'; errors: FieldError[] }
  | { kind: 'unprocessable'; detail: string; pointer?: string }
  | { kind: 'unavailable'; detail: string }
  | { kind: 'overloaded' }
  | { kind: 'too-many-alerts'; count: number; max: number };

/** A delivery as the route hands it over: the raw body, its media type and headers. */
export type Delivery = {
  source: string;
  contentType: string;
  body: string;
  receivedAt: Date;
  tokenId: string | null;
  idempotencyKey: string | null;
  header: (name: string) => string | undefined;
};

const JSON_TYPES = ['application/json', 'text/json'];
const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl'];

function mediaTypeOf(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

function parseNdjson(
  body: string,
  maxValues: number,
):
  { ok: true; value: unknown } | { ok: false; error: FieldError } | { ok: false; tooMany: number } {
  const values: unknown[] = [];
  const lines = body.split('\n');
  // Counted before any is parsed: a 5 MiB body of short lines is hundreds of thousands of alerts.
  let count = 0;
  for (const line of lines) if (line.trim()) count++;
  if (count > maxValues) return { ok: false, tooMany: count };
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    try {
      values.push(parsePayload(line));
    } catch (err) {
      return {
        ok: false,
        error: {
          pointer: `/${values.length}`,
          detail: `line ${i + 1} is not JSON: ${(err as Error).message}`,
        },
      };
    }
  }
  return { ok: true, value: values };
}

// A tool's own delivery id may be any length, and a unique index entry holds about 2.7 kB: 512
// UTF-16 units are at most 1.5 kB of UTF-8, and an Idempotency-Key header (255) always fits.
const MAX_KEY_LENGTH = 512;

/**
 * The stored idempotency key: scoped to the sender's token, a long one by its digest. An id with
 * U+0000 or a lone surrogate (a JSON escape in a tool's id field) is kept by the digest of its
 * UTF-16 code units: stored as text, each would become U+FFFD, and ids that differ only there
 * would be one key, the second delivery answered as a duplicate and its alerts never stored.
 */
function scopedKey(tokenId: string | null, key: string): string {
  const scoped = `${tokenId ?? 'admin'}:${key}`;
  if (scoped.includes('\u0000') || !scoped.isWellFormed())
    return `sha256-utf16:${createHash('sha256').update(Buffer.from(scoped, 'utf16le')).digest('hex')}`;
  if (scoped.length <= MAX_KEY_LENGTH) return scoped;
  return `sha256:${createHash('sha256').update(scoped).digest('hex')}`;
}

/**
 * Parses, normalizes and durably accepts one delivery. One delivery carries at most `maxAlerts`
 * alerts (an NDJSON body counted by its lines, an array by its items, before either is read
 * further): a delivery is committed in one transaction and normalized in one go, so its size is
 * what one request costs in memory and in time the event loop is held.
 */
export async function ingest(
  delivery: Delivery,
  accept: Accept,
  maxAlerts = Number.POSITIVE_INFINITY,
): Promise<IngestOutcome> {
  if (!isSourceName(delivery.source)) return { kind: 'unknown-source', source: delivery.source };
  const source = sources[delivery.source];
  const mediaType = mediaTypeOf(delivery.contentType);
  const ndjson = 'ndjson' in source && source.ndjson === true;
  const accepted = [
    ...JSON_TYPES,
    ...(('mediaTypes' in source && source.mediaTypes) || []),
    ...(ndjson ? NDJSON_TYPES : []),
  ];
  if (!accepted.includes(mediaType)) {
    return {
      kind: 'unsupported-media-type',
      contentType: delivery.contentType,
      expected: accepted,
    };
  }
  let body: unknown;
  if (NDJSON_TYPES.includes(mediaType)) {
    const parsed = parseNdjson(delivery.body, maxAlerts);
    if (!parsed.ok)
      return 'tooMany' in parsed
        ? { kind: 'too-many-alerts', count: parsed.tooMany, max: maxAlerts }
        : { kind: 'malformed', errors: [parsed.error] };
    body = parsed.value;
  } else {
    try {
      body = parsePayload(delivery.body);
    } catch (err) {
      return {
        kind: 'malformed',
        errors: [{ pointer: '', detail: `the body is not JSON: ${(err as Error).message}` }],
      };
    }
  }
  if (Array.isArray(body) && body.length > maxAlerts)
    return { kind: 'too-many-alerts', count: body.length, max: maxAlerts };
  const normalized = source.normalize({
    body,
    receivedAt: delivery.receivedAt,
    header: delivery.header,
  });
  switch (normalized.kind) {
    case 'invalid':
      return normalized;
    case 'unprocessable':
      return normalized;
    case 'alerts':
    case 'notice': {
      const alerts = normalized.kind === 'alerts' ? normalized.alerts : [];
      if (alerts.length > maxAlerts)
        return { kind: 'too-many-alerts', count: alerts.length, max: maxAlerts };
      // A well-formed delivery with nothing to act on (a tool's ping, say) is answered, not kept.
      if (normalized.kind === 'alerts' && alerts.length === 0)
        return { kind: 'accepted', accepted: 0, duplicate: false };
      // Keys are scoped to the sender's token: two senders cannot collide on a key.
      const key = delivery.idempotencyKey ?? normalized.deliveryId ?? null;
      const stored = await accept({
        source: delivery.source,
        tokenId: delivery.tokenId,
        idempotencyKey: key === null ? null : scopedKey(delivery.tokenId, key),
        contentType: mediaType,
        body: delivery.body,
        alerts,
        notice: normalized.kind === 'notice' ? normalized.notice : null,
      });
      switch (stored.kind) {
        case 'stored':
          return { kind: 'accepted', accepted: stored.accepted, duplicate: stored.duplicate };
        case 'unavailable':
        case 'overloaded':
          return stored;
      }
    }
  }
}
