import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
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
export type Principal = {
  name: string;
  roles: ReadonlySet<Role>;
  /** The ingest token's id; null for the admin token. */
  tokenId: string | null;
  /** The one source an ingest token may post to; null: any. */
  source: string | null;
  /** When set, the token's deliveries must be signed with this HMAC-SHA256 secret. */
  hmacSecret: string | null;
};

/** The Hono environment of authenticated routes: `c.get('principal')`. */
export type AuthEnv = { Variables: { principal: Principal } };

/** Resolves a presented token to a principal, or null when it is unknown. */
export type Authenticate = (token: string) => Promise<Principal | null>;

/** SHA-256 of a token: how tokens are stored and compared. */
export const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

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
export function adminAuthenticator(
  adminToken: string,
  next?: (token: string, tokenDigest: Buffer) => Promise<Principal | null>,
): Authenticate {
  const expected = digest(adminToken);
  const admin: Principal = {
    name: 'admin',
    roles: new Set(roles),
    tokenId: null,
    source: null,
    hmacSecret: null,
  };
  return async (token) => {
    const tokenDigest = digest(token);
    if (timingSafeEqual(tokenDigest, expected)) return admin;
    return next ? next(token, tokenDigest) : null;
  };
}

/**
 * A token as the store knows it: an ingest token (role `ingest`, bound to one source) or a
 * person's API token (the roles of the user and of the user's groups). User token ids start
 * with `u`, so that ingest and user token ids never collide.
 */
export type TokenGrant = {
  id: string;
  name: string;
  roles: readonly Role[];
  source: string | null;
  hmacSecret: string | null;
};

const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;

/**
 * Resolves API tokens through the store, caching each answer (known or unknown) for five
 * seconds so a busy sender costs no query per request; a revocation takes effect within that.
 * Uses are recorded in memory; `takeUses` hands them over to be written in one statement.
 */
export function tokenAuthenticator(lookup: (hash: Buffer) => Promise<TokenGrant | null>): {
  authenticate: (token: string, tokenDigest?: Buffer) => Promise<Principal | null>;
  takeUses(): Map<string, Date>;
} {
  // The principal is built once per cache entry: a busy sender's requests share it.
  const cache = new Map<string, { principal: Principal | null; expires: number }>();
  let uses = new Map<string, Date>();
  return {
    async authenticate(token, tokenDigest = digest(token)) {
      const key = tokenDigest.toString('base64');
      const now = Date.now();
      let entry = cache.get(key);
      if (!entry || entry.expires < now) {
        if (cache.size >= CACHE_MAX) cache.clear();
        const grant = await lookup(tokenDigest);
        entry = {
          principal: grant && {
            name: grant.name,
            roles: new Set<Role>(grant.roles),
            tokenId: grant.id,
            source: grant.source,
            hmacSecret: grant.hmacSecret,
          },
          expires: now + CACHE_TTL_MS,
        };
        cache.set(key, entry);
      }
      const principal = entry.principal;
      if (!principal) return null;
      uses.set(principal.tokenId!, new Date(now));
      return principal;
    },
    takeUses() {
      const taken = uses;
      uses = new Map();
      return taken;
    },
  };
}

/** Reads the bearer token of a request, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/**
 * The token a request presents: `Authorization: Bearer`, else `X-Api-Key`, else (only where
 * `allowQuery` is set, for tools that cannot set headers) the `token` query parameter.
 */
export function presentedToken(
  header: (name: string) => string | undefined,
  query: (name: string) => string | undefined,
  allowQuery: boolean,
): string | null {
  return (
    bearerToken(header('Authorization')) ??
    (header('X-Api-Key')?.trim() || null) ??
    (allowQuery ? query('token') || null : null)
  );
}

/** Middleware: the caller must hold `role` (or admin). Sets `principal` on the context. */
export function requireRole(
  authenticate: Authenticate,
  role: Role,
  options: { allowQueryToken?: boolean } = {},
): MiddlewareHandler<{ Variables: { principal: Principal } }> {
  return async (c, next) => {
    const token = presentedToken(
      (name) => c.req.header(name),
      (name) => c.req.query(name),
      options.allowQueryToken ?? false,
    );
    const principal = token === null ? null : await authenticate(token);
    if (!principal) throw unauthorized();
    if (!principal.roles.has(role) && !principal.roles.has('admin')) throw forbidden(role);
    c.set('principal', principal);
    await next();
  };
}
