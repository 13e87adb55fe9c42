import type { Queryable } from './db.ts';
import { enqueueOutbox } from './outbox.ts';

/**
 * The store side of candidate problems: the incidents the problem miner reads, the problems a
 * mined pattern may already be, and the writes that propose a candidate, refresh its evidence and,
 * when a person accepts it, link its incidents.
 */

/** An incident as the problem miner sees it: when, on which root-cause CI (and class), saying what. */
export type RecurrenceIncident = {
  id: string;
  number: string;
  openedAt: string;
  /** Its latest alert: with openedAt, the span a re-fire of the same failure must leave. */
  lastAlertAt: string;
  rootCauseCi: string;
  /** The CI's class in the CMDB; null when the CI is not in it. */
  ciClass: string | null;
  template: string;
  /** Every template its root-cause CI's alerts have (the dominant one among them). */
  templates: string[];
  /** Alerts in it: more than one is a failure corroborated (a second monitor, symptom or CI). */
  alertCount: number;
};

type RecurrenceRow = {
  id: string;
  number: string;
  opened_at: string;
  last_alert_at: string;
  root_cause_ci: string;
  ci_class: string | null;
  template: string;
  templates: string[];
  alert_count: number;
};

const toRecurrence = (r: RecurrenceRow): RecurrenceIncident => ({
  id: r.id,
  number: r.number,
  openedAt: r.opened_at,
  lastAlertAt: r.last_alert_at,
  rootCauseCi: r.root_cause_ci,
  ciClass: r.ci_class,
  template: r.template,
  templates: r.templates.includes(r.template) ? r.templates : [r.template, ...r.templates],
  alertCount: r.alert_count,
});

const RECURRENCE_COLUMNS = `i.id, i.number, i.opened_at, i.last_alert_at, i.root_cause_ci,
  ci.class AS ci_class, i.template, i.alert_count,
  ARRAY(SELECT DISTINCT a.template FROM alerts a WHERE a.incident_id = i.id
    AND a.ci = i.root_cause_ci AND a.template IS NOT NULL AND a.template <> '' ORDER BY a.template) AS templates`;

// Merged incidents are canceled and counted in the incident they went into; canceled ones were
// raised in error; linked ones already belong to a problem. The root-cause CI must have alerted
// itself (be among the incident's alerting CIs): otherwise the dominant template is another CI's
// symptom, and "this CI failing this way" is not what the incident says.
const MINEABLE = `i.problem_id IS NULL AND i.merged_into IS NULL AND i.state <> 'canceled'
  AND i.root_cause_ci IS NOT NULL AND i.template IS NOT NULL AND i.template <> ''
  AND i.root_cause_ci = ANY (i.cis)`;

const RECURRENCE_SINCE = `
-- Incidents the problem miner may group: opened in the look-back, not linked to a problem, not
-- merged or canceled, with a root-cause CI that alerted and a dominant template. Params: since,
-- until.
SELECT ${RECURRENCE_COLUMNS}
FROM incidents i LEFT JOIN configuration_items ci ON ci.name = i.root_cause_ci
WHERE i.opened_at >= $1 AND i.opened_at <= $2 AND ${MINEABLE}
ORDER BY i.opened_at, i.id`;

/** Incidents opened in [since, until] that the problem miner may group, oldest first. */
export async function recurrenceIncidents(
  q: Queryable,
  since: Date,
  until: Date,
): Promise<RecurrenceIncident[]> {
  const { rows } = await q.query<RecurrenceRow>(RECURRENCE_SINCE, [
    since.toISOString(),
    until.toISOString(),
  ]);
  return rows.map(toRecurrence);
}

const RECURRENCE_BY_ID = `
-- Those of the given incidents the problem miner may still group (an earlier candidate's evidence,
-- say), whatever their age. Params: ids.
SELECT ${RECURRENCE_COLUMNS}
FROM incidents i LEFT JOIN configuration_items ci ON ci.name = i.root_cause_ci
WHERE i.id = ANY($1::bigint[]) AND ${MINEABLE}
ORDER BY i.opened_at, i.id`;

