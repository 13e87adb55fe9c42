/**
 * bench/engine-memory: the engine's heap over a long stretch of event time, in memory, evicting
 * as the live correlator does. bench/pipeline (c) watches the correlator's memory for ten minutes
 * of a steady stream whose probes are new alerts that never resolve: each must be held for its
 * time to live (12 h for Alertmanager's, 24 h by default), so the heap grows with them whatever
 * else it holds. This tells the two apart, in two runs of the same stream of event time:
 *  - `bounded` (the baseline): bench/pipeline's storm at `--rate` deliveries a second of event
 *    time for `--minutes`: its first pass new alerts, then the same alerts re-sent (a bounded
 *    population, as Alertmanager re-sends what fires). Once the first pass is in, the heap should
 *    stay flat: anything it gains is a leak;
 *  - `probes`: the same, with every `--probe-every`th delivery a copy of a recent one under a new
 *    fingerprint, firing and never resolved (bench/pipeline's probes). What it gains beyond
 *    `bounded` is what each such alert costs while the engine holds it.
 * Every 30 s of event time the heap is read after two full collections. Printed per run: the
 * heap after the first pass and at the end, the slope over the second half (MB per minute of
 * event time), what the engine holds at the end; and the bytes each probe adds (the difference
 * of the slopes over the probes a minute).
 *
 *   npm run bench:engine-memory [-- --minutes 20 --rate 2000 --probe-every 200]
 *
 * Prints a table and writes bench/results/engine-memory-<time>.json.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { AlertInput } from '../correlator/alert.ts';
import { createCorrelationEngine } from '../correlator/engine/engine.ts';
import { sources } from '../ingest/sources/index.ts';
import { generateEstate } from './correlation/estate.ts';
import { generateStorm } from './correlation/storms.ts';
import { pipelineEstateOptions, pipelineTier } from './pipeline-estate.ts';
import { describeMachine, markdownTable, writeResults } from './processes.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    rate: { type: 'string', default: '2000' },
    'probe-every': { type: 'string', default: '200' },
  },
});
const minutes = Number(args.minutes);
const rate = Number(args.rate);
const probeEvery = Number(args['probe-every']);
if (!(minutes >= 2) || !(rate > 0) || !(probeEvery >= 2))
  throw new Error('--minutes ≥ 2, --rate > 0 and --probe-every ≥ 2');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:engine-memory)');

const estate = generateEstate(pipelineEstateOptions);
const tier = pipelineTier(estate, 'memory');
const storm = [...generateStorm(tier)].map(({ delivery }): AlertInput => {
  const { startsAt: _s, endsAt: _e, ...alert } = delivery.alert;
  return alert;
});
const start = Date.parse('2026-11-29T00:00:00.000Z');
const SAMPLE_SECONDS = 30;

type Sample = { minute: number; heapMb: number };
type Run = {
  name: string;
  samples: Sample[];
  firstPassHeapMb: number;
  endHeapMb: number;
  slopeMbPerMinute: number;
  held: Record<string, number>;
  probes: number;
};

function heapMb(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed / 1e6;
}

/** Least-squares slope of heap over event-time minutes. */
function slope(samples: readonly Sample[]): number {
  const n = samples.length;
  const mx = samples.reduce((s, p) => s + p.minute, 0) / n;
  const my = samples.reduce((s, p) => s + p.heapMb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.minute - mx) * (p.heapMb - my);
    den += (p.minute - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function run(name: string, withProbes: boolean): Promise<Run> {
  const engine = await createCorrelationEngine(
    estate,
    {},
    { recordDeliveries: false, evict: true },
  );
  const total = Math.round(minutes * 60 * rate);
  const samples: Sample[] = [];
  let firstPassHeapMb = 0;
  let probes = 0;
  for (let i = 0; i < total; i++) {
    const base = storm[i % storm.length]!;
    let input: AlertInput = { ...base, fingerprint: `${base.fingerprint ?? 'x'}~b` };
    if (withProbes && i % probeEvery === probeEvery - 1) {
      input = { ...storm[(i + storm.length - 39) % storm.length]!, status: 'firing' };
      input.fingerprint = `probe-${i}`;
      probes++;
    }
    const normalized = sources.generic.normalize({
      body: input,
      receivedAt: new Date(start + (i * 1000) / rate),
      header: () => undefined,
    });
    if (normalized.kind !== 'alerts') throw new Error(JSON.stringify(normalized));
    for (const alert of normalized.alerts)
      engine.push({ seq: i, deliveredAt: alert.startsAt, alert });
    if (i % 2000 === 1999) {
      // As the live correlator does after every batch: what changed, and what was processed.
      engine.takeChanges();
      engine.takeProcessed();
    }
    if (i === storm.length - 1) firstPassHeapMb = heapMb();
    if ((i + 1) % (SAMPLE_SECONDS * rate) === 0)
      samples.push({ minute: (i + 1) / rate / 60, heapMb: heapMb() });
  }
  const secondHalf = samples.filter((s) => s.minute > minutes / 2);
  return {
    name,
    samples,
    firstPassHeapMb,
    endHeapMb: samples.at(-1)!.heapMb,
    slopeMbPerMinute: slope(secondHalf),
    held: { ...engine.size },
    probes,
  };
}

const loadBefore = loadavg()[0]!;
const bounded = await run('bounded (baseline)', false);
const probed = await run('probes', true);
const probesPerMinute = (rate * 60) / probeEvery;
const bytesPerProbe =
  ((probed.slopeMbPerMinute - bounded.slopeMbPerMinute) * 1e6) / probesPerMinute;

console.log(
  `\nbench/engine-memory: ${estate.cis.length} CIs; bench/pipeline's storm (${storm.length.toLocaleString('en-US')} deliveries a pass) at ${rate}/s of event time for ${minutes} min`,
);
console.log(`${describeMachine(loadBefore)}\n`);
const table = markdownTable(
  [
    'run',
    'heap after 1st pass MB',
    'heap at end MB',
    'slope, 2nd half MB/min',
    'alerts held',
    'firing',
    'incidents',
    'new never-resolved alerts',
  ],
  [bounded, probed].map((r) => [
    r.name,
    r.firstPassHeapMb.toFixed(1),
    r.endHeapMb.toFixed(1),
    r.slopeMbPerMinute.toFixed(3),
    String(r.held.alerts),
    String(r.held.firing),
    String(r.held.incidents),
    r.probes.toLocaleString('en-US'),
  ]),
  [1, 2, 3, 4, 5, 6, 7],
);
for (const line of table) console.log(line);
console.log(
  `\neach new alert held (firing, never resolved; ${probesPerMinute} a minute): ${Math.round(bytesPerProbe).toLocaleString('en-US')} bytes of heap`,
);
writeResults('engine-memory', loadBefore, {
  settings: { minutes, rate, probeEvery, cis: estate.cis.length, stormDeliveries: storm.length },
  runs: [bounded, probed],
  bytesPerProbe,
});
