import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
beforeAll(async () => {
  tocsin = await startTestTocsin();
});
afterAll(() => tocsin.destroy());

const post = async (path: string, body: unknown) => {
  const res = await tocsin.request(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as { id: string; number: string };
};

type Hits = { items: { type: string; id: string; record: Record<string, unknown> }[] };

describe('tickets in Elasticsearch', () => {
  it('finds problems and changes by their text, and follows their edits', async () => {
    const problem = await post('/api/v1/problems', {
      title: 'Ledger replication lags every Monday',
      cause: 'A weekly VACUUM FULL locks the replication slot',
    });
    const change = await post('/api/v1/changes', {
      type: 'normal',
      title: 'Move the ledger VACUUM to Sunday night',
      cis: ['db-ledger'],
    });
    const search = async (q: string, type: string) =>
      (await (
        await tocsin.request(`/api/v1/search?q=${encodeURIComponent(q)}&type=${type}`)
      ).json()) as Hits;

    const found = await eventually(
      async () => {
        const hits = await search('vacuum', 'problem,change');
        return hits.items.length === 2 ? hits : undefined;
      },
      { what: 'the problem and the change to be searchable' },
    );
    expect(found.items.map((h) => [h.type, h.id]).sort()).toEqual(
      [
        ['change', change.id],
        ['problem', problem.id],
      ].sort(),
    );
    expect(found.items.find((h) => h.type === 'change')!.record).toMatchObject({
      changeType: 'normal',
      number: change.number,
    });
    const problemHit = found.items.find((h) => h.type === 'problem')!;
    expect(problemHit.record).toMatchObject({
      number: problem.number,
      state: 'new',
      stateCategory: 'open',
      cause: 'A weekly VACUUM FULL locks the replication slot',
    });

    await post(`/api/v1/problems/${problem.id}/transitions/assess`, {});
    await eventually(
      async () => {
        const hits = await search(problem.number, 'problem');
        return hits.items[0]?.record.state === 'assess' ? true : undefined;
      },
      { what: 'the transition to reach search' },
    );
  });
});
