import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
beforeAll(async () => {
  tocsin = await startTestTocsin();
});
afterAll(() => tocsin.destroy());

type Ci = Record<string, unknown> & { id: string; name: string; version: number };
type Problem = { status: number; pointer: string; errors: { pointer: string; detail: string }[] };
type Impact = {
  direction: string;
  depth: number;
  truncated: boolean;
  nodes: { id: string; name: string; class: string; depth: number }[];
  edges: { source: string; target: string; type: string }[];
};

const send = (path: string, method: string, body: unknown, headers: Record<string, string> = {}) =>
  tocsin.request(path, {
    method,
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...headers },
  });
const importCmdb = (body: unknown) => send('/api/v1/cmdb/import', 'POST', body);
const get = async <T>(path: string): Promise<T> => {
  const res = await tocsin.request(path);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
};
const ciNamed = async (name: string): Promise<Ci> => {
  const page = await get<{ items: Ci[] }>(`/api/v1/cis?filter=name=${encodeURIComponent(name)}`);
  expect(page.items, `CI ${name}`).toHaveLength(1);
  return page.items[0]!;
};
const impact = (name: string, query: string) =>
  ciNamed(name).then((ci) => get<Impact>(`/api/v1/cis/${ci.id}/impact?${query}`));
const byDepth = (result: Impact) =>
  Object.fromEntries(result.nodes.map((n) => [n.name, n.depth])) as Record<string, number>;
const edgeKeys = (result: Impact) =>
  result.edges.map((e) => `${e.source} -${e.type}-> ${e.target}`).sort();

const hosts = Array.from({ length: 30 }, (_, i) => `rack-host-${String(i + 1).padStart(2, '0')}`);

// checkout → checkout-api → (vm-1, db-orders → srv-db-1 ~ core-sw ~ 30 rack hosts); ~ is connected_to.
const estate = {
  cis: [
    {
      name: 'checkout',
      class: 'business_service',
      description: 'Customers pay for their basket',
      criticality: 'critical',
      environment: 'production',
      supportGroup: 'payments-ops',
      owner: 'alice',
      attributes: { tier: 'gold' },
    },
    { name: 'checkout-api', class: 'application', criticality: 2, environment: 'production' },
    { name: 'vm-1', class: 'virtual_machine', environment: 'production' },
    { name: 'db-orders', class: 'database', criticality: 'high', environment: 'production' },
    { name: 'srv-db-1', class: 'server', environment: 'production', lifecycleStatus: 'installed' },
    { name: 'core-sw', class: 'switch', criticality: 1 },
    { name: 'edge-router', class: 'router', environment: 'staging' },
    { name: 'loop-a', class: 'app_instance' },
    { name: 'loop-b', class: 'app_instance' },
    ...hosts.map((name) => ({ name, class: 'server', environment: 'test' })),
  ],
  relationships: [
    { source: 'checkout', target: 'checkout-api', type: 'depends_on' },
    { source: 'checkout-api', target: 'vm-1', type: 'runs_on' },
    { source: 'checkout-api', target: 'db-orders', type: 'depends_on' },
    { source: 'db-orders', target: 'srv-db-1', type: 'hosted_on' },
    { source: 'srv-db-1', target: 'core-sw', type: 'connected_to' },
    { source: 'loop-a', target: 'loop-b', type: 'depends_on' },
    { source: 'loop-b', target: 'loop-a', type: 'uses' },
    ...hosts.map((source) => ({ source, target: 'core-sw', type: 'connected_to' })),
  ],
};

beforeAll(async () => {
  const res = await importCmdb(estate);
  expect(res.status, await res.clone().text()).toBe(200);
});

