import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
beforeAll(async () => {
  tocsin = await startTestTocsin();
});
afterAll(() => tocsin.destroy());

const importCmdb = (body: unknown) =>
  tocsin.request('/api/v1/cmdb/import', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });

const estate = {
  cis: [
    { name: 'billing', class: 'service', attributes: { owner: 'payments' } },
    { name: 'billing-api', class: 'application' },
    { name: 'db-ledger', class: 'database', attributes: { engine: 'postgresql' } },
    { name: 'core-sw-1', class: 'network_device' },
  ],
  relationships: [
    { source: 'billing', target: 'billing-api', type: 'depends_on' },
    { source: 'billing-api', target: 'db-ledger', type: 'depends_on' },
    { source: 'db-ledger', target: 'core-sw-1', type: 'connected_to' },
  ],
};

describe('POST /api/v1/cmdb/import', () => {
  it('creates CIs and relationships, and is idempotent', async () => {
    const first = await importCmdb(estate);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      cis: { created: 4, updated: 0, unchanged: 0 },
      relationships: { created: 3, unchanged: 0 },
    });
    const again = await importCmdb(estate);
    expect(await again.json()).toEqual({
      cis: { created: 0, updated: 0, unchanged: 4 },
      relationships: { created: 0, unchanged: 3 },
    });
    const changed = await importCmdb({
      cis: [
        {
          name: 'db-ledger',
          class: 'database',
          attributes: { engine: 'postgresql', version: '16' },
        },
      ],
    });
    expect(await changed.json()).toMatchObject({ cis: { created: 0, updated: 1, unchanged: 0 } });
  });

  it('links to CIs stored by an earlier import', async () => {
    const res = await importCmdb({
      cis: [{ name: 'billing-api-2', class: 'app_instance' }],
      relationships: [{ source: 'billing-api-2', target: 'db-ledger', type: 'uses' }],
    });
    expect(await res.json()).toMatchObject({ relationships: { created: 1 } });
  });

  it('rejects relationships naming unknown CIs with a 400 naming them, and keeps nothing', async () => {
    const res = await importCmdb({
      cis: [{ name: 'new-cache', class: 'cache' }],
      relationships: [
        { source: 'new-cache', target: 'ghost-host', type: 'runs_on' },
        { source: 'phantom-app', target: 'db-ledger', type: 'depends_on' },
      ],
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      detail: string;
      errors: { pointer: string; detail: string }[];
    };
    expect(body.errors).toEqual([
      { pointer: '/relationships/0/target', detail: 'unknown CI "ghost-host"' },
      { pointer: '/relationships/1/source', detail: 'unknown CI "phantom-app"' },
    ]);
    const retry = await importCmdb({ cis: [{ name: 'new-cache', class: 'cache' }] });
    expect(await retry.json(), 'new-cache was not kept by the rejected import').toMatchObject({
      cis: { created: 1 },
    });
  });

  it('validates the body', async () => {
    const badType = await importCmdb({
      relationships: [{ source: 'billing', target: 'db-ledger', type: 'loves' }],
    });
    expect(badType.status).toBe(400);
    expect(((await badType.json()) as { pointer: string }).pointer).toBe('/relationships/0/type');
    const dup = await importCmdb({
      cis: [
        { name: 'a', class: 'host' },
        { name: 'a', class: 'host' },
      ],
    });
    expect(((await dup.json()) as { pointer: string }).pointer).toBe('/cis/1/name');
    const noClass = await importCmdb({ cis: [{ name: 'b' }] });
    expect(((await noClass.json()) as { pointer: string }).pointer).toBe('/cis/0/class');
  });

  it('makes CIs searchable', async () => {
    const hit = await eventually(async () => {
      const res = await tocsin.request('/api/v1/search?q=ledger&type=ci');
      const page = (await res.json()) as {
        items: { type: string; record: { name: string; class: string } }[];
      };
      return page.items.find((h) => h.record.name === 'db-ledger');
    });
    expect(hit.record.class).toBe('database');
  });
});
