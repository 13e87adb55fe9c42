import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestTocsin,
  type TestTocsin,
  jsonRequest,
  personToken as personTokenOf,
} from '../support/tocsin.ts';

let tocsin: TestTocsin;
const tokens: Record<string, string> = {};

const json = jsonRequest;
const personToken = (username: string, roles: string[]) => personTokenOf(tocsin, username, roles);

// Every role, so that the correlator drains the search outbox into Elasticsearch.
beforeAll(async () => {
  tocsin = await startTestTocsin();
  tokens.admin = await personToken('ada', ['admin']);
  tokens.viewer = await personToken('vic', ['viewer']);
});
afterAll(() => tocsin.destroy());

type Asset = Record<string, unknown> & { id: string; state: string; version: number };

async function create(body: Record<string, unknown>): Promise<Asset> {
  const res = await tocsin.request('/api/v1/assets', json(body, tokens.admin));
  expect(res.status, await res.clone().text()).toBe(201);
  const asset = (await res.json()) as Asset;
  expect(res.headers.get('Location')).toBe(`/api/v1/assets/${asset.id}`);
  expect(res.headers.get('ETag')).toBe(`"${asset.version}"`);
  return asset;
}

const act = (id: string, action: string, headers: Record<string, string> = {}) =>
  tocsin.request(`/api/v1/assets/${id}/transitions/${action}`, json({}, tokens.admin, headers));

const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  tocsin.request(`/api/v1/assets/${id}`, {
    ...json(body, tokens.admin, headers),
    method: 'PATCH',
  });

