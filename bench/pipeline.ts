/**
 * bench/pipeline: the live pipeline end to end — HTTP ingest → alert_inbox → the live correlator
 * → alerts and incidents in PostgreSQL → the services API — on a CMDB of about 10,000 CIs.
 *
 *   npm run bench:pipeline [-- --alerts 150000 --duration 600 --rate 2000]
 *   npm run bench:pipeline -- --alerts 20000 --duration 30          (a smoke run, ~1–2 min)
 *
 * Ingest, correlator and services each run in their own process (as `npm run ingest`,
 * `npm run correlator` and `npm run services` do), with the load generator on the same two cores.
 * The alert stream is bench/correlation's storm generator on the scaled estate: cascades along the
 * real topology plus background noise, with each tool's texts and re-sends, posted to `generic`
 * in arrays. Event times are dropped, so every alert happens when it is received: a week's storm
 * replayed at thousands of alerts a second is one long storm, which is the load these targets are
 * about.
 *
 * Scenarios, in this order on one database:
 *  (a0) correlator alone: the inbox pre-loaded with the correlator stopped (the ingest-only rate
 *       is the baseline), then the correlator started and its drain timed from the transaction
 *       timestamps of its batches;
 *  (a)  sustained: the same number of alerts posted as fast as ingest takes them with the
 *       correlator running, timed from the first post to the start of the last correlation
 *       batch (`pending` back at 0 after it);
 *  (b)  latency at a steady rate (default 2,000 alerts/s as 40 alerts every 20 ms): one probe
 *       alert with a fresh fingerprint in every `--probe-every`th request, polled with
 *       `GET /api/v1/alerts?fingerprint=` until it has an incidentId; beside it the ingest round
 *       trip (the 202 already means the row is committed in alert_inbox) and the poll round trip;
 *       halfway through, the correlator mines problems, as production does every hour (the
 *       scheduler's own run is put off), and the probes of the minute after are reported apart;
 *  (c)  memory during (b): the correlator's RSS and heap from its /metrics every `--sample` s;
 *       flat when the live heap (after a full collection) grows by at most 1 MB/min over the
 *       second half and so do RSS's peaks (the last third's against the middle third's).
 * The steady stream is the storm again under its own tag: its first pass (about 93,000
 * deliveries, 46 s at 2,000/s) is new alerts on CIs and texts (a0) and (a) made familiar; after
 * that it re-sends the same alerts (a bounded population, as Alertmanager re-sends firing alerts
 * every group_interval), so state the engine must hold stays bounded; only the probes are then
 * new alerts (one per probe, kept by the engine for its windows).
 *
 * Prints a table and writes bench/results/pipeline-<time>.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { AlertInput } from '../correlator/alert.ts';
import { Jobs } from '../correlator/jobs.ts';
import { digest } from '../runtime/auth.ts';
import { removeQueuesAndIndices } from '../runtime/throwaway.ts';
import { importCmdb } from '../services/store/cmdb.ts';
import { createPool, ensureDatabase, withTransaction } from '../services/store/db.ts';
import { PENDING_EXACT_UP_TO } from '../services/store/inbox.ts';
import { migrate } from '../services/store/migrate.ts';
import { insertToken } from '../services/store/tokens.ts';
import { generateEstate, type Cmdb } from './correlation/estate.ts';
import { generateStorm } from './correlation/storms.ts';
import { pipelineEstateOptions, pipelineStormOptions, pipelineTier } from './pipeline-estate.ts';
import {
  cpuSecondsSince,
  cpuSnapshot,
  type CpuSnapshot,
  httpCall,
  markdownTable,
  pidsNamed,
  postgresProcesses,
  root,
  type StartedProcess,
  startProcess,
  stop,
  tsx,
  waitUntilUp,
  withAutovacuum,
} from './processes.ts';

const { values: args } = parseArgs({
  options: {
    alerts: { type: 'string', default: '150000' },
    batch: { type: 'string', default: '100' },
    connections: { type: 'string', default: '8' },
    rate: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '600' },
    'probe-every': { type: 'string', default: '5' },
    'poll-ms': { type: 'string', default: '25' },
    sample: { type: 'string', default: '10' },
    'database-server': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    'elasticsearch-url': { type: 'string', default: 'http://127.0.0.1:9200' },
    /** Writes a CPU profile of the correlator process (node --cpu-prof) into this folder. */
    'profile-correlator': { type: 'string' },
    /** Writes a CPU profile of the services process (node --cpu-prof) into this folder. */
    'profile-services': { type: 'string' },
  },
});
const alertCount = Number(args.alerts);
const batch = Number(args.batch);
const connections = Number(args.connections);
const rate = Number(args.rate);
const duration = Number(args.duration);
const probeEvery = Number(args['probe-every']);
const pollMs = Number(args['poll-ms']);
const sampleSeconds = Number(args.sample);
const TICK_MS = 20;
const alertsPerTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));

