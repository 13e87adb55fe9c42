/**
 * What the API's fuzz test (api-fuzz.test.ts) found, each held on its own: timestamps that RFC 3339
 * allows and the stores refuse, a year PostgreSQL writes and Date could not read, and two requests
 * deadlocking on the same rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, withTransaction, type Pool } from '../../services/store/db.ts';
import { createTestDatabase } from '../support/db.ts';
import { eventually, jsonRequest, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

describe('timestamps RFC 3339 allows and the stores do not', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await startTestTocsin({ roles: ['services'] });
    // Its search indices are made as it starts, without holding the start up.
    await eventually(
      async () => ((await tocsin.request('/api/v1/problems/patterns')).ok ? true : undefined),
      { what: 'the search indices' },
    );
  });
  afterAll(() => tocsin?.destroy());

  it('are taken as the instant they name: an offset beyond ±15:59, digits beyond nine', async () => {
    // Elasticsearch refused these as given, and the search answered 503.
    const res = await tocsin.request(
      `/api/v1/problems/patterns?to=${encodeURIComponent('2026-12-16T23:16:04.123456789012+22:19')}`,
    );
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { to: string }).to).toBe('2026-12-16T00:57:04.123Z');
    // PostgreSQL refused the offset ("time zone displacement out of range").
    const change = await tocsin.request(
      '/api/v1/changes',
      jsonRequest({
        title: 'Grow disks',
        type: 'normal',
        plannedStart: '2027-01-10T09:00:00+20:00',
      }),
    );
    expect(change.status, await change.clone().text()).toBe(201);
    expect(((await change.json()) as { plannedStart: string }).plannedStart).toBe(
      '2027-01-09T13:00:00.000Z',
    );
  });

  it('read back in any year from 0001: PostgreSQL writes "0015-…", which Date cannot read', async () => {
    const change = await tocsin.request(
      '/api/v1/changes',
      jsonRequest({
        title: 'Old plan',
        type: 'normal',
        plannedStart: '0015-02-18T02:48:53.496-07:37',
      }),
    );
    expect(change.status, await change.clone().text()).toBe(201);
    const { id, plannedStart } = (await change.json()) as { id: string; plannedStart: string };
    expect(plannedStart).toBe('0015-02-18T10:25:53.496Z');
    const read = await tocsin.request(`/api/v1/changes/${id}`);
    expect(((await read.json()) as { plannedStart: string }).plannedStart).toBe(plannedStart);
  });

  it('outside the years 0001-9999 in UTC are refused by name', async () => {
    const res = await tocsin.request(
      '/api/v1/changes',
      jsonRequest({ title: 'Late', type: 'normal', plannedStart: '9999-12-31T23:00:00-02:00' }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('Content-Type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({
      errors: [
        { pointer: '/plannedStart', detail: 'must be within the years 0001 to 9999 in UTC' },
      ],
    });
  });
});

describe('text PostgreSQL cannot store', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await startTestTocsin({ roles: ['services'] });
  });
  afterAll(() => tocsin?.destroy());

  const refusedAt = async (res: Response, at: string, detail: RegExp) => {
    expect(res.status, await res.clone().text()).toBe(400);
    expect(res.headers.get('Content-Type')).toContain('application/problem+json');
    const problem = (await res.json()) as { errors: { pointer: string; detail: string }[] };
    expect(problem.errors).toEqual([
      { pointer: at, detail: expect.stringMatching(detail) as string },
    ]);
  };

  it('is refused where it stands: U+0000 and lone surrogates in bodies, queries and CSV cells', async () => {
    // U+0000 reached PostgreSQL, whose 400 ("invalid byte sequence for encoding UTF8: 0x00")
    // named no field; a lone surrogate in a text column was stored as U+FFFD, silently.
    await refusedAt(
      await tocsin.request('/api/v1/incidents', jsonRequest({ title: 'Disk\u0000full' })),
      '/title',
      /U\+0000/,
    );
    await refusedAt(
      await tocsin.request(
        '/api/v1/incidents',
        jsonRequest({ title: 'Disk full', cis: ['db-1', 'db\ud800'] }),
      ),
      '/cis/1',
      /lone UTF-16 surrogate/,
    );
    await refusedAt(
      await tocsin.request(
        '/api/v1/cmdb/import',
        jsonRequest({ cis: [{ name: 'db-1', class: 'database', attributes: { 'k\u0000': 1 } }] }),
      ),
      '/cis/0/attributes/k\u0000',
      /^a key must not contain U\+0000/,
    );
    await refusedAt(await tocsin.request('/api/v1/incidents?q=a%00'), '/query/q', /U\+0000/);
    await refusedAt(
      await tocsin.request('/api/v1/cmdb/import', {
        method: 'POST',
        headers: { 'Content-Type': 'text/csv' },
        body: 'name,class\ndb-1,database\ndb\u00002,database\n',
      }),
      '/rows/3/name',
      /^row 3, column name: must not contain U\+0000/,
    );
    // Nothing was written; well-formed text beyond the Basic Multilingual Plane is taken.
    const incidents = await tocsin.request('/api/v1/incidents');
    expect(((await incidents.json()) as { items: unknown[] }).items).toEqual([]);
    const cis = await tocsin.request('/api/v1/cis');
    expect(((await cis.json()) as { items: unknown[] }).items).toEqual([]);
    const fine = await tocsin.request('/api/v1/incidents', jsonRequest({ title: 'Disk 𝔘 full' }));
    expect(fine.status).toBe(201);
    expect(((await fine.json()) as { title: string }).title).toBe('Disk 𝔘 full');
  });
});

describe('a transaction PostgreSQL undoes for a deadlock', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url, 4);
    await pool.query('CREATE TABLE pair (id int PRIMARY KEY, n int NOT NULL)');
    await pool.query('INSERT INTO pair VALUES (1, 0), (2, 0)');
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('is run again, and both writers get through', async () => {
    // Each locks one row, waits until the other has its own, then asks for the other's: a
    // deadlock PostgreSQL breaks by undoing one of them, which withTransaction runs again.
    let locked = 0;
    const bothLocked = async () => {
      while (locked < 2) await new Promise((r) => setTimeout(r, 5));
    };
    const runs = { 1: 0, 2: 0 };
    const writer = (first: 1 | 2, second: 1 | 2) =>
      withTransaction(pool, async (tx) => {
        runs[first]++;
        await tx.query('UPDATE pair SET n = n + 1 WHERE id = $1', [first]);
        if (runs[first] === 1) {
          locked++;
          await bothLocked();
        }
        await tx.query('UPDATE pair SET n = n + 1 WHERE id = $1', [second]);
      });
    await Promise.all([writer(1, 2), writer(2, 1)]);
    // At least one of them ran again (a busy machine can make the retry meet the other writer
    // again); each committed once: every row counted two writes.
    expect(runs[1] + runs[2]).toBeGreaterThanOrEqual(3);
    expect(Math.max(runs[1], runs[2])).toBeLessThanOrEqual(4);
    const { rows } = await pool.query<{ n: number }>('SELECT n FROM pair ORDER BY id');
    expect(rows.map((r) => r.n)).toEqual([2, 2]);
  });
});
