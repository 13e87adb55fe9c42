import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { createPool, type Pool, type Queryable } from '../../services/store/db.ts';

/**
 * A name for this run's migrated template database, which every test file clones: a name of the
 * run's own, so that two test runs on one server (two checkouts, CI beside a developer) never
 * drop each other's template.
 */
export function newTemplateName(): string {
  return `tocsin_test_tpl_${randomBytes(6).toString('hex')}`;
}

const server = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

/** A URL of a database on the test server. */
export function databaseUrl(name: string): string {
  return `${server}/${name}`;
}

/** The maintenance database, for CREATE and DROP DATABASE. */
export function adminUrl(): string {
  return databaseUrl('postgres');
}

/** A fresh, migrated database of this test file's own, cloned from the template. */
export async function createTestDatabase(): Promise<{
  url: string;
  name: string;
  drop(): Promise<void>;
}> {
  const name = `tocsin_test_${randomBytes(6).toString('hex')}`;
  const admin: Pool = createPool(adminUrl(), 1);
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDb')}`);
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(name),
    name,
    async drop() {
      const pool = createPool(adminUrl(), 1);
      try {
        await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await pool.end();
      }
    },
  };
}

/**
 * A database of this test file's own and a pool on it, made before the file's tests and dropped
 * after them; `pool` is there once the tests run.
 */
export function useTestDatabase(connections = 2): { readonly pool: Pool } {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let pool: Pool | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url, connections);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });
  return {
    get pool(): Pool {
      if (pool === undefined) throw new Error('the test database is made before the tests run');
      return pool;
    },
  };
}

/** One node of a statement's plan, as `EXPLAIN (FORMAT JSON)` gives it (the counts with ANALYZE). */
export type PlanNode = {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
};

/**
 * Every node of a statement's plan, the top one first. With `analyze` the statement runs (and
 * the nodes carry their counts); on a transaction's client, its `SET LOCAL`s apply.
 */
export async function planNodes(
  q: Queryable,
  statement: string,
  params: unknown[] = [],
  { analyze = true } = {},
): Promise<PlanNode[]> {
  const { rows } = await q.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (${analyze ? 'ANALYZE, ' : ''}FORMAT JSON) ${statement}`,
    params,
  );
  const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];
  return flatten(rows[0]!['QUERY PLAN'][0].Plan);
}