/** The storm's deliveries, generated once (the generator is not cheap: not on the measured cores). */
let stormCache: AlertInput[] | null = null;

/**
 * The storm's alerts in delivery order, forever (the storm again once it ends, so the same alerts
 * are re-sent), without event times (each happens on receipt) and with `tag` on each fingerprint
 * so that two scenarios post distinct alerts.
 */
function* alertStream(estate: Cmdb, tag: string): Generator<AlertInput> {
  const tier = pipelineTier(estate, 'pipeline');
  stormCache ??= [...generateStorm(tier)].map(({ delivery }) => {
    const { startsAt: _starts, endsAt: _ends, ...alert } = delivery.alert;
    return alert;
  });
  for (;;)
    for (const alert of stormCache)
      yield { ...alert, fingerprint: `${alert.fingerprint ?? 'x'}~${tag}` };
}

/** How many deliveries one pass of the storm is (0 before the stream first ran). */
function stormLength(): number {
  return stormCache?.length ?? 0;
}

function take(stream: Iterator<AlertInput>, n: number): AlertInput[] {
  return Array.from({ length: n }, () => stream.next().value as AlertInput);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summarize(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: quantile(s, 0.5),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    max: s.at(-1) ?? NaN,
  };
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return num / den;
}

const id = randomBytes(4).toString('hex');
const database = `tocsin_bench_${id}`;
const databaseUrl = `${args['database-server']}/${database}`;
const prefix = `bench-${id}`;
const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
const ingestToken = `tcn_bench_generic_${randomBytes(12).toString('hex')}`;
const ports = { ingest: 18191, services: 18192, correlator: 18193 };
const env = (port: number): Record<string, string> => ({
  DATABASE_URL: databaseUrl,
  REDIS_URL: args['redis-url'],
  ELASTICSEARCH_URL: args['elasticsearch-url'],
  PORT: String(port),
  HOST: '127.0.0.1',
  TOCSIN_ADMIN_TOKEN: adminToken,
  TOCSIN_INGEST_RATE_LIMIT: '0',
  TOCSIN_INGEST_MAX_BACKLOG: '10000000',
  TOCSIN_QUEUE_PREFIX: prefix,
  TOCSIN_INDEX_PREFIX: prefix,
  // Production mines problems every hour (at :17); a run that crossed that minute paid for it and
  // one that did not did not. The bench runs the miner itself, once, halfway through (b).
  TOCSIN_PROBLEM_MINING_CRON: '0 0 1 1 *',
  LOG_LEVEL: 'warn',
});
const admin = { authorization: `Bearer ${adminToken}` };

/**
 * Posts alerts to `generic`; a connection the server closed as it was reused (the keep-alive
 * race) is retried, and counted, since the request never reached the handler or lost its answer.
 */
async function postAlerts(alerts: AlertInput[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await httpCall(`http://127.0.0.1:${ports.ingest}/api/v1/ingest/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ingestToken}` },
        body: JSON.stringify(alerts),
      });
      return res.status;
    } catch (err) {
      if (attempt >= 3) throw err;
      postRetries++;
    }
  }
}

/** Alerts accepted and not yet correlated: a count up to PENDING_EXACT_UP_TO, an estimate beyond. */
async function pending(): Promise<number> {
  const res = await httpCall(`http://127.0.0.1:${ports.services}/api/v1/pipeline`, {
    headers: admin,
  });
  if (res.status !== 200) throw new Error(`GET /api/v1/pipeline answered ${res.status}`);
  return (JSON.parse(res.text) as { pending: number }).pending;
}

/**
 * Waits for `pending` to reach 0, polling once a second: each poll counts the whole backlog in
 * PostgreSQL, and at ten a second (as this bench once polled) the polls were 30% of PostgreSQL's
 * busy samples during a drain, CPU taken from the correlator being timed. Drain times come from
 * the batches' own transaction times (see lastBatchAt), not from when a poll saw 0.
 */
async function untilDrained(deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let report = Date.now() + 10_000;
  for (;;) {
    const left = await pending();
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`pending still ${left}: ${correlator?.output()}`);
    if (Date.now() > report) {
      report += 10_000;
      console.log(`  pending ${left}`);
    }
    await sleep(1000);
  }
}

/**
 * When the last correlation batch over the inbox rows after `afterId` started, in ms since the
 * epoch (each batch is one transaction and marks its rows processed at its now()).
 */
async function lastBatchAt(pool: ReturnType<typeof createPool>, afterId: string): Promise<number> {
  const { rows } = await pool.query<{ at: number }>(
    `SELECT extract(epoch FROM max(processed_at))::float8 * 1000 AS at FROM alert_inbox WHERE id > $1`,
    [afterId],
  );
  return rows[0]!.at;
}

