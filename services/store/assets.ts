import { field as f, type Field } from './list.ts';
import type { RecordStore, StoredRecord } from './records.ts';
import { assetWorkflow, type AssetState, type StateCategory } from './workflows.ts';

const w = { writable: true } as const;
const s = { sortable: true } as const;

/**
 * Every field of an asset, by its API name. `ci` names the configuration item the asset is (CIs
 * are referenced by name); `cost` is a decimal served as a string, so no cent is lost to floats.
 */
export const assetFields = {
  id: f('id', 'id', s),
  tag: f('tag', 'text', { ...s, ...w }),
  serial: f('serial', 'text', w),
  model: f('model', 'text', { ...s, ...w }),
  manufacturer: f('manufacturer', 'text', w),
  ci: f('ci_name', 'text', w),
  state: f('state', 'text', s),
  owner: f('owner', 'text', w),
  location: f('location', 'text', w),
  cost: f('cost', 'decimal', w),
  currency: f('currency', 'text', w),
  purchasedAt: f('purchased_at', 'date', w),
  warrantyEnd: f('warranty_end', 'date', w),
  createdAt: f('created_at', 'time', s),
  updatedAt: f('updated_at', 'time', s),
  version: f('version', 'int'),
} as const satisfies Record<string, Field>;

/** An asset as served: its fields by API name, plus its state category. */
export type Asset = StoredRecord & { tag: string; state: AssetState; stateCategory: StateCategory };

/** How assets are stored, listed (`q` searches tag, serial, model, manufacturer and CI) and served. */
export const assetStore: RecordStore<Asset> = {
  type: 'asset',
  table: 'assets',
  fields: assetFields,
  searchColumns: ['tag', 'serial', 'model', 'manufacturer', 'ci_name'],
  toRecord: (row) => {
    const state = row.state as AssetState;
    return {
      ...row,
      id: String(row.id),
      tag: String(row.tag),
      state,
      version: Number(row.version),
      stateCategory: assetWorkflow.category[state],
    };
  },
};
