import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
const ids: Record<string, string> = {};

const send = async (method: string, path: string, body: unknown) => {
  const res = await tocsin.request(path, {
    method,
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as { id: string };
};

beforeAll(async () => {
  tocsin = await startTestTocsin();
  const incidents: [string, Record<string, unknown>][] = [
    [
      'lag1',
      {
        title: 'Ledger replication lag',
        cis: ['db-ledger'],
        service: 'ledger',
        category: 'database',
      },
    ],
    [
      'lag2',
      {
        title: 'Ledger replication lag',
        cis: ['db-ledger'],
        service: 'ledger',
        category: 'database',
      },
    ],
    [
      'lag3',
      {
        title: 'Ledger replication lag',
        cis: ['db-ledger'],
        service: 'ledger',
        category: 'database',
        description: 'Replica db-ledger-2 is 300 s behind after the weekly vacuum',
      },
    ],
    [
      'disk',
      { title: 'Disk full on web-1', cis: ['web-1'], service: 'checkout', category: 'capacity' },
    ],
    [
      'cert',
      {
        title: 'TLS certificate expired on the payment gateway',
        cis: ['pay-gw'],
        service: 'checkout',
        category: 'security',
      },
    ],
  ];
  for (const [key, body] of incidents)
    ids[key] = (await send('POST', '/api/v1/incidents', body)).id;
  const problem = await send('POST', '/api/v1/problems', { title: 'Ledger replicas fall behind' });
  ids.problem = problem.id;
  await send('PATCH', `/api/v1/incidents/${ids.lag1}`, { problemId: problem.id });
  await eventually(
    async () => {
      const res = (await (
        await tocsin.request('/api/v1/search?type=incident&limit=100')
      ).json()) as {
        items: { record: { problemId: string | null } }[];
      };
      if (res.items.length === 5 && res.items.some((i) => i.record.problemId === problem.id))
        return true;
      throw new Error(JSON.stringify(res.items.map((i) => i.record.problemId)));
    },
    { what: 'the incidents and their problem link to be searchable' },
  );
});
afterAll(() => tocsin.destroy());

describe('GET /api/v1/incidents/{id}/similar', () => {
  it('ranks incidents with the same words on the same CI first, and leaves the incident out', async () => {
    const res = await tocsin.request(`/api/v1/incidents/${ids.lag3}/similar`);
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { id: string; score: number }[] };
    expect(
      items
        .map((i) => i.id)
        .slice(0, 2)
        .sort(),
    ).toEqual([ids.lag1, ids.lag2].sort());
    expect(items.map((i) => i.id)).not.toContain(ids.lag3);
    expect(items.map((i) => i.id)).not.toContain(ids.cert);
    for (let i = 1; i < items.length; i++)
      expect(items[i]!.score).toBeLessThanOrEqual(items[i - 1]!.score);
  });

  it('answers 404 for an incident that does not exist', async () => {
    expect((await tocsin.request('/api/v1/incidents/999999/similar')).status).toBe(404);
  });
});

describe('GET /api/v1/problems/patterns', () => {
  it('finds the recurring signature, CI, service and category, their trend and coverage', async () => {
    const res = await tocsin.request('/api/v1/problems/patterns?minIncidents=2');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      patterns: Record<
        string,
        {
          value: string;
          incidents: number;
          weekly: { count: number }[];
          problems: string[];
          covered: boolean;
          firstAt: string;
          lastAt: string;
        }[]
      >;
    };
    expect(body.patterns.signature).toEqual([
      expect.objectContaining({
        value: 'Ledger replication lag',
        incidents: 3,
        problems: [ids.problem],
        covered: true,
      }),
    ]);
    expect(body.patterns.ci).toEqual([
      expect.objectContaining({ value: 'db-ledger', incidents: 3 }),
    ]);
    expect(body.patterns.service!.map((p) => [p.value, p.incidents, p.covered])).toEqual([
      ['ledger', 3, true],
      ['checkout', 2, false],
    ]);
    expect(body.patterns.category!.map((p) => p.value)).toEqual(['database']);
    const ledger = body.patterns.signature![0]!;
    expect(ledger.weekly.reduce((n, w) => n + w.count, 0)).toBe(3);
    expect(ledger.weekly.length).toBeGreaterThanOrEqual(13);
    expect(Date.parse(ledger.firstAt)).toBeLessThanOrEqual(Date.parse(ledger.lastAt));
  });

  it('refuses a range that ends before it starts', async () => {
    const res = await tocsin.request(
      '/api/v1/problems/patterns?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
    );
    expect(res.status).toBe(400);
  });
});

describe('GET /api/v1/problems/patterns over many patterns', () => {
  it('answers three years of 100 patterns per dimension, not a 503', async () => {
    // 100 values in each of the four dimensions, 5 incidents and 5 problems each: one search for
    // all four asked Elasticsearch for 4 × 100 × 158 weekly buckets plus their problems, over
    // the 65,536 a search may make; the too_many_buckets_exception answered 503 "unavailable".
    const problems: string[] = [];
    for (let p = 0; p < 5; p++)
      problems.push((await send('POST', '/api/v1/problems', { title: `Pattern cause ${p}` })).id);
    const bodies = Array.from({ length: 500 }, (_, i) => ({
      title: `Pattern ${i % 100}`,
      cis: [`pattern-ci-${i % 100}`],
      service: `pattern-service-${i % 100}`,
      category: `pattern-category-${i % 100}`,
      problemId: problems[Math.floor(i / 100)],
    }));
    for (let i = 0; i < bodies.length; i += 10)
      await Promise.all(bodies.slice(i, i + 10).map((b) => send('POST', '/api/v1/incidents', b)));
    await eventually(
      async () => {
        const res = await tocsin.request('/api/v1/search?type=incident&q=Pattern&limit=1');
        const { facets } = (await res.json()) as { facets: { type: { count: number }[] } };
        return facets.type[0]?.count === 500 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'the 500 incidents in search' },
    );
    const to = new Date(Date.now() + 60_000).toISOString();
    const from = new Date(Date.parse(to) - 3 * 366 * 24 * 3600_000).toISOString();
    const res = await tocsin.request(
      `/api/v1/problems/patterns?from=${from}&to=${to}&top=100&minIncidents=5`,
    );
    expect(res.status, (await res.clone().text()).slice(0, 500)).toBe(200);
    const { patterns } = (await res.json()) as {
      patterns: Record<string, { incidents: number; weekly: unknown[]; problems: string[] }[]>;
    };
    for (const dimension of ['signature', 'ci', 'service', 'category']) {
      const found = patterns[dimension]!;
      expect(found, dimension).toHaveLength(100);
      for (const p of found) {
        expect(p.incidents).toBe(5);
        expect(p.weekly.length).toBeGreaterThanOrEqual(157);
        expect(p.problems.sort()).toEqual([...problems].sort());
      }
    }
  }, 180_000);
});
