import type { Queryable } from './db.ts';

/** An ingest token as listed: never the token or its secret, which are shown once. */
export type TokenRecord = {
  id: string;
  name: string;
  source: string;
  prefix: string;
  signed: boolean;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
};

/** What authentication needs of a token (see runtime/auth.ts, which this mirrors). */
export type TokenGrant = {
  id: string;
  name: string;
  roles: readonly (
    'ingest' | 'admin' | 'noc_operator' | 'problem_manager' | 'change_manager' | 'viewer'
  )[];
  source: string | null;
  hmacSecret: string | null;
};

type TokenRow = {
  id: string;
  name: string;
  source: string;
  token_prefix: string;
  hmac_secret: string | null;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
};

const COLUMNS = `id, name, source, token_prefix, hmac_secret, created_by, created_at, revoked_at,
  last_used_at`;

function toRecord(r: TokenRow): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    prefix: r.token_prefix,
    signed: r.hmac_secret !== null,
    createdBy: r.created_by,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

/** Stores a new token by its hash. */
export async function insertToken(
  q: Queryable,
  token: {
    name: string;
    source: string;
    hash: Buffer;
    prefix: string;
    hmacSecret: string | null;
    createdBy: string;
  },
): Promise<TokenRecord> {
  const { rows } = await q.query<TokenRow>(
    `-- A new ingest token. Params: name, source, hash, prefix, hmac secret, created by.
INSERT INTO ingest_tokens (name, source, token_hash, token_prefix, hmac_secret, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING ${COLUMNS}`,
    [token.name, token.source, token.hash, token.prefix, token.hmacSecret, token.createdBy],
  );
  return toRecord(rows[0]!);
}

/** Every token, newest first (a handful per installation: no paging needed beyond the limit). */
export async function listTokens(q: Queryable, limit: number): Promise<TokenRecord[]> {
  const { rows } = await q.query<TokenRow>(
    `-- Ingest tokens, newest first. Params: limit.
SELECT ${COLUMNS} FROM ingest_tokens ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows.map(toRecord);
}

/** Revokes a token; returns it, or null when there is none with that id. */
export async function revokeToken(q: Queryable, id: string): Promise<TokenRecord | null> {
  const { rows } = await q.query<TokenRow>(
    `-- Revoke a token (idempotent). Params: id.
UPDATE ingest_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1
RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/** The live (unrevoked) token with this hash, or null. */
export async function findTokenByHash(q: Queryable, hash: Buffer): Promise<TokenGrant | null> {
  const { rows } = await q.query<TokenRow>(
    `-- A live token by hash. Params: hash.
SELECT ${COLUMNS} FROM ingest_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hash],
  );
  const r = rows[0];
  return r
    ? {
        id: r.id,
        name: `token:${r.name}`,
        roles: ['ingest'],
        source: r.source,
        hmacSecret: r.hmac_secret,
      }
    : null;
}

/** The live token of an active user with this hash, acting with the user's and groups' roles. */
export async function findUserTokenByHash(q: Queryable, hash: Buffer): Promise<TokenGrant | null> {
  const { rows } = await q.query<{ id: string; username: string; roles: TokenGrant['roles'] }>(
    `-- A live user token by hash, with the roles of the user and of its groups. Params: hash.
SELECT t.id, u.username,
  ARRAY(SELECT DISTINCT r FROM unnest(u.roles || COALESCE(
    (SELECT array_agg(gr) FROM groups g, unnest(g.roles) AS gr WHERE g.name = ANY(u.groups)),
    '{}')) AS r) AS roles
FROM user_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active`,
    [hash],
  );
  const r = rows[0];
  return r
    ? { id: `u${r.id}`, name: `user:${r.username}`, roles: r.roles, source: null, hmacSecret: null }
    : null;
}

/** Records when tokens were last used (batched: one statement per table for many tokens). */
export async function touchTokens(q: Queryable, used: Map<string, Date>): Promise<void> {
  const entries = [...used];
  for (const [table, mine] of [
    ['ingest_tokens', entries.filter(([id]) => !id.startsWith('u'))],
    ['user_tokens', entries.filter(([id]) => id.startsWith('u'))],
  ] as const) {
    if (mine.length === 0) continue;
    await q.query(
      `-- Last use of tokens. Params: ids, times.
UPDATE ${table} t SET last_used_at = GREATEST(t.last_used_at, u.at)
FROM unnest($1::bigint[], $2::timestamptz[]) AS u(id, at) WHERE t.id = u.id`,
      [mine.map(([id]) => id.replace(/^u/, '')), mine.map(([, at]) => at.toISOString())],
    );
  }
}