/** Posts the alerts in `batch`-sized arrays over `connections` concurrent senders. */
async function blast(alerts: AlertInput[]): Promise<{ seconds: number; failed: number }> {
  const bodies: AlertInput[][] = [];
  for (let i = 0; i < alerts.length; i += batch) bodies.push(alerts.slice(i, i + batch));
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const status = await postAlerts(body);
        if (status !== 202) failed += body.length;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, failed };
}

async function maxInboxId(pool: ReturnType<typeof createPool>): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT coalesce(max(id), 0)::text AS id FROM alert_inbox',
  );
  return rows[0]!.id;
}

/** The correlator's memory, as correlatorMemory() reads it. */
type CorrelatorMemory = {
  rssMb: number;
  heapMb: number;
  liveMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** Committed size of each V8 heap space (old, new, large_object…): which one RSS grows with. */
  spacesMb: Record<string, number>;
  state: Record<string, number>;
};

/**
 * The correlator's memory from its /metrics: resident set, V8 heap used, live (after the last
 * full collection) and committed, memory outside the V8 heap (Buffers, native): where RSS grows
 * when the used heap does not; and what its engine holds, per kind.
 */
async function correlatorMemory(): Promise<CorrelatorMemory> {
  const text = await (await fetch(`http://127.0.0.1:${ports.correlator}/metrics`)).text();
  const metric = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.split(' ')[1]) / 1024 / 1024;
  };
  return {
    rssMb: metric('tocsin_process_resident_memory_bytes'),
    heapMb: metric('tocsin_nodejs_heap_size_used_bytes'),
    liveMb: metric('tocsin_nodejs_heap_live_bytes'),
    heapTotalMb: metric('tocsin_nodejs_heap_size_total_bytes'),
    externalMb: metric('tocsin_nodejs_external_memory_bytes'),
    spacesMb: Object.fromEntries(
      [
        ...text.matchAll(/^tocsin_nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\S+)$/gm),
      ].map((m) => [m[1]!, Number(m[2]) / 1024 / 1024]),
    ),
    state: Object.fromEntries(
      [...text.matchAll(/^tocsin_correlator_state\{kind="(\w+)"\} (\S+)$/gm)].map((m) => [
        m[1]!,
        Number(m[2]),
      ]),
    ),
  };
}

/** Elasticsearch's work on the bench's indices so far, per record type (ES's own counters). */
type SearchWork = Record<
  string,
  { indexed: number; indexMs: number; refreshes: number; refreshMs: number; mergeMs: number }
>;

async function searchWork(): Promise<SearchWork> {
  const res = await fetch(
    `${args['elasticsearch-url']}/${prefix}-*/_stats/indexing,refresh,merge?level=indices`,
  );
  type Totals = {
    indexing: { index_total: number; index_time_in_millis: number };
    refresh: { total: number; total_time_in_millis: number };
    merges: { total_time_in_millis: number };
  };
  const body = (await res.json()) as { indices: Record<string, { primaries: Totals }> };
  return Object.fromEntries(
    Object.entries(body.indices).map(([index, { primaries: t }]) => [
      // bench-<id>-alerts-000001 → alert
      index.slice(prefix.length + 1).replace(/s-\d+$/, ''),
      {
        indexed: t.indexing.index_total,
        indexMs: t.indexing.index_time_in_millis,
        refreshes: t.refresh.total,
        refreshMs: t.refresh.total_time_in_millis,
        mergeMs: t.merges.total_time_in_millis,
      },
    ]),
  );
}

type Probe = {
  fingerprint: string;
  sentAt: number;
  ackAt: number | null;
  visibleAt: number | null;
};

// Other work on the machine skews every figure here; the load average is kept with them.
const loadBefore = loadavg();
const estate = generateEstate(pipelineEstateOptions);
await ensureDatabase(databaseUrl);
const pool = createPool(databaseUrl, 4);
await migrate(pool);
const redis = new Redis(args['redis-url'], { maxRetriesPerRequest: 1 });
const jobs = new Jobs(redis, prefix);
await insertToken(pool, {
  name: 'bench generic',
  source: 'generic',
  hash: digest(ingestToken),
  prefix: ingestToken.slice(0, 12),
  hmacSecret: null,
  createdBy: 'bench',
});
const importStarted = performance.now();
const imported = await withTransaction(pool, (tx) =>
  importCmdb(tx, estate.cis, estate.relationships),
);
if (imported.kind !== 'imported')
  throw new Error(`CMDB import failed: ${JSON.stringify(imported)}`);
const importSeconds = (performance.now() - importStarted) / 1000;
console.log(
  `CMDB: ${estate.cis.length} CIs, ${estate.relationships.length} relationships imported in ${importSeconds.toFixed(1)} s`,
);

