import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createPool, type Pool } from '../../services/store/db.ts';
import { insertRecord, updateRecord } from '../../services/store/records.ts';
import {
  aliasOf,
  createSearchClient,
  drainOutbox,
  ensureIndices,
  projectRecords,
} from '../../services/store/search.ts';
import { serviceStore } from '../../services/store/services.ts';
import { createTestDatabase } from '../support/db.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
const es = createSearchClient(inject('elasticsearchUrl'));
const prefix = `test-outbox-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
  await ensureIndices(es, prefix);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
  const indices = await es.cat.indices({ index: `${prefix}-*`, format: 'json', h: 'index' });
  for (const { index } of indices) if (index) await es.indices.delete({ index });
  await es.close();
});

describe('search projection', () => {
  it('writes a record changed many times while waiting once, in its latest state', async () => {
    const service = await insertRecord(pool, serviceStore, { name: 'payments', kind: 'business' });
    for (let i = 1; i <= 30; i++)
      await updateRecord(pool, serviceStore, service.id, { description: `revision ${i}` });
    const others = [];
    for (let i = 0; i < 5; i++)
      others.push(
        await insertRecord(pool, serviceStore, { name: `other-${i}`, kind: 'technical' }),
      );
    const before = await pool.query<{ n: string }>('SELECT count(*) AS n FROM search_outbox');
    expect(Number(before.rows[0]!.n)).toBe(36);

    // Claims of two rows at a time: the first claim takes the service's first two changes and
    // with them its 29 later ones; the rest are the other records, two per claim.
    const claimed = await drainOutbox(pool, es, prefix, 2);
    expect(claimed).toBe(2 + 5);
    const after = await pool.query<{ n: string }>('SELECT count(*) AS n FROM search_outbox');
    expect(Number(after.rows[0]!.n)).toBe(0);

    await es.indices.refresh({ index: aliasOf(prefix, 'service') });
    const doc = await es.get<{ description: string; name: string }>({
      index: aliasOf(prefix, 'service'),
      id: service.id,
    });
    expect(doc._source).toMatchObject({ name: 'payments', description: 'revision 30' });
    expect(doc._version).toBe(31);
    const { count } = await es.count({ index: aliasOf(prefix, 'service') });
    expect(count).toBe(6);
  });

  it('keeps a newer version over a slower writer, and deletes a record gone from PostgreSQL', async () => {
    const service = await insertRecord(pool, serviceStore, { name: 'ledger', kind: 'business' });
    const index = aliasOf(prefix, 'service');
    // A faster writer already put version 100 there.
    await es.index({
      index,
      id: service.id,
      version: 100,
      version_type: 'external',
      document: { type: 'service', id: service.id, name: 'ledger (newer)' },
    });
    await expect(projectRecords(es, pool, index, 'service', [service.id])).resolves.toBe(1);
    const doc = await es.get<{ name: string }>({ index, id: service.id });
    expect(doc._version).toBe(100);
    expect(doc._source?.name).toBe('ledger (newer)');
    // Gone from PostgreSQL (never there): deleted, and a delete of nothing is no error.
    await expect(projectRecords(es, pool, index, 'service', ['987654321'])).resolves.toBe(0);
  });

  it('says which documents Elasticsearch rejected', async () => {
    const service = await insertRecord(pool, serviceStore, { name: 'billing', kind: 'business' });
    const strict = `${prefix}-strict`;
    await es.indices.create({ index: strict, mappings: { dynamic: 'strict', properties: {} } });
    await expect(projectRecords(es, pool, strict, 'service', [service.id])).rejects.toThrow(
      /Elasticsearch rejected 1 documents: .*strict_dynamic_mapping_exception/,
    );
  });
});
