/**
 * bench/similarity: the text-similarity part of correlation (correlator/templates.ts and
 * correlator/similarity.ts) on 10,000 distinct templates, beside a naive baseline in the same run.
 *
 *   npm run bench:similarity [-- --templates 10000 --queries 2000 --baseline-queries 300]
 *
 * Measures: toTemplate throughput; add() throughput while the index fills to --templates (new
 * templates and repeats) and for repeats only; nearest() latency (k 10) at two thresholds; the
 * alert path (add + nearest) for fresh alert texts; the first load of natural's two files. The
 * baseline is what the index replaces: natural tokenize + stem of the raw text, uncached, and a
 * cosine against every cached vector. Alert texts come from a seeded generator in five tools'
 * wordings (Prometheus, Zabbix, Datadog, CloudWatch, Nagios) with variable values and CIs.
 * Single process, single thread: the figures are CPU time on one core. Prints a table and writes
 * bench/results/similarity-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TemplateIndex, loadTextTools, type TextTools } from '../correlator/similarity.ts';
import { toTemplate } from '../correlator/templates.ts';
import { createRandom } from './random.ts';

const { values: args } = parseArgs({
  options: {
    templates: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '2000' },
    'baseline-queries': { type: 'string', default: '300' },
    seed: { type: 'string', default: '42' },
  },
});
const templateTarget = Number(args.templates);
const queryCount = Number(args.queries);
const baselineQueryCount = Number(args['baseline-queries']);

/** A seeded stream of uniform numbers (bench/random.ts), so every run sees the same texts. */
function random(seed: number): () => number {
  const r = createRandom(seed);
  return () => r.next();
}

const subjects = [
  'disk space', 'free inodes', 'memory usage', 'swap usage', 'cpu load', 'cpu steal time',
  'request latency', 'http error rate', 'replication lag', 'consumer lag', 'queue depth',
  'connection pool usage', 'open file descriptors', 'certificate lifetime', 'clock offset',
  'packet loss', 'gc pause time', 'heap usage', 'thread pool saturation', 'disk io wait',
  'network throughput', 'tcp retransmits', 'dns lookup time', 'pod restarts', 'oom kills',
  'job duration', 'backup age', 'cache hit ratio', 'cache evictions', 'index merge time',
  'query time', 'lock wait time', 'deadlocks', 'checkpoint duration', 'wal size',
  'transaction rate', 'session count', 'login failures', 'api quota usage', 'upstream health',
  'surge queue length', 'raid array health', 'fan speed', 'power supply redundancy',
  'inlet temperature', 'bgp session state', 'interface errors', 'spanning tree changes',
  'vpn tunnel state', 'scheduler backlog', 'cron job failures', 'message redeliveries',
  'dead letter queue size', 'shard allocation', 'snapshot age', 'object storage errors',
  'build queue length', 'rollout progress', 'feature flag sync', 'license expiry',
]; // prettier-ignore
const components = [
  'nginx', 'haproxy', 'postgres', 'mysql', 'redis', 'kafka', 'rabbitmq', 'elasticsearch',
  'jvm', 'kubelet', 'etcd', 'consul', 'envoy', 'memcached', 'cassandra', 'mongodb',
  'zookeeper', 'vault', 'minio', 'ceph',
]; // prettier-ignore
const conditions = [
  'is above the critical threshold', 'is above the warning threshold',
  'is growing faster than expected', 'has been high for too long',
  'is below the expected minimum', 'changed abruptly', 'is degraded', 'is not reporting',
  'exceeds its budget', 'is trending towards exhaustion', 'deviates from its baseline',
  'flaps between states',
]; // prettier-ignore
const roles = ['web', 'api', 'db-ledger', 'cache', 'mq', 'search', 'lb', 'app', 'batch', 'edge'];

type Alert = { text: string; ci: string };

