import { z } from 'zod';
import type { Role } from './auth.ts';

/** The problem statuses a route may answer; each is an RFC 9457 `application/problem+json`. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 429 | 503;

/** A request header a route reads. */
export type RequestHeader = 'If-Match' | 'Idempotency-Key' | 'X-Tocsin-Signature';

/**
 * One route as the OpenAPI document describes it. Route modules declare these beside their
 * handlers, and the handlers validate with the very schema objects named here (`parseQuery(c,
 * doc.query)`, `parseJsonBody(c, doc.body)`), so the document cannot say one thing while the route
 * checks another.
 */
export type RouteDoc = {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The full path with `{name}` for each parameter: `/api/v1/incidents/{id}`. */
  path: string;
  /** The group it is listed under. */
  tag: string;
  summary: string;
  description?: string;
  /** The role the caller needs (`admin` holds every role); null: no token is needed. */
  role: Role | null;
  /** Path parameters; a parameter not named here takes the document's default (a record id). */
  params?: Record<string, z.ZodType>;
  /** The query parameters exactly as `parseQuery` reads them: anything else is a 400. */
  query?: z.ZodRawShape;
  headers?: readonly RequestHeader[];
  /** The JSON body exactly as `parseJsonBody` validates it. */
  body?: z.ZodType;
  /** The body may be left out (a transition that needs no input). */
  bodyOptional?: true;
  /** Media types read besides `application/json`, each with what it carries. */
  otherMediaTypes?: Record<string, string>;
  response: {
    status: 200 | 201 | 202;
    description: string;
    schema: z.ZodType;
    /** `application/json` unless given. */
    mediaType?: string;
    headers?: readonly ('ETag' | 'Location' | 'Cache-Control')[];
  };
  /**
   * Problems particular to this route, with what they mean here when that says more than the
   * status. Those every route of its kind answers are added: 401 and 403 where a role is needed,
   * 400 where a query or body is read, 415 where a body is.
   */
  errors: readonly (ProblemStatus | readonly [ProblemStatus, string])[];
  /** The token may also come as the `token` query parameter (for tools that cannot set headers). */
  queryToken?: true;
};

/** An RFC 9457 problem document as `runtime/problem.ts` renders it. */
export const problemSchema = z
  .looseObject({
    type: z
      .string()
      .meta({ description: '`https://tocsin.dev/problems/<code>`; the code is stable.' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional().meta({ description: 'The request path.' }),
    pointer: z.string().optional().meta({
      description:
        'A JSON pointer (RFC 6901) to the first wrong input: `/field` in the body, `/query/name` in the query.',
    }),
    errors: z
      .array(z.object({ pointer: z.string(), detail: z.string() }))
      .optional()
      .meta({ description: 'Every wrong input field (400).' }),
  })
  .meta({
    title: 'Problem',
    description:
      'RFC 9457 problem details. Some problems add members: `allowed` and `state` (409 on a transition), `currentVersion` (412).',
  });

/** A page of a list: its items and the cursor of the next page (null on the last). */
export const pageOf = (item: z.ZodType) =>
  z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  });

const problemMeaning: Record<ProblemStatus, string> = {
  400: 'The request is invalid: `pointer` and `errors[].pointer` name each wrong field.',
  401: 'No valid token.',
  403: 'The token lacks the role this route needs.',
  404: 'No such record.',
  409: 'Conflict with the stored state.',
  412: '`If-Match` names another version than the current one; read the record again.',
  413: 'The body is larger than `TOCSIN_MAX_BODY_BYTES`.',
  415: 'The body is not of a media type this route reads.',
  422: 'The request is well-formed but cannot be carried out as sent.',
  429: 'Over the rate limit; retry after `Retry-After` seconds.',
  503: 'A dependency (PostgreSQL; Elasticsearch for search) is away, or the request bodies being read fill `TOCSIN_MAX_BODY_BYTES_IN_FLIGHT`; retry after `Retry-After` seconds.',
};

const requestHeaders: Record<RequestHeader, { description: string }> = {
  'If-Match': {
    description:
      'The `ETag` you read (`"<version>"`): another current version answers 412. Absent or `*`: no check.',
  },
  'Idempotency-Key': {
    description:
      '1–255 characters: a delivery repeated with the same key and body is accepted once.',
  },
  'X-Tocsin-Signature': {
    description:
      'Required when the token signs its deliveries: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.',
  },
};

const responseHeaders = {
  ETag: 'The record version as a strong ETag (`"<version>"`), for `If-Match`.',
  Location: 'The path of the new record.',
  'Cache-Control': '`no-store`: the answer holds a secret shown this once.',
  'Retry-After': 'Seconds to wait before retrying.',
  'WWW-Authenticate': '`Bearer realm="tocsin"`.',
};

const header = (description: string) => ({ description, schema: { type: 'string' } });

type JsonSchema = Record<string, unknown>;

