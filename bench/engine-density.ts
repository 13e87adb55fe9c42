/**
 * bench/engine-density: the engine alone, in memory, as its window fills. bench/pipeline's
 * steady stream has event time = arrival time, so at 2,000 alerts/s the 15-minute window holds
 * everything sent so far and every new alert meets the live incidents of all of it. This replays
 * bench/pipeline's storm `--passes` times, each pass under new fingerprints (new alerts on the
 * same CIs and texts, as (b)'s first pass is after (a0) and (a)), event times `--rate` a second
 * apart, and times each pass.
 *
 *   npm run bench:engine-density [-- --passes 3 --rate 2000]
 *
 * Baseline, in the same run: pass 1, the window filling from empty. The figures: CPU time per
 * delivery of each pass (process.cpuUsage: user + system, less sensitive to other work on the
 * machine than wall time) and its ratio to pass 1's; beside them, a digest of every alert's
 * incident, which changes only when a decision does (the same code gives the same digest, so a
 * change meant to be faster only can be checked to decide the same). Prints a table and writes
 * bench/results/engine-density-<time>.json.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Alert, AlertInput } from '../correlator/alert.ts';
import { createCorrelationEngine } from '../correlator/engine/engine.ts';
import { sources } from '../ingest/sources/index.ts';
import { generateEstate } from './correlation/estate.ts';
import { generateStorm } from './correlation/storms.ts';
import { pipelineEstateOptions, pipelineTier } from './pipeline-estate.ts';
import { describeMachine, markdownTable, writeResults } from './processes.ts';

const { values: args } = parseArgs({
  options: {
    passes: { type: 'string', default: '3' },
    rate: { type: 'string', default: '2000' },
  },
});
const passes = Number(args.passes);
const rate = Number(args.rate);
if (!(passes >= 1) || !(rate > 0)) throw new Error('--passes ≥ 1 and --rate > 0');

const estate = generateEstate(pipelineEstateOptions);
const tier = pipelineTier(estate, 'density');
const start = Date.parse('2026-11-29T00:00:00.000Z');

/** The storm's deliveries `passes` times, each pass under its own tag, `rate` a second apart. */
const alerts: Alert[] = [];
const passStarts: number[] = [];
for (let pass = 0; pass < passes; pass++) {
  passStarts.push(alerts.length);
  for (const { delivery } of generateStorm(tier)) {
    const { startsAt: _s, endsAt: _e, ...input } = delivery.alert;
    const normalized = sources.generic.normalize({
      body: { ...input, fingerprint: `${input.fingerprint ?? 'x'}~${pass}` } satisfies AlertInput,
      receivedAt: new Date(start + (alerts.length * 1000) / rate),
      header: () => undefined,
    });
    if (normalized.kind !== 'alerts') throw new Error(JSON.stringify(normalized));
    alerts.push(...normalized.alerts);
  }
}
passStarts.push(alerts.length);

const loadBefore = loadavg()[0]!;
const engine = await createCorrelationEngine(estate, {}, { recordDeliveries: false, evict: true });
const digest = createHash('sha1');
const take = () => {
  for (const { alert, incident } of engine.takeChanges().alerts)
    digest.update(`${alert.id}>${incident};`);
};
const rows: {
  pass: number;
  deliveries: number;
  newAlerts: number;
  seconds: number;
  cpuSeconds: number;
  liveIncidents: number;
}[] = [];
for (let pass = 0; pass < passes; pass++) {
  const before = engine.size.alerts;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let seq = passStarts[pass]!; seq < passStarts[pass + 1]!; seq++) {
    const alert = alerts[seq]!;
    engine.push({ seq, deliveredAt: alert.startsAt, alert });
    if (seq % 2000 === 1999) take();
  }
  take();
  const cpu = process.cpuUsage(cpu0);
  rows.push({
    pass: pass + 1,
    deliveries: passStarts[pass + 1]! - passStarts[pass]!,
    newAlerts: engine.size.alerts - before,
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    liveIncidents: engine.size.incidents,
  });
}
const decisions = digest.digest('hex').slice(0, 16);

const perDelivery = (r: (typeof rows)[number]) => (r.cpuSeconds * 1e6) / r.deliveries;
console.log(
  `\nbench/engine-density: ${estate.cis.length} CIs; bench/pipeline's storm ${passes} times under new fingerprints, ${rate}/s event time`,
);
console.log(`${describeMachine(loadBefore)}\n`);
const table = markdownTable(
  [
    'pass',
    'deliveries',
    'new alerts',
    'incidents held after',
    'CPU s',
    'CPU µs / delivery',
    'vs pass 1',
  ],
  rows.map((r) => [
    String(r.pass),
    r.deliveries.toLocaleString('en-US'),
    r.newAlerts.toLocaleString('en-US'),
    r.liveIncidents.toLocaleString('en-US'),
    r.cpuSeconds.toFixed(2),
    perDelivery(r).toFixed(1),
    (perDelivery(r) / perDelivery(rows[0]!)).toFixed(2),
  ]),
  [0, 1, 2, 3, 4, 5, 6],
);
for (const line of table) console.log(line);
console.log(`\ndecisions digest (every alert's incident): ${decisions}`);
writeResults('engine-density', loadBefore, {
  settings: { passes, rate, cis: estate.cis.length },
  rows,
  decisions,
});
