import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sources } from '../../ingest/sources/index.ts';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

type Schema = Record<string, unknown>;
type Content = Record<string, { schema: Schema }>;
type Operation = {
  'x-tocsin-role': string | null;
  security?: Record<string, string[]>[];
  description: string;
  parameters?: { name: string; in: string; required: boolean; schema: Schema }[];
  requestBody?: { required: boolean; content: Content };
  responses: Record<string, { content?: Content }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

const methods = ['get', 'post', 'put', 'patch', 'delete'];

let tocsin: TestTocsin;
let doc: Document;
// Compiles the document's schemas where they stand, so `#/components/…` resolves as in OpenAPI.
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true, logger: false });

const escape = (segment: string) =>
  encodeURIComponent(segment.replaceAll('~', '~0').replaceAll('/', '~1'));
const at = (...segments: string[]) => `openapi#/${segments.map(escape).join('/')}`;

function operations(): [path: string, method: string, op: Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => methods.includes(method))
      .map(([method, op]): [string, string, Operation] => [path, method, op]),
  );
}

/** Checks a real answer against the operation's documented answer of that status. */
async function expectDocumented(res: Response, path: string, method: string): Promise<void> {
  const op = doc.paths[path]![method]!;
  const label = `${method.toUpperCase()} ${path} → ${res.status}`;
  expect(Object.keys(op.responses), `${label} is not documented`).toContain(String(res.status));
  const content = op.responses[String(res.status)]!.content ?? {};
  const mediaType = (res.headers.get('Content-Type') ?? '').split(';')[0]!;
  expect(Object.keys(content), `${label}: ${mediaType}`).toContain(mediaType);
  if (!mediaType.endsWith('json')) return;
  const validate = ajv.getSchema(
    at('paths', path, method, 'responses', String(res.status), 'content', mediaType, 'schema'),
  );
  if (!validate) throw new Error(`${label}: no schema`);
  const body: unknown = await res.json();
  expect(validate(body), `${label}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

const json = (body: unknown, init: RequestInit & { token?: string | null } = {}) => ({
  method: 'POST',
  body: JSON.stringify(body),
  ...init,
  headers: { 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) },
});

async function created(path: string, body: unknown): Promise<{ id: string } & Schema> {
  const res = await tocsin.request(path, json(body));
  expect(res.status, await res.clone().text()).toBe(201);
  await expectDocumented(res.clone(), path.replace(/\/\d+\//, '/{id}/'), 'post');
  return (await res.json()) as { id: string } & Schema;
}

beforeAll(async () => {
  tocsin = await startTestTocsin();
  const res = await tocsin.request('/api/v1/openapi.json', { token: null });
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
  ajv.addSchema(doc, 'openapi');
});
afterAll(() => tocsin?.destroy());

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document, and every schema in it is valid JSON Schema 2020-12', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');

    let compiled = 0;
    for (const [path, method, op] of operations()) {
      const base = ['paths', path, method];
      const places = [
        ...(op.parameters ?? []).map((_, i) => [...base, 'parameters', String(i), 'schema']),
        ...Object.keys(op.requestBody?.content ?? {}).map((type) => [
          ...base,
          'requestBody',
          'content',
          type,
          'schema',
        ]),
        ...Object.entries(op.responses).flatMap(([status, r]) =>
          Object.keys(r.content ?? {}).map((type) => [
            ...base,
            'responses',
            status,
            'content',
            type,
            'schema',
          ]),
        ),
      ];
      for (const place of places) {
        expect(ajv.getSchema(at(...place)), place.join(' ')).toBeTypeOf('function');
        compiled += 1;
      }
    }
    expect(compiled).toBeGreaterThan(300);
  });

  it('lists every /api/v1 route Tocsin serves, and only those', () => {
    const served = new Set(
      tocsin.app.routes
        .filter((r) => r.path.startsWith('/api/v1/') && r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(
      operations().map(([path, method]) => `${method.toUpperCase()} ${path}`),
    );
    expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect([...documented].filter((r) => !served.has(r)).sort()).toEqual([]);
    expect(served.has('POST /api/v1/ingest/{source}')).toBe(true);
  });

  it('states the role of each route, and its problem answers as application/problem+json', () => {
    for (const [path, method, op] of operations()) {
      const label = `${method} ${path}`;
      expect(op, label).toHaveProperty('x-tocsin-role');
      const role = op['x-tocsin-role'];
      if (role === null) {
        expect(op.security, label).toEqual([]);
        expect(op.description, label).toContain('Needs no token');
      } else {
        expect(op.description, label).toContain(`Needs the role \`${role}\``);
        expect(Object.keys(op.responses), label).toEqual(expect.arrayContaining(['401', '403']));
      }
      const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      for (const [status, response] of errors)
        expect(response.content, `${label} ${status}`).toEqual({
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        });
    }
  });

  it('describes the ticket bodies, the ingest sources and tokens, as the routes check them', () => {
    for (const type of ['incidents', 'problems', 'changes']) {
      const body = doc.paths[`/api/v1/${type}`]!.post!.requestBody!.content['application/json']!
        .schema as { required: string[]; additionalProperties: boolean };
      expect(body.required, type).toContain('title');
      expect(body.additionalProperties, type).toBe(false);
    }
    const changeBody = doc.paths['/api/v1/changes']!.post!.requestBody!.content['application/json']!
      .schema as { required: string[] };
    expect(changeBody.required).toEqual(['title', 'type']);

    const ingest = doc.paths['/api/v1/ingest/{source}']!.post!;
    const source = ingest.parameters!.find((p) => p.name === 'source')!;
    expect(source).toMatchObject({ in: 'path', required: true });
    expect([...(source.schema.enum as string[])].sort()).toEqual(Object.keys(sources).sort());
    expect(ingest['x-tocsin-role']).toBe('ingest');
    expect(ingest.security).toEqual([{ bearer: [] }, { apiKey: [] }, { queryToken: [] }]);
    expect(Object.keys(ingest.responses)).toEqual(
      ['202', '400', '401', '403', '404', '413', '415', '422', '429', '503'].map(String),
    );

    const transition = doc.paths['/api/v1/incidents/{id}/transitions/{action}']!.post!;
    expect(transition.parameters!.find((p) => p.name === 'action')!.schema.enum).toEqual(
      expect.arrayContaining(['acknowledge', 'resolve', 'reopen']),
    );
    expect(Object.keys(transition.responses)).toEqual(
      expect.arrayContaining(['404', '409', '412', '422']),
    );
  });
});

