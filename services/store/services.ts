import type { Queryable } from './db.ts';
import { field as f, type Field } from './list.ts';
import type { RecordStore, StoredRecord } from './records.ts';

const w = { writable: true } as const;
const s = { sortable: true } as const;

/** Kinds of service: what the business consumes, or what IT runs for other services. */
export const serviceKinds = ['business', 'technical'] as const;

/**
 * Every field of a service, by its API name. `entryPointCis` names the CIs where the service is
 * entered (a load balancer, an API gateway); `slaNames` names the SLAs that apply, a placeholder
 * until SLAs are records of their own. Criticality: 1 most critical … 4 least.
 */
export const serviceFields = {
  id: f('id', 'id', s),
  name: f('name', 'text', { ...s, ...w }),
  kind: f('kind', 'text', { ...s, ...w }),
  owner: f('owner', 'text', w),
  description: f('description', 'text', w),
  entryPointCis: f('entry_point_cis', 'texts', w),
  criticality: f('criticality', 'int', { ...s, ...w }),
  slaNames: f('sla_names', 'texts', w),
  createdAt: f('created_at', 'time', s),
  updatedAt: f('updated_at', 'time', s),
  version: f('version', 'int'),
} as const satisfies Record<string, Field>;

/** A service as served: its fields by API name. */
export type Service = StoredRecord & { name: string; entryPointCis: string[] };

/** How services are stored, listed (`q` searches name, description and owner) and served. */
export const serviceStore: RecordStore<Service> = {
  type: 'service',
  table: 'services',
  fields: serviceFields,
  searchColumns: ['name', 'description', 'owner'],
  toRecord: (row) => ({
    ...row,
    id: String(row.id),
    name: String(row.name),
    entryPointCis: row.entryPointCis as string[],
    version: Number(row.version),
  }),
};

/** An entry-point CI of a service as found in the CMDB; id and class are null when it is not. */
export type EntryPoint = { name: string; id: string | null; class: string | null };

const CIS_BY_NAME = `
-- The CIs of these names, as far as the CMDB knows them. Params: names.
SELECT id, name, class FROM configuration_items WHERE name = ANY($1::text[])`;

/** Resolves entry-point CI names against the CMDB, in the order given. */
export async function resolveEntryPoints(q: Queryable, names: string[]): Promise<EntryPoint[]> {
  if (names.length === 0) return [];
  const { rows } = await q.query<{ id: string; name: string; class: string }>(CIS_BY_NAME, [names]);
  const found = new Map(rows.map((r) => [r.name, r]));
  return names.map((name) => {
    const ci = found.get(name);
    return { name, id: ci?.id ?? null, class: ci?.class ?? null };
  });
}