const ingest = startProcess(tsx, ['ingest/main.ts'], env(ports.ingest));
const services = args['profile-services']
  ? startProcess(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${args['profile-services']}`,
        '--import',
        'tsx',
        'services/main.ts',
      ],
      env(ports.services),
    )
  : startProcess(tsx, ['services/main.ts'], env(ports.services));
let correlator: StartedProcess | null = null;
const results: Record<string, unknown> = {};
const memory: (CorrelatorMemory & { atSeconds: number; pending: number })[] = [];
const probes: Probe[] = [];
/** When (b) started (performance.now()): probes sent in its first pass of new alerts are told apart. */
let steadyStart = 0;
/** When (b) had the correlator mine problems, in seconds from its start (see env). */
let miningAtSeconds: number | null = null;
const ingestRtt: number[] = [];
const pollRtt: number[] = [];
let pollErrors = 0;
/** Polls sent so far, and during (b)'s CPU measurement: the services process answers them. */
let polls = 0;
let pollsInSteady = 0;
let postRetries = 0;
const steady = { ticks: 0, alerts: 0, failed: 0, maxBehindMs: 0, seconds: 0 };
/** CPU milliseconds per 1,000 alerts sent during (b), per part. */
const cpuPer1000: { part: string; ms: number }[] = [];
/** Elasticsearch's work during (b) per 1,000 alerts sent, per record type. */
let searchPer1000: SearchWork = {};

// Turned on last before the try whose finally puts it back: a setup that fails leaves the
// server's setting as it found it.
const autovacuum = await withAutovacuum(pool);
try {
  await waitUntilUp(`http://127.0.0.1:${ports.ingest}/healthz`, ingest);
  await waitUntilUp(`http://127.0.0.1:${ports.services}/healthz`, services);

  // (a0) The inbox pre-loaded with the correlator stopped, then drained by the correlator alone.
  console.log(`(a0) pre-loading ${alertCount} alerts with the correlator stopped…`);
  const before0 = await maxInboxId(pool);
  const preload = await blast(take(alertStream(estate, 'a0'), alertCount));
  const correlatorStarted = Date.now();
  const profile = args['profile-correlator'];
  correlator = profile
    ? startProcess(
        process.execPath,
        ['--cpu-prof', `--cpu-prof-dir=${profile}`, '--import', 'tsx', 'correlator/main.ts'],
        env(ports.correlator),
      )
    : startProcess(tsx, ['correlator/main.ts'], env(ports.correlator));
  await waitUntilUp(`http://127.0.0.1:${ports.correlator}/healthz`, correlator);
  const memoryAtStart = await correlatorMemory();
  await untilDrained(30 * 60_000);
  const drainWall = ((await lastBatchAt(pool, before0)) - correlatorStarted) / 1000;
  // Each batch is one transaction and now() is its start: between the first and the last batch's
  // start, every batch but the last was read, correlated and written.
  const { rows: spans } = await pool.query<{
    rows: string;
    last: string;
    batches: string;
    span: number;
  }>(
    `SELECT count(*) AS rows, count(DISTINCT processed_at) AS batches,
       count(*) FILTER (WHERE processed_at = (SELECT max(processed_at) FROM alert_inbox WHERE id > $1)) AS last,
       extract(epoch FROM max(processed_at) - min(processed_at))::float8 AS span
     FROM alert_inbox WHERE id > $1`,
    [before0],
  );
  const span = spans[0]!;
  results.a0 = {
    alerts: alertCount,
    ingestOnlyAlertsPerSecond: alertCount / preload.seconds,
    ingestSeconds: preload.seconds,
    failed: preload.failed,
    batches: Number(span.batches),
    correlatorAlertsPerSecond: (Number(span.rows) - Number(span.last)) / span.span,
    drainSeconds: span.span,
    startToDrainedSeconds: drainWall,
    memoryAfterStart: memoryAtStart,
  };
  console.log(JSON.stringify(results.a0));

  // (a) Sustained: posted as fast as ingest takes them, the correlator running.
  console.log(`(a) posting ${alertCount} alerts with the correlator running…`);
  const sustained = take(alertStream(estate, 'a'), alertCount);
  const beforeA = await maxInboxId(pool);
  const t0 = Date.now();
  const posted = await blast(sustained);
  const pendingAfterPost = await pending();
  await untilDrained(30 * 60_000);
  // The last batch's start, not its commit: a batch's write is milliseconds against a drain's
  // tens of seconds.
  const t1 = await lastBatchAt(pool, beforeA);
  results.a = {
    alerts: alertCount,
    acceptedAlertsPerSecond: alertCount / posted.seconds,
    postSeconds: posted.seconds,
    failed: posted.failed,
    pendingWhenPostingEnded: pendingAfterPost,
    endToEndSeconds: (t1 - t0) / 1000,
    endToEndAlertsPerSecond: alertCount / ((t1 - t0) / 1000),
  };
  console.log(JSON.stringify(results.a));

  // (b) + (c) A steady rate for `duration` seconds: probe latency and correlator memory.
  console.log(`(b, c) ${rate} alerts/s for ${duration} s…`);
  const stream = alertStream(estate, 'b');
  const inFlight = new Set<Promise<void>>();
  let polling = 0;
  const POLL_CONCURRENCY = 32;
  // Each probe is polled every `--poll-ms` for its first second, then every tenth of its age: the
  // resolution stays within 10% of the latency, and a backlog does not turn the measurement into
  // thousands of API requests a second on the cores it measures.
  const watch = async (probe: Probe) => {
    for (;;) {
      await sleep(Math.max(pollMs, (performance.now() - probe.sentAt) / 10));
      while (polling >= POLL_CONCURRENCY) await sleep(1);
      polling++;
      polls++;
      const sent = performance.now();
      try {
        const res = await httpCall(
          `http://127.0.0.1:${ports.services}/api/v1/alerts?fingerprint=${encodeURIComponent(probe.fingerprint)}`,
          { headers: admin },
        );
        const page = JSON.parse(res.text) as { items?: { incidentId: string | null }[] };
        const now = performance.now();
        if (page.items?.[0]?.incidentId) {
          probe.visibleAt = now;
          pollRtt.push(now - sent);
          return;
        }
      } catch {
        // A reset keep-alive connection: the next poll asks again.
        pollErrors++;
      } finally {
        polling--;
      }
      if (performance.now() - probe.sentAt > 120_000) return;
    }
  };
  // CPU of each part over the steady run, per 1,000 alerts sent: where the machine's two cores go
  // (a figure other load on the machine barely moves, unlike the latencies).
  // PostgreSQL's processes are listed again at the end: a connection opened meanwhile counts.
  type Of = { pid: number } | { pids: number[] };
  const parts: [string, () => Of | Promise<Of>][] = [
    ['ingest', () => ({ pid: ingest.child.pid! })],
    ['correlator', () => ({ pid: correlator!.child.pid! })],
    ['services (search projection, API, probe polls)', () => ({ pid: services.child.pid! })],
    ['PostgreSQL', () => postgresProcesses(pool)],
    ['Elasticsearch (every java process)', () => ({ pids: pidsNamed('java') })],
    ['Redis', () => ({ pids: pidsNamed('redis-server') })],
  ];
  const cpuBefore: CpuSnapshot[] = [];
  for (const [, of] of parts) cpuBefore.push(cpuSnapshot(await of()));
  const searchBefore = await searchWork();
  const senderCpuBefore = process.cpuUsage();
  const start = performance.now();
  steadyStart = start;
  let nextSample = 0;
  for (let k = 0; ; k++) {
    const due = start + k * TICK_MS;
    // The run ends on the clock: a sender that fell behind the schedule shows as a lower rate.
    if (performance.now() - start >= duration * 1000) break;
    await sleep(due - performance.now());
    if (due - start >= nextSample * 1000) {
      nextSample += sampleSeconds;
      const at = (performance.now() - start) / 1000;
      void Promise.all([correlatorMemory(), pending()])
        .then(([m, p]) => memory.push({ atSeconds: at, ...m, pending: p }))
        .catch(() => {});
    }
    steady.maxBehindMs = Math.max(steady.maxBehindMs, performance.now() - due);
    if (miningAtSeconds === null && due - start >= duration * 500) {
      miningAtSeconds = (due - start) / 1000;
      // As the scheduler does it: a job on the maintenance queue, which the correlator serves.
      void jobs.addCoalesced('problem.mine').catch((err: Error) => {
        console.error(`could not enqueue problem mining: ${err.message}`);
      });
    }
    const alerts = take(stream, alertsPerTick);
    let probe: Probe | null = null;
    if (k % probeEvery === 0) {
      probe = {
        fingerprint: `probe-${id}-${k}`,
        sentAt: 0,
        ackAt: null,
        visibleAt: null,
      };
      alerts[alerts.length - 1] = {
        ...alerts[0]!,
        status: 'firing',
        fingerprint: probe.fingerprint,
      };
      probes.push(probe);
    }
    steady.ticks++;
    steady.alerts += alerts.length;
    const sentAt = performance.now();
    if (probe) probe.sentAt = sentAt;
    const request: Promise<void> = postAlerts(alerts).then(
      (status) => {
        const ackAt = performance.now();
        ingestRtt.push(ackAt - sentAt);
        if (status !== 202) {
          steady.failed += alerts.length;
          return;
        }
        if (probe) {
          probe.ackAt = ackAt;
          void watch(probe);
        }
      },
      () => {
        steady.failed += alerts.length;
      },
    );
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  }
  await Promise.all(inFlight);
  steady.seconds = (performance.now() - start) / 1000;
  const loadCpu = process.cpuUsage(senderCpuBefore);
  pollsInSteady = polls;
  for (const [i, [name, of]] of parts.entries())
    cpuPer1000.push({
      part: name,
      ms: (cpuSecondsSince(cpuBefore[i]!, await of()) * 1e6) / steady.alerts,
    });
  cpuPer1000.push({
    part: 'load generator (this process)',
    ms: (loadCpu.user + loadCpu.system) / 1000 / (steady.alerts / 1000),
  });
  const searchAfter = await searchWork();
  searchPer1000 = Object.fromEntries(
    Object.entries(searchAfter).map(([type, after]) => {
      const before = searchBefore[type];
      const per1000 = (k: keyof typeof after) =>
        ((after[k] - (before?.[k] ?? 0)) * 1000) / steady.alerts;
      return [
        type,
        {
          indexed: per1000('indexed'),
          indexMs: per1000('indexMs'),
          refreshes: per1000('refreshes'),
          refreshMs: per1000('refreshMs'),
          mergeMs: per1000('mergeMs'),
        },
      ];
    }),
  );
  const deadline = Date.now() + 60_000;
  while (probes.some((p) => p.ackAt !== null && p.visibleAt === null) && Date.now() < deadline)
    await sleep(100);
  memory.push({
    atSeconds: (performance.now() - start) / 1000,
    ...(await correlatorMemory()),
    pending: await pending(),
  });
} finally {
  await Promise.all([ingest, services, correlator].flatMap((p) => (p ? [stop(p.child)] : [])));
  await autovacuum.restore();
  await pool.end();
  await jobs.close();
  redis.disconnect();
  const adminPool = createPool(`${args['database-server']}/postgres`, 1);
  await adminPool.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await adminPool.end();
  await removeQueuesAndIndices({
    redisUrl: args['redis-url'],
    queuePrefix: prefix,
    elasticsearchUrl: args['elasticsearch-url'],
    indexPrefix: prefix,
  });
}

