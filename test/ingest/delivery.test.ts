import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../ingest/signature.ts';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
beforeAll(async () => {
  // Nothing consumes the inbox: what the tests accept stays there to count.
  tocsin = await startTestTocsin({ roles: ['ingest', 'services'] });
});
afterAll(() => tocsin.destroy());

type CreatedToken = { id: string; token: string; hmacSecret?: string; prefix: string };

async function createToken(body: object, on = tocsin): Promise<CreatedToken> {
  const res = await on.request('/api/v1/tokens', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as CreatedToken;
}

const alert = (title: string) => JSON.stringify({ title, ci: 'web-1' });

function post(
  source: string,
  body: string,
  init: { token?: string | null; headers?: Record<string, string>; query?: string } = {},
  on = tocsin,
) {
  return on.request(`/api/v1/ingest/${source}${init.query ?? ''}`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json', ...init.headers },
    ...(init.token === undefined ? {} : { token: init.token }),
  });
}

async function pending(): Promise<number> {
  const res = await tocsin.request('/api/v1/pipeline');
  return ((await res.json()) as { pending: number }).pending;
}

describe('ingest tokens', () => {
  it('are shown once, stored hashed, and accepted as Bearer, X-Api-Key or ?token=', async () => {
    const created = await createToken({ name: 'prometheus-eu', source: 'generic' });
    expect(created.token).toMatch(/^tsn_[\w-]{43}$/);
    expect(created.token.startsWith(created.prefix)).toBe(true);

    const listed = (await (await tocsin.request('/api/v1/tokens')).json()) as {
      items: Record<string, unknown>[];
    };
    const item = listed.items.find((t) => t.id === created.id)!;
    expect(item).toMatchObject({ name: 'prometheus-eu', source: 'generic', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(created.token);

    expect((await post('generic', alert('bearer'), { token: created.token })).status).toBe(202);
    const apiKey = await post('generic', alert('api key'), {
      token: null,
      headers: { 'X-Api-Key': created.token },
    });
    expect(apiKey.status).toBe(202);
    const query = await post('generic', alert('query'), {
      token: null,
      query: `?token=${encodeURIComponent(created.token)}`,
    });
    expect(query.status).toBe(202);
  });

  it('post to their own source only, and only to ingest', async () => {
    const created = await createToken({ name: 'grafana-only', source: 'grafana' });
    const res = await post('generic', alert('wrong source'), { token: created.token });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toContain('/api/v1/ingest/grafana');
    const api = await tocsin.request('/api/v1/incidents', { token: created.token });
    expect(api.status).toBe(403);
  });

  it('stop working once revoked, and record their last use', async () => {
    const created = await createToken({ name: 'short-lived', source: 'generic' });
    expect((await post('generic', alert('before revoke'), { token: created.token })).status).toBe(
      202,
    );
    const revoked = await tocsin.request(`/api/v1/tokens/${created.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
    // Tokens are cached for at most five seconds.
    await eventually(
      async () => {
        const res = await post('generic', alert('after revoke'), { token: created.token });
        return res.status === 401 ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 500, what: 'the revoked token to be refused' },
    );
    await eventually(
      async () => {
        const listed = (await (await tocsin.request('/api/v1/tokens')).json()) as {
          items: { id: string; lastUsedAt: string | null }[];
        };
        return listed.items.find((t) => t.id === created.id)?.lastUsedAt ?? undefined;
      },
      { timeoutMs: 15_000, intervalMs: 500, what: 'the last use to be recorded' },
    );
  });

  it('refuse an unknown source, and a name that is none', async () => {
    const res = await tocsin.request('/api/v1/tokens', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', source: 'nagios' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { pointer: string }).pointer).toBe('/source');
  });
});

describe('signed deliveries', () => {
  it('need a fresh HMAC-SHA256 signature of the exact body', async () => {
    const created = await createToken({ name: 'signer', source: 'generic', signed: true });
    expect(created.hmacSecret).toMatch(/^tss_/);
    const secret = created.hmacSecret!;
    const body = alert('signed');
    const now = Math.floor(Date.now() / 1000);

    const unsigned = await post('generic', body, { token: created.token });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { detail: string }).detail).toContain('X-Tocsin-Signature');

    const good = await post('generic', body, {
      token: created.token,
      headers: { 'X-Tocsin-Signature': signBody(secret, body, now) },
    });
    expect(good.status).toBe(202);

    const stale = await post('generic', body, {
      token: created.token,
      headers: { 'X-Tocsin-Signature': signBody(secret, body, now - 3600) },
    });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { detail: string }).detail).toMatch(/replay window/);

    const tampered = await post('generic', alert('tampered'), {
      token: created.token,
      headers: { 'X-Tocsin-Signature': signBody(secret, body, now) },
    });
    expect(tampered.status).toBe(401);

    const wrongSecret = await post('generic', body, {
      token: created.token,
      headers: { 'X-Tocsin-Signature': signBody('not-the-secret', body, now) },
    });
    expect(wrongSecret.status).toBe(401);
  });
});

describe('idempotency', () => {
  it('stores a delivery sent twice with one Idempotency-Key once', async () => {
    const before = await pending();
    const body = JSON.stringify([{ title: 'dup a' }, { title: 'dup b' }]);
    const headers = { 'Idempotency-Key': 'delivery-7f3a' };
    const first = await post('generic', body, { headers });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: 2 });
    const again = await post('generic', body, { headers });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ accepted: 2, duplicate: true });
    expect((await pending()) - before).toBe(2);
  });

  it('stores it once when the copies arrive at the same moment', async () => {
    const before = await pending();
    const headers = { 'Idempotency-Key': 'burst-1' };
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post('generic', alert('burst'), { headers })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as { duplicate?: true }[];
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    expect((await pending()) - before).toBe(1);
  });

  it('answers every copy with what the stored one carried, even copies in one commit', async () => {
    const before = await pending();
    const headers = { 'Idempotency-Key': 'burst-2' };
    // Copies that differ (a sender's retry that re-rendered its batch): whichever is stored
    // first wins, and every other copy, in the same group commit or not, is answered with it.
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post(
          'generic',
          JSON.stringify(Array.from({ length: i + 1 }, (_, n) => ({ title: `copy ${n}` }))),
          { headers },
        ),
      ),
    );
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as {
      accepted: number;
      duplicate?: true;
    }[];
    const stored = bodies.filter((b) => !b.duplicate);
    expect(stored).toHaveLength(1);
    expect(bodies.map((b) => b.accepted)).toEqual(Array(8).fill(stored[0]!.accepted));
    expect((await pending()) - before).toBe(stored[0]!.accepted);
  });

  it('rejects an empty or oversized key', async () => {
    const res = await post('generic', alert('k'), {
      headers: { 'Idempotency-Key': 'x'.repeat(300) },
    });
    expect(res.status).toBe(400);
  });
});

describe('rate limit', () => {
  let limited: TestTocsin;
  beforeAll(async () => {
    limited = await startTestTocsin({
      roles: ['ingest', 'services'],
      // One a second (bursts of two): slow enough that no machine delivers the 20 requests below
      // before the bucket refills enough to change the count.
      env: { TOCSIN_INGEST_RATE_LIMIT: '1' },
    });
  });
  afterAll(() => limited.destroy());

  it('answers 429 with Retry-After past the per-token rate, and accepts again later', async () => {
    const created = await createToken({ name: 'chatty', source: 'generic' }, limited);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post('generic', alert(`rate ${i}`), { token: created.token }, limited),
      ),
    );
    const refused = answers.filter((a) => a.status === 429);
    // 1 a second with a burst of 2: the rest of 20 are refused, whatever a slow machine adds.
    expect(refused.length).toBeGreaterThanOrEqual(15);
    expect(Number(refused[0]!.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect(answers.filter((a) => a.status === 202).length).toBe(20 - refused.length);
    await eventually(
      async () => {
        const res = await post('generic', alert('later'), { token: created.token }, limited);
        return res.status === 202 ? true : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 300, what: 'the bucket to refill' },
    );
  });
});

describe('signed deliveries that are not plain UTF-8 text', () => {
  it('are verified over the bytes the sender signed', async () => {
    const created = await createToken({ name: 'bytes-signer', source: 'generic', signed: true });
    const now = Math.floor(Date.now() / 1000);
    const json = (title: string) => new TextEncoder().encode(JSON.stringify({ title }));
    // A byte order mark before the JSON (PowerShell's UTF-8), and a Latin-1 "é" that is no UTF-8.
    const bodies = [
      new Uint8Array([0xef, 0xbb, 0xbf, ...json('with a byte order mark')]),
      new Uint8Array([...json('caf').slice(0, -2), 0xe9, ...json('').slice(-2)]),
    ];
    for (const body of bodies) {
      const res = await tocsin.request('/api/v1/ingest/generic', {
        method: 'POST',
        body,
        token: created.token,
        headers: {
          'Content-Type': 'application/json',
          'X-Tocsin-Signature': signBody(created.hmacSecret!, body, now),
        },
      });
      expect(res.status).toBe(202);
    }
  });
});
