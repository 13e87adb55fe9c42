import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MiddlewareHandler } from 'hono';
import { forbidden, unauthorized } from './problem.ts';

/** Roles a token may hold; `admin` implies every other. */
export const roles = [
  'admin',
  'noc_operator',
  'problem_manager',
  'change_manager',
  'viewer',
  'ingest',
] as const;
/** One role. */
export type Role = (typeof roles)[number];

/** Who is calling: resolved from a token. */
export type Principal = { name: string; roles: ReadonlySet<Role> };

/** Resolves a presented token to a principal, or null when it is unknown. */
export type Authenticate = (token: string) => Promise<Principal | null>;

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The admin token: TOCSIN_ADMIN_TOKEN when set, otherwise the token kept in the token file,
 * created on first start (so a fresh install is never open, and still needs no set-up).
 */
export function resolveAdminToken(config: {
  adminToken: string | undefined;
  adminTokenFile: string;
}): { token: string; created: boolean } {
  if (config.adminToken) return { token: config.adminToken, created: false };
  const file = config.adminTokenFile;
  mkdirSync(dirname(file), { recursive: true });
  const token = `tsn_${randomBytes(24).toString('base64url')}`;
  // Written aside, then linked into place: a process starting at the same moment either wins the
  // link or reads a complete file, never a half-written one.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, token + '\n', { mode: 0o600 });
  try {
    linkSync(draft, file);
    return { token, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { token: readFileSync(file, 'utf8').trim(), created: false };
  } finally {
    unlinkSync(draft);
  }
}

/** An authenticator that knows the admin token only (API tokens come with the tokens store). */
export function adminAuthenticator(adminToken: string, next?: Authenticate): Authenticate {
  const expected = digest(adminToken);
  const admin: Principal = { name: 'admin', roles: new Set(roles) };
  return async (token) => {
    if (timingSafeEqual(digest(token), expected)) return admin;
    return next ? next(token) : null;
  };
}

/** Reads the bearer token of a request, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/** Middleware: the caller must hold `role` (or admin). Sets `principal` on the context. */
export function requireRole(
  authenticate: Authenticate,
  role: Role,
): MiddlewareHandler<{ Variables: { principal: Principal } }> {
  return async (c, next) => {
    const token = bearerToken(c.req.header('Authorization'));
    const principal = token === null ? null : await authenticate(token);
    if (!principal) throw unauthorized();
    if (!principal.roles.has(role) && !principal.roles.has('admin')) throw forbidden(role);
    c.set('principal', principal);
    await next();
  };
}
