/** What a rate limiter says of one request. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const MAX_KEYS = 100_000;

/**
 * A token bucket per key (per ingest token): `ratePerSecond` requests a second on average, bursts
 * up to twice that. In memory, per process: with N ingest processes a sender may reach N times
 * the rate. `ratePerSecond` 0 turns it off.
 */
export function createRateLimiter(
  ratePerSecond: number,
  now: () => number = Date.now,
): (key: string) => RateDecision {
  const capacity = ratePerSecond * 2;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key) => {
    if (ratePerSecond === 0) return { allowed: true };
    const t = now();
    let bucket = buckets.get(key);
    if (!bucket) {
      if (buckets.size >= MAX_KEYS) buckets.clear();
      bucket = { tokens: capacity, at: t };
      buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + ((t - bucket.at) / 1000) * ratePerSecond);
    bucket.at = t;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond)),
    };
  };
}
