import { z } from 'zod';
import { knownErrorStore, type KnownError } from '../store/known-errors.ts';
import { knownErrorWorkflow } from '../store/workflows.ts';
import type { RecordSpec } from './records.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
const id = z.string().regex(/^[1-9]\d{0,18}$/, 'must be a record id');

const createSchema = z.strictObject({
  title: text(1024),
  symptom: text(65536),
  workaround: text(65536),
  problemId: id.nullish(),
  ciClass: text(64).nullish(),
  service: text(255).nullish(),
  // A known error written up from a finished analysis may be published at once.
  state: z.enum(['draft', 'published']).default('draft'),
});

const updateSchema = z
  .strictObject({
    title: text(1024).optional(),
    symptom: text(65536).optional(),
    workaround: text(65536).optional(),
    problemId: id.nullable().optional(),
    ciClass: text(64).nullable().optional(),
    service: text(255).nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'change at least one field');

/** Known errors: problem managers write up symptoms and workarounds; everyone searches them. */
export const knownErrorSpec: RecordSpec<KnownError> = {
  store: knownErrorStore,
  path: 'known-errors',
  writeRole: 'problem_manager',
  createSchema,
  updateSchema,
  workflow: knownErrorWorkflow,
  computed: ['stateCategory'],
};