const a0 = results.a0 as {
  ingestOnlyAlertsPerSecond: number;
  correlatorAlertsPerSecond: number;
  drainSeconds: number;
  startToDrainedSeconds: number;
};
const a = results.a as {
  acceptedAlertsPerSecond: number;
  endToEndAlertsPerSecond: number;
  endToEndSeconds: number;
  pendingWhenPostingEnded: number;
};
const acked = probes.filter((p) => p.ackAt !== null);
const seen = acked.filter((p) => p.visibleAt !== null);
const latency = summarize(seen.map((p) => p.visibleAt! - p.ackAt!));
// The steady stream's first pass is the storm's alerts new to the engine; after it, re-sends (and
// the probes) only. The two are reported apart as well: a backlog of the first pass sets the
// whole run's p99.
const firstPassSeconds = stormLength() / rate;
const afterFirstPass = seen.filter((p) => p.sentAt - steadyStart >= firstPassSeconds * 1000);
const latencyAfterFirstPass = summarize(afterFirstPass.map((p) => p.visibleAt! - p.ackAt!));
// The probes sent in the minute from when the correlator was asked to mine problems.
const whileMining = seen.filter((p) => {
  const at = (p.sentAt - steadyStart) / 1000;
  return miningAtSeconds !== null && at >= miningAtSeconds && at < miningAtSeconds + 60;
});
const latencyWhileMining = summarize(whileMining.map((p) => p.visibleAt! - p.ackAt!));
const ingestLatency = summarize(ingestRtt);
const pollLatency = summarize(pollRtt);
const half = memory.filter((m) => m.atSeconds >= duration / 2);
// RSS is a sawtooth: V8 lets its heap grow between collections, up to a multiple of what is live,
// so a line fitted through the samples turns with the phase the run ends in. Its growth is judged
// on the peaks: the highest RSS of the run's last third against that of its middle third.
const peakOf = (from: number, to: number) =>
  Math.max(...memory.filter((m) => m.atSeconds >= from && m.atSeconds <= to).map((m) => m.rssMb));
