import type { Queryable } from './db.ts';
import { decodeCursor, toPage, type Page } from './page.ts';

/** A message from a tool that needs a person (an SNS subscription to confirm). */
export type NoticeRecord = {
  id: string;
  deliveryId: string;
  source: string;
  kind: string;
  summary: string;
  details: Record<string, string>;
  receivedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
};

type NoticeRow = {
  id: string;
  delivery_id: string;
  source: string;
  kind: string;
  summary: string;
  details: Record<string, string>;
  received_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
};

const COLUMNS = `id, delivery_id, source, kind, summary, details, received_at, acknowledged_at,
  acknowledged_by`;

function toNotice(r: NoticeRow): NoticeRecord {
  return {
    id: r.id,
    deliveryId: r.delivery_id,
    source: r.source,
    kind: r.kind,
    summary: r.summary,
    details: r.details,
    receivedAt: r.received_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
  };
}

/** Notices, newest first; `open` only those nobody acknowledged. */
export async function listNotices(
  q: Queryable,
  filter: { open: boolean },
  limit: number,
  cursor: string | null,
): Promise<Page<NoticeRecord>> {
  const after = cursor === null ? null : String(decodeCursor(cursor));
  const { rows } = await q.query<NoticeRow>(
    `-- A page of notices, newest first. Params: open only, after id, limit.
SELECT ${COLUMNS} FROM ingest_notices
WHERE (NOT $1 OR acknowledged_at IS NULL) AND ($2::bigint IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3`,
    [filter.open, after, limit + 1],
  );
  return toPage(rows, limit, toNotice, (r) => r.id);
}

/** Marks a notice dealt with; null when there is none with that id. */
export async function acknowledgeNotice(
  q: Queryable,
  id: string,
  by: string,
): Promise<NoticeRecord | null> {
  const { rows } = await q.query<NoticeRow>(
    `-- Acknowledge a notice (idempotent). Params: id, by.
UPDATE ingest_notices SET acknowledged_at = COALESCE(acknowledged_at, now()),
  acknowledged_by = COALESCE(acknowledged_by, $2)
WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, by],
  );
  return rows[0] ? toNotice(rows[0]) : null;
}
