/**
 * What the correlator reads to name an incident's suspects: changes implemented on its CIs shortly
 * before it opened, the published known errors, and the classes of its CIs. Each read serves a
 * whole batch of incidents in one query; the ranking and text matching are in
 * correlator/suspects.ts.
 */
import type { Queryable } from './db.ts';
import type { ChangeState } from './workflows.ts';

/** One incident's CI asking for changes: the window is [openedAt - lookback, openedAt]. */
export type ChangeProbe = { key: string; openedAt: string; ci: string };

/** A change implemented on a probed CI within its incident's window, one row per probe hit. */
export type ImplementedChange = {
  /** The probe's incident key and CI. */
  key: string;
  ci: string;
  changeId: string;
  number: string;
  title: string;
  state: 'implement' | 'review' | 'closed';
  /** When its implementation started (actual start; planned start if in progress without one). */
  startedAt: string;
  /** When it ended; null while it is still being implemented. */
  endedAt: string | null;
};

/** Change states whose change has been (or is being) carried out; canceled ones never were. */
export const implementedChangeStates = [
  'implement',
  'review',
  'closed',
] as const satisfies readonly ChangeState[];

const IMPLEMENTED_CHANGES = `
-- Changes naming a probed CI (in cis or as primary CI) whose implementation started no later
-- than the probe's incident opened and had not ended lookback before it: state implement, review
-- or closed with an actual start (implement or review without one: the planned start); one still
-- in implement runs until the opening, a review or closed one without an actual end ends at its
-- start. Params: probe keys, probe opening times, probe CIs (aligned), lookback (ms), states.
WITH probe AS (
  SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS p (key, opened_at, ci)
), implemented AS (
  SELECT c.id, c.number, c.title, c.state, c.cis, c.primary_ci, c.actual_end,
    COALESCE(c.actual_start,
      CASE WHEN c.state IN ('implement', 'review') THEN c.planned_start END) AS started_at
  FROM changes c
  WHERE c.state = ANY($5::text[])
    AND (c.cis && $3::text[] OR c.primary_ci = ANY($3::text[]))
)
SELECT p.key, p.ci, i.id AS "changeId", i.number, i.title, i.state,
  i.started_at AS "startedAt", i.actual_end AS "endedAt"
FROM probe p
JOIN implemented i ON (i.cis @> ARRAY[p.ci] OR i.primary_ci = p.ci)
WHERE i.started_at <= p.opened_at
  AND COALESCE(i.actual_end, CASE WHEN i.state = 'implement' THEN p.opened_at END, i.started_at)
    >= p.opened_at - $4::double precision * interval '1 millisecond'
ORDER BY p.key, i.started_at DESC, i.id`;

/**
 * Changes implemented on each probe's CI within `lookbackMs` before its incident opened (see the
 * query's header for what counts), for a whole batch of incidents in one query.
 */
export async function implementedChanges(
  q: Queryable,
  probes: readonly ChangeProbe[],
  lookbackMs: number,
): Promise<ImplementedChange[]> {
  if (probes.length === 0) return [];
  const { rows } = await q.query<ImplementedChange>(IMPLEMENTED_CHANGES, [
    probes.map((p) => p.key),
    probes.map((p) => p.openedAt),
    probes.map((p) => p.ci),
    lookbackMs,
    implementedChangeStates,
  ]);
  return rows;
}

/** A published known error, as the matcher caches it. */
export type PublishedKnownError = {
  id: string;
  number: string;
  title: string;
  symptom: string;
  workaround: string;
  /** The CI class it applies to (and the classes below it); null: any class. */
  ciClass: string | null;
  /** The service it applies to; null: any service. */
  service: string | null;
};

const PUBLISHED_KNOWN_ERRORS = `
-- Every published known error, oldest first. Params: none.
SELECT id, number, title, symptom, workaround, ci_class AS "ciClass", service
FROM known_errors WHERE state = 'published' ORDER BY id`;

/** Every published known error: few and rarely changed, so the matcher caches them all. */
export async function publishedKnownErrors(q: Queryable): Promise<PublishedKnownError[]> {
  const { rows } = await q.query<PublishedKnownError>(PUBLISHED_KNOWN_ERRORS);
  return rows;
}

const CI_CLASS_PATHS = `
-- Each named CI's class and the classes above it in the class tree, its own first (depth-capped
-- against a cycle written around the API). Params: CI names.
WITH RECURSIVE up AS (
  SELECT ci.name, ci.class, 1 AS depth
  FROM configuration_items ci WHERE ci.name = ANY($1::text[])
  UNION ALL
  SELECT up.name, cc.parent, up.depth + 1
  FROM up JOIN ci_classes cc ON cc.name = up.class
  WHERE cc.parent IS NOT NULL AND up.depth < 32
)
SELECT name, array_agg(class ORDER BY depth) AS classes FROM up GROUP BY name`;

/**
 * The class path of each named CI the CMDB holds (`router` → [router, network_device]); CIs it
 * does not hold are absent from the map.
 */
export async function ciClassPaths(
  q: Queryable,
  names: readonly string[],
): Promise<Map<string, string[]>> {
  if (names.length === 0) return new Map();
  const { rows } = await q.query<{ name: string; classes: string[] }>(CI_CLASS_PATHS, [
    [...new Set(names)],
  ]);
  return new Map(rows.map((r) => [r.name, r.classes]));
}
