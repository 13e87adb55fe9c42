import { field as f, type Field } from './list.ts';
import type { RecordStore, StoredRecord } from './records.ts';
import { knownErrorWorkflow, type KnownErrorState, type StateCategory } from './workflows.ts';

const w = { writable: true } as const;
const s = { sortable: true } as const;

/**
 * Every field of a known error, by its API name: a symptom and its workaround, for a CI class or
 * a service, usually from a problem whose root cause is known.
 */
export const knownErrorFields = {
  id: f('id', 'id', s),
  number: f('number', 'text', s),
  problemId: f('problem_id', 'id', w),
  title: f('title', 'text', { ...s, ...w }),
  symptom: f('symptom', 'text', w),
  workaround: f('workaround', 'text', w),
  ciClass: f('ci_class', 'text', w),
  service: f('service', 'text', w),
  state: f('state', 'text', s),
  createdBy: f('created_by', 'text'),
  createdAt: f('created_at', 'time', s),
  updatedAt: f('updated_at', 'time', s),
  version: f('version', 'int'),
} as const satisfies Record<string, Field>;

/** A known error as served, with its state category. */
export type KnownError = StoredRecord & {
  number: string;
  state: KnownErrorState;
  stateCategory: StateCategory;
};

/** How known errors are stored, listed (`q`: title, symptom, workaround) and served. */
export const knownErrorStore: RecordStore<KnownError> = {
  type: 'known_error',
  table: 'known_errors',
  fields: knownErrorFields,
  searchColumns: ['number', 'title', 'symptom', 'workaround'],
  toRecord: (row) => {
    const state = row.state as KnownErrorState;
    return {
      ...row,
      id: String(row.id),
      number: String(row.number),
      state,
      version: Number(row.version),
      stateCategory: knownErrorWorkflow.category[state],
    };
  },
};