const rssPeakGrowthMbPerMin =
  (peakOf((2 * duration) / 3, Infinity) - peakOf(duration / 3, (2 * duration) / 3)) /
  (duration / 3 / 60);
const mem = {
  start: memory[0],
  end: memory.at(-1),
  maxRssMb: Math.max(...memory.map((m) => m.rssMb)),
  maxHeapMb: Math.max(...memory.map((m) => m.heapMb)),
  maxPending: Math.max(...memory.map((m) => m.pending)),
  rssSlopeMbPerMin: slope(half.map((m) => ({ x: m.atSeconds / 60, y: m.rssMb }))),
  heapSlopeMbPerMin: slope(half.map((m) => ({ x: m.atSeconds / 60, y: m.heapMb }))),
  liveSlopeMbPerMin: slope(half.map((m) => ({ x: m.atSeconds / 60, y: m.liveMb }))),
  rssPeakGrowthMbPerMin,
};

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
/** A probe latency summary as the table shows it. */
const probeLatencies = (l: ReturnType<typeof summarize>) =>
  `p50 ${fmt(l.p50)} / p95 ${fmt(l.p95)} / p99 ${fmt(l.p99)} / max ${fmt(l.max)} ms`;
const table: [string, string, string][] = [
  [
    '(a0) ingest alone, correlator stopped (baseline)',
    `${fmt(a0.ingestOnlyAlertsPerSecond)} alerts/s`,
    '1.00',
  ],
  [
    '(a0) correlator alone, draining the pre-loaded inbox',
    `${fmt(a0.correlatorAlertsPerSecond)} alerts/s`,
    (a0.correlatorAlertsPerSecond / a0.ingestOnlyAlertsPerSecond).toFixed(2),
  ],
  [
    '(a0) correlator start to its last batch (incl. start-up)',
    `${fmt(a0.startToDrainedSeconds, 1)} s`,
    '',
  ],
  [
    '(a) accepted, correlator running',
    `${fmt(a.acceptedAlertsPerSecond)} alerts/s`,
    (a.acceptedAlertsPerSecond / a0.ingestOnlyAlertsPerSecond).toFixed(2),
  ],
  [
    '(a) end to end: first post to the last batch',
    `${fmt(a.endToEndAlertsPerSecond)} alerts/s`,
    (a.endToEndAlertsPerSecond / a0.ingestOnlyAlertsPerSecond).toFixed(2),
  ],
  [
    `(b) ingest round trip at ${fmt(rate)}/s (202 = in alert_inbox; baseline)`,
    `p50 ${fmt(ingestLatency.p50, 1)} / p99 ${fmt(ingestLatency.p99, 1)} ms`,
    '1.00',
  ],
  [
    `(b) 202 → incident visible in API (${seen.length}/${probes.length} probes)`,
    probeLatencies(latency),
    (latency.p99 / ingestLatency.p99).toFixed(1),
  ],
  [
    `(b) the same, probes sent after the first pass (${fmt(firstPassSeconds)} s of new alerts)`,
    probeLatencies(latencyAfterFirstPass),
    (latencyAfterFirstPass.p99 / ingestLatency.p99).toFixed(1),
  ],
  [
    `(b) the same, probes sent in the minute after the miner started (at ${fmt(miningAtSeconds ?? NaN)} s; hourly in production)`,
    probeLatencies(latencyWhileMining),
    (latencyWhileMining.p99 / ingestLatency.p99).toFixed(1),
  ],
  [
    `(b) one poll round trip (resolution: + ≤ max(${pollMs} ms, 10% of latency))`,
    `p50 ${fmt(pollLatency.p50, 1)} / p99 ${fmt(pollLatency.p99, 1)} ms`,
    '',
  ],
  [
    `(c) correlator RSS start → end (max), ${fmt(steady.seconds)} s`,
    `${fmt(mem.start?.rssMb)} → ${fmt(mem.end?.rssMb)} (${fmt(mem.maxRssMb)}) MB`,
    '',
  ],
  [
    '(c) correlator heap used start → end (max)',
    `${fmt(mem.start?.heapMb)} → ${fmt(mem.end?.heapMb)} (${fmt(mem.maxHeapMb)}) MB`,
    '',
  ],
  [
    '(c) correlator heap committed / outside the heap, start → end',
    `${fmt(mem.start?.heapTotalMb)} → ${fmt(mem.end?.heapTotalMb)} / ${fmt(mem.start?.externalMb)} → ${fmt(mem.end?.externalMb)} MB`,
    '',
  ],
  [
    '(c) correlator heap live (after a full collection) start → end',
    `${fmt(mem.start?.liveMb)} → ${fmt(mem.end?.liveMb)} MB`,
    '',
  ],
  [
    '(c) slope over the second half, RSS / heap used / heap live',
    `${fmt(mem.rssSlopeMbPerMin, 2)} / ${fmt(mem.heapSlopeMbPerMin, 2)} / ${fmt(mem.liveSlopeMbPerMin, 2)} MB/min`,
    '',
  ],
  [
    '(c) RSS peak of the last third against the middle third',
    `${fmt(mem.rssPeakGrowthMbPerMin, 2)} MB/min`,
    '',
  ],
  [
    '(c) engine alerts / incidents / firing, start → end',
    `${fmt(mem.start?.state.alerts)} / ${fmt(mem.start?.state.incidents)} / ${fmt(mem.start?.state.firing)} → ` +
      `${fmt(mem.end?.state.alerts)} / ${fmt(mem.end?.state.incidents)} / ${fmt(mem.end?.state.firing)}`,
    '',
  ],
];
console.log(
  `\nbench/pipeline: ${estate.cis.length} CIs; ${fmt(alertCount)} alerts in (a0) and (a) ` +
    `(${batch} per request, ${connections} senders); ${fmt(rate)} alerts/s for ${fmt(steady.seconds)} s in (b, c)`,
);
console.log(
  `${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, Node ${process.version}, ` +
    `load average ${loadBefore[0]!.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after\n`,
);
for (const line of markdownTable(['measure', 'figure', 'vs baseline'], table)) console.log(line);

