import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a signing sender sets: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'X-Tocsin-Signature';

/** Why a signature was refused, or that it is good. */
export type SignatureCheck =
  { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

/**
 * Signs a body as a sender must: HMAC-SHA256 with the token's secret over `<t>.<body>`, where t is
 * the Unix time in seconds and the body its bytes as sent (text is signed as UTF-8). Binding the
 * time into the signature makes an old request useless.
 */
export function signBody(secret: string, body: string | Uint8Array, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Verifies a signature header against the raw body, its bytes as received: the MAC must match
 * (compared in constant time) and t must lie within `toleranceSeconds` of now, either way (the
 * replay window).
 */
export function verifySignature(
  header: string | undefined,
  secret: string,
  body: string | Uint8Array,
  nowMs: number,
  toleranceSeconds: number,
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  const parts = new Map<string, string[]>();
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, i).trim();
    parts.set(key, [...(parts.get(key) ?? []), part.slice(i + 1).trim()]);
  }
  const t = parts.get('t')?.[0];
  const macs = parts.get('v1') ?? [];
  if (!t || !/^\d{1,12}$/.test(t) || macs.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowMs / 1000 - Number(t)) > toleranceSeconds)
    return { ok: false, reason: 'expired' };
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  // Several v1 values are allowed, so that a sender can sign with an old and a new secret.
  const match = macs.some((mac) => {
    if (!/^[0-9a-f]{64}$/i.test(mac)) return false;
    return timingSafeEqual(Buffer.from(mac, 'hex'), expected);
  });
  return match ? { ok: true } : { ok: false, reason: 'mismatch' };
}
