import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ServerType } from '@hono/node-server';
import { pino } from 'pino';
import { expect, inject } from 'vitest';
import { loadConfig, type Config } from '../../runtime/config.ts';
import { listen } from '../../runtime/server.ts';
import { removeQueuesAndIndices } from '../../runtime/throwaway.ts';
import { processRoles, startTocsin, type ProcessRole, type Tocsin } from '../../runtime/tocsin.ts';
import { createTestDatabase } from './db.ts';

/** The admin token of test instances. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A Tocsin of a test's own: its own database, queue prefix and index prefix. */
export type TestTocsin = Tocsin & {
  config: Config;
  /** Sends a request through the app, no socket (Hono's app.request). */
  request(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /** Listens on a real socket on 127.0.0.1 and returns the base URL. */
  listen(): Promise<string>;
  /** Stops the app, its workers, the server, and drops its database, queues and indices. */
  destroy(): Promise<void>;
};

/** Starts Tocsin with the given roles against the real services, isolated from other tests. */
export async function startTestTocsin(
  options: {
    roles?: readonly ProcessRole[];
    env?: Record<string, string>;
    /** Another process of the same installation: same database, queues and indices. */
    sharing?: TestTocsin;
  } = {},
): Promise<TestTocsin> {
  const shared = options.sharing;
  const db = shared ? null : await createTestDatabase();
  const id = randomBytes(4).toString('hex');
  const config =
    shared?.config ??
    loadConfig({
      DATABASE_URL: db!.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      ELASTICSEARCH_URL: inject('elasticsearchUrl'),
      TOCSIN_ADMIN_TOKEN: ADMIN_TOKEN,
      TOCSIN_QUEUE_PREFIX: `test-${id}`,
      TOCSIN_INDEX_PREFIX: `test-${id}`,
      TOCSIN_SWEEP_CRON: '* * * * * *',
      // The hourly and daily jobs only where a test schedules them: with their defaults, a run
      // that crosses minute 17 would mine problems in every instance at once, and another not.
      TOCSIN_PROBLEM_MINING_CRON: '0 0 1 1 *',
      TOCSIN_RETENTION_CRON: '0 0 1 1 *',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...options.env,
    });
  const log = pino({ level: config.logLevel });
  const tocsin = await startTocsin(config, options.roles ?? processRoles, log);
  let server: ServerType | null = null;
  return {
    ...tocsin,
    config,
    request(path, init = {}) {
      const { token = ADMIN_TOKEN, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== null) headers.set('Authorization', `Bearer ${token}`);
      return Promise.resolve(tocsin.app.request(path, { ...rest, headers }));
    },
    listen() {
      return new Promise((resolve) => {
        server = listen(
          tocsin.app.fetch,
          { port: 0, hostname: '127.0.0.1', requestTimeoutMs: config.requestTimeoutMs },
          (info: AddressInfo) => resolve(`http://127.0.0.1:${info.port}`),
        );
      });
    },
    async destroy() {
      if (server) await new Promise((resolve) => server!.close(resolve));
      await tocsin.close();
      if (db) {
        await removeQueuesAndIndices(config);
        await db.drop();
      }
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs = 20_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err : new Error(JSON.stringify(err));
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`, {
        cause: last,
      });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A JSON POST for `TestTocsin.request`, optionally as another token and with more headers. */
export const jsonRequest = (
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
): RequestInit & { token?: string } => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'Content-Type': 'application/json', ...headers },
  ...(token === undefined ? {} : { token }),
});

/** Creates a person with these roles (as admin) and returns an API token acting as them. */
export async function personToken(
  tocsin: TestTocsin,
  username: string,
  roles: string[],
): Promise<string> {
  const user = await tocsin.request('/api/v1/users', jsonRequest({ username, roles }));
  expect(user.status).toBe(201);
  const { id } = (await user.json()) as { id: string };
  const token = await tocsin.request(`/api/v1/users/${id}/tokens`, jsonRequest({ name: 'test' }));
  expect(token.status).toBe(201);
  return ((await token.json()) as { token: string }).token;
}