describe('CI classes', () => {
  it('serve the class tree, with the classes the skeleton used', async () => {
    const { items } = await get<{
      items: { name: string; parent: string | null; path: string[] }[];
    }>('/api/v1/ci-classes');
    const byName = new Map(items.map((c) => [c.name, c]));
    for (const name of ['service', 'application', 'app_instance', 'database', 'network_device'])
      expect(byName.get(name), name).toMatchObject({ parent: null, path: [name] });
    expect(byName.get('router')).toMatchObject({
      parent: 'network_device',
      path: ['network_device', 'router'],
    });
    expect(byName.get('virtual_machine')?.path).toEqual(['host', 'virtual_machine']);
    expect(byName.get('business_service')?.parent).toBe('service');
  });

  it('reject an unknown class with a 400 naming it, and write nothing', async () => {
    const res = await importCmdb({
      cis: [
        { name: 'fine-host', class: 'host' },
        { name: 'big-iron', class: 'mainframe' },
      ],
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect(problem.errors).toEqual([
      { pointer: '/cis/1/class', detail: expect.stringContaining('"mainframe"') as string },
    ]);
    const listed = await get<{ items: Ci[] }>('/api/v1/cis?filter=name=fine-host|big-iron');
    expect(listed.items).toEqual([]);

    const badSyntax = await importCmdb({ cis: [{ name: 'x', class: 'Main Frame' }] });
    expect(((await badSyntax.json()) as Problem).pointer).toBe('/cis/0/class');

    const vm = await ciNamed('vm-1');
    const patch = await send(`/api/v1/cis/${vm.id}`, 'PATCH', { class: 'mainframe' });
    expect(patch.status).toBe(400);
    expect(await patch.json()).toMatchObject({ pointer: '/class' });
  });

  it('list a class with its subclasses', async () => {
    const names = async (query: string) =>
      (await get<{ items: Ci[] }>(`/api/v1/cis?${query}&limit=1000`)).items.map((c) => c.name);
    expect((await names('class=network_device')).sort()).toEqual(['core-sw', 'edge-router']);
    expect(await names('class=host')).toEqual(
      expect.arrayContaining(['vm-1', 'srv-db-1', 'rack-host-01']),
    );
    expect(await names('class=service')).toEqual(['checkout']);
    expect(await names('filter=class=network_device')).toEqual([]);
    const unknown = await tocsin.request('/api/v1/cis?class=mainframe');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ pointer: '/query/class' });
  });
});