/** The given incidents that may still be grouped (not linked, merged or canceled since). */
export async function recurrenceIncidentsById(
  q: Queryable,
  ids: string[],
): Promise<RecurrenceIncident[]> {
  if (ids.length === 0) return [];
  const { rows } = await q.query<RecurrenceRow>(RECURRENCE_BY_ID, [ids]);
  return rows.map(toRecurrence);
}

const CLASS_SIZES = `
-- How many CIs of each class could have failed (all but the retired), the peers a CI's recurrence
-- is weighed against. Params: none.
SELECT class, count(*)::int AS cis FROM configuration_items
WHERE lifecycle_status <> 'retired'
GROUP BY class`;

/** CIs per CMDB class, retired ones left out. */
export async function classSizes(q: Queryable): Promise<Map<string, number>> {
  const { rows } = await q.query<{ class: string; cis: number }>(CLASS_SIZES);
  return new Map(rows.map((r) => [r.class, r.cis]));
}

/** A CI next to a CI in the CMDB, and how many CIs of that CI's class (not retired) are next to it. */
export type CiAnchor = { anchor: string; peers: number };

const CI_ANCHORS = `
-- For each given CI, the CIs next to it in the CMDB (a relationship either way: the application
-- it is an instance of, the host or cluster it runs on, the store it uses) and how many CIs of its
-- class, retired ones left out, are next to each: the peers it shares that CI with. Every step is
-- an index look-up of the relationships of one CI (a CTE of all relationships both ways, scanned
-- for each pair, took 13 s of a core for one run of the miner on bench:pipeline's 10,000 CIs).
-- Params: names.
WITH given AS (SELECT id, name, class FROM configuration_items WHERE name = ANY($1::text[])),
next AS (
  SELECT g.name, g.class, r.target_id AS anchor_id
  FROM given g JOIN ci_relationships r ON r.source_id = g.id
  UNION
  SELECT g.name, g.class, r.source_id FROM given g JOIN ci_relationships r ON r.target_id = g.id)
SELECT n.name AS ci, t.name AS anchor,
  (SELECT count(DISTINCT p.id)::int
   FROM (SELECT r.target_id AS id FROM ci_relationships r WHERE r.source_id = t.id
     UNION ALL SELECT r.source_id FROM ci_relationships r WHERE r.target_id = t.id) e
   JOIN configuration_items p ON p.id = e.id
   WHERE p.class = n.class AND p.lifecycle_status <> 'retired') AS peers
FROM next n JOIN configuration_items t ON t.id = n.anchor_id
ORDER BY n.name, t.name`;

/** The CIs each given CI shares with others of its class in the CMDB (see CI_ANCHORS). */
export async function ciAnchors(q: Queryable, names: string[]): Promise<Map<string, CiAnchor[]>> {
  const anchors = new Map<string, CiAnchor[]>();
  if (names.length === 0) return anchors;
  const { rows } = await q.query<{ ci: string; anchor: string; peers: number }>(CI_ANCHORS, [
    names,
  ]);
  for (const r of rows) {
    const of = anchors.get(r.ci);
    if (of) of.push({ anchor: r.anchor, peers: r.peers });
    else anchors.set(r.ci, [{ anchor: r.anchor, peers: r.peers }]);
  }
  return anchors;
}

/** A problem that a mined pattern already is: its state decides what the miner may do. */
export type PatternProblem = {
  id: string;
  number: string;
  state: string;
  signature: string | null;
  evidence: Record<string, unknown> | null;
};

const PROBLEMS_OF_PATTERN = `
-- Problems, in any state, that a pattern may already be: one of its possible signatures, or the
-- same scope (the miner compares their templates under today's template rules). Params:
-- signatures, scope.
SELECT id, number, state, signature, evidence FROM problems
WHERE signature = ANY($1::text[]) OR evidence ->> 'scope' = $2
ORDER BY id`;

