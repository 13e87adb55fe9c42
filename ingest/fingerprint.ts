import { hash } from 'node:crypto';

/**
 * The dedup key of an alert that brings none: the same source, CI, title and labels always give
 * the same key, so repeat deliveries of one problem collapse into one alert.
 */
export function deriveFingerprint(parts: {
  source: string;
  ci: string | null;
  title: string;
  labels: Record<string, string>;
}): string {
  const labels = Object.keys(parts.labels)
    .sort()
    .map((k) => [k, parts.labels[k]]);
  return hash('sha256', JSON.stringify([parts.source, parts.ci ?? '', parts.title, labels])).slice(
    0,
    32,
  );
}
