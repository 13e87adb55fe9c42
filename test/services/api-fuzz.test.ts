/**
 * Every route of the API under hostile input: requests built from the OpenAPI document's own
 * schemas (so most get past the first check and reach the handlers and PostgreSQL), with one
 * part or another mutated into a hostile value: a wrong type, an absurd number, a huge or
 * poisoned string, deep nesting, a broken body, a wrong media type, an odd If-Match, an id that
 * does not exist or is not an id. Whatever comes in, the answer is never a 5xx, every error is
 * an RFC 9457 problem, and every success is what the document says (its status, media type and
 * body schema). The ingest route has its own fuzz test (test/ingest/fuzz.test.ts).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/random.ts';
import { readFixture } from '../support/fixtures.ts';
import { eventually, jsonRequest, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

// Fixed, so that a failure reproduces; FUZZ_SEED=<n> (and FUZZ_RUNS_PER_OPERATION) explore
// other inputs.
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_130);
const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS_PER_OPERATION ?? 40);
const CONCURRENCY = 6;

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
  pattern?: string;
  prefixItems?: Schema[];
  propertyNames?: Schema;
};
type Parameter = { name: string; in: string; required?: boolean; schema: Schema };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
};
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** Values no schema asks for, of every shape. */
const HOSTILE: readonly unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  Number.MIN_VALUE,
  '',
  ' ',
  'x'.repeat(70_000),
  '\u0000',
  'a\u0000b',
  '\ud800',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ مرحبا',
  '__proto__',
  'constructor',
  "' OR 1=1 --",
  '%00%2e%2e/%2f',
  '9999999999999999999999999',
  '-0',
  'NaN',
  'Infinity',
  '2026-13-45T99:99:99Z',
  '0000-00-00',
  '275760-09-13T00:00:00.001Z',
  '*:*',
  '(((((((',
  'state:open AND (',
  'a\\',
  true,
  false,
  {},
  [],
  [null],
  { __proto__: { polluted: true } },
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}'),
  Array.from({ length: 2_000 }, (_, i) => i),
  nested(300),
];

const HOSTILE_IDS = [
  '0',
  '-1',
  '1.5',
  '1e3',
  'abc',
  ' 1',
  'INC0001001',
  '99999999999999999999999',
  '9223372036854775807',
  '9223372036854775808',
  '%00',
  '..',
  'x'.repeat(3_000),
  '١٢٣',
];

const IF_MATCH = ['"1"', '*', 'W/"1"', '"abc"', '', '"99999999999999999999"', '1', '"-1"'];

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/xml',
];

const RAW_BODIES = ['', '{', '[]', 'null', '"x"', '{"a":}', '\u0000', 'x'.repeat(100_000), '{}{}'];

/**
 * Plausible values of fields whose schema is only "a string": without them nearly every request
 * would stop at the first check, and the handlers behind it would go untested.
 */
const PLAUSIBLE: Record<string, readonly string[]> = {
  timezone: ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'],
  sort: ['-id', 'id', 'title', '-priority', 'openedAt', '-updatedAt', 'name'],
  filter: ['state=new|in_progress', 'priority<=2', 'state!=closed;priority>1', 'title=Disk full'],
  fields: ['id,title', 'id,state,priority', 'id,name'],
  state: ['new', 'new,in_progress', 'open', 'candidate'],
  currency: ['EUR', 'USD'],
  source: ['generic', 'alertmanager', 'zabbix'],
  ci: ['db-ledger', 'app-billing'],
  direction: ['upstream', 'downstream', 'both'],
  type: ['incident', 'problem', 'change', 'normal', 'standard', 'emergency'],
};

/** The collection a field or parameter names by id: `incidentIds` → incidents. */
function collectionOf(name: string | undefined): string | undefined {
  const base = name?.replace(/Ids?$/, '');
  if (!base) return undefined;
  const kebab = base.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return kebab.endsWith('s') ? kebab : `${kebab}s`;
}

const RECORD_ID = '^[1-9]\\d{0,18}$';