describe('the documentation page', () => {
  it('answers without a token, and loads nothing from outside Tocsin', async () => {
    const page = await tocsin.request('/api/v1/docs', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(page.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual(
      expect.arrayContaining(['docs/swagger-ui.css', 'docs/swagger-ui-bundle.js', 'docs/init.js']),
    );
    for (const ref of refs) {
      const url = new URL(ref, 'http://tocsin.test/api/v1/docs');
      expect(url.host, ref).toBe('tocsin.test');
      const res = await tocsin.request(url.pathname, { token: null });
      expect(res.status, ref).toBe(200);
      expect(res.headers.get('Content-Type'), ref).toMatch(
        /^(text\/css|text\/javascript|application\/json)/,
      );
      expect((await res.text()).length, ref).toBeGreaterThan(100);
    }
    const init = await (await tocsin.request('/api/v1/docs/init.js', { token: null })).text();
    expect(init).toContain("url: 'openapi.json'");
    expect((await tocsin.request('/api/v1/docs/nope.js', { token: null })).status).toBe(404);
  });
});

describe('real answers', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ids.incidents = (await created('/api/v1/incidents', { title: 'Disk full on db-1' })).id;
    ids.problems = (await created('/api/v1/problems', { title: 'Disks fill up' })).id;
    ids.changes = (await created('/api/v1/changes', { title: 'Grow disks', type: 'normal' })).id;
    ids.assets = (
      await created('/api/v1/assets', { tag: 'A-1', model: 'R650', cost: 10, currency: 'EUR' })
    ).id;
    ids.services = (await created('/api/v1/services', { name: 'ledger', kind: 'technical' })).id;
    ids.users = (await created('/api/v1/users', { username: 'oda', roles: ['viewer'] })).id;
    await created(`/api/v1/users/${ids.users}/tokens`, { name: 'laptop' });
    await created(`/api/v1/incidents/${ids.incidents}/notes`, { body: 'Looking.' });
    const token = await created('/api/v1/tokens', { name: 'gen', source: 'generic' });
    const imported = await tocsin.request(
      '/api/v1/cmdb/import',
      json({ cis: [{ name: 'db-1', class: 'database' }] }),
    );
    await expectDocumented(imported, '/api/v1/cmdb/import', 'post');
    const cis = (await (await tocsin.request('/api/v1/cis')).json()) as { items: { id: string }[] };
    ids.cis = cis.items[0]!.id;
    const ingested = await tocsin.request(
      '/api/v1/ingest/generic',
      json({ title: 'Disk full', ci: 'db-1' }, { token: token.token as string }),
    );
    await expectDocumented(ingested, '/api/v1/ingest/{source}', 'post');
    ids.alerts = await eventually(
      async () => {
        const page = (await (await tocsin.request('/api/v1/alerts')).json()) as {
          items: { id: string }[];
        };
        return page.items[0]?.id;
      },
      { what: 'the alert' },
    );
  });

  it('of every GET route match the document', async () => {
    const checked: string[] = [];
    for (const [path, method] of operations()) {
      if (method !== 'get' || path.includes('{asset}')) continue;
      const collection = path.split('/')[3]!;
      if (path.includes('{id}') && !ids[collection]) continue;
      const res = await tocsin.request(path.replace('{id}', ids[collection] ?? ''));
      await expectDocumented(res, path, method);
      checked.push(path);
    }
    expect(checked.length).toBeGreaterThan(30);
  });

  it('of problems match the document', async () => {
    const incident = `/api/v1/incidents/${ids.incidents}`;
    await expectDocumented(
      await tocsin.request('/api/v1/incidents', json({ title: '' })),
      '/api/v1/incidents',
      'post',
    );
    await expectDocumented(
      await tocsin.request('/api/v1/incidents/99999999'),
      '/api/v1/incidents/{id}',
      'get',
    );
    await expectDocumented(
      await tocsin.request(`${incident}/transitions/reopen`, { method: 'POST' }),
      '/api/v1/incidents/{id}/transitions/{action}',
      'post',
    );
    await expectDocumented(
      await tocsin.request(
        incident,
        json({ assignee: 'x' }, { method: 'PATCH', headers: { 'If-Match': '"999"' } }),
      ),
      '/api/v1/incidents/{id}',
      'patch',
    );
    await expectDocumented(
      await tocsin.request('/api/v1/incidents', { token: null }),
      '/api/v1/incidents',
      'get',
    );
  });

  it('of the correlation corrections match the document', async () => {
    const into = ids.incidents!;
    const moved = await tocsin.request(
      `/api/v1/alerts/${ids.alerts}/move`,
      json({ incidentId: into }),
    );
    expect(moved.status, await moved.clone().text()).toBe(200);
    await expectDocumented(moved, '/api/v1/alerts/{id}/move', 'post');
    const other = await created('/api/v1/incidents', { title: 'Disk full again' });
    const merged = await tocsin.request(
      `/api/v1/incidents/${into}/merge`,
      json({ incidentIds: [other.id] }),
    );
    expect(merged.status, await merged.clone().text()).toBe(200);
    await expectDocumented(merged, '/api/v1/incidents/{id}/merge', 'post');
    const all = await tocsin.request(
      `/api/v1/incidents/${into}/split`,
      json({ alertIds: [ids.alerts] }),
    );
    expect(all.status).toBe(422);
    await expectDocumented(all, '/api/v1/incidents/{id}/split', 'post');
    await expectDocumented(
      await tocsin.request(`/api/v1/incidents/${into}/merge`, json({ incidentIds: [into] })),
      '/api/v1/incidents/{id}/merge',
      'post',
    );
  });

  it('follow the documented roles: no token is a 401, a viewer may do what viewers may', async () => {
    const user = await created('/api/v1/users', { username: 'vera', roles: ['viewer'] });
    const viewer = (await created(`/api/v1/users/${user.id}/tokens`, { name: 't' }))
      .token as string;
    for (const [path, method, op] of operations()) {
      const role = op['x-tocsin-role'];
      const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) =>
        name === 'source'
          ? 'generic'
          : name === 'asset'
            ? 'init.js'
            : name === 'action'
              ? 'x'
              : '1',
      );
      const init = { method: method.toUpperCase() };
      const anonymous = await tocsin.request(concrete, { ...init, token: null });
      const asViewer = await tocsin.request(concrete, { ...init, token: viewer });
      const label = `${method} ${path} (${role})`;
      if (role === null) {
        expect(anonymous.status, label).toBe(200);
        expect(asViewer.status, label).toBe(200);
        continue;
      }
      expect(anonymous.status, label).toBe(401);
      if (role === 'viewer') expect([401, 403], label).not.toContain(asViewer.status);
      else expect(asViewer.status, label).toBe(403);
    }
  });
});
