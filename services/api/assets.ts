import { z } from 'zod';
import { assetStore, type Asset } from '../store/assets.ts';
import { assetWorkflow } from '../store/workflows.ts';
import type { RecordSpec } from './records.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
const day = z.iso.date({ message: 'must be a date (YYYY-MM-DD)' });
// An amount as a JSON number or a decimal string; kept as the string, so no cent is rounded.
const amount = z
  .union([z.number(), z.string()])
  .transform(String)
  .pipe(
    z.string().regex(/^\d{1,12}(\.\d{1,2})?$/, 'must be an amount ≥ 0 with at most 2 decimals'),
  );
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code (EUR, USD…)');
// Stock already on hand is registered as received or in use; the rest of the flow is transitions.
const initialStates = ['on_order', 'in_stock', 'in_use'] as const;

const costNeedsCurrency = (
  v: { cost?: string | null; currency?: string | null },
  ctx: z.RefinementCtx,
) => {
  if (v.cost != null && v.currency === null)
    ctx.addIssue({ code: 'custom', path: ['currency'], message: 'a cost needs its currency' });
};

const createSchema = z
  .strictObject({
    tag: text(128),
    serial: text(255).nullish(),
    model: text(255),
    manufacturer: text(255).nullish(),
    ci: text(255).nullish(),
    state: z.enum(initialStates).default('on_order'),
    owner: text(255).nullish(),
    location: text(255).nullish(),
    cost: amount.nullish(),
    currency: currency.nullish(),
    purchasedAt: day.nullish(),
    warrantyEnd: day.nullish(),
  })
  .superRefine((v, ctx) => costNeedsCurrency({ ...v, currency: v.currency ?? null }, ctx));

const updateSchema = z
  .strictObject({
    tag: text(128).optional(),
    serial: text(255).nullable().optional(),
    model: text(255).optional(),
    manufacturer: text(255).nullable().optional(),
    ci: text(255).nullable().optional(),
    owner: text(255).nullable().optional(),
    location: text(255).nullable().optional(),
    cost: amount.nullable().optional(),
    currency: currency.nullable().optional(),
    purchasedAt: day.nullable().optional(),
    warrantyEnd: day.nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'change at least one field')
  .superRefine(costNeedsCurrency);

/**
 * Assets: what the organisation owns, by tag, from order to retirement. No asset-manager role
 * exists yet, so admins write them; every role that reads reads them.
 */
export const assetSpec: RecordSpec<Asset> = {
  store: assetStore,
  path: 'assets',
  writeRole: 'admin',
  createSchema,
  updateSchema,
  workflow: assetWorkflow,
  computed: ['stateCategory'],
};
