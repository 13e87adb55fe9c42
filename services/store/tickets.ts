import type { Queryable } from './db.ts';
import { field as f, listRows, selectColumns, type Field, type ListQuery } from './list.ts';
import { decodeCursor, encodeCursor, type Page } from './page.ts';
import {
  changeWorkflows,
  incidentWorkflow,
  problemWorkflow,
  type StateCategory,
} from './workflows.ts';

/** The ticket record types: they share the ticket base, the journal and the audit trail. */
export const ticketKinds = ['incident', 'problem', 'change'] as const;
/** One ticket record type. */
export type TicketKind = (typeof ticketKinds)[number];

/** The list vocabulary, shared by every record type; re-exported for the ticket API. */
export type { Field, FieldType, ListQuery, Predicate } from './list.ts';

const w = { writable: true } as const;
const s = { sortable: true } as const;

/** The ticket base: what incidents, problems and changes have in common. */
const base = {
  id: f('id', 'id', s),
  number: f('number', 'text', s),
  title: f('title', 'text', { ...s, ...w }),
  description: f('description', 'text', w),
  state: f('state', 'text', s),
  impact: f('impact', 'int', { ...s, ...w }),
  urgency: f('urgency', 'int', { ...s, ...w }),
  priority: f('priority', 'int', s),
  category: f('category', 'text', w),
  service: f('service', 'text', w),
  primaryCi: f('primary_ci', 'text', w),
  cis: f('cis', 'texts', w),
  assignmentGroup: f('assignment_group', 'text', w),
  assignee: f('assignee', 'text', w),
  openedAt: f('opened_at', 'time', s),
  acknowledgedAt: f('acknowledged_at', 'time'),
  resolvedAt: f('resolved_at', 'time'),
  closedAt: f('closed_at', 'time'),
  resolutionCode: f('resolution_code', 'text'),
  resolutionNotes: f('resolution_notes', 'text'),
  reopenCount: f('reopen_count', 'int', s),
  createdBy: f('created_by', 'text'),
  updatedAt: f('updated_at', 'time', s),
  version: f('version', 'int'),
};

/** Every field of each ticket type, by its API name. */
export const ticketFields = {
  incident: {
    ...base,
    severity: f('severity', 'text', s),
    lastAlertAt: f('last_alert_at', 'time', s),
    alertCount: f('alert_count', 'int', s),
    holdReason: f('hold_reason', 'text'),
    channel: f('channel', 'text', { ...s, ...w }),
    parentId: f('parent_id', 'id', w),
    major: f('major', 'bool', w),
    problemId: f('problem_id', 'id', w),
    suspectedChangeId: f('suspected_change_id', 'id', w),
    // What the correlator derived: ranked root causes, the dominant template, the recurring
    // signature, the blast radius, a matching known error's workaround, the pending
    // auto-resolution, and the incident it was merged into.
    rootCause: f('root_cause', 'json'),
    rootCauseCi: f('root_cause_ci', 'text', s),
    template: f('template', 'text'),
    signature: f('signature', 'text'),
    blastRadius: f('blast_radius', 'int', s),
    knownErrorId: f('known_error_id', 'id'),
    workaround: f('workaround', 'text'),
    resolvesAt: f('resolves_at', 'time'),
    mergedInto: f('merged_into', 'id'),
    // Why the correlator linked the suspected change and the known error.
    correlationNotes: f('correlation_notes', 'json'),
  },
  problem: {
    ...base,
    cause: f('cause', 'text', w),
    workaround: f('workaround', 'text', w),
    fix: f('fix', 'text', w),
    signature: f('signature', 'text'),
    evidence: f('evidence', 'json'),
    createdAt: f('created_at', 'time', s),
  },
  change: {
    ...base,
    type: f('type', 'text', s),
    risk: f('risk', 'text', { ...s, ...w }),
    plannedStart: f('planned_start', 'time', w),
    plannedEnd: f('planned_end', 'time', w),
    actualStart: f('actual_start', 'time'),
    actualEnd: f('actual_end', 'time'),
    implementationPlan: f('implementation_plan', 'text', w),
    backoutPlan: f('backout_plan', 'text', w),
    testPlan: f('test_plan', 'text', w),
    requiredApprovals: f('required_approvals', 'int', w),
    createdAt: f('created_at', 'time', s),
  },
} as const satisfies Record<TicketKind, Record<string, Field>>;

