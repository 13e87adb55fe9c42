/**
 * bench/ingest: accepted alerts per second and request latency of Tocsin's ingest process at 64
 * connections, beside a bare Hono endpoint that only parses the body and answers 202 (the
 * ceiling of the HTTP layer on this machine), measured in the same run.
 *
 *   npm run bench:ingest [-- --duration 10 --connections 64 --scenarios a,b]
 *
 * Scenarios: (a) one generic alert per request, (b) Alertmanager webhook groups of 50 alerts.
 * Each server runs in its own process (as `npm run ingest` does); the load generator
 * (autocannon) shares the machine's two cores with it and with PostgreSQL. After each Tocsin
 * run the bench counts the inbox rows in PostgreSQL: every answered 202 must be durable there.
 * Beside each rate it prints the CPU time per answered request of the server process, of
 * PostgreSQL and of the load generator: a figure that other load on the machine barely moves.
 * Prints a table and writes bench/results/ingest-<time>.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { digest } from '../runtime/auth.ts';
import { createPool, ensureDatabase } from '../services/store/db.ts';
import { migrate } from '../services/store/migrate.ts';
import { insertToken } from '../services/store/tokens.ts';
import {
  cpuSecondsSince,
  cpuSnapshot,
  markdownTable,
  postgresProcesses,
  root,
  startProcess,
  stop,
  tsx,
  waitUntilUp,
  withAutovacuum,
} from './processes.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    'database-server': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    /** Which scenarios to run: a, b or both (a,b). */
    scenarios: { type: 'string', default: 'a,b' },
    /** Writes a CPU profile of Tocsin's ingest process (node --cpu-prof) into this folder. */
    'profile-ingest': { type: 'string' },
  },
});
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const connections = Number(args.connections);
const GROUP = 50;

/** One generic alert per request, each with its own text and CI. */
function genericBody(n: number): string {
  return JSON.stringify({
    title: `Disk usage above 90% on /var (${n % 997})`,
    description: `Filesystem /var on host-${n % 211} is at ${90 + (n % 10)}% of 500 GiB.`,
    severity: n % 5 === 0 ? 'critical' : 'major',
    ci: `host-${n % 211}`,
    service: 'billing',
    labels: { team: 'storage', mount: '/var', run: String(n) },
  });
}

/** An Alertmanager webhook v4 group of 50 firing alerts, as Alertmanager posts it. */
function alertmanagerBody(n: number): string {
  const alerts = Array.from({ length: GROUP }, (_, i) => ({
    status: 'firing',
    labels: {
      alertname: 'HighRequestLatency',
      instance: `app-${(n * GROUP + i) % 1999}:9100`,
      job: 'api',
      severity: i % 7 === 0 ? 'critical' : 'warning',
      run: String(n),
    },
    annotations: {
      summary: 'p99 latency above 500 ms',
      description: `p99 request latency is ${500 + i} ms on app-${i}.`,
    },
    startsAt: '2026-11-29T06:00:00.000Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=latency',
    fingerprint: `${n.toString(16)}-${i}`,
  }));
  return JSON.stringify({
    receiver: 'tocsin',
    status: 'firing',
    alerts,
    groupLabels: { alertname: 'HighRequestLatency' },
    commonLabels: { alertname: 'HighRequestLatency', job: 'api' },
    commonAnnotations: { summary: 'p99 latency above 500 ms' },
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: `{}:{alertname="HighRequestLatency",run="${n}"}`,
    truncatedAlerts: 0,
  });
}

type Scenario = {
  name: string;
  source: 'generic' | 'alertmanager';
  alertsPerRequest: number;
  body(n: number): string;
};

const allScenarios: Scenario[] = [
  { name: '(a) 1 alert / request', source: 'generic', alertsPerRequest: 1, body: genericBody },
  {
    name: `(b) Alertmanager, ${GROUP} alerts / request`,
    source: 'alertmanager',
    alertsPerRequest: GROUP,
    body: alertmanagerBody,
  },
];

const chosen = args.scenarios.split(',').map((x) => x.trim());
const scenarios = allScenarios.filter((_, i) => chosen.includes('ab'[i]!));
if (scenarios.length === 0) throw new Error(`--scenarios names none of a, b: ${args.scenarios}`);

type Run = {
  server: 'bare' | 'tocsin';
  scenario: string;
  requestsPerSecond: number;
  alertsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  accepted: number;
  non2xx: number;
  errors: number;
  /** CPU microseconds per answered request: the server's process, PostgreSQL, the load generator. */
  serverCpuUs: number;
  postgresCpuUs: number;
  loadCpuUs: number;
  /** Tocsin only: mean deliveries per group commit (one statement, one commit) in the run. */
  deliveriesPerCommit: number | null;
};

