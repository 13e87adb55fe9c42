import { z } from 'zod';
import { resolveEntryPoints, serviceKinds, serviceStore, type Service } from '../store/services.ts';
import type { RecordSpec } from './records.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
const names = z
  .array(text(255))
  .max(1000)
  .transform((list) => [...new Set(list)]);
const criticality = z.number().int().min(1).max(4);

const createSchema = z.strictObject({
  name: text(255),
  kind: z.enum(serviceKinds),
  owner: text(255).nullish(),
  description: z.string().max(65536).nullish(),
  entryPointCis: names.default([]),
  criticality: criticality.default(3),
  slaNames: names.default([]),
});

const updateSchema = z
  .strictObject({
    name: text(255).optional(),
    kind: z.enum(serviceKinds).optional(),
    owner: text(255).nullable().optional(),
    description: z.string().max(65536).nullable().optional(),
    entryPointCis: names.optional(),
    criticality: criticality.optional(),
    slaNames: names.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'change at least one field');

/**
 * Services, business and technical: who owns them, where they are entered (their entry-point
 * CIs, shown with what the CMDB knows of each), and the names of the SLAs that apply. Admins
 * write them (there is no service-owner role yet).
 */
export const serviceSpec: RecordSpec<Service> = {
  store: serviceStore,
  path: 'services',
  writeRole: 'admin',
  createSchema,
  updateSchema,
  decorate: async (q, service) => ({
    entryPoints: await resolveEntryPoints(q, service.entryPointCis),
  }),
};
