import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

const page = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');

/**
 * The console: a static page that reads the services API over HTTP with the operator's token,
 * like any other API client.
 */
export function createConsoleApp(): Hono {
  const app = new Hono();
  app.get('/', (c) =>
    c.html(page, 200, {
      'Content-Security-Policy':
        "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    }),
  );
  return app;
}
