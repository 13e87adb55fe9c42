import type { Alert } from '../correlator/alert.ts';
import type { FieldError } from '../runtime/problem.ts';
import { normalizeGeneric, type Normalized } from './sources/generic.ts';

/** Each known source and its normalizer. */
export const sources: Record<string, (body: unknown, receivedAt: Date) => Normalized> = {
  generic: normalizeGeneric,
};

/** Stores accepted alerts durably; injected, so ingest knows nothing of the store. */
export type Accept = (
  source: string,
  alerts: Alert[],
) => Promise<{ kind: 'stored' } | { kind: 'unavailable'; detail: string }>;

/** What became of one delivery; the route maps each kind to an HTTP answer. */
export type IngestOutcome =
  | { kind: 'accepted'; accepted: number }
  | { kind: 'unknown-source'; source: string }
  | { kind: 'unsupported-media-type'; contentType: string }
  | { kind: 'malformed'; errors: FieldError[] }
  | { kind: 'invalid'; errors: FieldError[] }
  | { kind: 'unavailable'; detail: string };

/** A delivery as the route hands it over: the raw body text and its media type. */
export type Delivery = { source: string; contentType: string; body: string; receivedAt: Date };

const JSON_TYPES = new Set(['application/json', 'text/json']);
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl']);

function parseBody(
  contentType: string,
  body: string,
): { ok: true; value: unknown } | { ok: false; errors: FieldError[] } {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (NDJSON_TYPES.has(mediaType)) {
    const values: unknown[] = [];
    const lines = body.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (!line) continue;
      try {
        values.push(JSON.parse(line));
      } catch (err) {
        return {
          ok: false,
          errors: [
            {
              pointer: `/${values.length}`,
              detail: `line ${i + 1} is not JSON: ${(err as Error).message}`,
            },
          ],
        };
      }
    }
    return { ok: true, value: values };
  }
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (err) {
    return {
      ok: false,
      errors: [{ pointer: '', detail: `the body is not JSON: ${(err as Error).message}` }],
    };
  }
}

/** Whether a content type is one ingest reads. */
export function isSupportedMediaType(contentType: string): boolean {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return JSON_TYPES.has(mediaType) || NDJSON_TYPES.has(mediaType);
}

/** Parses, normalizes and durably accepts one delivery. */
export async function ingest(delivery: Delivery, accept: Accept): Promise<IngestOutcome> {
  const normalize = sources[delivery.source];
  if (!Object.hasOwn(sources, delivery.source) || !normalize) {
    return { kind: 'unknown-source', source: delivery.source };
  }
  if (!isSupportedMediaType(delivery.contentType)) {
    return { kind: 'unsupported-media-type', contentType: delivery.contentType };
  }
  const parsed = parseBody(delivery.contentType, delivery.body);
  if (!parsed.ok) return { kind: 'malformed', errors: parsed.errors };
  const normalized = normalize(parsed.value, delivery.receivedAt);
  if (!normalized.ok) return { kind: 'invalid', errors: normalized.errors };
  const stored = await accept(delivery.source, normalized.alerts);
  switch (stored.kind) {
    case 'stored':
      return { kind: 'accepted', accepted: normalized.alerts.length };
    case 'unavailable':
      return stored;
  }
}
