/**
 * The ceiling of the HTTP layer on this machine: a bare Hono endpoint on @hono/node-server that
 * parses the JSON body and answers 202, and nothing else. bench/ingest.ts runs it beside Tocsin.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/api/v1/ingest/:source', async (c) => {
  const body: unknown = await c.req.json();
  return c.json({ accepted: Array.isArray(body) ? body.length : 1 }, 202);
});

const port = Number(process.argv[2] ?? '18180');
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => {
  process.stdout.write(`listening on ${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