const targets = [
  {
    target: '(a) ≥ 10,000 alerts/s sustained end to end',
    met: a.endToEndAlertsPerSecond >= 10_000,
  },
  {
    target: `(b) p99 ≤ 1 s at ${fmt(rate)} alerts/s`,
    met: latency.p99 <= 1000 && seen.length === acked.length,
  },
  {
    target:
      '(c) correlator memory flat (live heap over the second half and RSS peaks, last third ' +
      'against middle third, each growing ≤ 1 MB/min)',
    met: mem.liveSlopeMbPerMin <= 1 && mem.rssPeakGrowthMbPerMin <= 1,
  },
];
console.log('\ntargets:');
for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'MISSED '} ${t.target}`);
const cpuTotal = cpuPer1000.reduce((sum, c) => sum + c.ms, 0);
console.log(
  `\n(b) CPU per 1,000 alerts sent, by part (machine capacity: ${fmt(
    (availableParallelism() * 1e6) / rate,
  )} ms per 1,000 at ${fmt(rate)}/s):`,
);
for (const c of [...cpuPer1000, { part: 'total', ms: cpuTotal }])
  console.log(`  ${c.part.padEnd(48)} ${fmt(c.ms).padStart(6)} ms`);
console.log(
  `  (the services process also answered ${fmt((pollsInSteady * 1000) / steady.alerts, 1)} probe polls per 1,000 alerts, each authenticated and read from PostgreSQL)`,
);
console.log(
  '\n(b) Elasticsearch per 1,000 alerts sent, by index (its own counters; times are elapsed, not CPU):',
);
for (const [type, w] of Object.entries(searchPer1000).filter(
  ([, w]) => w.indexed + w.refreshes > 0,
))
  console.log(
    `  ${type.padEnd(12)} ${fmt(w.indexed, 1).padStart(7)} documents written (${fmt(w.indexMs)} ms), ` +
      `${fmt(w.refreshes, 2)} refreshes (${fmt(w.refreshMs)} ms), merges ${fmt(w.mergeMs)} ms`,
  );
console.log(
  `\nsteady run: ${fmt(steady.alerts)} alerts (${fmt(steady.alerts / steady.seconds)}/s) in ${fmt(steady.ticks)} requests, ${fmt(steady.failed)} not accepted, ` +
    `sender at most ${fmt(steady.maxBehindMs)} ms behind schedule; pending at most ${fmt(mem.maxPending)}${mem.maxPending > PENDING_EXACT_UP_TO ? ` (GET /api/v1/pipeline estimates beyond ${fmt(PENDING_EXACT_UP_TO)})` : ''}`,
);

const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `pipeline-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      bench: 'pipeline',
      at: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model,
        cores: availableParallelism(),
        node: process.version,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadavg(),
      },
      settings: {
        cis: estate.cis.length,
        relationships: estate.relationships.length,
        estateOptions: pipelineEstateOptions,
        stormOptions: pipelineStormOptions,
        alerts: alertCount,
        batch,
        connections,
        rate,
        alertsPerRequest: alertsPerTick,
        requestEveryMs: TICK_MS,
        durationSeconds: duration,
        probeEvery,
        pollMs,
        sampleSeconds,
      },
      cmdbImportSeconds: importSeconds,
      postRetries,
      a0: results.a0,
      a: results.a,
      b: {
        steady,
        probes: { sent: probes.length, acknowledged: acked.length, visible: seen.length },
        latencyMs: latency,
        firstPassSeconds,
        latencyAfterFirstPassMs: latencyAfterFirstPass,
        miningAtSeconds,
        latencyWhileMiningMs: latencyWhileMining,
        ingestRoundTripMs: ingestLatency,
        pollRoundTripMs: pollLatency,
        pollErrors,
        polls,
        pollsInSteady,
      },
      c: { ...mem, samples: memory },
      targets,
      cpuPer1000AlertsInB: cpuPer1000,
      searchPer1000AlertsInB: searchPer1000,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nresults: ${file}`);
