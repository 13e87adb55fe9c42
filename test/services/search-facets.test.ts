import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;

const post = async (path: string, body: unknown) => {
  const res = await tocsin.request(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as { id: string; number: string };
};

type Result = {
  items: {
    type: string;
    id: string;
    record: Record<string, unknown>;
    highlight: Record<string, string[]>;
  }[];
  nextCursor: string | null;
  facets: Record<string, { value: string | number; count: number }[]>;
};

const search = async (query: string) => {
  const res = await tocsin.request(`/api/v1/search?${query}`);
  return { status: res.status, body: (await res.json()) as Result & Record<string, unknown> };
};

beforeAll(async () => {
  tocsin = await startTestTocsin();
  const incidents = [
    {
      title: 'Checkout payment timeouts',
      service: 'checkout',
      impact: 1,
      urgency: 1,
      assignmentGroup: 'payments',
    },
    {
      title: 'Checkout page slow to render',
      service: 'checkout',
      impact: 2,
      urgency: 2,
      assignmentGroup: 'web',
    },
    {
      title: 'Ledger replication lag',
      service: 'ledger',
      impact: 2,
      urgency: 1,
      assignmentGroup: 'dba',
    },
    {
      title: 'Printer out of toner on floor 3',
      service: 'office',
      impact: 3,
      urgency: 3,
      assignmentGroup: 'desk',
    },
  ];
  for (const i of incidents) await post('/api/v1/incidents', i);
  await post('/api/v1/problems', {
    title: 'Checkout payment provider drops connections',
    service: 'checkout',
    cause: 'The payment provider rotates its TLS endpoints without notice',
  });
  await post('/api/v1/changes', {
    type: 'normal',
    title: 'Pin the payment provider endpoints',
    service: 'checkout',
  });
  await eventually(
    async () => {
      const all = await search('q=&limit=100');
      return all.body.items?.length === 6 ? true : undefined;
    },
    { what: 'the six tickets to be searchable' },
  );
});
afterAll(() => tocsin.destroy());

describe('GET /api/v1/search', () => {
  it('answers facets over the whole result, not just the page', async () => {
    const { body } = await search('q=checkout&limit=1');
    expect(body.items).toHaveLength(1);
    expect(body.facets.type).toEqual(
      expect.arrayContaining([
        { value: 'incident', count: 2 },
        { value: 'problem', count: 1 },
        { value: 'change', count: 1 },
      ]),
    );
    expect(body.facets.service).toEqual([{ value: 'checkout', count: 4 }]);
    expect(body.facets.priority).toEqual(
      expect.arrayContaining([
        { value: 1, count: 1 },
        { value: 3, count: 3 },
      ]),
    );
    expect(body.facets.time).toEqual([
      { value: '1h', count: 4 },
      { value: '24h', count: 4 },
      { value: '7d', count: 4 },
      { value: '30d', count: 4 },
    ]);
  });

  it('takes field:value, phrases and AND / OR / NOT', async () => {
    const titles = async (q: string) =>
      (await search(`q=${encodeURIComponent(q)}&type=incident`)).body.items
        .map((h) => h.record.title)
        .sort();
    expect(await titles('service:ledger')).toEqual(['Ledger replication lag']);
    expect(await titles('"payment timeouts"')).toEqual(['Checkout payment timeouts']);
    expect(await titles('checkout AND NOT payment')).toEqual(['Checkout page slow to render']);
    expect(await titles('printer OR ledger')).toEqual([
      'Ledger replication lag',
      'Printer out of toner on floor 3',
    ]);
    expect(await titles('assignmentGroup:(dba OR desk)')).toEqual([
      'Ledger replication lag',
      'Printer out of toner on floor 3',
    ]);
  });

  it('narrows by structured filters', async () => {
    const { body } = await search(
      `filter=${encodeURIComponent('type=incident;priority<=2;service!=office')}`,
    );
    expect(body.items.map((h) => h.record.title).sort()).toEqual([
      'Checkout payment timeouts',
      'Ledger replication lag',
    ]);
  });

  it('highlights the matched words, escaped for HTML', async () => {
    const { body } = await search('q=rotates&type=problem');
    expect(body.items[0]!.highlight.cause).toEqual([
      'The payment provider <mark>rotates</mark> its TLS endpoints without notice',
    ]);
  });

  it('lists records of every type newest first when no words are given', async () => {
    const { body } = await search('q=&limit=10');
    expect(body.items.map((h) => h.record.title)).toEqual([
      'Pin the payment provider endpoints',
      'Checkout payment provider drops connections',
      'Printer out of toner on floor 3',
      'Ledger replication lag',
      'Checkout page slow to render',
      'Checkout payment timeouts',
    ]);
  });

  it('pages with search_after cursors without repeating a hit', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Result = (await search(`q=&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.items.map((h) => `${h.type}:${h.id}`));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });

  it('refuses a cursor it did not return at /query/cursor, without asking Elasticsearch', async () => {
    // Any JSON array went on as search_after: Elasticsearch refused it, and the 400 blamed `q`
    // with Elasticsearch's parser message.
    const first: Result = (await search('q=&limit=2')).body;
    const [score, at, type, id] = JSON.parse(
      Buffer.from(first.nextCursor!, 'base64url').toString(),
    ) as unknown[];
    const tampered = [
      [],
      [1, 2],
      [{ a: 1 }],
      ['x', 'x', 'x', 'x'],
      [null, null, null, null],
      [score, 'yesterday', type, id],
      [score, at, 'planet', id],
      [score, at, type, { id }],
      [score, at, type, '0'],
      [score, at, type, id, 'more'],
    ];
    for (const position of tampered) {
      const cursor = Buffer.from(JSON.stringify(position)).toString('base64url');
      const res = await search(`q=&limit=2&cursor=${cursor}`);
      expect(res.status, JSON.stringify(position)).toBe(400);
      expect(res.body, JSON.stringify(position)).toMatchObject({
        pointer: '/query/cursor',
        detail: '/query/cursor: not a cursor this search returned',
      });
    }
  });

  it('answers a malformed query or filter with a 400 that says why', async () => {
    const unclosed = await search(`q=${encodeURIComponent('title:(checkout')}`);
    expect(unclosed.status).toBe(400);
    expect(unclosed.body).toMatchObject({ pointer: '/query/q' });
    expect(String(unclosed.body.detail)).toMatch(/parse|Encountered/i);
    const leading = await search(`q=${encodeURIComponent('*out')}`);
    expect(leading.status).toBe(400);
    // Fuzzy terms cost Elasticsearch most (each expanded, and matched again to highlight): ten pass.
    const fuzzy = (n: number) =>
      search(
        `q=${encodeURIComponent(Array.from({ length: n }, (_, i) => `w${i}~2`).join(' OR '))}`,
      );
    expect((await fuzzy(10)).status).toBe(200);
    const many = await fuzzy(11);
    expect(many.status).toBe(400);
    expect(many.body).toMatchObject({ pointer: '/query/q' });
    expect(String(many.body.detail)).toMatch(/at most 10 fuzzy/);
    // A ~ in a phrase or escaped is text, not an operator.
    expect((await search(`q=${encodeURIComponent('"a~b" OR x\\~ OR checkout~1')}`)).status).toBe(
      200,
    );
    const unknown = await search('filter=colour%3Dred');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ pointer: '/query/filter' });
  });
});