/** Service names as an estate has them: made-up words, so that no two families share one by chance. */
function serviceNames(count: number, next: () => number): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ra', 'to', 've', 'su', 'ni', 'de', 'po', 'zu', 'be', 'gor'];
  const kinds = ['api', 'worker', 'gateway', 'store', 'sync', 'scheduler'];
  const names = new Set<string>();
  while (names.size < count) {
    const word = Array.from(
      { length: 2 + Math.floor(next() * 2) },
      () => syllables[Math.floor(next() * syllables.length)]!,
    ).join('');
    names.add(`${word}-${kinds[Math.floor(next() * kinds.length)]!}`);
  }
  return [...names];
}

/**
 * Alert texts from `families` failure families (tool wording × service × component × subject ×
 * condition), with fresh values and CIs in every text. Like real streams, most alerts repeat a
 * few hot families: 70% come from the first tenth of the families, 30% from all of them.
 */
function alertTexts(count: number, families: number, seed: number): Alert[] {
  const services = serviceNames(400, random(7));
  const next = random(seed);
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(list: readonly T[], from: () => number): T =>
    list[Math.floor(from() * list.length)]!;
  return Array.from({ length: count }, () => {
    const family = next() < 0.7 ? int(Math.ceil(families / 10)) : int(families);
    // The family's words depend on the family only; the values on the text.
    const traits = random(family * 7919 + 1);
    const style = Math.floor(traits() * 5);
    const service = pick(services, traits);
    const component = pick(components, traits);
    const subject = pick(subjects, traits);
    const condition = pick(conditions, traits);
    const ci = `${pick(roles, next)}-${int(200) + 1}`;
    const ip = `10.${int(256)}.${int(256)}.${int(256)}`;
    const value = (next() * 1000).toFixed(int(3));
    const time = new Date(Date.UTC(2026, 10, 1 + int(28), int(24), int(60), int(60)));
    const text = [
      `${service} ${component} ${subject} ${condition} on ${ci}:9100 (value ${value}, for ${int(30) + 1}m)`,
      `${component} ${subject} ${condition} for ${service} (over ${int(100)}% for ${int(10) + 1}m) on ${ci.toUpperCase()}`,
      `[${service}] ${component} ${subject} ${condition} on ${ci}.prod.example.com: ${value} at ${time.toISOString()}`,
      `${ci}-${service}-${subject.replaceAll(' ', '-')}: Threshold Crossed: 1 datapoint [${value} (${time.toUTCString()})] ${condition} (${component})`,
      `${ci}/${service} ${component} is CRITICAL - ${subject} ${condition}: ${value} from ${ip}:${int(60000)} request ${int(1e9).toString(16)}ff`,
    ][style]!;
    // Flat copies: V8 keeps a template literal as a tree of pieces until a regex flattens it,
    // which would free memory while the index is measured.
    return { text: Buffer.from(text).toString(), ci: Buffer.from(ci).toString() };
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

type Row = {
  operation: string;
  n: number;
  perSecond: number;
  p50Us: number | null;
  p99Us: number | null;
  note: string;
};
const rows: Row[] = [];

/** Times fn once per item; returns per-item latencies in µs and the total rate. */
function timeEach<T>(
  items: readonly T[],
  fn: (item: T) => void,
): { sorted: number[]; rate: number } {
  const latencies = new Array<number>(items.length);
  const start = performance.now();
  for (let i = 0; i < items.length; i++) {
    const t0 = performance.now();
    fn(items[i]!);
    latencies[i] = (performance.now() - t0) * 1000;
  }
  const seconds = (performance.now() - start) / 1000;
  return { sorted: latencies.sort((a, b) => a - b), rate: items.length / seconds };
}

function record(operation: string, result: { sorted: number[]; rate: number }, note = ''): void {
  rows.push({
    operation,
    n: result.sorted.length,
    perSecond: result.rate,
    p50Us: percentile(result.sorted, 50),
    p99Us: percentile(result.sorted, 99),
    note,
  });
}

const heapUsed = () => {
  // Twice: the first full collection can leave garbage that finalizers released.
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};

const loadBefore = loadavg();
const seed = Number(args.seed);

// 1. The first load of natural's tokenizer and stemmer (the index's only start-up cost).
const loadStart = performance.now();
const tools = await loadTextTools();
const loadMs = performance.now() - loadStart;
rows.push({
  operation: 'load natural (2 files, lazy)',
  n: 1,
  perSecond: 1000 / loadMs,
  p50Us: loadMs * 1000,
  p99Us: null,
  note: 'once per process, on first use',
});

// 2. toTemplate: a first pass compiles every CI's pattern (timed apart), the second is the steady
// state over the same CIs and fresh values.
const activeFamilies = Math.ceil(templateTarget * 1.25);
const sample = alertTexts(20_000, activeFamilies, seed + 1);
const firstOfCi = new Map<string, Alert>();
for (const alert of sample) if (!firstOfCi.has(alert.ci)) firstOfCi.set(alert.ci, alert);
record(
  'toTemplate, first text of a CI',
  timeEach([...firstOfCi.values()], ({ text, ci }) => toTemplate(text, ci)),
  'compiles the CI pattern (cached after)',
);
for (const { text, ci } of sample) toTemplate(text, ci);
record(
  'toTemplate',
  timeEach(sample, ({ text, ci }) => toTemplate(text, ci)),
  `${Math.round(sample.reduce((n, a) => n + a.text.length, 0) / sample.length)} chars avg, ${firstOfCi.size} CIs`,
);

// 3. add() until the index holds templateTarget templates (no eviction: maxTemplates is the target).
const stream = alertTexts(templateTarget * 12, activeFamilies, seed);
// Allocated before the heap is measured, so that only the index's own memory is counted. Without
// eviction, ids run from 1 to the number of templates.
const firstText = Array.from({ length: templateTarget + 1 }, (): Alert | undefined => undefined);
const fillLatencies = new Float64Array(stream.length);
let distinct = 0;
const heapBefore = heapUsed();
const fresh = new TemplateIndex(tools, { maxTemplates: templateTarget });
const fillStart = performance.now();
let fed = 0;
while (distinct < templateTarget && fed < stream.length) {
  const alert = stream[fed]!;
  const t0 = performance.now();
  const id = fresh.add(alert.text, alert.ci);
  fillLatencies[fed++] = (performance.now() - t0) * 1000;
  if (firstText[id] === undefined) {
    firstText[id] = alert;
    distinct++;
  }
}
const fillSeconds = (performance.now() - fillStart) / 1000;
const heapAfter = heapUsed();
const filledStats = fresh.stats();
record(
  'add() filling to N templates',
  { sorted: [...fillLatencies.subarray(0, fed)].sort((x, y) => x - y), rate: fed / fillSeconds },
  `${filledStats.templates} templates from ${fed} texts, ${filledStats.idfEpochs} IDF epochs`,
);
const feed = stream.slice(0, fed);

const repeats = feed.slice(0, 20_000);
record(
  'add() repeat template',
  timeEach(repeats, (alert) => fresh.add(alert.text, alert.ci)),
  'toTemplate + Map lookup',
);

// 4. nearest() at N templates.
const next = random(seed + 2);
const held =
  fresh.stats().templates === distinct ? firstText.flatMap((a, id) => (a ? [id] : [])) : [];
const queries = Array.from({ length: queryCount }, () => held[Math.floor(next() * held.length)]!);
for (const minScore of [0.5, 0.3]) {
  const before = fresh.stats();
  const result = timeEach(queries, (id) => fresh.nearest(id, 10, minScore));
  const after = fresh.stats();
  record(
    `nearest(k 10, min ${minScore})`,
    result,
    `${Math.round((after.comparisons - before.comparisons) / queries.length)} comparisons/query of ${filledStats.templates}`,
  );
}

// 5. The alert path: a fresh alert text → its template id → its nearest templates.
const arriving = alertTexts(queryCount, activeFamilies, seed + 3);
const hitsBefore = fresh.stats().templateHits;
record(
  'alert path: add() + nearest()',
  timeEach(arriving, ({ text, ci }) => fresh.nearest(fresh.add(text, ci), 10, 0.5)),
  `${Math.round(((fresh.stats().templateHits - hitsBefore) / arriving.length) * 100)}% template hits`,
);

// 6. Baseline: natural tokenize + stem of the raw text, uncached; cosine against every vector.
type Vector = Map<string, number>;
function terms(text: string, t: TextTools): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of t.tokenize(text.toLowerCase())) {
    const stem = t.stem(token);
    counts.set(stem, (counts.get(stem) ?? 0) + 1);
  }
  return counts;
}
const corpusTerms = firstText.flatMap((alert) => (alert ? [terms(alert.text, tools)] : []));
const df = new Map<string, number>();
for (const counts of corpusTerms)
  for (const term of counts.keys()) df.set(term, (df.get(term) ?? 0) + 1);
const idf = (term: string) => Math.log((1 + corpusTerms.length) / (1 + (df.get(term) ?? 0))) + 1;
function vectorOf(counts: Map<string, number>): Vector {
  const vector: Vector = new Map();
  let norm = 0;
  for (const [term, count] of counts) {
    const w = (1 + Math.log(count)) * idf(term);
    vector.set(term, w);
    norm += w * w;
  }
  norm = Math.sqrt(norm);
  for (const [term, w] of vector) vector.set(term, w / norm);
  return vector;
}
const corpusVectors = corpusTerms.map(vectorOf);
function cosine(a: Vector, b: Vector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let sum = 0;
  for (const [term, w] of small) sum += w * (large.get(term) ?? 0);
  return sum;
}
const baselineQueries = arriving.slice(0, baselineQueryCount);
record(
  'baseline: tokenize + stem (uncached)',
  timeEach(baselineQueries, ({ text }) => terms(text, tools)),
  'natural, per raw text',
);
record(
  'baseline: + cosine vs all N',
  timeEach(baselineQueries, ({ text }) => {
    const query = vectorOf(terms(text, tools));
    const scored: { i: number; score: number }[] = [];
    for (let i = 0; i < corpusVectors.length; i++) {
      const score = cosine(query, corpusVectors[i]!);
      if (score >= 0.5) scored.push({ i, score });
    }
    scored.sort((x, y) => y.score - x.score);
    scored.length = Math.min(scored.length, 10);
  }),
  `${corpusVectors.length} comparisons/query`,
);

const loadAfter = loadavg();
const format = (n: number | null, digits = 1) =>
  n === null ? '' : n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(digits);
const header = ['operation', 'n', 'per second', 'p50 µs', 'p99 µs', 'note'];
const table = rows.map((r) => [
  r.operation,
  String(r.n),
  format(r.perSecond),
  format(r.p50Us),
  format(r.p99Us),
  r.note,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  cells
    .map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
    .join('  ');

console.log(`bench:similarity — ${filledStats.templates} templates, seed ${seed}`);
console.log(`${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, Node ${process.version}`);
console.log(
  `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of table) console.log(line(row));
const bytesPerTemplate = (heapAfter - heapBefore) / filledStats.templates;
console.log(
  `\nheap for ${filledStats.templates} templates: ${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB ` +
    `(${Math.round(bytesPerTemplate)} B/template${globalThis.gc ? '' : ', without --expose-gc: rough'}), ` +
    `${filledStats.terms} terms, stem cache hit ratio ${(filledStats.stemCacheHits / (filledStats.stemCacheHits + filledStats.stemCacheMisses)).toFixed(3)}`,
);

const root = new URL('..', import.meta.url).pathname;
const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `similarity-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      bench: 'similarity',
      at: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model ?? 'cpu',
        cores: availableParallelism(),
        node: process.version,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadAfter,
      },
      settings: {
        templates: templateTarget,
        queries: queryCount,
        baselineQueries: baselineQueryCount,
        seed,
      },
      rows,
      index: {
        ...fresh.stats(),
        heapBytes: heapAfter - heapBefore,
        exactHeap: Boolean(globalThis.gc),
      },
    },
    null,
    2,
  )}\n`,
);
console.log(`\nresults: ${file}`);
