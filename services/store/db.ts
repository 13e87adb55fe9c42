import pg from 'pg';

/** A pool or a transaction's client: store functions take either. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;
/** The connection pool type, re-exported so that callers need not import pg. */
export type Pool = pg.Pool;
/** A client checked out of the pool (a session: advisory locks live as long as it does). */
export type PoolClient = pg.PoolClient;

// bigint columns (ids, counts) arrive as strings; int8 ids stay strings on purpose (beyond 2^53).
// Timestamps arrive as ISO 8601 strings in UTC, read by pg's own parser: Date's cannot read every
// year PostgreSQL writes ("0015-02-18 10:26:00+00" is not a date to V8; reading it threw).
const readTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (
  text: string,
) => unknown;
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => {
  const at = readTimestamptz(v);
  return at instanceof Date && Number.isFinite(at.getTime()) ? at.toISOString() : v;
});
// A date is a calendar day (a warranty's end): kept as YYYY-MM-DD, never shifted by a time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

/** Opens a pool on DATABASE_URL. */
export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5000 });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  return pool;
}

/** Creates the database named in the URL when it does not exist (first start on a new server). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) throw new Error(`DATABASE_URL names no database: ${databaseUrl}`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return;
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } catch (err) {
    // Another process created it between our check and our CREATE.
    const code = (err as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw err;
  } finally {
    await client.end();
  }
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

/** A deadlock or a serialization failure: PostgreSQL undid the transaction, and asks for it again. */
export function isRetryableConflict(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

// Tries of a transaction that PostgreSQL undid for a deadlock or a serialization failure.
const TRANSACTION_TRIES = 4;

/**
 * Runs fn in a transaction on one client, committing on success and rolling back on error. A
 * transaction PostgreSQL undoes for a deadlock or a serialization failure (two requests, or a
 * request and the correlator, locking the same rows in another order) is run again, after a
 * short random pause, up to TRANSACTION_TRIES times: so fn must do nothing outside the
 * transaction that cannot be done twice.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      if (!isRetryableConflict(err) || attempt >= TRANSACTION_TRIES) throw err;
    } finally {
      client.release();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
  }
}

/** True for errors that mean PostgreSQL is unreachable (as opposed to a bad query). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (e.code && /^(08|57P0|53)/.test(e.code)) return true;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(e.code ?? '') ||
    /timeout exceeded when trying to connect|Connection terminated/i.test(e.message ?? '')
  );
}

/**
 * True for errors that say nothing about the data written and go away on a retry: PostgreSQL
 * unreachable, a deadlock or serialization failure (SQLSTATE class 40), a lock not available
 * (55P03). A statement timeout is not among them: one alert's write can cause it every time.
 */
export function isTransientError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    isConnectionError(err) ||
    (typeof code === 'string' && (code.startsWith('40') || code === '55P03'))
  );
}

/** A constraint the data broke, as the API should report it; null for any other error. */
export type ConstraintViolation = {
  kind: 'conflict' | 'missing-reference' | 'check';
  constraint: string;
  detail: string;
};

/**
 * Maps PostgreSQL's integrity errors (23505, 23503, 23514) and data exceptions (22xxx) to what a
 * caller can report.
 */
export function constraintViolation(err: unknown): ConstraintViolation | null {
  const e = err as { code?: string; constraint?: string; detail?: string; message?: string };
  const constraint = e.constraint ?? '';
  switch (e.code) {
    case '23505':
      return { kind: 'conflict', constraint, detail: e.detail ?? 'already exists' };
    case '23503':
      return {
        kind: 'missing-reference',
        constraint,
        detail: e.detail ?? 'refers to a record that does not exist',
      };
    case '23514':
      return { kind: 'check', constraint, detail: e.message ?? 'a value is out of range' };
    case undefined:
      return null;
    default:
      // Class 22, data exceptions: a value PostgreSQL cannot take (a crafted cursor, say).
      return e.code.startsWith('22')
        ? { kind: 'check', constraint, detail: e.message ?? 'a value is invalid' }
        : null;
  }
}

const LOCK_KEYS = `
-- Take transaction-scoped advisory locks on keys, in one global order so lockers never deadlock.
-- Params: keys.
SELECT count(pg_advisory_xact_lock(h)) FROM (
  SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1
) AS ordered`;

/** Serializes transactions that touch the same keys (CIs, fingerprints) across processes. */
export async function lockKeys(q: Queryable, keys: string[]): Promise<void> {
  if (keys.length > 0) await q.query(LOCK_KEYS, [keys]);
}