/** A zod schema as a JSON Schema 2020-12 object, which OpenAPI 3.1 takes as is. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  const { $schema: _, ...rest } = converted as JsonSchema;
  // Inside an OpenAPI document `#/$defs/…` would resolve against the document, not the schema.
  if ('$defs' in rest) throw new Error('A documented schema must not be recursive.');
  return rest;
}

function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\//, '')
    .split(/[/.-]/)
    .filter((w) => w !== '')
    .map((w) => (w.startsWith('{') ? `by-${w.slice(1, -1)}` : w))
    .flatMap((w) => w.split('-'));
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

function parameters(route: RouteDoc, pathParam: z.ZodType): JsonSchema[] {
  const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const path = inPath.map((name) => {
    const { description, ...schema } = jsonSchema(route.params?.[name] ?? pathParam, 'input');
    return { name, in: 'path', required: true, ...(description ? { description } : {}), schema };
  });
  const query = route.query
    ? (() => {
        const object = jsonSchema(z.strictObject(route.query), 'input') as {
          properties?: Record<string, JsonSchema>;
          required?: string[];
        };
        return Object.entries(object.properties ?? {}).map(([name, prop]) => {
          const { description, ...schema } = prop;
          return {
            name,
            in: 'query',
            required: object.required?.includes(name) ?? false,
            ...(description ? { description } : {}),
            schema,
          };
        });
      })()
    : [];
  const headers = (route.headers ?? []).map((name) => ({
    name,
    in: 'header',
    required: false,
    ...requestHeaders[name],
    schema: { type: 'string' },
  }));
  return [...path, ...query, ...headers];
}

function roleText(route: RouteDoc): string {
  if (route.role === null) return 'Needs no token.';
  const ways = route.queryToken
    ? '`Authorization: Bearer`, `X-Api-Key` or the `token` query parameter'
    : '`Authorization: Bearer` or `X-Api-Key`';
  return `Needs the role \`${route.role}\` (\`admin\` holds every role); the token comes as ${ways}.`;
}

function operation(route: RouteDoc, pathParam: z.ZodType): JsonSchema {
  const problems = new Map<ProblemStatus, string>();
  const add = (status: ProblemStatus, meaning?: string) =>
    problems.set(status, meaning ?? problems.get(status) ?? problemMeaning[status]);
  if (route.role !== null) {
    add(401);
    add(403);
  }
  if (route.query || route.body) add(400);
  if (route.body) add(415);
  for (const e of route.errors) {
    if (typeof e === 'number') add(e);
    else add(e[0], e[1]);
  }

  const { response } = route;
  const responses: Record<string, unknown> = {
    [response.status]: {
      description: response.description,
      ...(response.headers
        ? {
            headers: Object.fromEntries(
              response.headers.map((h) => [h, header(responseHeaders[h])]),
            ),
          }
        : {}),
      content: {
        [response.mediaType ?? 'application/json']: {
          schema: jsonSchema(response.schema, 'output'),
        },
      },
    },
  };
  for (const [status, description] of [...problems].sort(([a], [b]) => a - b)) {
    const headers =
      status === 401
        ? { 'WWW-Authenticate': header(responseHeaders['WWW-Authenticate']) }
        : status === 429 || status === 503
          ? { 'Retry-After': header(responseHeaders['Retry-After']) }
          : null;
    responses[status] = {
      description,
      ...(headers ? { headers } : {}),
      content: {
        'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
      },
    };
  }

  const body = route.body
    ? {
        requestBody: {
          required: !route.bodyOptional,
          content: {
            'application/json': { schema: jsonSchema(route.body, 'input') },
            ...Object.fromEntries(
              Object.entries(route.otherMediaTypes ?? {}).map(([type, description]) => [
                type,
                { schema: { type: 'string', description } },
              ]),
            ),
          },
        },
      }
    : {};
  const params = parameters(route, pathParam);
  return {
    operationId: operationId(route.method, route.path),
    tags: [route.tag],
    summary: route.summary,
    description: [route.description, roleText(route)].filter(Boolean).join('\n\n'),
    'x-tocsin-role': route.role,
    ...(route.role === null
      ? { security: [] }
      : route.queryToken
        ? { security: [{ bearer: [] }, { apiKey: [] }, { queryToken: [] }] }
        : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...body,
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of these routes. Schemas come from the routes' zod schemas through
 * zod's JSON Schema output (2020-12, the dialect of OpenAPI 3.1): request parts as the input
 * type, responses as the output type. `pathParam` is the schema of a path parameter a route does
 * not describe (a record id). A route listed twice is an error.
 */
export function openApiDocument(
  routes: readonly RouteDoc[],
  options: { title: string; version: string; description: string; pathParam: z.ZodType },
): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags: string[] = [];
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`${route.method} ${route.path} is documented twice.`);
    item[route.method] = operation(route, options.pathParam);
    if (!tags.includes(route.tag)) tags.push(route.tag);
  }
  return {
    openapi: '3.1.1',
    info: { title: options.title, version: options.version, description: options.description },
    tags: tags.map((name) => ({ name })),
    security: [{ bearer: [] }, { apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A Tocsin token: the admin token, a person’s API token or an ingest token.',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Api-Key',
          description: 'The same token, for clients that cannot set `Authorization`.',
        },
        queryToken: {
          type: 'apiKey',
          in: 'query',
          name: 'token',
          description:
            'The same token in the query string: ingest only, for tools that set no headers.',
        },
      },
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
    },
  };
}
