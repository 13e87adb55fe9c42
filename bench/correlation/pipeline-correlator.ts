/**
 * The correlation engine as a bench Correlator through the real pipeline: per tier a Tocsin of its
 * own (fresh database, queue prefix and index prefix; every role in this process, HTTP through
 * `app.request()`, no socket), the tier's CMDB imported with POST /api/v1/cmdb/import, the
 * deliveries posted in order to POST /api/v1/ingest/generic (HTTP ingest → inbox → queue →
 * correlator → PostgreSQL), then, once GET /api/v1/pipeline says pending 0, the incidents, root
 * causes and (after one run of the problem miner) candidate problems read back from PostgreSQL.
 *
 * Where it may differ from the in-process mode, by design: receipt time is the wall clock, not the
 * storm's `deliveredAt`, and the engine counts an alert's time to live from the later of the two,
 * so no alert expires during a storm of past event time. Problems come from the live miner
 * (correlator/problems.ts, with TOCSIN_PROBLEM_MIN_INCIDENTS) over the stored incidents; the
 * in-process mode runs the same rule (recurringPatterns) over the engine's incidents.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../runtime/config.ts';
import { startTocsin } from '../../runtime/tocsin.ts';
import { removeQueuesAndIndices } from '../../runtime/throwaway.ts';
import { mineProblems } from '../../correlator/problems.ts';
import { createPool, type Pool } from '../../services/store/db.ts';
import type { Correlator, Delivery, Prediction } from './correlator.ts';

/** Where the pipeline runs: the servers it uses, and how it posts. */
export type PipelineOptions = {
  /** A PostgreSQL server URL without a database; each tier gets a database of its own on it. */
  databaseServer: string;
  redisUrl: string;
  elasticsearchUrl: string;
  /** Alerts per ingest request (one JSON array each, posted one after the other). */
  batch: number;
  /** How long to wait for the correlator to drain the inbox. */
  drainTimeoutMs: number;
};

const defaults: PipelineOptions = {
  databaseServer: 'postgres://postgres@127.0.0.1:5432',
  redisUrl: 'redis://127.0.0.1:6379',
  elasticsearchUrl: 'http://127.0.0.1:9200',
  batch: 200,
  drainTimeoutMs: 30 * 60_000,
};

const DAY_MS = 24 * 60 * 60 * 1000;

/** The engine through HTTP ingest, the queue, the live correlator and PostgreSQL. */
export function enginePipeline(options: Partial<PipelineOptions> = {}): Correlator {
  const o = { ...defaults, ...options };
  return {
    name: 'engine (pipeline)',
    mode: 'pipeline',
    async correlate(stream, cmdb): Promise<Prediction> {
      const id = randomBytes(4).toString('hex');
      const database = `tocsin_bench_corr_${id}`;
      const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
      const config = loadConfig({
        DATABASE_URL: `${o.databaseServer}/${database}`,
        REDIS_URL: o.redisUrl,
        ELASTICSEARCH_URL: o.elasticsearchUrl,
        TOCSIN_ADMIN_TOKEN: adminToken,
        TOCSIN_QUEUE_PREFIX: `bench-corr-${id}`,
        TOCSIN_INDEX_PREFIX: `bench-corr-${id}`,
        TOCSIN_INGEST_RATE_LIMIT: '0',
        TOCSIN_INGEST_MAX_BACKLOG: String(Math.max(100_000, stream.length + 1)),
        // The bench mines problems once, over the storm's event time, after the stream is in.
        TOCSIN_PROBLEM_MINING_CRON: '0 0 1 1 *',
        LOG_LEVEL: 'warn',
      });
      const tocsin = await startTocsin(
        config,
        ['ingest', 'services', 'correlator'],
        pino({ level: 'warn' }),
      );
      const pool = createPool(config.databaseUrl, 2);
      const request = async (path: string, body?: unknown): Promise<Response> =>
        tocsin.app.request(path, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      try {
        await expectStatus(request('/api/v1/cmdb/import', cmdb), 200, 'CMDB import');
        for (let i = 0; i < stream.length; i += o.batch)
          await expectStatus(
            request(
              '/api/v1/ingest/generic',
              stream.slice(i, i + o.batch).map((d) => d.alert),
            ),
            202,
            `ingest of deliveries ${i}…`,
          );
        await drained(() => request('/api/v1/pipeline'), o.drainTimeoutMs);
        return await readPrediction(pool, config, stream);
      } finally {
        await pool.end();
        await tocsin.close();
        await cleanUp(config, database, o.databaseServer);
      }
    },
  };
}

async function expectStatus(res: Promise<Response>, status: number, what: string): Promise<void> {
  const r = await res;
  if (r.status !== status)
    throw new Error(`${what}: HTTP ${r.status} (expected ${status}): ${await r.text()}`);
}

/** Polls GET /api/v1/pipeline until nothing accepted is left uncorrelated. */
async function drained(pipeline: () => Promise<Response>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await pipeline();
    if (res.ok && ((await res.json()) as { pending: number }).pending === 0) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for the inbox to drain');
    await new Promise((r) => setTimeout(r, 250));
  }
}

