import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { z } from 'zod';
import { openApiDocument, type RouteDoc } from '../../runtime/openapi.ts';
import { notFound } from '../../runtime/problem.ts';
import { recordId } from './validate.ts';

// Swagger UI is served from node_modules by Tocsin itself: the page works with no internet.
const swaggerUiDir = dirname(
  createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
);

const init = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: 'openapi.json',
    dom_id: '#docs',
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    validatorUrl: null,
  });
});
`;

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Tocsin API</title>
    <link rel="stylesheet" href="docs/swagger-ui.css" />
  </head>
  <body>
    <noscript>This page needs JavaScript; the document itself is <a href="openapi.json">openapi.json</a>.</noscript>
    <div id="docs"></div>
    <script src="docs/swagger-ui-bundle.js"></script>
    <script src="docs/init.js"></script>
  </body>
</html>
`;

const javascript = 'text/javascript; charset=utf-8';
const assets: Record<string, { type: string; read: () => string }> = {
  'swagger-ui.css': {
    type: 'text/css; charset=utf-8',
    read: () => readFileSync(join(swaggerUiDir, 'swagger-ui.css'), 'utf8'),
  },
  'swagger-ui-bundle.js': {
    type: javascript,
    read: () => readFileSync(join(swaggerUiDir, 'swagger-ui-bundle.js'), 'utf8'),
  },
  'init.js': { type: javascript, read: () => init },
};

// Read on first request, then kept: the same files for every app of the process.
const served = new Map<string, string>();

const security = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

const tag = 'Documentation';
const open = 'Documentation, so it needs no token.';

/** The documentation routes as the API document describes them; the handlers check with these. */
export const openApiRoutes = {
  document: {
    method: 'get',
    path: '/api/v1/openapi.json',
    tag,
    summary: 'This API as an OpenAPI 3.1 document',
    description: `Generated from the schemas the routes validate with. ${open}`,
    role: null,
    response: {
      status: 200,
      description: 'The OpenAPI document.',
      schema: z.looseObject({
        openapi: z.string(),
        info: z.looseObject({ title: z.string(), version: z.string() }),
        paths: z.record(z.string(), z.looseObject({})),
      }),
    },
    errors: [],
  },
  page: {
    method: 'get',
    path: '/api/v1/docs',
    tag,
    summary: 'This API as a page to read and try',
    description: `Swagger UI on the OpenAPI document, with no asset from outside Tocsin. ${open}`,
    role: null,
    response: {
      status: 200,
      description: 'The page.',
      schema: z.string(),
      mediaType: 'text/html',
    },
    errors: [],
  },
  asset: {
    method: 'get',
    path: '/api/v1/docs/{asset}',
    tag,
    summary: 'A file of the documentation page',
    description: `Swagger UI's script and style sheet, from the installed swagger-ui-dist, and the page's own script. ${open}`,
    role: null,
    params: { asset: z.enum(Object.keys(assets) as [string, ...string[]]) },
    response: {
      status: 200,
      description: 'The file (`text/css` or `text/javascript`).',
      schema: z.string(),
      mediaType: 'text/*',
    },
    errors: [[404, 'No such file.']],
  },
} satisfies Record<string, RouteDoc>;

const version = (): string =>
  (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

/**
 * `GET /openapi.json`, the OpenAPI 3.1 document of `routes()` (built on first request, then
 * kept), and `GET /docs`, Swagger UI on it. Open to anyone: it is documentation.
 */
export function openApiApi(routes: () => readonly RouteDoc[]): Hono {
  const app = new Hono();
  let document: string | null = null;

  app.get('/openapi.json', (c) => {
    document ??= JSON.stringify(
      openApiDocument(routes(), {
        title: 'Tocsin API',
        version: version(),
        description:
          'The AIOps incident pipeline: webhook ingest, incidents, problems, changes, the CMDB, search. Every route but these documentation ones needs a token (`Authorization: Bearer <token>` or `X-Api-Key`) holding the role it names; errors are RFC 9457 `application/problem+json`.',
        pathParam: recordId,
      }),
    );
    return c.body(document, 200, { 'Content-Type': 'application/json' });
  });

  app.get('/docs', (c) => c.html(page, 200, security));

  app.get('/docs/:asset', (c) => {
    const name = openApiRoutes.asset.params.asset.safeParse(c.req.param('asset'));
    if (!name.success) throw notFound(`No file ${c.req.param('asset')}.`);
    const asset = assets[name.data]!;
    let body = served.get(name.data);
    if (body === undefined) {
      body = asset.read();
      served.set(name.data, body);
    }
    return c.body(body, 200, {
      ...security,
      'Content-Type': asset.type,
      'Cache-Control': 'public, max-age=3600',
    });
  });

  return app;
}