class Generator {
  constructor(
    private readonly doc: Document,
    readonly next: () => number,
    private readonly ids: Readonly<Record<string, string[]>>,
  ) {}

  /** A record's id: mostly one that exists, of the kind the name says if it says one. */
  id(name: string | undefined): string {
    const known = this.ids[collectionOf(name) ?? ''] ?? Object.values(this.ids).flat();
    return known.length > 0 && !this.chance(0.2) ? this.pick(known) : this.pick(HOSTILE_IDS);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)]!;
  }

  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  resolve(schema: Schema): Schema {
    let s = schema;
    for (let i = 0; s.$ref !== undefined && i < 20; i++)
      s = this.doc.components.schemas[s.$ref.split('/').at(-1)!] ?? {};
    return s;
  }

  string(s: Schema, name?: string): string {
    const plausible = name === undefined ? undefined : PLAUSIBLE[name];
    if (plausible && this.chance(0.8)) return this.pick(plausible);
    if (s.pattern === RECORD_ID) return this.id(name);
    if (s.pattern !== undefined) {
      const [text] = fc.sample(fc.stringMatching(new RegExp(s.pattern)), {
        seed: this.int(0, 2 ** 31),
        numRuns: 1,
      });
      return s.maxLength === undefined ? text! : text!.slice(0, s.maxLength);
    }
    if (s.format === 'date') return this.string({ format: 'date-time' }).slice(0, 10);
    if (s.format === 'date-time')
      return new Date(Date.UTC(2026, 10, 1) + this.int(-1e9, 1e9) * 1000).toISOString();
    if (s.format === 'email') return `p${this.int(0, 99)}@example.com`;
    const words = ['disk', 'db-ledger', 'full', 'open', 'latency', 'x', 'INC0001001', 'app-1'];
    const length = Math.max(s.minLength ?? 1, 1);
    let text = this.pick(words);
    while (text.length < length) text += `-${this.pick(words)}`;
    return s.maxLength === undefined ? text : text.slice(0, Math.max(s.maxLength, 0));
  }

  /** A value the schema allows, more or less; each part is hostile with probability `mutate`. */
  value(schema: Schema, mutate: number, depth = 0, name?: string): unknown {
    if (this.chance(mutate)) return this.pick(HOSTILE);
    const s = this.resolve(schema);
    if (s.const !== undefined) return s.const;
    if (s.enum) return this.pick(s.enum);
    const choices = s.anyOf ?? s.oneOf;
    if (choices && choices.length > 0) return this.value(this.pick(choices), mutate, depth, name);
    if (s.allOf && s.allOf.length > 0) return this.value(s.allOf[0]!, mutate, depth, name);
    const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
    const type = types.length > 0 ? this.pick(types) : s.properties ? 'object' : 'string';
    switch (type) {
      case 'null':
        return null;
      case 'boolean':
        return this.chance(0.5);
      case 'integer':
      case 'number': {
        const low = s.minimum ?? 0;
        const high = Math.min(s.maximum ?? low + 100, low + 1e6);
        const n = low + this.next() * (high - low);
        return type === 'integer' ? Math.round(n) : n;
      }
      case 'array': {
        if (depth > 6) return [];
        if (s.prefixItems) {
          const tuple = s.prefixItems.map((item) => this.value(item, mutate, depth + 1));
          // A pair of strings is most often a range (opening hours): given in order.
          return tuple.every((v) => typeof v === 'string') ? tuple.sort() : tuple;
        }
        const count = this.int(s.minItems ?? 0, Math.min(s.maxItems ?? 3, (s.minItems ?? 0) + 3));
        return Array.from({ length: count }, () =>
          this.value(s.items ?? {}, mutate, depth + 1, name),
        );
      }
      case 'object': {
        if (depth > 6) return {};
        const out: Record<string, unknown> = {};
        for (const [name, property] of Object.entries(s.properties ?? {}))
          if ((s.required ?? []).includes(name) ? !this.chance(mutate) : this.chance(0.5))
            out[name] = this.value(property, mutate, depth + 1, name);
        const keys = this.resolve(s.propertyNames ?? {}).enum;
        if (keys && typeof s.additionalProperties === 'object')
          for (const key of keys)
            if (this.chance(0.4))
              out[String(key)] = this.value(s.additionalProperties, mutate, depth + 1);
        if (this.chance(mutate)) out[this.pick(['extra', '__proto__', 'id', ''])] = 1;
        return out;
      }
      default:
        return this.string(s, name);
    }
  }
}

