import type { Queryable } from './db.ts';

/** A person who uses Tocsin: roles of their own and those of their groups. */
export type User = {
  id: string;
  username: string;
  displayName: string | null;
  email: string | null;
  roles: string[];
  groups: string[];
  active: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
};

/** A group of people (an assignment group, a team) that holds roles. */
export type Group = {
  id: string;
  name: string;
  description: string | null;
  roles: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
};

const USER_COLUMNS = `id, username, display_name AS "displayName", email, roles, groups, active,
  version::int AS version, created_at AS "createdAt", updated_at AS "updatedAt"`;
const GROUP_COLUMNS = `id, name, description, roles, version::int AS version,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Creates a user. */
export async function insertUser(
  q: Queryable,
  user: Pick<User, 'username' | 'displayName' | 'email' | 'roles' | 'groups'>,
): Promise<User> {
  const { rows } = await q.query<User>(
    `-- Create a user. Params: username, display name, email, roles, groups.
INSERT INTO users (username, display_name, email, roles, groups) VALUES ($1, $2, $3, $4, $5)
RETURNING ${USER_COLUMNS}`,
    [user.username, user.displayName, user.email, user.roles, user.groups],
  );
  return rows[0]!;
}

/** Reads a user; `lock` holds it for the caller's transaction. */
export async function getUser(q: Queryable, id: string, lock = false): Promise<User | null> {
  const { rows } = await q.query<User>(
    `-- One user. Params: id.
SELECT ${USER_COLUMNS} FROM users WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

/** Changes some of a user's fields. */
export async function updateUser(
  q: Queryable,
  id: string,
  changes: Partial<Pick<User, 'displayName' | 'email' | 'roles' | 'groups' | 'active'>>,
): Promise<User> {
  const { rows } = await q.query<User>(
    `-- Update a user; a null parameter keeps the field. Params: id, display name, email, roles,
-- groups, active, and whether display name and email were given.
UPDATE users SET
  display_name = CASE WHEN $7 THEN $2 ELSE display_name END,
  email = CASE WHEN $8 THEN $3 ELSE email END,
  roles = COALESCE($4, roles), groups = COALESCE($5, groups), active = COALESCE($6, active),
  version = version + 1, updated_at = now()
WHERE id = $1
RETURNING ${USER_COLUMNS}`,
    [
      id,
      changes.displayName ?? null,
      changes.email ?? null,
      changes.roles ?? null,
      changes.groups ?? null,
      changes.active ?? null,
      'displayName' in changes,
      'email' in changes,
    ],
  );
  return rows[0]!;
}

/** Users by username. */
export async function listUsers(q: Queryable, limit: number): Promise<User[]> {
  const { rows } = await q.query<User>(
    `-- Users by name. Params: limit.\nSELECT ${USER_COLUMNS} FROM users ORDER BY username LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Creates a group. */
export async function insertGroup(
  q: Queryable,
  group: Pick<Group, 'name' | 'description' | 'roles'>,
): Promise<Group> {
  const { rows } = await q.query<Group>(
    `-- Create a group. Params: name, description, roles.
INSERT INTO groups (name, description, roles) VALUES ($1, $2, $3) RETURNING ${GROUP_COLUMNS}`,
    [group.name, group.description, group.roles],
  );
  return rows[0]!;
}

/** Groups by name. */
export async function listGroups(q: Queryable, limit: number): Promise<Group[]> {
  const { rows } = await q.query<Group>(
    `-- Groups by name. Params: limit.\nSELECT ${GROUP_COLUMNS} FROM groups ORDER BY name LIMIT $1`,
    [limit],
  );
  return rows;
}

/** The names among `names` that are no group. */
export async function unknownGroups(q: Queryable, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await q.query<{ name: string }>(
    `-- Names that are no group. Params: names.
SELECT n AS name FROM unnest($1::text[]) AS n WHERE NOT EXISTS (SELECT 1 FROM groups WHERE name = n)`,
    [names],
  );
  return rows.map((r) => r.name);
}

/** A user's API token as listed: never the token itself. */
export type UserToken = {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
};

const TOKEN_COLUMNS = `id, name, token_prefix AS prefix, created_at AS "createdAt",
  revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`;

/** Stores a user's new API token by its hash. */
export async function insertUserToken(
  q: Queryable,
  userId: string,
  token: { name: string; hash: Buffer; prefix: string },
): Promise<UserToken> {
  const { rows } = await q.query<UserToken>(
    `-- A user's new API token. Params: user id, name, hash, prefix.
INSERT INTO user_tokens (user_id, name, token_hash, token_prefix) VALUES ($1, $2, $3, $4)
RETURNING ${TOKEN_COLUMNS}`,
    [userId, token.name, token.hash, token.prefix],
  );
  return rows[0]!;
}

/** A user's tokens, newest first. */
export async function listUserTokens(q: Queryable, userId: string): Promise<UserToken[]> {
  const { rows } = await q.query<UserToken>(
    `-- A user's tokens. Params: user id.
SELECT ${TOKEN_COLUMNS} FROM user_tokens WHERE user_id = $1 ORDER BY id DESC`,
    [userId],
  );
  return rows;
}

/** Revokes one of a user's tokens; null when there is no such token. */
export async function revokeUserToken(
  q: Queryable,
  userId: string,
  tokenId: string,
): Promise<UserToken | null> {
  const { rows } = await q.query<UserToken>(
    `-- Revoke a user's token. Params: user id, token id.
UPDATE user_tokens SET revoked_at = COALESCE(revoked_at, now())
WHERE user_id = $1 AND id = $2 RETURNING ${TOKEN_COLUMNS}`,
    [userId, tokenId],
  );
  return rows[0] ?? null;
}