describe('assets', () => {
  it('are created on order and follow their lifecycle; a forbidden move is a 409 with the allowed ones', async () => {
    const asset = await create({
      tag: 'AST-0001',
      serial: 'PF3XK2L9',
      model: 'ThinkPad T14 Gen 4',
      manufacturer: 'Lenovo',
      ci: 'laptop-ada',
      cost: 1299.9,
      currency: 'EUR',
      purchasedAt: '2026-01-15',
      warrantyEnd: '2029-01-14',
    });
    expect(asset).toMatchObject({
      tag: 'AST-0001',
      ci: 'laptop-ada',
      state: 'on_order',
      stateCategory: 'open',
      cost: '1299.90',
      currency: 'EUR',
      purchasedAt: '2026-01-15',
      warrantyEnd: '2029-01-14',
      version: 1,
      allowedActions: ['receive'],
    });

    const tooEarly = await act(asset.id, 'deploy');
    expect(tooEarly.status).toBe(409);
    expect(tooEarly.headers.get('Content-Type')).toBe('application/problem+json');
    expect(await tooEarly.json()).toMatchObject({ state: 'on_order', allowed: ['receive'] });

    for (const [action, state, allowed] of [
      ['receive', 'in_stock', ['deploy', 'retire']],
      ['deploy', 'in_use', ['service', 'stock', 'retire']],
      ['service', 'in_maintenance', ['return_to_use', 'retire']],
      ['return_to_use', 'in_use', ['service', 'stock', 'retire']],
      ['stock', 'in_stock', ['deploy', 'retire']],
      ['retire', 'retired', []],
    ] as const) {
      const res = await act(asset.id, action);
      expect(res.status, action).toBe(200);
      expect(await res.json()).toMatchObject({ state, allowedActions: allowed });
    }
    const read = await tocsin.request(`/api/v1/assets/${asset.id}`, { token: tokens.viewer! });
    expect(read.headers.get('ETag')).toBe('"7"');
    expect(await read.json()).toMatchObject({ state: 'retired', stateCategory: 'closed' });

    const afterRetirement = await act(asset.id, 'deploy');
    expect(afterRetirement.status).toBe(409);
    expect(await afterRetirement.json()).toMatchObject({ state: 'retired', allowed: [] });
    expect((await act(asset.id, 'teleport')).status).toBe(409);
  });

  it('change state only by transitions, and register stock already on hand', async () => {
    const asset = await create({ tag: 'AST-0002', model: 'Dell U2723QE', state: 'in_stock' });
    expect(asset).toMatchObject({ state: 'in_stock', allowedActions: ['deploy', 'retire'] });
    const byPatch = await patch(asset.id, { state: 'retired' });
    expect(byPatch.status).toBe(400);
    expect(await byPatch.json()).toMatchObject({ pointer: '/state' });
    const withBody = await tocsin.request(
      `/api/v1/assets/${asset.id}/transitions/deploy`,
      json({ state: 'retired' }, tokens.admin),
    );
    expect(withBody.status).toBe(400);
    const retiredAtBirth = await tocsin.request(
      '/api/v1/assets',
      json({ tag: 'AST-0003', model: 'x', state: 'retired' }, tokens.admin),
    );
    expect(retiredAtBirth.status).toBe(400);
  });

  it('refuse a lost update with 412, and take one made on the current version', async () => {
    const asset = await create({ tag: 'AST-0010', model: 'MacBook Pro 14' });
    const etag = `"${asset.version}"`;
    const first = await patch(asset.id, { owner: 'alice' }, { 'If-Match': etag });
    expect(first.status).toBe(200);
    const newTag = first.headers.get('ETag');
    expect(newTag).toBe(`"${asset.version + 1}"`);

    const stale = await patch(asset.id, { owner: 'bob' }, { 'If-Match': etag });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('Content-Type')).toBe('application/problem+json');
    expect(await stale.json()).toMatchObject({ currentVersion: asset.version + 1 });
    expect((await act(asset.id, 'receive', { 'If-Match': etag })).status).toBe(412);

    const current = (await (await tocsin.request(`/api/v1/assets/${asset.id}`)).json()) as Asset;
    expect(current).toMatchObject({ owner: 'alice', state: 'on_order' });
    expect((await patch(asset.id, { owner: 'bob' }, { 'If-Match': newTag! })).status).toBe(200);
    expect((await act(asset.id, 'receive', { 'If-Match': `"${asset.version + 2}"` })).status).toBe(
      200,
    );
  });

  it('audit every change: who, when, which field, old and new, and by which action', async () => {
    const asset = await create({
      tag: 'AST-0020',
      model: 'Cisco C9300',
      cost: '4200',
      currency: 'USD',
    });
    await patch(asset.id, { owner: 'network-team', cost: '3999.99' });
    await act(asset.id, 'receive');
    const res = await tocsin.request(`/api/v1/assets/${asset.id}/history`, {
      token: tokens.viewer!,
    });
    expect(res.status).toBe(200);
    const history = (await res.json()) as { items: Record<string, unknown>[]; nextCursor: null };
    const changes = history.items.map(({ actor, operation, action, field, old, new: value }) => ({
      actor,
      operation,
      action,
      field,
      old,
      new: value,
    }));
    expect(changes[0]).toMatchObject({
      actor: 'user:ada',
      operation: 'insert',
      action: 'create',
      field: '*',
      new: expect.objectContaining({
        tag: 'AST-0020',
        state: 'on_order',
        currency: 'USD',
      }) as unknown,
    });
    const edit = { actor: 'user:ada', operation: 'update', action: null };
    expect(changes.slice(1, 3)).toEqual(
      expect.arrayContaining([
        { ...edit, field: 'owner', old: null, new: 'network-team' },
        { ...edit, field: 'cost', old: 4200, new: 3999.99 },
      ]),
    );
    expect(changes.slice(3)).toEqual([
      { ...edit, action: 'receive', field: 'state', old: 'on_order', new: 'in_stock' },
    ]);
    for (const entry of history.items) expect(Date.parse(String(entry.at))).not.toBeNaN();
    const paged = (await (
      await tocsin.request(`/api/v1/assets/${asset.id}/history?limit=2`)
    ).json()) as { items: unknown[]; nextCursor: string };
    expect(paged.items).toHaveLength(2);
    const rest = (await (
      await tocsin.request(`/api/v1/assets/${asset.id}/history?cursor=${paged.nextCursor}`)
    ).json()) as { items: unknown[] };
    expect(rest.items).toHaveLength(2);
  });

  it('list with filters, sort, fields, q and cursors; an unknown field is a 400', async () => {
    for (const [tag, cost, warrantyEnd, state] of [
      ['LST-1', '250.00', '2026-06-30', 'on_order'],
      ['LST-2', '1500.00', '2027-12-31', 'in_stock'],
      ['LST-3', '980.50', '2028-03-01', 'in_use'],
      ['LST-4', '5000.00', null, 'in_use'],
    ] as const)
      await create({
        tag,
        model: 'Rack server R750',
        manufacturer: 'ListTest',
        cost,
        currency: 'EUR',
        warrantyEnd,
        state,
      });

    const list = async (query: string) => {
      const res = await tocsin.request(`/api/v1/assets?${query}`, { token: tokens.viewer! });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const filter = (f: string) => `filter=${encodeURIComponent(f)}`;

    expect(
      (await list(`${filter('manufacturer=ListTest;cost>=980.5')}&sort=-tag&fields=tag,cost`)).body,
    ).toEqual({
      items: [
        { tag: 'LST-4', cost: '5000.00' },
        { tag: 'LST-3', cost: '980.50' },
        { tag: 'LST-2', cost: '1500.00' },
      ],
      nextCursor: null,
    });
    expect(
      (
        await list(
          `${filter('manufacturer=ListTest;warrantyEnd<2028-01-01;state!=on_order')}&fields=tag`,
        )
      ).body.items,
    ).toEqual([{ tag: 'LST-2' }]);
    expect(
      (
        await list(
          `${filter('manufacturer=ListTest;state=in_use|in_stock')}&sort=tag&fields=tag,stateCategory`,
        )
      ).body.items,
    ).toEqual([
      { tag: 'LST-2', stateCategory: 'open' },
      { tag: 'LST-3', stateCategory: 'open' },
      { tag: 'LST-4', stateCategory: 'open' },
    ]);

    const page1 = await list(`${filter('manufacturer=ListTest')}&sort=tag&limit=3&fields=tag`);
    expect(page1.body.items).toEqual([{ tag: 'LST-1' }, { tag: 'LST-2' }, { tag: 'LST-3' }]);
    const page2 = await list(
      `${filter('manufacturer=ListTest')}&sort=tag&limit=3&fields=tag&cursor=${String(page1.body.nextCursor)}`,
    );
    expect(page2.body).toEqual({ items: [{ tag: 'LST-4' }], nextCursor: null });

    expect((await list('q=lst-3&fields=tag')).body.items).toEqual([{ tag: 'LST-3' }]);

    for (const bad of [
      filter('colour=red'),
      filter('cost<cheap'),
      filter('warrantyEnd<2026-02-30'),
      filter('purchasedAt>soon'),
      'sort=serial',
      'sort=cost',
      'fields=tag,colour',
      'colour=red',
    ]) {
      const res = await list(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.pointer, bad).toMatch(/^\/query\//);
    }
  });

  it('check what they are given: a cost has a currency, a tag is unique, a warranty follows the purchase', async () => {
    const post = (body: unknown) => tocsin.request('/api/v1/assets', json(body, tokens.admin));
    const noCurrency = await post({ tag: 'VAL-1', model: 'x', cost: 10 });
    expect(noCurrency.status).toBe(400);
    expect(await noCurrency.json()).toMatchObject({ pointer: '/currency' });
    const floaty = await post({ tag: 'VAL-1', model: 'x', cost: 0.1 + 0.2, currency: 'EUR' });
    expect(await floaty.json()).toMatchObject({ status: 400, pointer: '/cost' });
    const badDate = await post({ tag: 'VAL-1', model: 'x', warrantyEnd: '2026-13-01' });
    expect(await badDate.json()).toMatchObject({ status: 400, pointer: '/warrantyEnd' });
    const backwards = await post({
      tag: 'VAL-1',
      model: 'x',
      purchasedAt: '2026-05-01',
      warrantyEnd: '2025-05-01',
    });
    expect(backwards.status).toBe(400);
    // Named by field, not by PostgreSQL's constraint message.
    expect(await backwards.json()).toMatchObject({
      errors: [{ pointer: '/warrantyEnd', detail: 'must not be before purchasedAt' }],
    });

    const asset = await create({ tag: 'VAL-1', model: 'x', cost: '10', currency: 'EUR' });
    const duplicate = await post({ tag: 'VAL-1', model: 'y' });
    expect(duplicate.status).toBe(409);
    const dropCurrency = await patch(asset.id, { currency: null });
    expect(dropCurrency.status).toBe(400);
    expect(await dropCurrency.json()).toMatchObject({
      errors: [{ pointer: '/currency', detail: 'a cost needs its currency' }],
    });
    expect((await tocsin.request('/api/v1/assets/999999')).status).toBe(404);
    expect((await patch('999999', { owner: 'x' })).status).toBe(404);
    expect((await act('999999', 'receive')).status).toBe(404);
  });

  it('let a viewer read but not write', async () => {
    const asset = await create({ tag: 'ROLE-1', model: 'x' });
    expect((await tocsin.request('/api/v1/assets', { token: tokens.viewer! })).status).toBe(200);
    const write = await tocsin.request(
      '/api/v1/assets',
      json({ tag: 'ROLE-2', model: 'x' }, tokens.viewer),
    );
    expect(write.status).toBe(403);
    expect(
      (
        await tocsin.request(
          `/api/v1/assets/${asset.id}/transitions/receive`,
          json({}, tokens.viewer),
        )
      ).status,
    ).toBe(403);
  });

  it('are found through search, and search follows their transitions', async () => {
    const asset = await create({
      tag: 'SRCH-4711',
      serial: 'SN-88412-ZQ',
      model: 'PowerEdge R760',
      manufacturer: 'Dell',
      ci: 'db-ledger-1',
      cost: '18250.00',
      currency: 'EUR',
      warrantyEnd: '2030-02-28',
    });
    type Hits = { items: { type: string; id: string; record: Record<string, unknown> }[] };
    const search = async (q: string) =>
      (await (
        await tocsin.request(`/api/v1/search?q=${encodeURIComponent(q)}&type=asset`)
      ).json()) as Hits;

    const found = await eventually(
      async () => {
        const hits = await search('SRCH-4711');
        return hits.items.length > 0 ? hits : undefined;
      },
      { what: 'the asset to be searchable' },
    );
    expect(found.items.map((h) => [h.type, h.id])).toEqual([['asset', asset.id]]);
    expect(found.items[0]!.record).toMatchObject({
      tag: 'SRCH-4711',
      model: 'PowerEdge R760',
      ci: 'db-ledger-1',
      state: 'on_order',
      stateCategory: 'open',
      warrantyEnd: '2030-02-28',
    });
    expect((await search('poweredge')).items.map((h) => h.id)).toContain(asset.id);
    expect((await search('SN-88412-ZQ')).items.map((h) => h.id)).toEqual([asset.id]);

    await act(asset.id, 'receive');
    await eventually(
      async () => {
        const hits = await search('SRCH-4711');
        return hits.items[0]?.record.state === 'in_stock' ? true : undefined;
      },
      { what: 'the transition to reach search' },
    );
  });
});