// -- The inbox in id order, which is delivery order (posted one request after the other, each
// -- request's alerts in array order). Params: none.
const INBOX = `
SELECT alert->>'fingerprint' AS fingerprint, alert->>'status' AS status,
       alert->>'startsAt' AS starts_at, alert->>'endsAt' AS ends_at
FROM alert_inbox ORDER BY id`;

// -- Every stored alert episode with its incident. Params: none.
const ALERTS = `
SELECT fingerprint, episode, incident_id, starts_at FROM alerts ORDER BY fingerprint, episode`;

// -- Every incident, where it was merged into, and its ranked root causes. Params: none.
const INCIDENTS = `SELECT id, merged_into, root_cause FROM incidents`;

// -- The candidate problems the miner proposed, with the incidents of their evidence. Params: none.
const PROBLEMS = `SELECT id, evidence FROM problems WHERE evidence IS NOT NULL`;

type Episode = { episode: number; incident: string | null; startsAt: number };

async function readPrediction(
  pool: Pool,
  config: Config,
  stream: readonly Delivery[],
): Promise<Prediction> {
  const inbox = (
    await pool.query<{
      fingerprint: string;
      status: string;
      starts_at: string | null;
      ends_at: string | null;
    }>(INBOX)
  ).rows;
  if (inbox.length !== stream.length)
    throw new Error(`the inbox holds ${inbox.length} of ${stream.length} deliveries`);

  // Incidents merged into another answer as the one they ended in.
  const incidents = (
    await pool.query<{
      id: string;
      merged_into: string | null;
      root_cause: { ci: string }[];
    }>(INCIDENTS)
  ).rows;
  const mergedInto = new Map(incidents.map((i) => [i.id, i.merged_into]));
  const final = (id: string): string => {
    let at = id;
    for (let next = mergedInto.get(at); next != null; next = mergedInto.get(at)) at = next;
    return at;
  };

  const episodes = new Map<string, Episode[]>();
  for (const a of (
    await pool.query<{
      fingerprint: string;
      episode: number;
      incident_id: string | null;
      starts_at: string;
    }>(ALERTS)
  ).rows) {
    const list = episodes.get(a.fingerprint) ?? [];
    list.push({
      episode: a.episode,
      incident: a.incident_id === null ? null : final(a.incident_id),
      startsAt: Date.parse(a.starts_at),
    });
    episodes.set(a.fingerprint, list);
  }

  // Which episode a delivery went to is not stored per delivery. Re-sends and the resolve of an
  // episode carry its startsAt, and a new episode starts later than the one before it: so a
  // delivery goes to the latest episode of its fingerprint that started at or before its own
  // startsAt (its endsAt, or none, for a resolve without one), and to the first when none did.
  // Exact for re-sends and resolves; an approximation only for a delivery whose startsAt the
  // engine did not take as its episode's (a late delivery opening an episode before it).
  const incidentOf = inbox.map((d) => {
    const list = episodes.get(d.fingerprint);
    if (list === undefined || list.length === 0) return null;
    const when = Date.parse(d.starts_at ?? d.ends_at ?? '');
    let chosen = list[0]!;
    if (!Number.isNaN(when)) for (const e of list) if (e.startsAt <= when) chosen = e;
    return chosen.incident;
  });

  const rootCauses = new Map<string, string[]>();
  for (const i of incidents)
    if (i.merged_into === null)
      rootCauses.set(
        i.id,
        i.root_cause.map((c) => c.ci),
      );

  // Candidate problems: the miner once, as its cron would run it just after the storm, with the
  // live settings (look-back widened to cover the whole storm).
  // A loop, not Math.min(...times): tier C's 300,000 deliveries overflow the call stack.
  let first = Infinity;
  let last = -Infinity;
  for (const d of stream) {
    const t = Date.parse(d.alert.startsAt ?? d.deliveredAt);
    if (!Number.isFinite(t)) continue;
    first = Math.min(first, t);
    last = Math.max(last, t);
  }
  const now = new Date(last + DAY_MS);
  await mineProblems(
    pool,
    {
      lookbackDays: Math.max(
        config.problemLookbackDays,
        Math.ceil((now.getTime() - first) / DAY_MS) + 1,
      ),
      minIncidents: config.problemMinIncidents,
      priorityMatrix: config.priorityMatrix,
    },
    now,
  );
  const problems = new Map<string, string>();
  for (const p of (
    await pool.query<{ id: string; evidence: { incidents?: { id: string }[] } }>(PROBLEMS)
  ).rows)
    for (const i of p.evidence.incidents ?? []) problems.set(final(i.id), p.id);

  return { incidents: incidentOf, rootCauses, problems };
}

/** Drops the tier's database, queue keys and indices. */
async function cleanUp(config: Config, database: string, server: string): Promise<void> {
  await removeQueuesAndIndices(config);
  const admin = createPool(`${server}/postgres`, 1);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