describe('configuration items', () => {
  it('keep every field through import and read, and an import without a field keeps it', async () => {
    const checkout = await ciNamed('checkout');
    const res = await tocsin.request(`/api/v1/cis/${checkout.id}`);
    expect(res.headers.get('ETag')).toBe(`"${checkout.version}"`);
    expect(await res.json()).toEqual({
      id: checkout.id,
      name: 'checkout',
      class: 'business_service',
      description: 'Customers pay for their basket',
      attributes: { tier: 'gold' },
      lifecycleStatus: 'in_service',
      operationalStatus: 'operational',
      environment: 'production',
      criticality: 1,
      supportGroup: 'payments-ops',
      owner: 'alice',
      version: 1,
      createdAt: expect.any(String) as string,
      updatedAt: expect.any(String) as string,
    });
    expect((await ciNamed('core-sw')).environment).toBeNull();
    expect((await ciNamed('vm-1')).criticality).toBe(3);

    const again = await importCmdb({ cis: [{ name: 'checkout', class: 'business_service' }] });
    expect(await again.json()).toMatchObject({ cis: { created: 0, updated: 0, unchanged: 1 } });
    const cleared = await importCmdb({
      cis: [{ name: 'checkout', class: 'business_service', owner: null, criticality: 'medium' }],
    });
    expect(await cleared.json()).toMatchObject({ cis: { updated: 1 } });
    expect(await ciNamed('checkout')).toMatchObject({
      owner: null,
      criticality: 3,
      supportGroup: 'payments-ops',
      attributes: { tier: 'gold' },
      version: 2,
    });
    const restored = await importCmdb({
      cis: [{ name: 'checkout', class: 'business_service', owner: 'alice', criticality: 1 }],
    });
    expect(await restored.json()).toMatchObject({ cis: { updated: 1 } });

    const bad = await importCmdb({
      cis: [{ name: 'x', class: 'host', criticality: 7, lifecycleStatus: 'dead', colour: 'red' }],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Problem).errors.map((e) => e.pointer).sort()).toEqual([
      '/cis/0/colour',
      '/cis/0/criticality',
      '/cis/0/lifecycleStatus',
    ]);
  });

  it('take attributes as deep and with keys as long as search indexes them, and say where beyond', async () => {
    const nested = (depth: number, leaf: unknown = 'bottom') => {
      let value = leaf;
      for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
      return value;
    };
    // 5,000 levels answered 500 (jsonb ran out of stack); 21 were stored, then refused by
    // Elasticsearch's flattened field at every try, which held up the whole search projection.
    for (const depth of [21, 5_000, 200_000]) {
      const res = await tocsin.request('/api/v1/cmdb/import', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        // Written by hand: JSON.stringify itself overflows the stack at 200,000 levels.
        body: `{"cis":[{"name":"deep-${depth}","class":"database","attributes":{"x":${JSON.stringify(nested(19)).replace('"bottom"', '['.repeat(depth - 19) + ']'.repeat(depth - 19))}}}]}`,
      });
      expect(res.status, await res.clone().text()).toBe(400);
      const problem = (await res.json()) as Problem;
      expect(problem.errors).toEqual([
        {
          pointer: expect.stringMatching(/^\/cis\/0\/attributes\/x(\/(a|0)){19}$/) as string,
          detail: 'attributes nest at most 20 levels deep',
        },
      ]);
    }
    const vm = await ciNamed('vm-1');
    const longKey = await send(`/api/v1/cis/${vm.id}`, 'PATCH', {
      attributes: { rack: { ['k'.repeat(256)]: 1 } },
    });
    expect(longKey.status).toBe(400);
    expect(await longKey.json()).toMatchObject({
      errors: [
        { pointer: '/attributes/rack', detail: 'an attribute key has at most 255 characters' },
      ],
    });
    expect(await ciNamed('vm-1')).toMatchObject({ version: vm.version });
    // At the bounds: 20 levels, a 255-character key and a value too long to index (kept, not
    // indexed): stored, and found by search.
    const edge = await importCmdb({
      cis: [
        {
          name: 'deep-edge',
          class: 'database',
          attributes: { x: nested(19), ['k'.repeat(255)]: 'v'.repeat(40_000) },
        },
      ],
    });
    expect(edge.status, await edge.clone().text()).toBe(200);
    expect((await ciNamed('deep-edge')).attributes).toEqual({
      x: nested(19),
      ['k'.repeat(255)]: 'v'.repeat(40_000),
    });
    await eventually(async () => {
      const res = await tocsin.request('/api/v1/search?q=deep-edge&type=ci');
      const page = (await res.json()) as { items: { record: { name: string } }[] };
      return page.items.some((h) => h.record.name === 'deep-edge') ? true : undefined;
    });
  });

  it('list with filter, q, sort, fields and cursors; an unknown field is a 400', async () => {
    const page = await get<{ items: Ci[]; nextCursor: string | null }>(
      '/api/v1/cis?filter=environment=production;criticality<=2&sort=criticality&fields=name,criticality',
    );
    expect(page.items).toEqual([
      { name: 'checkout', criticality: 1 },
      { name: 'checkout-api', criticality: 2 },
      { name: 'db-orders', criticality: 2 },
    ]);
    const found = await get<{ items: Ci[] }>('/api/v1/cis?q=basket&fields=name');
    expect(found.items).toEqual([{ name: 'checkout' }]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const next: { items: Ci[]; nextCursor: string | null } = await get(
        `/api/v1/cis?filter=environment=test&sort=name&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...next.items.map((c) => c.name));
      cursor = next.nextCursor;
    } while (cursor);
    expect(seen).toEqual(hosts);

    for (const query of ['filter=colour=red', 'fields=name,colour', 'sort=attributes', 'kind=x']) {
      const res = await tocsin.request(`/api/v1/cis?${query}`);
      expect(res.status, query).toBe(400);
    }
    const badValue = await tocsin.request('/api/v1/cis?filter=criticality<high');
    expect(await badValue.json()).toMatchObject({ status: 400, pointer: '/query/filter' });
  });

  it('refuse a PATCH on a stale version with 412, and audit every change', async () => {
    const db = await ciNamed('db-orders');
    const etag = `"${db.version}"`;
    const first = await send(
      `/api/v1/cis/${db.id}`,
      'PATCH',
      { operationalStatus: 'degraded', supportGroup: 'dba', attributes: { engine: 'postgresql' } },
      { 'If-Match': etag },
    );
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get('ETag')).toBe(`"${db.version + 1}"`);
    expect(await first.json()).toMatchObject({
      operationalStatus: 'degraded',
      supportGroup: 'dba',
      attributes: { engine: 'postgresql' },
      criticality: 2,
    });

    const stale = await send(
      `/api/v1/cis/${db.id}`,
      'PATCH',
      { operationalStatus: 'down' },
      { 'If-Match': etag },
    );
    expect(stale.status).toBe(412);
    expect(stale.headers.get('Content-Type')).toBe('application/problem+json');
    expect((await ciNamed('db-orders')).operationalStatus).toBe('degraded');

    const badEnum = await send(`/api/v1/cis/${db.id}`, 'PATCH', { operationalStatus: 'on_fire' });
    expect(await badEnum.json()).toMatchObject({ status: 400, pointer: '/operationalStatus' });
    const rename = await send(`/api/v1/cis/${db.id}`, 'PATCH', { name: 'db-renamed' });
    expect(await rename.json()).toMatchObject({ status: 400, pointer: '/name' });
    expect((await send('/api/v1/cis/999999', 'PATCH', { owner: 'x' })).status).toBe(404);

    const history = await get<{ items: Record<string, unknown>[] }>(`/api/v1/cis/${db.id}/history`);
    expect(history.items[0]).toMatchObject({
      actor: 'admin',
      operation: 'insert',
      action: 'import',
      field: '*',
      new: expect.objectContaining({ name: 'db-orders', class: 'database' }) as unknown,
    });
    const changes = history.items.slice(1).map(({ actor, operation, field, old, new: value }) => ({
      actor,
      operation,
      field,
      old,
      new: value,
    }));
    expect(changes).toEqual(
      expect.arrayContaining([
        {
          actor: 'admin',
          operation: 'update',
          field: 'operationalStatus',
          old: 'operational',
          new: 'degraded',
        },
        { actor: 'admin', operation: 'update', field: 'supportGroup', old: null, new: 'dba' },
        {
          actor: 'admin',
          operation: 'update',
          field: 'attributes',
          old: {},
          new: { engine: 'postgresql' },
        },
      ]),
    );
    expect(changes).toHaveLength(3);
    expect((await tocsin.request('/api/v1/cis/999999/history')).status).toBe(404);
  });

  it('project the new fields and the class path to search', async () => {
    const hit = await eventually(async () => {
      const res = await tocsin.request('/api/v1/search?q=edge-router&type=ci');
      const page = (await res.json()) as { items: { record: Record<string, unknown> }[] };
      return page.items.find((h) => h.record.name === 'edge-router');
    });
    expect(hit.record).toMatchObject({
      class: 'router',
      classPath: ['network_device', 'router'],
      environment: 'staging',
      criticality: 3,
      lifecycleStatus: 'in_service',
    });
  });
});

describe('impact', () => {
  it('walks downstream: what a failure of the CI impacts, depth by depth', async () => {
    const two = await impact('db-orders', 'direction=downstream&depth=2');
    expect(two).toMatchObject({ direction: 'downstream', depth: 2, truncated: false });
    expect(byDepth(two)).toEqual({ 'db-orders': 0, 'checkout-api': 1, checkout: 2 });
    expect(two.nodes[0]).toMatchObject({ name: 'db-orders', class: 'database', depth: 0 });
    expect(edgeKeys(two)).toEqual([
      'checkout -depends_on-> checkout-api',
      'checkout-api -depends_on-> db-orders',
    ]);
    const one = await impact('db-orders', 'direction=downstream&depth=1');
    expect(byDepth(one)).toEqual({ 'db-orders': 0, 'checkout-api': 1 });
    // The default direction is downstream.
    expect(byDepth(await impact('db-orders', 'depth=1'))).toEqual(byDepth(one));
  });

  it('walks upstream: what the CI needs, and connected_to both ways', async () => {
    const four = await impact('checkout', 'direction=upstream&depth=4');
    expect(byDepth(four)).toEqual({
      checkout: 0,
      'checkout-api': 1,
      'vm-1': 2,
      'db-orders': 2,
      'srv-db-1': 3,
      'core-sw': 4,
    });
    expect(edgeKeys(four)).toEqual([
      'checkout -depends_on-> checkout-api',
      'checkout-api -depends_on-> db-orders',
      'checkout-api -runs_on-> vm-1',
      'db-orders -hosted_on-> srv-db-1',
      'srv-db-1 -connected_to-> core-sw',
    ]);
    // Upstream never lists what needs the CI.
    expect(byDepth(await impact('db-orders', 'direction=upstream&depth=1'))).toEqual({
      'db-orders': 0,
      'srv-db-1': 1,
    });
  });

  it('fans out through a hub, and caps the nodes nearest first', async () => {
    // The switch's failure reaches every host connected to it, then what runs on srv-db-1.
    const down = await impact('core-sw', 'direction=downstream&depth=10');
    expect(down.truncated).toBe(false);
    expect(down.nodes).toHaveLength(1 + 31 + 3);
    expect(byDepth(down)).toMatchObject({
      'core-sw': 0,
      'srv-db-1': 1,
      'rack-host-17': 1,
      'db-orders': 2,
      'checkout-api': 3,
      checkout: 4,
    });
    expect(down.nodes.map((n) => n.depth)).toEqual([...down.nodes.map((n) => n.depth)].sort());
    expect(down.edges).toHaveLength(31 + 3);

    const five = await impact('checkout', 'direction=upstream&depth=5');
    expect(five.nodes).toHaveLength(6 + 30);
    const capped = await impact('checkout', 'direction=upstream&depth=5&limit=10');
    expect(capped.truncated).toBe(true);
    expect(capped.nodes).toHaveLength(10);
    expect(capped.nodes.slice(0, 6).map((n) => n.name)).toEqual(
      five.nodes.slice(0, 6).map((n) => n.name),
    );
    expect(capped.nodes.slice(6).every((n) => n.depth === 5)).toBe(true);
    const two = await impact('checkout', 'direction=upstream&depth=10&limit=2');
    expect(two).toMatchObject({
      truncated: true,
      edges: [{ source: 'checkout', type: 'depends_on' }],
    });
    expect(two.nodes.map((n) => n.name)).toEqual(['checkout', 'checkout-api']);
  });

  it('visits each CI of a cycle once, at its shortest depth', async () => {
    const loop = await impact('loop-a', 'direction=upstream&depth=10');
    expect(byDepth(loop)).toEqual({ 'loop-a': 0, 'loop-b': 1 });
    expect(edgeKeys(loop)).toEqual(['loop-a -depends_on-> loop-b', 'loop-b -uses-> loop-a']);
  });

  it('validates its parameters', async () => {
    const db = await ciNamed('db-orders');
    for (const query of ['depth=0', 'depth=11', 'direction=sideways', 'limit=0', 'depth=two']) {
      const res = await tocsin.request(`/api/v1/cis/${db.id}/impact?${query}`);
      expect(res.status, query).toBe(400);
    }
    expect((await tocsin.request('/api/v1/cis/999999/impact')).status).toBe(404);
  });
});

describe('context', () => {
  const day = 86_400_000;
  const at = (offsetDays: number) => new Date(Date.now() + offsetDays * day).toISOString();
  const change = async (body: Record<string, unknown>) => {
    const res = await send('/api/v1/changes', 'POST', { type: 'normal', ...body });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string; title: string };
  };

  it('lists firing alerts, open incidents and changes of the last 7 days on the CI', async () => {
    // Resolved before the alert comes, so that the alert opens an incident of its own.
    const resolvedIncident = await send('/api/v1/incidents', 'POST', {
      title: 'Orders slow last week',
      cis: ['db-orders'],
    });
    const { id: resolvedId } = (await resolvedIncident.json()) as { id: string };
    const resolve = await send(`/api/v1/incidents/${resolvedId}/transitions/resolve`, 'POST', {
      resolutionCode: 'fixed',
    });
    expect(resolve.status, await resolve.clone().text()).toBe(200);

    const posted = await send('/api/v1/ingest/generic', 'POST', [
      { title: 'Replication lag above 30s', ci: 'db-orders', severity: 'major' },
      { title: 'Disk almost full', ci: 'vm-1', severity: 'minor' },
    ]);
    expect(posted.status).toBe(202);

    const recent = await change({
      title: 'Upgrade db-orders to 16.4',
      cis: ['db-orders', 'srv-db-1'],
      plannedStart: at(-3),
      plannedEnd: at(-3 + 0.1),
    });
    const unplanned = await change({ title: 'Tune db-orders autovacuum', primaryCi: 'db-orders' });
    await change({
      title: 'Old db-orders patch',
      cis: ['db-orders'],
      plannedStart: at(-10),
      plannedEnd: at(-9),
    });
    await change({
      title: 'Resize vm-1',
      cis: ['vm-1'],
      plannedStart: at(-1),
      plannedEnd: at(-0.9),
    });
    const canceled = await change({
      title: 'Move db-orders',
      cis: ['db-orders'],
      plannedStart: at(-1),
      plannedEnd: at(-0.9),
    });
    const cancel = await send(`/api/v1/changes/${canceled.id}/transitions/cancel`, 'POST', {
      reason: 'not needed',
    });
    expect(cancel.status, await cancel.clone().text()).toBe(200);

    const db = await ciNamed('db-orders');
    type Context = {
      ci: { name: string };
      changesSince: string;
      alerts: { ci: string; title: string; status: string }[];
      incidents: { id: string; cis: string[]; state: string }[];
      changes: { title: string }[];
    };
    const context = await eventually(
      async () => {
        const body = await get<Context>(`/api/v1/cis/${db.id}/context`);
        return body.alerts.length > 0 && body.incidents.length > 0 ? body : undefined;
      },
      { what: 'the alert to be correlated into an incident' },
    );
    expect(context.ci.name).toBe('db-orders');
    expect(Date.now() - Date.parse(context.changesSince)).toBeGreaterThan(7 * day - 60_000);
    expect(context.alerts).toEqual([
      expect.objectContaining({
        ci: 'db-orders',
        title: 'Replication lag above 30s',
        status: 'firing',
      }),
    ]);
    expect(context.incidents).toEqual([
      expect.objectContaining({ cis: ['db-orders'], state: 'new' }),
    ]);
    expect(context.incidents[0]!.id).not.toBe(resolvedId);
    expect(context.changes.map((c) => c.title)).toEqual([unplanned.title, recent.title]);

    const quiet = await ciNamed('edge-router');
    expect(await get(`/api/v1/cis/${quiet.id}/context`)).toMatchObject({
      alerts: [],
      incidents: [],
      changes: [],
    });
    expect((await tocsin.request('/api/v1/cis/999999/context')).status).toBe(404);
  });
});