/** Sum and count of ingest's group-commit size histogram, from the process's /metrics. */
async function commitSizes(url: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) =>
    Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? Number.NaN);
  return {
    sum: value('tocsin_ingest_commit_deliveries_sum'),
    count: value('tocsin_ingest_commit_deliveries_count'),
  };
}

async function load(
  url: string,
  scenario: Scenario,
  headers: Record<string, string>,
  seconds: number,
  counter: { n: number },
): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: `/api/v1/ingest/${scenario.source}`,
        headers: { 'content-type': 'application/json', ...headers },
        setupRequest: (req) => ({ ...req, body: scenario.body(counter.n++) }),
      },
    ],
  });
}

async function measure(
  server: Run['server'],
  pid: number,
  url: string,
  scenario: Scenario,
  headers: Record<string, string>,
): Promise<{ run: Run; total2xx: number }> {
  const counter = { n: 0 };
  const warm = await load(url, scenario, headers, warmup, counter);
  // CPU time beside the rate: on a shared machine the rate moves with other load, CPU per
  // request much less.
  const serverBefore = cpuSnapshot({ pid });
  const postgresBefore = cpuSnapshot(await postgresProcesses(pool));
  const loadBefore = process.cpuUsage();
  const commitsBefore = server === 'tocsin' ? await commitSizes(url) : null;
  const result = await load(url, scenario, headers, duration, counter);
  const commitsAfter = server === 'tocsin' ? await commitSizes(url) : null;
  const perRequest = (seconds: number) => (seconds * 1e6) / Math.max(1, result['2xx']);
  const loadCpu = process.cpuUsage(loadBefore);
  const serverCpuUs = perRequest(cpuSecondsSince(serverBefore, { pid }));
  const postgresCpuUs = perRequest(cpuSecondsSince(postgresBefore, await postgresProcesses(pool)));
  const loadCpuUs = perRequest((loadCpu.user + loadCpu.system) / 1e6);
  const seconds = result.duration;
  return {
    run: {
      server,
      scenario: scenario.name,
      requestsPerSecond: result['2xx'] / seconds,
      alertsPerSecond: (result['2xx'] * scenario.alertsPerRequest) / seconds,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      accepted: result['2xx'] * scenario.alertsPerRequest,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      serverCpuUs,
      postgresCpuUs,
      loadCpuUs,
      deliveriesPerCommit:
        commitsBefore && commitsAfter
          ? (commitsAfter.sum - commitsBefore.sum) / (commitsAfter.count - commitsBefore.count)
          : null,
    },
    total2xx: warm['2xx'] + result['2xx'],
  };
}

const id = randomBytes(4).toString('hex');
const database = `tocsin_bench_${id}`;
const databaseUrl = `${args['database-server']}/${database}`;
const prefix = `bench-${id}`;
const runs: Run[] = [];
const durability: { scenario: string; answered: number; stored: number }[] = [];

await ensureDatabase(databaseUrl);
const pool = createPool(databaseUrl, 2);
await migrate(pool);
const tokens: Record<string, string> = {};
for (const scenario of scenarios) {
  const token = `tcn_bench_${scenario.source}_${randomBytes(12).toString('hex')}`;
  await insertToken(pool, {
    name: `bench ${scenario.source}`,
    source: scenario.source,
    hash: digest(token),
    prefix: token.slice(0, 12),
    hmacSecret: null,
    createdBy: 'bench',
  });
  tokens[scenario.source] = token;
}

const barePort = 18180;
const tocsinPort = 18181;
const bare = startProcess(tsx, ['bench/bare-server.ts', String(barePort)], {});
const profile = args['profile-ingest'];
const tocsin = startProcess(
  profile ? process.execPath : tsx,
  profile
    ? ['--cpu-prof', `--cpu-prof-dir=${profile}`, '--import', 'tsx', 'ingest/main.ts']
    : ['ingest/main.ts'],
  {
    DATABASE_URL: databaseUrl,
    REDIS_URL: args['redis-url'],
    // The ingest role needs no Elasticsearch; an unused port keeps the bench out of a dev node.
    ELASTICSEARCH_URL: 'http://127.0.0.1:9',
    PORT: String(tocsinPort),
    HOST: '127.0.0.1',
    TOCSIN_ADMIN_TOKEN: `bench-admin-${randomBytes(8).toString('hex')}`,
    TOCSIN_INGEST_RATE_LIMIT: '0',
    TOCSIN_QUEUE_PREFIX: prefix,
    TOCSIN_INDEX_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  },
);