/** The table of each ticket type. */
export const ticketTables: Record<TicketKind, string> = {
  incident: 'incidents',
  problem: 'problems',
  change: 'changes',
};

/** A ticket as served: its fields by API name, plus its state category. */
export type Ticket = Record<string, unknown> & {
  id: string;
  number: string;
  state: string;
  stateCategory: StateCategory;
  version: number;
};

function categoryOf(kind: TicketKind, row: Record<string, unknown>): StateCategory {
  const state = String(row.state);
  switch (kind) {
    case 'incident':
      return incidentWorkflow.category[state as keyof typeof incidentWorkflow.category];
    case 'problem':
      return problemWorkflow.category[state as keyof typeof problemWorkflow.category];
    case 'change':
      return changeWorkflows.normal.category[state as keyof typeof changeWorkflows.normal.category];
  }
}

function selectList(kind: TicketKind): string {
  return selectColumns(ticketFields[kind]);
}

function toTicket(kind: TicketKind, row: Record<string, unknown>): Ticket {
  return {
    ...row,
    version: Number(row.version),
    stateCategory: categoryOf(kind, row),
  } as Ticket;
}

/** Reads one ticket by id. */
export async function getTicket(
  q: Queryable,
  kind: TicketKind,
  id: string,
): Promise<Ticket | null> {
  const { rows } = await q.query<Record<string, unknown>>(
    `-- One ticket. Params: id.\nSELECT ${selectList(kind)} FROM ${ticketTables[kind]} WHERE id = $1`,
    [id],
  );
  return rows[0] ? toTicket(kind, rows[0]) : null;
}

