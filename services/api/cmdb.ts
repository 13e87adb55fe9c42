import { Hono } from 'hono';
import { z } from 'zod';
import { requireRole, type Authenticate } from '../../runtime/auth.ts';
import { invalid } from '../../runtime/problem.ts';
import { importCmdb, relationshipTypes } from '../store/cmdb.ts';
import { withTransaction, type Pool } from '../store/db.ts';
import { parseJsonBody } from './validate.ts';

const name = z.string().trim().min(1).max(255);

const importSchema = z
  .strictObject({
    cis: z
      .array(
        z.strictObject({
          name,
          class: z.string().trim().min(1).max(64),
          attributes: z.record(z.string(), z.unknown()).default({}),
        }),
      )
      .max(100_000)
      .default([]),
    relationships: z
      .array(z.strictObject({ source: name, target: name, type: z.enum(relationshipTypes) }))
      .max(500_000)
      .default([]),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.cis.forEach((ci, i) => {
      if (seen.has(ci.name))
        ctx.addIssue({
          code: 'custom',
          path: ['cis', i, 'name'],
          message: `duplicate CI name "${ci.name}"`,
        });
      seen.add(ci.name);
    });
    body.relationships.forEach((r, i) => {
      if (r.source === r.target) {
        ctx.addIssue({
          code: 'custom',
          path: ['relationships', i, 'target'],
          message: 'a CI cannot relate to itself',
        });
      }
    });
  });

/** `POST /cmdb/import`: idempotent upsert of configuration items and their relationships. */
export function cmdbApi(pool: Pool, authenticate: Authenticate): Hono {
  const app = new Hono();
  app.use(requireRole(authenticate, 'admin'));
  app.post('/import', async (c) => {
    const body = await parseJsonBody(c, importSchema);
    const outcome = await withTransaction(pool, (tx) =>
      importCmdb(tx, body.cis, body.relationships),
    );
    switch (outcome.kind) {
      case 'unknown-cis':
        throw invalid(
          outcome.names.slice(0, 50).map((n) => {
            const i = body.relationships.findIndex((r) => r.source === n || r.target === n);
            const field = body.relationships[i]?.source === n ? 'source' : 'target';
            return { pointer: `/relationships/${i}/${field}`, detail: `unknown CI "${n}"` };
          }),
        );
      case 'imported':
        return c.json({ cis: outcome.cis, relationships: outcome.relationships });
    }
  });
  return app;
}
