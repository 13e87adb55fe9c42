import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
beforeAll(async () => {
  tocsin = await startTestTocsin();
});
afterAll(() => tocsin.destroy());

const send = async (method: string, path: string, body: unknown = {}) => {
  const res = await tocsin.request(path, {
    method,
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('known errors', () => {
  it('are written up from a problem, published, searchable by symptom, and audited', async () => {
    const problem = await send('POST', '/api/v1/problems', {
      title: 'Ledger replicas fall behind',
    });
    const created = await send('POST', '/api/v1/known-errors', {
      title: 'Replication stalls during VACUUM FULL',
      symptom: 'Replica lag grows by minutes every Monday at 02:00 on db-ledger replicas',
      workaround: 'Pause the weekly maintenance job and restart the WAL receiver',
      problemId: problem.body.id,
      ciClass: 'database',
      service: 'ledger',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      number: expect.stringMatching(/^KE\d{7}$/) as string,
      state: 'draft',
      stateCategory: 'open',
      createdBy: 'admin',
      allowedActions: ['publish', 'retire'],
    });
    const id = String(created.body.id);
    const published = await send('POST', `/api/v1/known-errors/${id}/transitions/publish`);
    expect(published.body).toMatchObject({ state: 'published' });
    expect((await send('POST', `/api/v1/known-errors/${id}/transitions/publish`)).status).toBe(409);

    const found = await eventually(
      async () => {
        const res = (await (
          await tocsin.request('/api/v1/search?type=known_error&q=replica+lag+monday')
        ).json()) as { items: { id: string; record: Record<string, unknown> }[] };
        return res.items[0]?.record.state === 'published' ? res.items : undefined;
      },
      { what: 'the published known error to be searchable by its symptom' },
    );
    expect(found.map((h) => h.id)).toEqual([id]);
    expect(found[0]!.record).toMatchObject({
      workaround: expect.stringContaining('WAL') as string,
    });

    const history = (await (await tocsin.request(`/api/v1/known-errors/${id}/history`)).json()) as {
      items: { field: string; action: string | null; actor: string }[];
    };
    expect(history.items.map((e) => [e.field, e.action, e.actor])).toEqual([
      ['*', 'create', 'admin'],
      ['state', 'publish', 'admin'],
    ]);
  });

  it('need a symptom and a workaround', async () => {
    const res = await send('POST', '/api/v1/known-errors', { title: 'Something', symptom: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.pointer).toBe('/workaround');
  });
});
