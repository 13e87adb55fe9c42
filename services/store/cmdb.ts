import { getAlerts, type AlertRecord } from './alerts.ts';
import type { Queryable } from './db.ts';
import { field as f, listRows, selectColumns, type Field, type ListQuery } from './list.ts';
import { enqueueOutbox } from './outbox.ts';
import type { Page } from './page.ts';
import { getTickets, type Ticket } from './tickets.ts';
import { incidentWorkflow } from './workflows.ts';

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

/** Where a CI is in its life: bought or built, put in service, taken out of it. */
export const lifecycleStatuses = ['planned', 'installed', 'in_service', 'retired'] as const;
/** How a CI runs right now. */
export const operationalStatuses = ['operational', 'degraded', 'down', 'maintenance'] as const;
/** The environments a CI belongs to. */
export const environments = ['production', 'staging', 'test', 'development'] as const;

/** Every field of a CI, by its API name (the list, filter, sort and PATCH vocabulary). */
export const ciFields = {
  id: f('id', 'id', { sortable: true }),
  name: f('name', 'text', { sortable: true }),
  class: f('class', 'text', { sortable: true, writable: true }),
  description: f('description', 'text', { writable: true }),
  attributes: f('attributes', 'json', { writable: true }),
  lifecycleStatus: f('lifecycle_status', 'text', { sortable: true, writable: true }),
  operationalStatus: f('operational_status', 'text', { sortable: true, writable: true }),
  environment: f('environment', 'text', { writable: true }),
  criticality: f('criticality', 'int', { sortable: true, writable: true }),
  supportGroup: f('support_group', 'text', { writable: true }),
  owner: f('owner', 'text', { writable: true }),
  version: f('version', 'int'),
  createdAt: f('created_at', 'time', { sortable: true }),
  updatedAt: f('updated_at', 'time', { sortable: true }),
} as const satisfies Record<string, Field>;

/** The fields a CI import or PATCH may set: absent ones keep their stored value. */
export type CiValues = {
  class?: string;
  description?: string | null;
  attributes?: Record<string, unknown>;
  lifecycleStatus?: (typeof lifecycleStatuses)[number];
  operationalStatus?: (typeof operationalStatuses)[number];
  environment?: (typeof environments)[number] | null;
  criticality?: number;
  supportGroup?: string | null;
  owner?: string | null;
};

/** A configuration item as imported: its name and class, and any other field to set. */
export type CiInput = CiValues & { name: string; class: string };
/** A relationship as imported, by CI names. */
export type RelationshipInput = { source: string; target: string; type: RelationshipType };

/** A configuration item as stored and served. */
export type CiRecord = {
  id: string;
  name: string;
  class: string;
  description: string | null;
  attributes: Record<string, unknown>;
  lifecycleStatus: string;
  operationalStatus: string;
  environment: string | null;
  criticality: number;
  supportGroup: string | null;
  owner: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
};

/** A CI class and where it sits in the tree (`path`: from the root class down to this one). */
export type CiClass = { name: string; parent: string | null; description: string; path: string[] };

/** What an import did, or which names it could not resolve. */
export type ImportOutcome =
  | {
      kind: 'imported';
      cis: { created: number; updated: number; unchanged: number };
      relationships: { created: number; unchanged: number };
    }
  | { kind: 'unknown-classes'; names: string[] }
  | { kind: 'unknown-cis'; names: string[] };

const CI_COLUMNS = selectColumns(ciFields);

function toCi(row: Record<string, unknown>): CiRecord {
  return { ...row, version: Number(row.version) } as CiRecord;
}

const LIST_CLASSES = `
-- Every CI class. Params: none.
SELECT name, parent, description FROM ci_classes ORDER BY name`;

/** Every CI class with its path from the root, by name. */
export async function listCiClasses(q: Queryable): Promise<CiClass[]> {
  const { rows } = await q.query<Omit<CiClass, 'path'>>(LIST_CLASSES);
  const parents = new Map(rows.map((r) => [r.name, r.parent]));
  return rows.map((r) => {
    const path = [r.name];
    // The depth bound guards against a cycle someone wrote into the table by hand.
    for (let p = r.parent; p !== null && path.length < 64; p = parents.get(p) ?? null)
      path.unshift(p);
    return { ...r, path };
  });
}

const UNKNOWN_CLASSES = `
-- Which of these class names are not CI classes. Params: names.
SELECT DISTINCT n AS name FROM unnest($1::text[]) AS n
WHERE NOT EXISTS (SELECT 1 FROM ci_classes WHERE name = n)`;

/** The names among these that are not CI classes. */
export async function unknownClasses(q: Queryable, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await q.query<{ name: string }>(UNKNOWN_CLASSES, [[...new Set(names)]]);
  return rows.map((r) => r.name);
}

