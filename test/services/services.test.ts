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

type Service = Record<string, unknown> & { id: string; version: number };

async function create(body: Record<string, unknown>): Promise<Service> {
  const res = await tocsin.request('/api/v1/services', json(body, tokens.admin));
  expect(res.status, await res.clone().text()).toBe(201);
  const service = (await res.json()) as Service;
  expect(res.headers.get('Location')).toBe(`/api/v1/services/${service.id}`);
  expect(res.headers.get('ETag')).toBe(`"${service.version}"`);
  return service;
}

const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  tocsin.request(`/api/v1/services/${id}`, {
    ...json(body, tokens.admin, headers),
    method: 'PATCH',
  });

describe('services', () => {
  it('show their entry-point CIs as the CMDB knows them', async () => {
    const imported = await tocsin.request(
      '/api/v1/cmdb/import',
      json({ cis: [{ name: 'lb-pay-1', class: 'load_balancer' }] }),
    );
    expect(imported.status, await imported.clone().text()).toBe(200);
    const service = await create({
      name: 'Online payments',
      kind: 'business',
      owner: 'payments-team',
      description: 'Card and wallet payments at checkout',
      entryPointCis: ['lb-pay-1', 'api-gw-pay', 'lb-pay-1'],
      criticality: 1,
      slaNames: ['Gold 99.95%'],
    });
    expect(service).toMatchObject({
      name: 'Online payments',
      kind: 'business',
      entryPointCis: ['lb-pay-1', 'api-gw-pay'],
      criticality: 1,
      slaNames: ['Gold 99.95%'],
      version: 1,
    });
    expect(service).not.toHaveProperty('allowedActions');

    const res = await tocsin.request(`/api/v1/services/${service.id}`, { token: tokens.viewer! });
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe('"1"');
    expect(await res.json()).toMatchObject({
      entryPoints: [
        { name: 'lb-pay-1', id: expect.stringMatching(/^\d+$/) as string, class: 'load_balancer' },
        { name: 'api-gw-pay', id: null, class: null },
      ],
    });
    // A service has no state machine.
    const moved = await tocsin.request(
      `/api/v1/services/${service.id}/transitions/retire`,
      json({}, tokens.admin),
    );
    expect(moved.status).toBe(404);
  });

  it('refuse a lost update with 412, and audit every change', async () => {
    const service = await create({ name: 'DNS', kind: 'technical', entryPointCis: ['ns1'] });
    const etag = `"${service.version}"`;
    const first = await patch(
      service.id,
      { entryPointCis: ['ns1', 'ns2'], criticality: 2 },
      { 'If-Match': etag },
    );
    expect(first.status).toBe(200);
    expect(first.headers.get('ETag')).toBe(`"${service.version + 1}"`);
    const stale = await patch(service.id, { owner: 'someone' }, { 'If-Match': etag });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('Content-Type')).toBe('application/problem+json');
    expect(await (await tocsin.request(`/api/v1/services/${service.id}`)).json()).toMatchObject({
      owner: null,
      entryPointCis: ['ns1', 'ns2'],
    });

    const history = (await (
      await tocsin.request(`/api/v1/services/${service.id}/history`, { token: tokens.viewer! })
    ).json()) as { items: Record<string, unknown>[] };
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
      new: expect.objectContaining({ name: 'DNS', kind: 'technical' }) as unknown,
    });
    const edit = { actor: 'user:ada', operation: 'update', action: null };
    expect(changes.slice(1)).toEqual(
      expect.arrayContaining([
        { ...edit, field: 'entryPointCis', old: ['ns1'], new: ['ns1', 'ns2'] },
        { ...edit, field: 'criticality', old: 3, new: 2 },
      ]),
    );
    expect(changes).toHaveLength(3);
  });

  it('list with filters, sort, fields, q and cursors; an unknown field is a 400', async () => {
    for (const [name, kind, criticality, entryPointCis] of [
      ['List: checkout', 'business', 1, ['lb-shop']],
      ['List: search', 'business', 2, ['lb-shop', 'es-1']],
      ['List: messaging', 'technical', 2, ['kafka-1']],
      ['List: wiki', 'business', 4, []],
    ] as const)
      await create({ name, kind, criticality, entryPointCis, owner: 'list-test' });

    const list = async (query: string) => {
      const res = await tocsin.request(`/api/v1/services?${query}`, { token: tokens.viewer! });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const filter = (f: string) => `filter=${encodeURIComponent(f)}`;

    expect(
      (
        await list(
          `${filter('owner=list-test;kind=business;criticality<=2')}&sort=name&fields=name`,
        )
      ).body,
    ).toEqual({ items: [{ name: 'List: checkout' }, { name: 'List: search' }], nextCursor: null });
    expect(
      (await list(`${filter('entryPointCis=lb-shop|kafka-1')}&sort=-criticality,name&fields=name`))
        .status,
    ).toBe(400);
    expect(
      (await list(`${filter('entryPointCis=lb-shop|kafka-1')}&sort=name&fields=name,criticality`))
        .body.items,
    ).toEqual([
      { name: 'List: checkout', criticality: 1 },
      { name: 'List: messaging', criticality: 2 },
      { name: 'List: search', criticality: 2 },
    ]);

    const page1 = await list(`${filter('owner=list-test')}&sort=-criticality&limit=2&fields=name`);
    // Ties on criticality go by id, in the same direction.
    expect(page1.body.items).toEqual([{ name: 'List: wiki' }, { name: 'List: messaging' }]);
    const page2 = await list(
      `${filter('owner=list-test')}&sort=-criticality&limit=2&fields=name&cursor=${String(page1.body.nextCursor)}`,
    );
    expect(page2.body).toEqual({
      items: [{ name: 'List: search' }, { name: 'List: checkout' }],
      nextCursor: null,
    });
    expect((await list('q=list:%20wi&fields=name')).body.items).toEqual([{ name: 'List: wiki' }]);

    for (const bad of [
      filter('colour=red'),
      filter('criticality<high'),
      filter('entryPointCis<x'),
      'sort=owner',
      'fields=name,colour',
      'colour=red',
    ]) {
      const res = await list(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.pointer, bad).toMatch(/^\/query\//);
    }
  });

  it('check what they are given', async () => {
    const post = (body: unknown) => tocsin.request('/api/v1/services', json(body, tokens.admin));
    await create({ name: 'Email', kind: 'business' });
    expect((await post({ name: 'Email', kind: 'business' })).status).toBe(409);
    const badKind = await post({ name: 'Payroll', kind: 'internal' });
    expect(await badKind.json()).toMatchObject({ status: 400, pointer: '/kind' });
    const badCriticality = await post({ name: 'Payroll', kind: 'business', criticality: 5 });
    expect(await badCriticality.json()).toMatchObject({ status: 400, pointer: '/criticality' });
    expect((await tocsin.request('/api/v1/services/999999')).status).toBe(404);
    const viewerWrite = await tocsin.request(
      '/api/v1/services',
      json({ name: 'Payroll', kind: 'business' }, tokens.viewer),
    );
    expect(viewerWrite.status).toBe(403);
  });

  it('are found through search', async () => {
    const service = await create({
      name: 'Identity provider',
      kind: 'technical',
      description: 'Single sign-on for every staff application',
      entryPointCis: ['keycloak-lb'],
    });
    type Hits = { items: { type: string; id: string; record: Record<string, unknown> }[] };
    const search = async (q: string) =>
      (await (
        await tocsin.request(`/api/v1/search?q=${encodeURIComponent(q)}&type=service`)
      ).json()) as Hits;
    const found = await eventually(
      async () => {
        const hits = await search('sign-on');
        return hits.items.length > 0 ? hits : undefined;
      },
      { what: 'the service to be searchable' },
    );
    expect(found.items.map((h) => [h.type, h.id])).toEqual([['service', service.id]]);
    expect(found.items[0]!.record).toMatchObject({
      name: 'Identity provider',
      kind: 'technical',
      entryPointCis: ['keycloak-lb'],
    });
    expect((await search('keycloak-lb')).items.map((h) => h.id)).toEqual([service.id]);

    await patch(service.id, { name: 'Identity provider (SSO)' });
    await eventually(
      async () => {
        const hits = await search('identity');
        return hits.items[0]?.record.name === 'Identity provider (SSO)' ? true : undefined;
      },
      { what: 'the rename to reach search' },
    );
  });
});
