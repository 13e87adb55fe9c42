import type { Queryable } from './db.ts';
import { enqueueOutbox } from './outbox.ts';

/** Relationship types; for all but connected_to the source needs the target. */
export const relationshipTypes = [
  'depends_on',
  'runs_on',
  'hosted_on',
  'connected_to',
  'member_of',
  'contains',
  'uses',
] as const;
/** One relationship type. */
export type RelationshipType = (typeof relationshipTypes)[number];

/** A configuration item as imported. */
export type CiInput = { name: string; class: string; attributes: Record<string, unknown> };
/** A relationship as imported, by CI names. */
export type RelationshipInput = { source: string; target: string; type: RelationshipType };

/** A configuration item as stored and served. */
export type CiRecord = CiInput & { id: string; version: number; updatedAt: string };

/** What an import did, or which names it could not resolve. */
export type ImportOutcome =
  | {
      kind: 'imported';
      cis: { created: number; updated: number; unchanged: number };
      relationships: { created: number; unchanged: number };
    }
  | { kind: 'unknown-cis'; names: string[] };

const UPSERT_CIS = `
-- Upsert CIs by name; only changed rows are rewritten. Params: names, classes, attributes (jsonb[]).
INSERT INTO configuration_items AS ci (name, class, attributes)
SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
ON CONFLICT (name) DO UPDATE SET class = excluded.class, attributes = excluded.attributes,
  version = ci.version + 1, updated_at = now()
WHERE (ci.class, ci.attributes) IS DISTINCT FROM (excluded.class, excluded.attributes)
RETURNING id, (xmax = 0) AS inserted`;

const RESOLVE_NAMES = `
-- Ids of CIs by name. Params: names.
SELECT id, name FROM configuration_items WHERE name = ANY($1::text[])`;

const INSERT_RELATIONSHIPS = `
-- Add relationships that are not there yet. Params: source ids, target ids, types.
INSERT INTO ci_relationships (source_id, target_id, type)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])
ON CONFLICT (source_id, target_id, type) DO NOTHING
RETURNING id`;

/**
 * Upserts CIs and relationships in the caller's transaction; idempotent. Every relationship must
 * name a CI of this import or one already stored: otherwise nothing is written.
 */
export async function importCmdb(
  q: Queryable,
  cis: CiInput[],
  relationships: RelationshipInput[],
): Promise<ImportOutcome> {
  const imported = new Set(cis.map((c) => c.name));
  const referenced = [...new Set(relationships.flatMap((r) => [r.source, r.target]))];
  const elsewhere = referenced.filter((n) => !imported.has(n));
  const stored = await q.query<{ name: string }>(RESOLVE_NAMES, [elsewhere]);
  const known = new Set(stored.rows.map((r) => r.name));
  const unknown = elsewhere.filter((n) => !known.has(n));
  if (unknown.length > 0) return { kind: 'unknown-cis', names: unknown };

  const upserted = await q.query<{ id: string; inserted: boolean }>(UPSERT_CIS, [
    cis.map((c) => c.name),
    cis.map((c) => c.class),
    cis.map((c) => JSON.stringify(c.attributes)),
  ]);
  await enqueueOutbox(
    q,
    'ci',
    upserted.rows.map((r) => r.id),
  );
  const { rows } = await q.query<{ id: string; name: string }>(RESOLVE_NAMES, [referenced]);
  const ids = new Map(rows.map((r) => [r.name, r.id]));
  const created = await q.query(INSERT_RELATIONSHIPS, [
    relationships.map((r) => ids.get(r.source)),
    relationships.map((r) => ids.get(r.target)),
    relationships.map((r) => r.type),
  ]);
  const inserted = upserted.rows.filter((r) => r.inserted).length;
  const added = created.rowCount ?? 0;
  return {
    kind: 'imported',
    cis: {
      created: inserted,
      updated: upserted.rows.length - inserted,
      unchanged: cis.length - upserted.rows.length,
    },
    relationships: { created: added, unchanged: relationships.length - added },
  };
}

type CiRow = {
  id: string;
  name: string;
  class: string;
  attributes: Record<string, unknown>;
  version: string;
  updated_at: string;
};

/** Reads CIs by id, for the search projection. */
export async function getCis(q: Queryable, ids: string[]): Promise<CiRecord[]> {
  const { rows } = await q.query<CiRow>(
    `-- CIs by id. Params: ids.
SELECT id, name, class, attributes, version, updated_at FROM configuration_items
WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    class: r.class,
    attributes: r.attributes,
    version: Number(r.version),
    updatedAt: r.updated_at,
  }));
}