const CLASS_AND_DESCENDANTS = `
-- A class and every class below it. Params: class name.
WITH RECURSIVE tree (name) AS (
  SELECT name FROM ci_classes WHERE name = $1
  UNION
  SELECT c.name FROM ci_classes c JOIN tree ON c.parent = tree.name
)
SELECT name FROM tree`;

/** A class and its subclasses (a host: servers, VMs, containers); empty when it is unknown. */
export async function classAndDescendants(q: Queryable, name: string): Promise<string[]> {
  const { rows } = await q.query<{ name: string }>(CLASS_AND_DESCENDANTS, [name]);
  return rows.map((r) => r.name);
}

const LOCK_CIS_BY_NAME = `
-- Lock the stored CIs an import names, so that the values it keeps are the current ones.
-- Params: names.
SELECT id FROM configuration_items WHERE name = ANY($1::text[]) ORDER BY id FOR UPDATE`;

// The defaults below are the column defaults of migration 0004, for new CIs that omit a field.
const UPSERT_CIS = `
-- Upsert CIs by name, new ones in input order: a field an input omits keeps its stored value (a
-- new CI: the default); only changed rows are rewritten. Params: names, inputs (jsonb[], the fields given, by API name).
WITH input AS (
  SELECT i.name, i.v, i.ord FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS i (name, v, ord)
), merged AS (
  SELECT input.ord, input.name,
    COALESCE(input.v ->> 'class', ci.class) AS class,
    CASE WHEN input.v ? 'description' THEN input.v ->> 'description'
      ELSE ci.description END AS description,
    CASE WHEN input.v ? 'attributes' THEN input.v -> 'attributes'
      ELSE COALESCE(ci.attributes, '{}') END AS attributes,
    CASE WHEN input.v ? 'lifecycleStatus' THEN input.v ->> 'lifecycleStatus'
      ELSE COALESCE(ci.lifecycle_status, 'in_service') END AS lifecycle_status,
    CASE WHEN input.v ? 'operationalStatus' THEN input.v ->> 'operationalStatus'
      ELSE COALESCE(ci.operational_status, 'operational') END AS operational_status,
    CASE WHEN input.v ? 'environment' THEN input.v ->> 'environment'
      ELSE ci.environment END AS environment,
    CASE WHEN input.v ? 'criticality' THEN (input.v ->> 'criticality')::smallint
      ELSE COALESCE(ci.criticality, 3) END AS criticality,
    CASE WHEN input.v ? 'supportGroup' THEN input.v ->> 'supportGroup'
      ELSE ci.support_group END AS support_group,
    CASE WHEN input.v ? 'owner' THEN input.v ->> 'owner' ELSE ci.owner END AS owner
  FROM input LEFT JOIN configuration_items ci ON ci.name = input.name
)
INSERT INTO configuration_items AS ci (name, class, description, attributes, lifecycle_status,
  operational_status, environment, criticality, support_group, owner)
SELECT name, class, description, attributes, lifecycle_status, operational_status, environment,
  criticality, support_group, owner
FROM merged ORDER BY ord
ON CONFLICT (name) DO UPDATE SET class = excluded.class, description = excluded.description,
  attributes = excluded.attributes, lifecycle_status = excluded.lifecycle_status,
  operational_status = excluded.operational_status, environment = excluded.environment,
  criticality = excluded.criticality, support_group = excluded.support_group,
  owner = excluded.owner, version = ci.version + 1, updated_at = now()
WHERE (ci.class, ci.description, ci.attributes, ci.lifecycle_status, ci.operational_status,
    ci.environment, ci.criticality, ci.support_group, ci.owner)
  IS DISTINCT FROM (excluded.class, excluded.description, excluded.attributes,
    excluded.lifecycle_status, excluded.operational_status, excluded.environment,
    excluded.criticality, excluded.support_group, excluded.owner)
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
 * Upserts CIs and relationships in the caller's transaction; idempotent. A field a CI omits keeps
 * its stored value. Every class must exist and every relationship must name a CI of this import
 * or one already stored: otherwise nothing is written.
 */
export async function importCmdb(
  q: Queryable,
  cis: CiInput[],
  relationships: RelationshipInput[],
): Promise<ImportOutcome> {
  const badClasses = await unknownClasses(
    q,
    cis.map((c) => c.class),
  );
  if (badClasses.length > 0) return { kind: 'unknown-classes', names: badClasses };
  const imported = new Set(cis.map((c) => c.name));
  const referenced = [...new Set(relationships.flatMap((r) => [r.source, r.target]))];
  const elsewhere = referenced.filter((n) => !imported.has(n));
  const stored = await q.query<{ name: string }>(RESOLVE_NAMES, [elsewhere]);
  const known = new Set(stored.rows.map((r) => r.name));
  const unknown = elsewhere.filter((n) => !known.has(n));
  if (unknown.length > 0) return { kind: 'unknown-cis', names: unknown };

  const names = cis.map((c) => c.name);
  await q.query(LOCK_CIS_BY_NAME, [names]);
  const upserted = await q.query<{ id: string; inserted: boolean }>(UPSERT_CIS, [
    names,
    cis.map(({ name: _, ...values }) => JSON.stringify(values)),
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

/** Reads one CI; `lock` holds it for the caller's transaction. */
export async function getCi(q: Queryable, id: string, lock = false): Promise<CiRecord | null> {
  const { rows } = await q.query<Record<string, unknown>>(
    `-- One CI. Params: id.