/**
 * The problems (any state, oldest first) with one of these signatures or of this scope: those a
 * pattern may already be (correlator/problems.ts decides which it is).
 */
export async function problemsOfPattern(
  q: Queryable,
  pattern: { signatures: string[]; scope: string },
): Promise<PatternProblem[]> {
  const { rows } = await q.query<PatternProblem>(PROBLEMS_OF_PATTERN, [
    pattern.signatures,
    pattern.scope,
  ]);
  return rows;
}

/** What a proposed candidate problem is made of. */
export type CandidateProblem = {
  title: string;
  description: string;
  signature: string;
  evidence: Record<string, unknown>;
  impact: number;
  urgency: number;
  priority: number;
  primaryCi: string | null;
  cis: string[];
  createdBy: string;
};

const INSERT_CANDIDATE = `
-- Propose a candidate problem; nothing when its signature exists (in any state). Params: title,
-- description, signature, evidence, impact, urgency, priority, primary CI, CIs, created by.
INSERT INTO problems (title, description, state, signature, evidence, impact, urgency, priority,
  primary_ci, cis, created_by)
VALUES ($1, $2, 'candidate', $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (signature) DO NOTHING
RETURNING id, number`;

/** Inserts a candidate problem and notes it for search; null when its signature already exists. */
export async function insertCandidateProblem(
  q: Queryable,
  c: CandidateProblem,
): Promise<{ id: string; number: string } | null> {
  const { rows } = await q.query<{ id: string; number: string }>(INSERT_CANDIDATE, [
    c.title,
    c.description,
    c.signature,
    JSON.stringify(c.evidence),
    c.impact,
    c.urgency,
    c.priority,
    c.primaryCi,
    c.cis,
    c.createdBy,
  ]);
  const row = rows[0];
  if (row) await enqueueOutbox(q, 'problem', [row.id]);
  return row ?? null;
}

const UPDATE_CANDIDATE = `
-- Refresh a candidate's evidence, title, description and CIs; only while it is still a candidate,
-- so a problem a person accepted or rejected meanwhile is left alone. Params: id, title,
-- description, evidence, CIs.
UPDATE problems SET title = $2, description = $3, evidence = $4, cis = $5,
  version = version + 1, updated_at = now()
WHERE id = $1 AND state = 'candidate'
RETURNING id`;

/** Rewrites a candidate's evidence (and the title that counts it); false if no longer a candidate. */
export async function updateCandidateEvidence(
  q: Queryable,
  id: string,
  c: Pick<CandidateProblem, 'title' | 'description' | 'evidence' | 'cis'>,
): Promise<boolean> {
  const { rows } = await q.query(UPDATE_CANDIDATE, [
    id,
    c.title,
    c.description,
    JSON.stringify(c.evidence),
    c.cis,
  ]);
  if (rows.length > 0) await enqueueOutbox(q, 'problem', [id]);
  return rows.length > 0;
}

const LINK_EVIDENCE = `
-- Link a problem's evidence incidents to it: those not linked to another problem, merged or
-- canceled since they were mined. Params: problem id.
UPDATE incidents i SET problem_id = p.id, version = i.version + 1, updated_at = now()
FROM problems p
WHERE p.id = $1
  AND i.id IN (
    SELECT (e ->> 'id')::bigint FROM jsonb_array_elements(
      CASE jsonb_typeof(p.evidence -> 'incidents') WHEN 'array' THEN p.evidence -> 'incidents'
        ELSE '[]'::jsonb END) AS e)
  AND i.problem_id IS NULL AND i.merged_into IS NULL AND i.state <> 'canceled'
RETURNING i.id`;

/**
 * Links the incidents of a problem's evidence to it (incidents.problem_id) and notes them for
 * search, in the caller's transaction: what accepting a candidate does. Returns their ids.
 */
export async function linkEvidenceIncidents(q: Queryable, problemId: string): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(LINK_EVIDENCE, [problemId]);
  const ids = rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
  await enqueueOutbox(q, 'incident', ids);
  return ids;
}
