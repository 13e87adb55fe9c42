import { z } from 'zod';
import type { Role } from '../../runtime/auth.ts';
import { pageOf, type RouteDoc } from '../../runtime/openapi.ts';
import { pageQuery, recordId } from './validate.ts';

/** An RFC 3339 timestamp as served. */
export const timestamp = z.string().meta({ format: 'date-time' });

/** One audited change, as every history route serves it. */
export const auditEntry = z
  .object({
    id: recordId,
    at: timestamp,
    actor: z
      .string()
      .meta({ description: '`user:<name>`, `admin`, a token name or `correlator`.' }),
    operation: z.enum(['insert', 'update', 'delete']),
    action: z.string().nullable().meta({ description: 'The transition or import; null: an edit.' }),
    field: z.string().meta({ description: '`*` for the whole record (insert, delete).' }),
    old: z.unknown(),
    new: z.unknown(),
  })
  .meta({ title: 'AuditEntry' });

/**
 * `GET {base}/{id}/history`: the audit trail of one record, newest first, paged. The handler
 * reads its query with `query` of this description.
 */
export function historyRoute(base: string, tag: string, what: string, role: Role) {
  return {
    method: 'get',
    path: `${base}/{id}/history`,
    tag,
    summary: `The audit trail of one ${what}`,
    description: 'Who changed which field, when, from what to what, and by which action.',
    role,
    query: pageQuery,
    response: { status: 200, description: 'A page of audit entries.', schema: pageOf(auditEntry) },
    errors: [404, 503],
  } satisfies RouteDoc;
}

/** The title of a tag or schema from a path segment or kind: `incidents` → `Incidents`. */
export const capitalize = (word: string) => word[0]!.toUpperCase() + word.slice(1);

/** A noun with its indefinite article, for summaries: `an incident`, `a change`. */
export const aOrAn = (noun: string) => `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
