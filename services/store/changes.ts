import type { Queryable } from './db.ts';

/** One change manager's decision on a change. */
export type Approval = {
  approver: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
  decidedAt: string;
};

/** Records (or replaces) an approver's decision; returns how many approvals the change now has. */
export async function recordApproval(
  q: Queryable,
  changeId: string,
  approval: Pick<Approval, 'approver' | 'decision' | 'comment'>,
): Promise<number> {
  const { rows } = await q.query<{ approved: number }>(
    `-- Record a decision and count the approvals. Params: change id, approver, decision, comment.
WITH decided AS (
  INSERT INTO change_approvals (change_id, approver, decision, comment)
  VALUES ($1, $2, $3, $4)
  ON CONFLICT (change_id, approver)
    DO UPDATE SET decision = EXCLUDED.decision, comment = EXCLUDED.comment, decided_at = now()
  RETURNING approver, decision
)
SELECT (SELECT count(*)::int FROM change_approvals
        WHERE change_id = $1 AND decision = 'approved' AND approver <> $2)
     + (SELECT count(*)::int FROM decided WHERE decision = 'approved') AS approved`,
    [changeId, approval.approver, approval.decision, approval.comment],
  );
  return rows[0]!.approved;
}

/** A change's approvals, oldest first. */
export async function listApprovals(q: Queryable, changeId: string): Promise<Approval[]> {
  const { rows } = await q.query<Approval>(
    `-- A change's approvals. Params: change id.
SELECT approver, decision, comment, decided_at AS "decidedAt" FROM change_approvals
WHERE change_id = $1 ORDER BY decided_at, approver`,
    [changeId],
  );
  return rows;
}

/** Another change on a shared CI whose window overlaps this one's. */
export type ChangeConflict = {
  id: string;
  number: string;
  title: string;
  state: string;
  cis: string[];
  start: string;
  end: string;
};

/** The times that make a change's window. */
export type ChangeTimes = {
  plannedStart: string | null;
  plannedEnd: string | null;
  actualStart: string | null;
  actualEnd: string | null;
};

/**
 * A change's window: actual where it started, else planned. One under way (started, not ended)
 * runs at least until `now`, however early its planned end: a change implemented after its
 * planned end is still going on. The end is never before the start. Null: no window yet.
 */
export function changeWindow(
  change: ChangeTimes,
  now: Date,
): { start: string; end: string } | null {
  const start = change.actualStart ?? change.plannedStart;
  const end =
    change.actualEnd ??
    (change.actualStart === null
      ? change.plannedEnd
      : latest(change.plannedEnd ?? now.toISOString(), now.toISOString()));
  if (start === null || end === null) return null;
  return { start, end: latest(start, end) };
}

const latest = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * Live changes (not closed or canceled) other than `id` that share a CI with `cis` and whose
 * window (as changeWindow has it) overlaps [start, end).
 */
export async function overlappingChanges(
  q: Queryable,
  change: { id: string; cis: string[]; start: string; end: string },
  now: Date,
): Promise<ChangeConflict[]> {
  const { rows } = await q.query<ChangeConflict>(
    `-- Changes sharing a CI with an overlapping window: actual where started, else planned; one
-- under way runs at least until now; an end is never before its start (tstzrange refuses an
-- upper bound below the lower: one late change made every change on its CIs unreadable).
-- Params: id, cis, start, end, now.
WITH windowed AS (
  SELECT id, number, title, state, cis, COALESCE(actual_start, planned_start) AS start,
    COALESCE(actual_end, CASE WHEN actual_start IS NULL THEN planned_end
      ELSE GREATEST(planned_end, $5::timestamptz) END) AS finish
  FROM changes
  WHERE id <> $1 AND state NOT IN ('closed', 'canceled') AND cis && $2::text[]
)
SELECT id, number, title, state, ARRAY(SELECT unnest(cis) INTERSECT SELECT unnest($2::text[])) AS cis,
  start, GREATEST(finish, start) AS "end"
FROM windowed
WHERE start IS NOT NULL AND finish IS NOT NULL
  AND tstzrange(start, GREATEST(finish, start)) && tstzrange($3::timestamptz, $4::timestamptz)
ORDER BY start, id`,
    [change.id, change.cis, change.start, change.end, now.toISOString()],
  );
  return rows;
}
