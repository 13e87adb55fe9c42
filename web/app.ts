import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

const file = (name: string) => readFileSync(new URL(`./public/${name}`, import.meta.url), 'utf8');
const assets = {
  '/': { body: file('index.html'), type: 'text/html; charset=utf-8' },
  '/console/console.js': { body: file('console.js'), type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { body: file('console.css'), type: 'text/css; charset=utf-8' },
};

// Scripts and styles come from Tocsin itself only: no inline code, no third-party origin.
const headers = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/**
 * The console: static files that read the services API over HTTP with the operator's token,
 * like any other API client.
 */
export function createConsoleApp(): Hono {
  const app = new Hono();
  for (const [path, asset] of Object.entries(assets)) {
    app.get(path, (c) => c.body(asset.body, 200, { ...headers, 'Content-Type': asset.type }));
  }
  // Browsers ask for it on every page; an empty answer is not an error in their console.
  app.get('/favicon.ico', (c) => c.body(null, 204, headers));
  return app;
}
