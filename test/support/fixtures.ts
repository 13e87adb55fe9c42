import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { alertStatuses, severities } from '../../correlator/alert.ts';
import type { Normalized, Source } from '../../ingest/normalize.ts';
import { parsePayload } from '../../ingest/payload.ts';

const fixturesDir = new URL('../fixtures/', import.meta.url);

/** The receipt time every normalizer test uses, so expected alerts are exact. */
export const RECEIVED_AT = new Date('2026-06-01T00:00:00.000Z');

/** The raw text of a captured webhook body, `test/fixtures/<dir>/<file>`. */
export function readFixture(dir: string, file: string): string {
  return readFileSync(new URL(`${dir}/${file}`, fixturesDir), 'utf8');
}

/** The fixture files of one tool's folder, sorted. */
export function fixtureFiles(dir: string): string[] {
  return readdirSync(new URL(`${dir}/`, fixturesDir))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** Runs a normalizer on a fixture as ingest would: lossless parse, fixed receipt time. */
export function normalizeFixture(
  source: Source,
  dir: string,
  file: string,
  headers: Record<string, string> = {},
): Normalized {
  return normalizeBody(source, parsePayload(readFixture(dir, file)), headers);
}

/** Runs a normalizer on an already-parsed body. */
export function normalizeBody(
  source: Source,
  body: unknown,
  headers: Record<string, string> = {},
): Normalized {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return source.normalize({
    body,
    receivedAt: RECEIVED_AT,
    header: (name) => lower[name.toLowerCase()],
  });
}

/**
 * Asserts a normalizer's answer is well-formed whatever the body: one of the expected kinds, and
 * alerts with a canonical severity and status, a title, and string labels.
 */
export function expectWellFormed(
  result: Normalized,
  kinds: readonly Normalized['kind'][] = ['alerts', 'invalid'],
): void {
  expect(kinds).toContain(result.kind);
  if (result.kind !== 'alerts') return;
  for (const alert of result.alerts) {
    expect(severities).toContain(alert.severity);
    expect(alertStatuses).toContain(alert.status);
    expect(alert.title).not.toBe('');
    for (const value of Object.values(alert.labels)) expect(typeof value).toBe('string');
  }
}