/** Reads one ticket by id and locks it for the caller's transaction. */
export async function lockTicket(
  q: Queryable,
  kind: TicketKind,
  id: string,
): Promise<Ticket | null> {
  const { rows } = await q.query<Record<string, unknown>>(
    `-- One ticket, locked. Params: id.
SELECT ${selectList(kind)} FROM ${ticketTables[kind]} WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0] ? toTicket(kind, rows[0]) : null;
}

/** Reads tickets by id, for the search projection. */
export async function getTickets(q: Queryable, kind: TicketKind, ids: string[]): Promise<Ticket[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `-- Tickets by id. Params: ids.
SELECT ${selectList(kind)} FROM ${ticketTables[kind]} WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  return rows.map((r) => toTicket(kind, r));
}

/**
 * Lists tickets by structured predicates and free text (title, description, number), sorted on
 * one field (then id), paged with a keyset cursor. Fields were checked by the caller against
 * `ticketFields`.
 */
export async function listTickets(
  q: Queryable,
  kind: TicketKind,
  query: ListQuery,
): Promise<Page<Ticket>> {
  const source = {
    table: ticketTables[kind],
    fields: ticketFields[kind],
    searchColumns: ['title', 'description', 'number'],
  };
  const page = await listRows(q, source, query);
  return { items: page.items.map((row) => toTicket(kind, row)), nextCursor: page.nextCursor };
}

/** Sets who acts (and which transition) for the audit trigger, for the rest of the transaction. */
export async function setActor(q: Queryable, actor: string, action: string | null = null) {
  await q.query(
    `-- The audit trail's actor and action for this transaction. Params: actor, action.
SELECT set_config('tocsin.actor', $1, true), set_config('tocsin.action', $2, true)`,
    [actor, action ?? ''],
  );
}

function columnValues(
  kind: TicketKind,
  values: Record<string, unknown>,
): { columns: string[]; params: unknown[] } {
  const fields: Record<string, Field> = ticketFields[kind];
  const columns: string[] = [];
  const params: unknown[] = [];
  for (const [name, value] of Object.entries(values)) {
    const field = fields[name];
    if (!field) throw new Error(`${kind} has no field ${name}`);
    columns.push(field.column);
    params.push(field.type === 'json' && value !== null ? JSON.stringify(value) : value);
  }
  return { columns, params };
}

/** Creates a ticket from API-named values; the caller has validated them. */
export async function insertTicket(
  q: Queryable,
  kind: TicketKind,
  values: Record<string, unknown>,
): Promise<Ticket> {
  const { columns, params } = columnValues(kind, values);
  const { rows } = await q.query<Record<string, unknown>>(
    `-- Create a ticket. Params: its columns' values, in order.
INSERT INTO ${ticketTables[kind]} (${columns.join(', ')})
VALUES (${params.map((_, i) => `$${i + 1}`).join(', ')})
RETURNING ${selectList(kind)}`,
    params,
  );
  return toTicket(kind, rows[0]!);
}

/** Writes API-named values to a locked ticket and bumps its version. */
export async function updateTicket(
  q: Queryable,
  kind: TicketKind,
  id: string,
  values: Record<string, unknown>,
): Promise<Ticket> {
  const { columns, params } = columnValues(kind, values);
  const set = columns.map((c, i) => `${c} = $${i + 2}`);
  const { rows } = await q.query<Record<string, unknown>>(
    `-- Update a ticket. Params: id, then its changed columns' values, in order.
UPDATE ${ticketTables[kind]} SET ${[...set, 'version = version + 1', 'updated_at = now()'].join(', ')}
WHERE id = $1
RETURNING ${selectList(kind)}`,
    [id, ...params],
  );
  return toTicket(kind, rows[0]!);
}

/** A work note (internal) or a comment (for the requester) on a ticket. */
export type JournalEntry = {
  id: string;
  kind: 'work_note' | 'comment';
  author: string;
  body: string;
  createdAt: string;
};

/** Appends a work note or comment to a ticket. */
export async function addJournalEntry(
  q: Queryable,
  kind: TicketKind,
  id: string,
  entry: Pick<JournalEntry, 'kind' | 'author' | 'body'>,
): Promise<JournalEntry> {
  const { rows } = await q.query<JournalEntry>(
    `-- Append to a ticket's journal. Params: record type, record id, kind, author, body.
INSERT INTO ticket_journal (record_type, record_id, kind, author, body)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, kind, author, body, created_at AS "createdAt"`,
    [kind, id, entry.kind, entry.author, entry.body],
  );
  return rows[0]!;
}

/** A ticket's journal, oldest first. */
export async function listJournal(
  q: Queryable,
  kind: TicketKind,
  id: string,
): Promise<JournalEntry[]> {
  const { rows } = await q.query<JournalEntry>(
    `-- A ticket's work notes and comments. Params: record type, record id.
SELECT id, kind, author, body, created_at AS "createdAt" FROM ticket_journal
WHERE record_type = $1 AND record_id = $2 ORDER BY id`,
    [kind, id],
  );
  return rows;
}

/** One audited change: who changed which field from what to what, and by which action. */
export type AuditEntry = {
  id: string;
  at: string;
  actor: string;
  operation: 'insert' | 'update' | 'delete';
  action: string | null;
  field: string;
  old: unknown;
  new: unknown;
};

/** An audit entry with the API's field names where the trigger wrote column names. */
function withApiNames(entry: AuditEntry, fields: Record<string, Field>): AuditEntry {
  const names = new Map(Object.entries(fields).map(([name, f]) => [f.column, name]));
  const rename = (value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [names.get(k) ?? k, v]))
      : value;
  return entry.field === '*'
    ? { ...entry, old: rename(entry.old), new: rename(entry.new) }
    : { ...entry, field: names.get(entry.field) ?? entry.field };
}

/** The audit trail of a record, oldest first, paged by id, with API field names when given. */
export async function listAudit(
  q: Queryable,
  recordType: string,
  id: string,
  limit: number,
  cursor: string | null,
  fields: Record<string, Field> = {},
): Promise<Page<AuditEntry>> {
  const after = cursor === null ? null : String(decodeCursor(cursor));
  const { rows } = await q.query<AuditEntry>(
    `-- A record's audit trail. Params: record type, record id, after id, limit.
SELECT id, at, actor, operation, action, field, old_value AS old, new_value AS new
FROM audit_log WHERE record_type = $1 AND record_id = $2 AND ($3::bigint IS NULL OR id > $3)
ORDER BY id LIMIT $4`,
    [recordType, id, after, limit + 1],
  );
  const more = rows.length > limit;
  const kept = (more ? rows.slice(0, limit) : rows).map((e) => withApiNames(e, fields));
  return { items: kept, nextCursor: more ? encodeCursor(kept.at(-1)!.id) : null };
}
