import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createPool, withTransaction, type Pool } from '../../services/store/db.ts';
import { CLAIM_REPEATS, claimOutbox, claimRepeats } from '../../services/store/outbox.ts';
import { insertRecord, updateRecord } from '../../services/store/records.ts';
import {
  aliasOf,
  createSearchClient,
  drainOutbox,
  ensureIndices,
  projectRecords,
  type RefusedDocument,
} from '../../services/store/search.ts';
import { importCmdb } from '../../services/store/cmdb.ts';
import { serviceStore } from '../../services/store/services.ts';
import { createTestDatabase, planNodes } from '../support/db.ts';

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
  it('leaves out a document Elasticsearch refuses for its content, and drains the rest', async () => {
    // Attributes nested deeper than the flattened field takes (the API refuses them now; a
    // store written before that, or by another writer, may hold them). The refusal failed the
    // whole batch at every try: the outbox never drained, and records behind it never reached
    // search.
    let deep: unknown = 'bottom';
    for (let i = 0; i < 30; i++) deep = { a: deep };
    await pool.query('DELETE FROM search_outbox');
    const imported = await importCmdb(
      pool,
      [
        { name: 'deep-ci', class: 'database', attributes: { x: deep } },
        { name: 'plain-ci', class: 'database', attributes: { x: 'y'.repeat(40_000) } },
      ],
      [],
    );
    expect(imported.kind).toBe('imported');
    const after = await insertRecord(pool, serviceStore, { name: 'after-ci', kind: 'business' });
    const refused: RefusedDocument[] = [];
    await drainOutbox(pool, es, prefix, 2000, (r) => refused.push(r));
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id FROM configuration_items WHERE name = 'deep-ci'",
    );
    expect(refused).toEqual([
      {
        type: 'ci',
        id: rows[0]!.id,
        reason: expect.stringContaining('exceeds the maximum depth limit') as string,
      },
    ]);
    const left = await pool.query<{ n: string }>('SELECT count(*) AS n FROM search_outbox');
    expect(Number(left.rows[0]!.n)).toBe(0);
    // The rest reached search: a value too long to index (32 kB) is kept, just not indexed.
    await es.indices.refresh({ index: `${prefix}-*` });
    const plain = await es.search({
      index: aliasOf(prefix, 'ci'),
      query: { term: { 'name.keyword': 'plain-ci' } },
    });
    expect(plain.hits.hits).toHaveLength(1);
    const service = await es.get({ index: aliasOf(prefix, 'service'), id: after.id });
    expect(service.found).toBe(true);
  });

  it('claims the repeats of claimed records by index, whatever the outbox statistics say', async () => {
    // A queue analyzed just after a drain emptied it: pages but no live row, so the planner takes
    // any backlog for one row. A join planned on that scanned the whole outbox per claimed record.
    await pool.query(
      "INSERT INTO search_outbox (record_type, record_id) SELECT 'alert', g FROM generate_series(1, 5000) g",
    );
    await pool.query('DELETE FROM search_outbox');
    await pool.query('ANALYZE search_outbox');
    // The backlog: 50 incidents twice, 20,000 alerts, then 5,000 more changes of those incidents.
    await pool.query(
      "INSERT INTO search_outbox (record_type, record_id) SELECT 'incident', g % 50 FROM generate_series(1, 100) g",
    );
    await pool.query(
      "INSERT INTO search_outbox (record_type, record_id) SELECT 'alert', g FROM generate_series(1, 20000) g",
    );
    await pool.query(
      "INSERT INTO search_outbox (record_type, record_id) SELECT 'incident', g % 50 FROM generate_series(1, 5000) g",
    );
    try {
      await withTransaction(pool, async (tx) => {
        const claimed = await claimOutbox(tx, 500);
        expect(claimed.filter((r) => r.type === 'incident')).toHaveLength(100);
        expect(await claimRepeats(tx, claimed)).toHaveLength(5000);

        const scans = (
          await planNodes(
            tx,
            CLAIM_REPEATS,
            [claimed.map((r) => r.type), claimed.map((r) => r.recordId)],
            { analyze: false },
          )
        ).filter((n) => n['Relation Name'] === 'search_outbox');
        expect(scans).toEqual([
          expect.objectContaining({
            'Node Type': 'Index Scan',
            'Index Name': 'search_outbox_record',
            'Index Cond': expect.stringContaining('record_id') as string,
          }),
        ]);
      });
    } finally {
      await pool.query('DELETE FROM search_outbox');
    }
  });
});