type Sent = {
  method: string;
  op: string;
  path: string;
  init: RequestInit & { token?: string | null };
  /**
   * Whether a path parameter is a dot segment (`..`): every URL parser resolves it, so the
   * request goes to another route than the one it was built for (whose roles then apply).
   */
  elsewhere: boolean;
};

let tocsin: TestTocsin;
let doc: Document;
const ids: Record<string, string[]> = {};
// The document's schemas compiled where they stand, so `#/components/…` resolves as in OpenAPI.
let bodiesChecked = 0;
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true, logger: false });
const pointer = (...segments: string[]) =>
  `openapi#/${segments.map((s) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;

/**
 * What is wrong with a successful answer, if anything: a status the operation does not
 * document, a media type it does not list, or a JSON body its schema refuses.
 */
function undocumented(sent: Sent, res: Response, body: string): string | null {
  const op = doc.paths[sent.op]![sent.method]!;
  const response = op.responses[String(res.status)];
  if (response === undefined) return `status ${res.status} not documented`;
  const mediaType = (res.headers.get('Content-Type') ?? '').split(';')[0]!;
  const content = response.content ?? {};
  if (Object.keys(content).length === 0)
    return body === '' ? null : 'a body where none is documented';
  if (!(mediaType in content)) return `media type ${mediaType} not documented`;
  if (!mediaType.endsWith('json')) return null;
  const validate = ajv.getSchema(
    pointer(
      'paths',
      sent.op,
      sent.method,
      'responses',
      String(res.status),
      'content',
      mediaType,
      'schema',
    ),
  );
  if (!validate) return 'no schema';
  bodiesChecked++;
  return validate(JSON.parse(body)) ? null : ajv.errorsText(validate.errors);
}

/** Some records of each kind, so that requests with a real id reach the handlers' depths. */
async function seed(): Promise<void> {
  const made = async (path: string, body: unknown): Promise<string> => {
    const res = await tocsin.request(path, jsonRequest(body));
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  ids.incidents = [await made('/api/v1/incidents', { title: 'Disk full on db-ledger' })];
  ids.problems = [await made('/api/v1/problems', { title: 'Disks fill up' })];
  ids.changes = [await made('/api/v1/changes', { title: 'Grow disks', type: 'normal' })];
  ids.assets = [await made('/api/v1/assets', { tag: 'A-1', model: 'R650' })];
  ids.services = [await made('/api/v1/services', { name: 'ledger', kind: 'technical' })];
  ids['known-errors'] = [
    await made('/api/v1/known-errors', {
      title: 'Disk fills with WAL',
      symptom: 'WAL volume full',
      workaround: 'Rotate WAL',
      problemId: ids.problems[0],
    }),
  ];
  ids.users = [await made('/api/v1/users', { username: 'fuzz', roles: ['viewer'] })];
  ids.tokens = [await made('/api/v1/tokens', { name: 'fuzz', source: 'generic' })];
  const imported = await tocsin.request(
    '/api/v1/cmdb/import',
    jsonRequest({
      cis: [
        { name: 'db-ledger', class: 'database' },
        { name: 'app-billing', class: 'application' },
      ],
      relationships: [{ source: 'app-billing', target: 'db-ledger', type: 'depends_on' }],
    }),
  );
  expect(imported.status, await imported.clone().text()).toBe(200);
  const cis = (await (await tocsin.request('/api/v1/cis')).json()) as { items: { id: string }[] };
  ids.cis = cis.items.map((c) => c.id);
  ids.calendars = [
    await made('/api/v1/calendars', {
      name: 'office',
      timezone: 'Europe/Paris',
      hours: { mon: [['09:00', '17:00']] },
    }),
  ];
  ids.slas = [
    await made('/api/v1/slas', {
      name: 'gold',
      priorities: [1, 2],
      responseMinutes: 15,
      resolutionMinutes: 240,
      calendarId: ids.calendars[0],
    }),
  ];
  ids.groups = [await made('/api/v1/groups', { name: 'noc' })];
  await made(`/api/v1/users/${ids.users[0]}/tokens`, { name: 'laptop' });
  const userTokens = await tocsin.request(`/api/v1/users/${ids.users[0]}/tokens`);
  ids.tokens.push(
    ...((await userTokens.json()) as { items: { id: string }[] }).items.map((t) => t.id),
  );
  // Two alerts on one CI: one correlated incident the corrections can split, merge and move.
  for (const title of ['Disk full', 'Disk still full'])
    expect(
      (await tocsin.request('/api/v1/ingest/generic', jsonRequest({ title, ci: 'db-ledger' })))
        .status,
    ).toBe(202);
  const alerts = await eventually(
    async () => {
      const res = await tocsin.request('/api/v1/alerts');
      const { items } = (await res.json()) as { items: { id: string; incidentId: string }[] };
      return items.length === 2 && items.every((a) => a.incidentId) ? items : undefined;
    },
    { what: 'the alerts' },
  );
  ids.alerts = alerts.map((a) => a.id);
  ids.incidents.push(...new Set(alerts.map((a) => a.incidentId)));
  // A notice to acknowledge: an SNS subscription waiting for an admin.
  const confirmation = await tocsin.request('/api/v1/ingest/cloudwatch', {
    method: 'POST',
    body: readFixture('cloudwatch-sns', 'subscription-confirmation.json'),
    headers: { 'Content-Type': 'text/plain' },
  });
  expect(confirmation.status).toBe(202);
  const notices = await tocsin.request('/api/v1/notices');
  ids.notices = ((await notices.json()) as { items: { id: string }[] }).items.map((n) => n.id);
  expect(ids.notices).toHaveLength(1);
}

/** A value as the text of a parameter: a string as it is, anything else as JSON. */
const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** A path segment; a lone surrogate (which no URL can carry) as U+FFFD, as a browser sends it. */
const segment = (value: string) => encodeURIComponent(value.replace(/[\ud800-\udfff]/gu, '\ufffd'));

/** One request to an operation, built from its documented parameters and body. */
function build(g: Generator, path: string, method: string, op: Operation): Sent {
  const mutate = g.pick([0, 0, 0.03, 0.1, 0.3]);
  const collection = path.split('/')[3];
  const headers: Record<string, string> = {};
  const query = new URLSearchParams();
  let concrete = path;
  let elsewhere = false;
  for (const p of op.parameters ?? []) {
    if (p.in === 'path') {
      const value =
        p.name === 'id'
          ? g.id(collection)
          : p.name.endsWith('Id')
            ? g.id(p.name)
            : text(g.value(p.schema, mutate));
      elsewhere ||= /^\.{1,2}$/.test(value);
      concrete = concrete.replace(`{${p.name}}`, segment(value || 'x'));
    } else if (p.in === 'query' && (p.required || g.chance(p.name === 'cursor' ? 0.05 : 0.3))) {
      const v = g.value(p.schema, mutate, 0, p.name);
      query.append(p.name, text(v));
    } else if (p.in === 'header' && g.chance(0.5)) {
      headers[p.name] =
        p.name === 'If-Match' ? g.pick(IF_MATCH) : String(g.value(p.schema, mutate));
    }
  }
  const init: Sent['init'] = { method: method.toUpperCase(), headers };
  const content = op.requestBody?.content;
  if (content) {
    const [mediaType, { schema }] = g.pick(Object.entries(content));
    const roll = g.next();
    if (roll < 0.1) {
      headers['Content-Type'] = mediaType;
      init.body = g.pick(RAW_BODIES);
    } else if (roll < 0.18) {
      headers['Content-Type'] = g.pick(CONTENT_TYPES);
      init.body = JSON.stringify(g.value(schema, mutate));
    } else if (roll < 0.22) {
      // No body, no media type.
    } else {
      headers['Content-Type'] = mediaType;
      const value = g.value(schema, mutate);
      init.body = mediaType.includes('json')
        ? JSON.stringify(value)
        : typeof value === 'string'
          ? value
          : `name,class\n${String(g.pick(HOSTILE))},database\n`;
    }
  }
  const search = query.toString();
  return { method, op: path, path: search ? `${concrete}?${search}` : concrete, init, elsewhere };
}

const describeRequest = ({ method, path, init }: Sent) =>
  `${method.toUpperCase()} ${path.slice(0, 300)} ${JSON.stringify(init.headers)} ` +
  `${typeof init.body === 'string' ? init.body.slice(0, 300) : ''}`;

beforeAll(async () => {
  tocsin = await startTestTocsin();
  const res = await tocsin.request('/api/v1/openapi.json', { token: null });
  doc = (await res.json()) as Document;
  ajv.addSchema(doc, 'openapi');
  await seed();
}, 120_000);
afterAll(() => tocsin?.destroy());

describe('every API route under hostile input', () => {
  it('answers 2xx or an RFC 9457 4xx problem, never a 5xx, and keeps serving', async () => {
    const draws = createRandom(SEED);
    const g = new Generator(doc, () => draws.next(), ids);
    const requests: Sent[] = [];
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        // The ingest route has its own fuzz test; the documentation routes serve files.
        if (path.startsWith('/api/v1/ingest/') || path.startsWith('/api/v1/docs')) continue;
        for (let i = 0; i < RUNS_PER_OPERATION; i++) requests.push(build(g, path, method, op));
      }
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    // The operations some request got past validation of (an answer other than 400 and 415).
    const reached = new Set<string>();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const sent = requests[next++]!;
        const res = await tocsin.request(sent.path, sent.init);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status !== 400 && res.status !== 415) reached.add(`${sent.method} ${sent.op}`);
        const text = await res.text();
        if (res.status >= 500) failures.push(`${res.status} ← ${describeRequest(sent)}\n  ${text}`);
        else if (res.status < 300 && !sent.elsewhere) {
          const wrong = undocumented(sent, res, text);
          if (wrong !== null)
            failures.push(
              `undocumented answer (${wrong}): ${res.status} ← ${describeRequest(sent)}\n  ${text.slice(0, 500)}`,
            );
        } else if (res.status >= 400) {
          const type = res.headers.get('Content-Type') ?? '';
          let problem: { status?: unknown; title?: unknown } = {};
          try {
            problem = JSON.parse(text) as typeof problem;
          } catch {
            // Reported below.
          }
          if (
            !type.startsWith('application/problem+json') ||
            problem.status !== res.status ||
            typeof problem.title !== 'string'
          )
            failures.push(
              `not a problem: ${res.status} ${type} ← ${describeRequest(sent)}\n  ${text}`,
            );
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures.slice(0, 10).join('\n'), `${failures.length} bad answers`).toBe('');
    // The fuzz reached past validation: into all operations but a few whose bodies have rules
    // across fields no schema states (a calendar's opening hours must not overlap), and many
    // requests succeeded.
    const operations = new Set(requests.map((r) => `${r.method} ${r.op}`));
    const unreached = [...operations].filter((o) => !reached.has(o));
    expect(unreached.length, unreached.join(', ')).toBeLessThanOrEqual(2);
    expect(operations.size).toBeGreaterThan(70);
    const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
    const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
    expect(ok).toBeGreaterThan(requests.length / 10);
    // Most successes carry a JSON body, each checked against its documented schema.
    expect(bodiesChecked).toBeGreaterThan(ok / 2);
    expect(refused).toBeGreaterThan(requests.length / 10);
    // And it still serves.
    const health = await tocsin.request('/api/v1/incidents');
    expect(health.status).toBe(200);
  }, 600_000);
});
