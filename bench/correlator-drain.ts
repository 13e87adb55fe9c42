/**
 * bench/correlator-drain: the live correlator alone, in this process, draining an inbox
 * pre-loaded with bench/pipeline's alert stream on its ~10,000-CI estate — the loop to iterate on
 * when making the correlator faster, without ingest, services or a load generator on the cores.
 *
 *   npm run bench:correlator-drain [-- --alerts 40000 --rate 2000 --batch 2000]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/correlator-drain.ts   (profile)
 *
 * The alerts are stored straight into alert_inbox (as ingest's group commit does, 100 per
 * delivery), with event times `--rate` alerts a second apart, as a steady stream has them. The
 * figures: alerts correlated per second of wall time, and this process's CPU time per 1,000
 * alerts (user + system, from process.cpuUsage: less sensitive to other work on the machine than
 * wall time; PostgreSQL's own CPU is not in it). Baseline, measured in the same run: the same
 * stream replayed through the engine alone, in memory (no reads or writes), so the ratio is what
 * the reading and writing cost on top of correlation. Prints a table and writes
 * bench/results/correlator-drain-<time>.json.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Alert, AlertInput } from '../correlator/alert.ts';
import { createCorrelationEngine } from '../correlator/engine/engine.ts';
import { LiveCorrelator } from '../correlator/live.ts';
import { sources } from '../ingest/sources/index.ts';
import { importCmdb } from '../services/store/cmdb.ts';
import { readCmdb } from '../services/store/correlation.ts';
import { createPool, ensureDatabase, withTransaction } from '../services/store/db.ts';
import { acceptDeliveries } from '../services/store/deliveries.ts';
import { oldestPendingInbox } from '../services/store/inbox.ts';
import { migrate } from '../services/store/migrate.ts';
import { generateEstate } from './correlation/estate.ts';
import { generateStorm } from './correlation/storms.ts';
import { pipelineEstateOptions, pipelineTier } from './pipeline-estate.ts';
import {
  cpuSecondsSince,
  cpuSnapshot,
  describeMachine,
  markdownTable,
  postgresProcesses,
  withAutovacuum,
  writeResults,
} from './processes.ts';

const { values: args } = parseArgs({
  options: {
    alerts: { type: 'string', default: '40000' },
    rate: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '2000' },
    'database-server': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    keep: { type: 'boolean', default: false },
  },
});
const alertCount = Number(args.alerts);
const rate = Number(args.rate);
const batchSize = Number(args.batch);

// bench/pipeline's estate and stream (about 9,900 CIs; tier C-like storms).
const estate = generateEstate(pipelineEstateOptions);
const tier = pipelineTier(estate, 'drain');

/** The storm's alerts without their event times, each given one `rate` per second apart. */
function stream(): Alert[] {
  const out: Alert[] = [];
  const start = Date.parse('2026-11-29T00:00:00.000Z');
  while (out.length < alertCount) {
    for (const { delivery } of generateStorm(tier)) {
      if (out.length >= alertCount) break;
      const { startsAt: _s, endsAt: _e, ...input } = delivery.alert;
      const receivedAt = new Date(start + (out.length * 1000) / rate);
      const normalized = sources.generic.normalize({
        body: input satisfies AlertInput,
        receivedAt,
        header: () => undefined,
      });
      if (normalized.kind !== 'alerts') throw new Error(JSON.stringify(normalized));
      out.push(...normalized.alerts);
    }
  }
  return out;
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

const loadBefore = loadavg()[0]!;
const alerts = stream();
const database = `tocsin_bench_${randomBytes(4).toString('hex')}`;
const databaseUrl = `${args['database-server']}/${database}`;
await ensureDatabase(databaseUrl);
const pool = createPool(databaseUrl, 6);
const log = pino({ level: 'warn' });
const autovacuum = await withAutovacuum(pool);
try {
  await migrate(pool);
  const imported = await withTransaction(pool, (tx) =>
    importCmdb(tx, estate.cis, estate.relationships),
  );
  if (imported.kind !== 'imported') throw new Error(JSON.stringify(imported));
  /** Stores alerts in the inbox as ingest does, 100 to a delivery. */
  const store = async (batch: Alert[]) => {
    for (let i = 0; i < batch.length; i += 100)
      await acceptDeliveries(pool, [
        {
          source: 'generic',
          tokenId: null,
          idempotencyKey: null,
          contentType: 'application/json',
          body: '[]',
          alerts: batch.slice(i, i + 100),
          notice: null,
        },
      ]);
  };
  await store(alerts);
  // The same alerts again after them, firing, a stream's length later: re-sends, as a steady
  // stream of firing alerts is (Alertmanager re-sends each one every group_interval).
  const shift = (alerts.length * 1000) / rate;
  await store(
    alerts.map((a) => ({ ...a, startsAt: new Date(Date.parse(a.startsAt) + shift).toISOString() })),
  );
  await pool.query('VACUUM ANALYZE alert_inbox');

  // Baseline: the engine alone over the same deliveries, in memory.
  const cmdb = await readCmdb(pool);
  const engineCpu0 = process.cpuUsage();
  const engineT0 = performance.now();
  const engine = await createCorrelationEngine(cmdb, {}, { recordDeliveries: false, evict: true });
  alerts.forEach((alert, seq) => {
    engine.push({ seq, deliveredAt: alert.startsAt, alert });
    if (seq % batchSize === batchSize - 1) engine.takeChanges();
  });
  engine.takeChanges();
  const engineSeconds = (performance.now() - engineT0) / 1000;
  const engineCpu = cpuMs(process.cpuUsage(engineCpu0));

  // The live correlator draining the inbox: the stream, then the re-sends.
  const batches: { at: number; alerts: number; cpu: number }[] = [];
  const cpu0 = process.cpuUsage();
  const correlator = new LiveCorrelator({
    pool,
    engine: {},
    priorityMatrix: [
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 5],
    ],
    batchSize,
    log,
    onBatch: ({ receivedAt }) =>
      batches.push({
        at: performance.now(),
        alerts: receivedAt.length,
        cpu: cpuMs(process.cpuUsage(cpu0)),
      }),
  });
  // What PostgreSQL does for it: WAL written (records, full-page images, bytes: they do not
  // depend on the machine's speed) and its processes' CPU (every backend of this database and
  // the WAL writer, background writer and checkpointer).
  const walStats = async () =>
    (
      await pool.query<{ records: string; fpi: string; bytes: string }>(
        'SELECT wal_records AS records, wal_fpi AS fpi, wal_bytes AS bytes FROM pg_stat_wal',
      )
    ).rows.map((r) => ({
      records: Number(r.records),
      fpi: Number(r.fpi),
      bytes: Number(r.bytes),
    }))[0]!;
  await pool.query('CHECKPOINT');
  const wal0 = await walStats();
  const pgCpu0 = cpuSnapshot(await postgresProcesses(pool));
  const liveT0 = performance.now();
  correlator.start();
  // Polled by the oldest pending row (one index entry), not by counting the backlog: a count
  // reads every pending row, ~30 ms of PostgreSQL's core per poll at this backlog, which the
  // drain would be measured competing with.
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    if ((await oldestPendingInbox(pool)) === null) break;
  }
  const liveSeconds = (performance.now() - liveT0) / 1000;
  const pgCpuSeconds = cpuSecondsSince(pgCpu0, await postgresProcesses(pool));
  const wal1 = await walStats();
  await correlator.close();
  const correlated = alerts.length * 2;
  const postgres = {
    cpuPer1000: (pgCpuSeconds * 1e6) / correlated,
    walBytesPerAlert: (wal1.bytes - wal0.bytes) / correlated,
    walRecordsPerAlert: (wal1.records - wal0.records) / correlated,
    fullPageImagesPerAlert: (wal1.fpi - wal0.fpi) / correlated,
  };
  /** Rate and CPU of the batches after `from` up to `to` (the first is the start line). */
  function phase(from: number, to: number) {
    const first = batches[from]!;
    const last = batches[to]!;
    const n = batches.slice(from + 1, to + 1).reduce((s, b) => s + b.alerts, 0);
    return {
      perSecond: n / ((last.at - first.at) / 1000),
      cpuPer1000: ((last.cpu - first.cpu) / n) * 1000,
    };
  }
  let boundary = 0;
  for (let seen = 0; seen < alerts.length; boundary++) seen += batches[boundary]!.alerts;
  const stream = phase(0, boundary - 1);
  const resent = phase(boundary - 1, batches.length - 1);

  const rows = [
    {
      measure: 'engine alone, in memory (baseline)',
      perSecond: alerts.length / engineSeconds,
      cpuPer1000: (engineCpu / alerts.length) * 1000,
    },
    {
      measure: 'live correlator, the stream',
      ...stream,
    },
    {
      measure: 'live correlator, the same alerts re-sent',
      ...resent,
    },
  ];
  console.log(
    `\nbench/correlator-drain: ${estate.cis.length} CIs; ${alerts.length} alerts at ${rate}/s event time; batches of ${batchSize} (${batches.length} written)`,
  );
  console.log(`${describeMachine(loadBefore)}\n`);
  const table = markdownTable(
    ['measure', 'alerts/s', 'CPU ms / 1,000 alerts', 'vs baseline (CPU)'],
    rows.map((r) => [
      r.measure,
      Math.round(r.perSecond).toLocaleString('en-US'),
      r.cpuPer1000.toFixed(1),
      (r.cpuPer1000 / rows[0]!.cpuPer1000).toFixed(2),
    ]),
    [1, 2, 3],
  );
  for (const line of table) console.log(line);
  console.log(
    `\nlive: ${liveSeconds.toFixed(1)} s from start (lease and restore included) to pending 0`,
  );
  console.log(
    `PostgreSQL over the live drain, per alert: ${postgres.walBytesPerAlert.toFixed(0)} WAL bytes, ` +
      `${postgres.walRecordsPerAlert.toFixed(1)} WAL records, ${postgres.fullPageImagesPerAlert.toFixed(2)} full-page images; ` +
      `${postgres.cpuPer1000.toFixed(1)} CPU ms per 1,000 alerts (backends, WAL writer, background writer, checkpointer)`,
  );
  writeResults('correlator-drain', loadBefore, {
    settings: { alerts: alerts.length, rate, batchSize, cis: estate.cis.length },
    rows,
    postgres,
    liveSeconds,
    batches: batches.length,
  });
} finally {
  await autovacuum.restore();
  await pool.end();
  if (!args.keep) {
    const admin = createPool(`${args['database-server']}/postgres`, 1);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}