SELECT ${CI_COLUMNS} FROM configuration_items WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toCi(rows[0]) : null;
}

/** Writes API-named values to a locked CI and bumps its version; the caller validated them. */
export async function updateCi(q: Queryable, id: string, values: CiValues): Promise<CiRecord> {
  const fields: Record<string, Field> = ciFields;
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  const set = entries.map(([name], i) => `${fields[name]!.column} = $${i + 2}`);
  const { rows } = await q.query<Record<string, unknown>>(
    `-- Update a CI. Params: id, then its changed columns' values, in order.
UPDATE configuration_items SET ${[...set, 'version = version + 1', 'updated_at = now()'].join(', ')}
WHERE id = $1
RETURNING ${CI_COLUMNS}`,
    [id, ...entries.map(([name, v]) => (fields[name]!.type === 'json' ? JSON.stringify(v) : v))],
  );
  return toCi(rows[0]!);
}

/** Lists CIs by predicates and free text (name, description), sorted and keyset-paged. */
export async function listCis(q: Queryable, query: ListQuery): Promise<Page<CiRecord>> {
  const source = {
    table: 'configuration_items',
    fields: ciFields,
    searchColumns: ['name', 'description'],
  };
  const page = await listRows(q, source, query);
  return { items: page.items.map(toCi), nextCursor: page.nextCursor };
}