// Turned on last before the try whose finally puts it back: a setup that fails leaves the
// server's setting as it found it.
const autovacuum = await withAutovacuum(pool);
try {
  await waitUntilUp(`http://127.0.0.1:${barePort}/`, bare);
  await waitUntilUp(`http://127.0.0.1:${tocsinPort}/healthz`, tocsin);
  let storedBefore = 0;
  for (const scenario of scenarios) {
    const baseline = await measure(
      'bare',
      bare.child.pid!,
      `http://127.0.0.1:${barePort}`,
      scenario,
      {},
    );
    runs.push(baseline.run);
    const measured = await measure(
      'tocsin',
      tocsin.child.pid!,
      `http://127.0.0.1:${tocsinPort}`,
      scenario,
      {
        authorization: `Bearer ${tokens[scenario.source]}`,
      },
    );
    runs.push(measured.run);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM alert_inbox');
    const stored = Number(rows[0]!.n) - storedBefore;
    storedBefore += stored;
    durability.push({
      scenario: scenario.name,
      answered: measured.total2xx * scenario.alertsPerRequest,
      stored,
    });
  }
} finally {
  await Promise.all([stop(bare.child), stop(tocsin.child)]);
  await autovacuum.restore();
  await pool.end();
  const admin = createPool(`${args['database-server']}/postgres`, 1);
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  const redis = new Redis(args['redis-url']);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const rows = runs.map((r) => {
  const base = runs.find((b) => b.server === 'bare' && b.scenario === r.scenario)!;
  return [
    r.scenario,
    r.server,
    fmt(r.requestsPerSecond),
    fmt(r.alertsPerSecond),
    fmt(r.p50Ms, 1),
    fmt(r.p99Ms, 1),
    r.server === 'bare' ? '1.00' : (r.requestsPerSecond / base.requestsPerSecond).toFixed(2),
    String(r.non2xx + r.errors),
    fmt(r.serverCpuUs),
    fmt(r.postgresCpuUs),
    fmt(r.loadCpuUs),
    r.deliveriesPerCommit === null ? '' : fmt(r.deliveriesPerCommit, 1),
  ];
});
const header = [
  'scenario',
  'server',
  'req/s',
  'alerts/s',
  'p50 ms',
  'p99 ms',
  'vs bare',
  'non-2xx',
  'server CPU µs/req',
  'PostgreSQL CPU µs/req',
  'load gen CPU µs/req',
  'deliveries/commit',
];
console.log(
  `\nbench/ingest: ${connections} connections, ${duration} s per run after ${warmup} s warm-up`,
);
console.log(`${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, Node ${process.version}\n`);
for (const line of markdownTable(header, rows)) console.log(line);

const found = (server: Run['server'], scenario: Scenario) =>
  runs.find((r) => r.server === server && r.scenario === scenario.name);
const a = found('tocsin', allScenarios[0]!);
const aBare = found('bare', allScenarios[0]!);
const b = found('tocsin', allScenarios[1]!);
const targets = [
  ...(b ? [{ target: '(b) ≥ 20,000 alerts/s', met: b.alertsPerSecond >= 20_000 }] : []),
  ...(a && aBare
    ? [
        {
          target: '(a) ≥ 50% of the bare endpoint req/s',
          met: a.requestsPerSecond >= 0.5 * aBare.requestsPerSecond,
        },
        { target: '(a) p99 < 50 ms', met: a.p99Ms < 50 },
      ]
    : []),
];
console.log('\ntargets:');
for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'MISSED '} ${t.target}`);
console.log('\ndurability (every 202 committed in PostgreSQL):');
for (const d of durability)
  console.log(
    `  ${d.stored >= d.answered ? 'ok  ' : 'LOST'} ${d.scenario}: ${fmt(d.answered)} alerts answered 202, ${fmt(d.stored)} in alert_inbox`,
  );

const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `ingest-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      bench: 'ingest',
      at: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), node: process.version },
      settings: { connections, durationSeconds: duration, warmupSeconds: warmup },
      runs,
      targets,
      durability,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nresults: ${file}`);
// Requests still in flight when a run ends are stored but never counted: stored ≥ answered.
if (durability.some((d) => d.stored < d.answered)) process.exitCode = 1;