/** Reads CIs by id with their class path (for facets by any level), for the search projection. */
export async function getCis(
  q: Queryable,
  ids: string[],
): Promise<(CiRecord & { classPath: string[] })[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `-- CIs by id. Params: ids.
SELECT ${CI_COLUMNS} FROM configuration_items WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  if (rows.length === 0) return [];
  const paths = new Map((await listCiClasses(q)).map((c) => [c.name, c.path]));
  return rows.map(toCi).map((ci) => ({ ...ci, classPath: paths.get(ci.class) ?? [ci.class] }));
}

/**
 * Which way an impact walk goes. `downstream`: what a failure of the CI impacts (the CIs that
 * need it); `upstream`: what the CI needs (whose failure impacts it).
 */
export type ImpactDirection = 'upstream' | 'downstream';

/** A CI reached by an impact walk, at its shortest distance from the start. */
export type ImpactNode = Pick<
  CiRecord,
  'id' | 'name' | 'class' | 'operationalStatus' | 'lifecycleStatus' | 'criticality' | 'environment'
> & { depth: number };
/** A relationship between two CIs of an impact walk, by CI name. */
export type ImpactEdge = { id: string; source: string; target: string; type: RelationshipType };
/** An impact walk: its nodes (nearest first), the relationships between them, and whether the cap cut it. */
export type Impact = { nodes: ImpactNode[]; edges: ImpactEdge[]; truncated: boolean };

// For every type but connected_to, the source needs the target: a failure walks from a target to
// its sources (downstream) and a need from a source to its targets (upstream). connected_to is
// walked both ways in both directions. UNION keeps one row per (CI, depth), so a hub reached by
// many paths is expanded once per level; the walk is breadth first and read lazily, so the row
// cap stops it early.
const IMPACT_WALK = `
-- The CIs an impact walk reaches from a CI, each at its shortest depth, nearest first.
-- Params: CI id, direction ('upstream' | 'downstream'), max depth, row cap of the walk, max nodes.
WITH RECURSIVE walk (id, depth) AS (
  SELECT $1::bigint, 0
  UNION
  SELECT step.next, walk.depth + 1
  FROM walk CROSS JOIN LATERAL (
    SELECT r.source_id AS next FROM ci_relationships r
    WHERE r.target_id = walk.id AND ($2::text = 'downstream' OR r.type = 'connected_to')
    UNION ALL
    SELECT r.target_id FROM ci_relationships r
    WHERE r.source_id = walk.id AND ($2::text = 'upstream' OR r.type = 'connected_to')
  ) AS step
  WHERE walk.depth < $3::int
), reached AS (
  SELECT id, depth FROM walk LIMIT $4::int
), nearest AS (
  SELECT id, min(depth) AS depth, count(*) OVER () AS total,
    (SELECT count(*) FROM reached) AS walked
  FROM reached GROUP BY id
)
SELECT ci.id, ci.name, ci.class, ci.operational_status AS "operationalStatus",
  ci.lifecycle_status AS "lifecycleStatus", ci.criticality, ci.environment,
  nearest.depth, nearest.total::int AS total, nearest.walked::int AS walked
FROM nearest JOIN configuration_items ci ON ci.id = nearest.id
ORDER BY nearest.depth, ci.id
LIMIT $5::int`;

const IMPACT_EDGES = `
-- The relationships between CIs of a set, by name. Params: CI ids.
SELECT r.id, s.name AS source, t.name AS target, r.type
FROM ci_relationships r
JOIN configuration_items s ON s.id = r.source_id
JOIN configuration_items t ON t.id = r.target_id
WHERE r.source_id = ANY($1::bigint[]) AND r.target_id = ANY($1::bigint[])
ORDER BY r.id`;

/**
 * Walks the impact graph from a CI up to `depth` relationships away and at most `maxNodes` CIs
 * (nearest first; `truncated` says the cap cut the walk). Null when the CI does not exist.
 */
export async function ciImpact(
  q: Queryable,
  id: string,
  direction: ImpactDirection,
  depth: number,
  maxNodes: number,
): Promise<Impact | null> {
  // Rows of the walk are (CI, depth) pairs: a CI may come back at each depth through a cycle.
  const rowCap = maxNodes * (depth + 1) + 1;
  const { rows } = await q.query<ImpactNode & { total: number; walked: number }>(IMPACT_WALK, [
    id,
    direction,
    depth,
    rowCap,
    maxNodes,
  ]);
  const first = rows[0];
  if (!first || first.id !== id) return null;
  const nodes = rows.map(({ total: _, walked: __, ...node }) => node);
  const edges = await q.query<ImpactEdge>(IMPACT_EDGES, [nodes.map((n) => n.id)]);
  return {
    nodes,
    edges: edges.rows,
    truncated: first.total > maxNodes || first.walked >= rowCap,
  };
}

/** What is going on around a CI: its firing alerts, open incidents and recent changes. */
export type CiContext = { alerts: AlertRecord[]; incidents: Ticket[]; changes: Ticket[] };

const openIncidentStates = incidentWorkflow.states.filter(
  (s) => incidentWorkflow.category[s] === 'open',
);

const CONTEXT_IDS = `
-- Ids of a CI's firing alerts, open incidents, and changes active in a window (planned or
-- actual, not canceled), newest first, at most 100 each. Params: CI name, open incident states,
-- window start, window end.
SELECT 'alert' AS kind, id FROM (
  SELECT id FROM alerts WHERE ci = $1 AND status = 'firing' ORDER BY last_received_at DESC, id DESC
  LIMIT 100) AS a
UNION ALL
SELECT 'incident', id FROM (
  SELECT id FROM incidents WHERE (cis @> ARRAY[$1::text] OR primary_ci = $1)
    AND state = ANY($2::text[])
  ORDER BY opened_at DESC, id DESC LIMIT 100) AS i
UNION ALL
SELECT 'change', id FROM (
  SELECT id FROM changes WHERE (cis @> ARRAY[$1::text] OR primary_ci = $1) AND state <> 'canceled'
    AND COALESCE(actual_start, planned_start, opened_at) <= $4::timestamptz
    AND COALESCE(actual_end, planned_end, actual_start, planned_start, opened_at)
      >= $3::timestamptz
  ORDER BY COALESCE(actual_start, planned_start, opened_at) DESC, id DESC LIMIT 100) AS c`;

/**
 * A CI's context: firing alerts on it, open incidents naming it, and changes naming it whose
 * planned or actual window meets [since, until] (under way counts), newest first.
 */
export async function ciContext(
  q: Queryable,
  name: string,
  since: Date,
  until: Date,
): Promise<CiContext> {
  const { rows } = await q.query<{ kind: 'alert' | 'incident' | 'change'; id: string }>(
    CONTEXT_IDS,
    [name, openIncidentStates, since.toISOString(), until.toISOString()],
  );
  const idsOf = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.id);
  // One after the other: q may be a transaction's single client.
  const alerts = await getAlerts(q, idsOf('alert'));
  const incidents = await getTickets(q, 'incident', idsOf('incident'));
  const changes = await getTickets(q, 'change', idsOf('change'));
  const inOrder = <T extends { id: string }>(kind: string, records: T[]) => {
    const byId = new Map(records.map((r) => [r.id, r]));
    return idsOf(kind).flatMap((id) => byId.get(id) ?? []);
  };
  return {
    alerts: inOrder('alert', alerts),
    incidents: inOrder('incident', incidents),
    changes: inOrder('change', changes),
  };
}
