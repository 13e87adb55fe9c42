/**
 * The alert storms of bench/correlation, with their ground truth.
 *
 * Faults start on root CIs (a Poisson process, busier by day) with a failure mode of the root's
 * kind, and cascade along the real CMDB in the impact direction (from a CI to the CIs that need
 * it), each edge with its own chance and delay; the chance fades with depth and with redundancy
 * (a switch behind two core routers rarely notices one of them failing). Most affected CIs alert,
 * not all, each through the monitoring tools that watch it, after that tool's detection delay;
 * a blip shorter than the detection delay never alerts. Around the faults: one-off background
 * alerts on random CIs with the same symptoms (noise), independent faults elsewhere at the same
 * time, and faults that recur (the same root CI and failure mode, several times over the days,
 * sometimes at the same hour: a batch job). Every alert has the texts of its tool with fresh
 * values in each delivery, is re-sent on the tool's cadence, sometimes flaps, sometimes never
 * resolves, and is delivered late now and then, so deliveries arrive out of order.
 *
 * Deliveries come out in delivery order from a generator, through a heap that holds only the
 * deliveries of the faults still going on: memory stays bounded however long the stream.
 */
import { createHash } from 'node:crypto';
import type { AlertInput, AlertStatus, Severity } from '../../correlator/alert.ts';
import type { RelationshipType } from '../../services/store/cmdb.ts';
import { createRandom, type Random } from '../random.ts';
import type { Delivery } from './correlator.ts';
import {
  defaultDegrade,
  defaultEstateOptions,
  degradeCmdb,
  generateEstate,
  type Cmdb,
  type EstateOptions,
} from './estate.ts';
import type { AlertTruth } from './score.ts';
import {
  failureModes,
  impactSymptoms,
  noiseSymptoms,
  symptoms,
  type FailureMode,
  type Symptom,
} from './symptoms.ts';

/** The shape of a storm: how long, how many faults and background alerts, how tangled. */
export type StormOptions = {
  seed: number;
  /** Event time of the stream's start (RFC 3339). */
  start: string;
  days: number;
  /** Independent faults a day at the peak hours' rate (recurring ones come on top). */
  faultsPerDay: number;
  /** Background one-off alerts a day at the peak hours' rate. */
  noisePerDay: number;
  /** Root causes that recur 3 to 6 times over the days. */
  recurringProblems: number;
  /** Share of faults that come with a second, independent fault within 10 minutes. */
  concurrentShare: number;
  /** Share of those second faults that hit the same data centre. */
  sameDatacenterShare: number;
  /** At most this many CIs affected by one fault. */
  maxAffected: number;
};

/**
 * Tier A's storm: a week of an estate of ~2,300 CIs, with 40 faults and 800 background alerts a
 * day at the peak rate (fewer at night): about one background alert per CI every four days, a
 * quiet estate by the standards of most NOCs.
 */
export const defaultStormOptions: StormOptions = {
  seed: 7,
  start: '2026-11-02T00:00:00.000Z',
  days: 7,
  faultsPerDay: 40,
  noisePerDay: 800,
  recurringProblems: 12,
  concurrentShare: 0.2,
  sameDatacenterShare: 0.2,
  maxAffected: 250,
};

/** The three tiers of the issue. */
export type TierName = 'A' | 'B' | 'C';

/** A tier: the real estate (the truth), the CMDB the engine sees, and the storm. */
export type Tier = {
  name: TierName;
  summary: string;
  estate: Cmdb;
  cmdb: Cmdb;
  storm: StormOptions;
};

/**
 * The tiers: A with the correct CMDB; B with the same storms and a degraded CMDB (so the two
 * differ only by it); C with a correct CMDB, 2.5 times the faults, most of them overlapping, and
 * ten times the background noise.
 */
export function createTiers(
  estateOptions: EstateOptions = defaultEstateOptions,
  storm: Partial<StormOptions> = {},
): Tier[] {
  const estate = generateEstate(estateOptions);
  const base = { ...defaultStormOptions, ...storm };
  const degraded = degradeCmdb(estate, { ...defaultDegrade, seed: estateOptions.seed + 1 });
  return [
    { name: 'A', summary: 'correct CMDB', estate, cmdb: estate, storm: base },
    {
      name: 'B',
      summary: `A's storms, CMDB with 20% of edges missing and 5% spurious`,
      estate,
      cmdb: degraded,
      storm: base,
    },
    {
      name: 'C',
      summary: 'overlapping storms, 10x background noise, correct CMDB',
      estate,
      cmdb: estate,
      storm: {
        ...base,
        seed: base.seed + 1,
        faultsPerDay: base.faultsPerDay * 2.5,
        noisePerDay: base.noisePerDay * 10,
        concurrentShare: 0.6,
        sameDatacenterShare: 0.7,
      },
    },
  ];
}

/** The hidden truth of one delivery: which logical alert it is, and what that belongs to. */
export type DeliveryTruth = AlertTruth & { alert: string };

/** One delivery with its truth. */
export type StormEvent = { delivery: Delivery; truth: DeliveryTruth };

type Tool = 'alertmanager' | 'zabbix' | 'datadog' | 'cloudwatch' | 'nagios' | 'healthcheck';

/** A CI as the generator sees it. */
type Node = {
  name: string;
  /** The class, or `cluster:<kind>` for clusters. */
  kind: string;
  dc: string | null;
  ip: string;
  /** The FQDN the CMDB records (hosts and network devices). */
  fqdn: string | null;
  instanceId: string | null;
  application: string | null;
  engine: string | null;
  port: number;
  team: string;
  tools: Tool[];
};

type Impact = { to: number; chance: number; meanDelayMs: number };

type World = {
  nodes: Node[];
  index: Map<string, number>;
  /** By failing CI: the CIs that need it. */
  impacts: Impact[][];
  /** By CI: the CIs it needs (its neighbours in texts). */
  needs: number[][];
  contains: number[][];
  byKind: Map<string, number[]>;
  byDc: Map<string, number[]>;
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How prone one CI of each kind is to be the root of a fault, relative to an instance. */
const ROOT_WEIGHTS: Record<string, number> = {
  app_instance: 1,
  virtual_machine: 0.4,
  server: 0.5,
  database: 1.5,
  cache: 1.2,
  queue: 1.2,
  'cluster:kubernetes': 2,
  'cluster:kafka': 2,
  switch: 0.8,
  router: 2,
  firewall: 2,
  load_balancer: 1.5,
  storage: 2,
  application: 0.6,
  technical_service: 2,
};

/** How prone one CI of each kind is to a background alert, relative to a VM. */
const NOISE_WEIGHTS: Record<string, number> = {
  virtual_machine: 1,
  server: 1,
  app_instance: 1.5,
  database: 1.5,
  cache: 1,
  queue: 1,
  switch: 0.5,
  router: 1,
  firewall: 1,
  load_balancer: 1,
  storage: 1,
  application: 1,
  business_service: 1,
  technical_service: 2,
  'cluster:kubernetes': 1,
  'cluster:kafka': 1,
};

/** The chance that an affected CI of this kind raises any alert at all. */
const ALERT_CHANCE: Record<string, number> = {
  router: 0.9,
  switch: 0.9,
  firewall: 0.9,
  load_balancer: 0.8,
  storage: 0.85,
  server: 0.85,
  virtual_machine: 0.8,
  database: 0.9,
  cache: 0.8,
  queue: 0.8,
  'cluster:kubernetes': 0.85,
  'cluster:kafka': 0.85,
  app_instance: 0.65,
  application: 0.6,
  technical_service: 0.7,
  business_service: 0.5,
};

/** Mean time for a failure to reach a CI of this kind, on top of 2 s. */
const IMPACT_DELAY_MS: Record<string, number> = {
  router: 8_000,
  switch: 8_000,
  firewall: 8_000,
  load_balancer: 15_000,
  storage: 20_000,
  server: 15_000,
  virtual_machine: 20_000,
  database: 30_000,
  cache: 25_000,
  queue: 30_000,
  'cluster:kubernetes': 40_000,
  'cluster:kafka': 40_000,
  app_instance: 60_000,
  application: 120_000,
  technical_service: 90_000,
  business_service: 180_000,
};

/** Each hop multiplies the chance to spread further by this. */
const ATTENUATION = 0.9;

/** The monitoring tools that may watch a CI of this kind. */
function toolsFor(kind: string, cloud: boolean): Tool[] {
  switch (kind) {
    case 'router':
    case 'switch':
    case 'firewall':
      return ['zabbix', 'nagios', 'alertmanager'];
    case 'load_balancer':
      return cloud ? ['cloudwatch'] : ['zabbix', 'nagios'];
    case 'storage':
      return ['zabbix', 'nagios'];
    case 'server':
      return ['alertmanager', 'zabbix', 'nagios'];
    case 'virtual_machine':
      return cloud ? ['cloudwatch', 'datadog'] : ['alertmanager', 'zabbix', 'datadog'];
    case 'database':
      return cloud ? ['cloudwatch', 'datadog'] : ['alertmanager', 'datadog', 'zabbix'];
    case 'app_instance':
      return cloud ? ['datadog', 'cloudwatch'] : ['alertmanager', 'datadog'];
    case 'application':
      return ['datadog', 'alertmanager'];
    case 'technical_service':
    case 'business_service':
      return ['healthcheck', 'datadog'];
    default:
      return ['alertmanager', 'datadog'];
  }
}

/** The chance that a failure of `cause` impacts `impacted`, which needs it through `type`. */
function impactChance(type: RelationshipType, cause: Node, impacted: Node): number {
  if (impacted.kind === 'business_service') return 0.75;
  switch (type) {
    case 'hosted_on':
      return impacted.kind.startsWith('cluster') ? 0.6 : 0.95;
    case 'runs_on':
      return 0.95;
    case 'member_of':
      return 0.55;
    case 'contains':
      return impacted.kind === 'application' ? 0.5 : 0.6;
    case 'uses':
      return (
        { database: 0.75, cache: 0.5, queue: 0.55, 'cluster:kafka': 0.55, storage: 0.6 }[
          cause.kind
        ] ?? 0.4
      );
    case 'depends_on':
      return (
        { database: 0.85, application: 0.55, load_balancer: 0.8, technical_service: 0.6 }[
          cause.kind
        ] ?? 0.9
      );
    case 'connected_to':
      return 0.1;
  }
}

/** Builds the generator's view of the real estate: nodes, impact edges, tools. */
function buildWorld(estate: Cmdb, seed: number): World {
  const nodes: Node[] = estate.cis.map((c, i) => {
    const a = c.attributes ?? {};
    const text = (k: string) => (typeof a[k] === 'string' ? a[k] : null);
    const kind = c.class === 'cluster' ? `cluster:${text('kind') ?? 'generic'}` : c.class;
    const dc = text('dc');
    const r = createRandom(seed, 5, i);
    const candidates = toolsFor(kind, dc === 'euw1');
    const first = r.pick(candidates);
    const others = candidates.filter((t) => t !== first);
    const tools = others.length > 0 && r.chance(0.4) ? [first, r.pick(others)] : [first];
    return {
      name: c.name,
      kind,
      dc,
      ip: text('ip') ?? `10.${100 + r.int(50)}.${r.int(256)}.${1 + r.int(254)}`,
      fqdn: text('fqdn'),
      instanceId: text('instanceId'),
      application: text('application') ?? (c.class === 'application' ? c.name : null),
      engine: text('engine'),
      port: typeof a.port === 'number' ? a.port : 443,
      team: c.supportGroup ?? 'ops',
      tools,
    };
  });
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  const impacts: Impact[][] = nodes.map(() => []);
  const needs: number[][] = nodes.map(() => []);
  const contains: number[][] = nodes.map(() => []);
  // How many edges of one type to CIs of one kind a CI has: two or more are redundant.
  const fanOut = new Map<string, number>();
  const at = (name: string) => {
    const i = index.get(name);
    if (i === undefined) throw new Error(`storms: relationship names unknown CI ${name}`);
    return i;
  };
  for (const rel of estate.relationships) {
    const key = `${rel.source}\u0000${rel.type}\u0000${nodes[at(rel.target)]!.kind}`;
    fanOut.set(key, (fanOut.get(key) ?? 0) + 1);
  }
  for (const rel of estate.relationships) {
    const s = at(rel.source);
    const t = at(rel.target);
    const source = nodes[s]!;
    const target = nodes[t]!;
    if (rel.type === 'connected_to') {
      impacts[s]!.push({ to: t, chance: 0.1, meanDelayMs: IMPACT_DELAY_MS[target.kind] ?? 30_000 });
      impacts[t]!.push({ to: s, chance: 0.1, meanDelayMs: IMPACT_DELAY_MS[source.kind] ?? 30_000 });
      continue;
    }
    needs[s]!.push(t);
    if (rel.type === 'contains') contains[s]!.push(t);
    const redundant =
      ['depends_on', 'runs_on', 'hosted_on'].includes(rel.type) &&
      fanOut.get(`${rel.source}\u0000${rel.type}\u0000${target.kind}`)! > 1;
    impacts[t]!.push({
      to: s,
      chance: impactChance(rel.type, target, source) * (redundant ? 0.45 : 1),
      meanDelayMs: IMPACT_DELAY_MS[source.kind] ?? 30_000,
    });
  }
  const group = (key: (n: Node) => string | null) => {
    const m = new Map<string, number[]>();
    nodes.forEach((n, i) => {
      const k = key(n);
      if (k !== null) m.set(k, [...(m.get(k) ?? []), i]);
    });
    return m;
  };
  return {
    nodes,
    index,
    impacts,
    needs,
    contains,
    byKind: group((n) => n.kind),
    byDc: group((n) => n.dc),
  };
}

/** Picks a CI by its kind's weight per CI; kinds without a weight are never picked. */
function pickNode(r: Random, world: World, weights: Record<string, number>): number {
  const kinds = Object.keys(weights).filter((k) => world.byKind.has(k));
  const share = (k: string) => weights[k]! * world.byKind.get(k)!.length;
  let x = r.next() * kinds.reduce((s, k) => s + share(k), 0);
  for (const k of kinds) {
    x -= share(k);
    if (x < 0) return r.pick(world.byKind.get(k)!);
  }
  return r.pick(world.byKind.get(kinds[kinds.length - 1]!)!);
}

/** A root in the same data centre as `near`, by the root weights (rejection sampling). */
function pickNodeNear(r: Random, world: World, near: number): number {
  const dc = world.nodes[near]!.dc;
  const local = dc === null ? undefined : world.byDc.get(dc);
  if (local === undefined) return pickNode(r, world, ROOT_WEIGHTS);
  const top = Math.max(...Object.values(ROOT_WEIGHTS));
  for (let tries = 0; tries < 50; tries++) {
    const i = r.pick(local);
    if (i !== near && r.chance((ROOT_WEIGHTS[world.nodes[i]!.kind] ?? 0) / top)) return i;
  }
  return pickNode(r, world, ROOT_WEIGHTS);
}

function pickMode(r: Random, kind: string, chronicOnly: boolean): FailureMode {
  const all = failureModes.filter((m) => m.kinds.includes(kind));
  const modes = chronicOnly && all.some((m) => m.chronic) ? all.filter((m) => m.chronic) : all;
  let x = r.next() * modes.reduce((s, m) => s + m.weight, 0);
  for (const m of modes) {
    x -= m.weight;
    if (x < 0) return m;
  }
  return modes[modes.length - 1]!;
}

/** A standard normal draw (Box–Muller). */
function normal(r: Random): number {
  return Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
}

/** A log-normal duration around a median, clamped. */
function duration(r: Random, medianMs: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, Math.max(minMs, medianMs * Math.exp(0.8 * normal(r))));
}

const between = (r: Random, lo: number, hi: number) => lo + r.next() * (hi - lo);

/** More happens during working hours: the share of the peak rate at this hour of the day. */
function diurnal(ms: number): number {
  const hour = (ms % DAY) / HOUR;
  return 0.55 + 0.45 * Math.max(0, Math.sin((Math.PI * (hour - 6)) / 14));
}

/** Event times of a Poisson process with a daily rhythm, `perDay` on average at the peak. */
function arrivals(r: Random, perDay: number, spanMs: number): number[] {
  const times: number[] = [];
  if (perDay <= 0) return times;
  const mean = DAY / perDay;
  for (let t = r.exponential(mean); t < spanMs; t += r.exponential(mean))
    if (r.chance(diurnal(t))) times.push(t);
  return times;
}

type FaultPlan = {
  kind: 'fault';
  at: number;
  root: number;
  mode: FailureMode;
  incident: string;
  problem: string | null;
};
type NoisePlan = { kind: 'noise'; at: number; ci: number; id: string };

/** Every fault and background alert of the storm, in event-time order. */
function planStorm(world: World, o: StormOptions, tier: string): (FaultPlan | NoisePlan)[] {
  const r = createRandom(o.seed, 3);
  const span = o.days * DAY;
  type Fault = { at: number; root: number; mode: FailureMode };
  const faults: Fault[] = [];

  // Recurring root causes: a chronic failure mode of one CI, 3 to 6 times over the days, half of
  // them at about the same time of day (a batch job, a backup, a report).
  const usedRoots = new Set<number>();
  for (let p = 0; p < o.recurringProblems; p++) {
    let root = pickNode(r, world, ROOT_WEIGHTS);
    while (usedRoots.has(root)) root = pickNode(r, world, ROOT_WEIGHTS);
    usedRoots.add(root);
    const mode = pickMode(r, world.nodes[root]!.kind, true);
    const occurrences = Math.min(3 + r.int(4), Math.max(2, o.days));
    const slot = r.chance(0.5) ? r.next() * DAY : null;
    const days = Array.from({ length: Math.max(1, Math.floor(o.days)) }, (_, d) => d);
    for (let k = 0; k < occurrences; k++) {
      const at =
        slot !== null && days.length > 0
          ? days.splice(r.int(days.length), 1)[0]! * DAY + slot + between(r, -20, 20) * MINUTE
          : r.next() * span;
      if (at > 0 && at < span) faults.push({ at, root, mode });
    }
  }

  // Independent faults, some with a second independent fault at about the same time.
  for (const at of arrivals(r, o.faultsPerDay, span)) {
    const root = pickNode(r, world, ROOT_WEIGHTS);
    faults.push({ at, root, mode: pickMode(r, world.nodes[root]!.kind, false) });
    if (r.chance(o.concurrentShare)) {
      const other = r.chance(o.sameDatacenterShare)
        ? pickNodeNear(r, world, root)
        : pickNode(r, world, ROOT_WEIGHTS);
      const later = at + r.next() * 10 * MINUTE;
      if (later < span)
        faults.push({ at: later, root: other, mode: pickMode(r, world.nodes[other]!.kind, false) });
    }
  }

  // A problem is a root cause and failure mode that happens more than once.
  faults.sort((a, b) => a.at - b.at);
  const signature = (f: Fault) => `${f.root}/${f.mode.key}`;
  const count = new Map<string, number>();
  for (const f of faults) count.set(signature(f), (count.get(signature(f)) ?? 0) + 1);
  const problems = new Map<string, string>();
  const plans: (FaultPlan | NoisePlan)[] = faults.map((f, i) => {
    const s = signature(f);
    if (count.get(s)! > 1 && !problems.has(s)) problems.set(s, `${tier}-P${problems.size + 1}`);
    return {
      kind: 'fault',
      at: f.at,
      root: f.root,
      mode: f.mode,
      incident: `${tier}-I${i + 1}`,
      problem: problems.get(s) ?? null,
    };
  });
  arrivals(r, o.noisePerDay, span).forEach((at, i) =>
    plans.push({
      kind: 'noise',
      at,
      ci: pickNode(r, world, NOISE_WEIGHTS),
      id: `${tier}-N${i + 1}`,
    }),
  );
  return plans.sort((a, b) => a.at - b.at);
}

type Affected = { node: number; at: number; end: number; cause: number; depth: number };

/** The CIs a fault reaches, each with when it is hit and when it recovers, earliest first. */
function cascade(
  world: World,
  fault: FaultPlan,
  endMs: number,
  max: number,
  r: Random,
): Affected[] {
  const heap = new MinHeap<{ node: number; at: number; cause: number; depth: number }>(
    (a, b) => a.at - b.at,
  );
  heap.push({ node: fault.root, at: fault.at, cause: -1, depth: 0 });
  const settled = new Map<number, Affected>();
  while (heap.size > 0 && settled.size < max) {
    const x = heap.pop()!;
    if (settled.has(x.node)) continue;
    const recovery = between(r, 0, MINUTE) + x.depth * between(r, 0, MINUTE);
    settled.set(x.node, { ...x, end: endMs + recovery });
    const spread = (x.depth === 0 ? fault.mode.spread : 1) * ATTENUATION ** x.depth;
    for (const edge of world.impacts[x.node]!) {
      if (settled.has(edge.to) || !r.chance(edge.chance * spread)) continue;
      const at = x.at + 2_000 + r.exponential(edge.meanDelayMs);
      if (at < endMs) heap.push({ node: edge.to, at, cause: x.node, depth: x.depth + 1 });
    }
    if (x.depth === 0 && fault.mode.contained)
      for (const part of world.contains[x.node]!)
        if (r.chance(0.85)) {
          const at = x.at + between(r, 20_000, 120_000);
          if (at < endMs) heap.push({ node: part, at, cause: x.node, depth: 1 });
        }
  }
  return [...settled.values()];
}

/** Seconds from a CI's trouble to the tool's alert: scrape or poll interval, `for` duration. */
const DETECTION_S: Record<Tool, [number, number]> = {
  alertmanager: [45, 300],
  zabbix: [60, 180],
  datadog: [90, 300],
  cloudwatch: [60, 300],
  nagios: [60, 300],
  healthcheck: [60, 120],
};

/** How a tool re-sends an alert that is still firing (minutes), and how often it is set up to. */
const RESEND: Record<Tool, { chance: number; minutes: [number, number] }> = {
  alertmanager: { chance: 0.9, minutes: [5, 60] },
  zabbix: { chance: 0.5, minutes: [15, 60] },
  datadog: { chance: 0.5, minutes: [30, 60] },
  cloudwatch: { chance: 0, minutes: [0, 0] },
  nagios: { chance: 0.8, minutes: [30, 60] },
  healthcheck: { chance: 1, minutes: [5, 5] },
};

/** One logical alert: a symptom of a CI as one tool reports it, with its stable parts. */
type AlertPlan = {
  id: string;
  truth: DeliveryTruth;
  node: Node;
  symptom: Symptom;
  tool: Tool;
  severity: Severity;
  ci: string | null;
  service: string | null;
  phrasing: number;
  stable: Record<string, string>;
  labels: Record<string, string>;
  fingerprint: string | null;
  /** The title of tools whose titles never change (alarm names, our own health checks). */
  fixedTitle: string | null;
  /** What dedup keys it on: its fingerprint, or what one would be derived from. */
  identity: string;
};

const hash = (...parts: (string | number)[]) =>
  createHash('sha1').update(parts.join('\u0000')).digest('hex');
const hashInt = (...parts: (string | number)[]) => parseInt(hash(...parts).slice(0, 8), 16);

const hexOf = (r: Random, digits: number) => {
  let s = '';
  for (let i = 0; i < digits; i++) s += r.int(16).toString(16);
  return s;
};

const ENGINES: Record<string, string> = {
  postgresql: 'PostgreSQL',
  'aurora-postgresql': 'Aurora PostgreSQL',
  mysql: 'MySQL',
  mongodb: 'MongoDB',
  redis: 'Redis',
  kafka: 'Kafka',
  rabbitmq: 'RabbitMQ',
};

const EXCEPTIONS = [
  'java.net.SocketTimeoutException: Read timed out',
  'java.lang.NullPointerException at OrderService.java:212',
  'ECONNRESET: socket hang up',
  'context deadline exceeded',
  'OutOfMemoryError: Java heap space',
  'psycopg2.OperationalError: server closed the connection unexpectedly',
];
const ERRORS = [
  'connection refused',
  'read timeout',
  'HTTP 503 Service Unavailable',
  'HTTP 502 Bad Gateway',
  'TLS handshake timeout',
  'connection reset by peer',
];

/** The values that change from one delivery of an alert to the next, drawn as texts need them. */
const VOLATILE: Record<string, (r: Random, value: (k: string) => string) => string> = {
  pct: (r) => (80 + r.next() * 19.9).toFixed(1),
  pct2: (r) => (1 + r.next() * 39).toFixed(1),
  ms: (r) => String(Math.round(150 * Math.exp(r.next() * Math.log(200)))),
  n: (r) => String(2 + r.int(498)),
  n2: (r) => String(1 + r.int(200)),
  m: (r, value) => String(Number(value('n')) + 100 + r.int(5000)),
  sec: (r) => String(30 + r.int(3570)),
  load: (r) => (4 + r.next() * 60).toFixed(2),
  load2: (r) => (4 + r.next() * 50).toFixed(2),
  load3: (r) => (4 + r.next() * 40).toFixed(2),
  mb: (r) => String(20 + r.int(4000)),
  hex: (r) => hexOf(r, 12),
  hex2: (r) => hexOf(r, 2),
  hex5: (r) => hexOf(r, 5),
  uuid: (r) =>
    `${hexOf(r, 8)}-${hexOf(r, 4)}-4${hexOf(r, 3)}-${'89ab'[r.int(4)]}${hexOf(r, 3)}-${hexOf(r, 12)}`,
  pid: (r) => String(1000 + r.int(60000)),
  digit: (r) => String(1 + r.int(9)),
  rate: (r) => (2 + r.next() * 38).toFixed(1),
  apdex: (r) => (0.3 + r.next() * 0.5).toFixed(2),
  days: (r) => String(1 + r.int(29)),
  exc: (r) => r.pick(EXCEPTIONS),
  err: (r) => r.pick(ERRORS),
};

/** The values of one delivery: the alert's stable ones, and volatile ones drawn once each. */
function deliveryValues(stable: Record<string, string>, r: Random): (k: string) => string {
  const drawn = new Map<string, string>();
  const value = (k: string): string => {
    const known = stable[k] ?? drawn.get(k);
    if (known !== undefined) return known;
    const draw = VOLATILE[k];
    if (draw === undefined) throw new Error(`storms: no value for {${k}}`);
    const v = draw(r, value);
    drawn.set(k, v);
    return v;
  };
  return value;
}

function fill(template: string, value: (k: string) => string): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => value(k));
}

/** The parts of an alert that stay the same in every delivery. */
function planAlert(
  world: World,
  nodeIndex: number,
  symptom: Symptom,
  tool: Tool,
  upstream: number | null,
  severity: Severity,
  truth: DeliveryTruth,
  r: Random,
): AlertPlan {
  const node = world.nodes[nodeIndex]!;
  const network = ['router', 'switch', 'firewall'].includes(node.kind);
  const neighbour = upstream ?? world.needs[nodeIndex]![0] ?? null;
  const app = node.application ?? node.name;
  const ci =
    tool === 'zabbix' && node.fqdn !== null && hashInt(node.name) % 10 < 4
      ? node.fqdn
      : tool === 'cloudwatch' && node.instanceId !== null
        ? node.instanceId
        : tool === 'datadog' && node.kind === 'application'
          ? null
          : node.name;
  const stable: Record<string, string> = {
    ci: ci ?? node.name,
    ip: node.ip,
    fqdn: node.fqdn ?? `${node.name}.corp.example.net`,
    iface: network
      ? r.pick([`xe-0/0/${r.int(48)}`, `Ethernet${1 + r.int(48)}`, `et-0/0/${r.int(32)}`])
      : r.pick(['eth0', 'ens192', 'bond0', 'eno1']),
    mount: r.pick([
      '/',
      '/var',
      '/data',
      '/var/log',
      '/opt',
      '/var/lib/postgresql',
      '/var/lib/docker',
    ]),
    dev: r.pick(['sda', 'sdb', 'nvme0n1', 'dm-2']),
    upstream: neighbour === null ? 'upstream' : world.nodes[neighbour]!.name,
    peerIp: `10.${r.int(64)}.${r.int(256)}.${1 + r.int(254)}`,
    asn: String(64512 + r.int(1000)),
    pool: `${app}_pool_${node.port}`,
    topic: `${app}.events`,
    group: `${app}-consumer`,
    port: String(node.port),
    engine: ENGINES[node.engine ?? ''] ?? 'PostgreSQL',
    version: `v${1 + r.int(5)}.${r.int(20)}.${r.int(10)}`,
    proc: r.pick(['java', 'nginx', 'postgres', 'node', 'dockerd', 'gunicorn']),
    hw: r.pick(['PSU 2', 'DIMM B4', 'Fan 3', 'Disk bay 5', 'RAID controller']),
    ds: `ds-${node.dc ?? 'x'}-0${1 + r.int(4)}`,
    ctrl: r.pick(['node-a', 'node-b']),
    app,
  };
  const team = node.team;
  const phrasing = hashInt(tool, symptom.name, team);
  const service =
    tool === 'alertmanager' || tool === 'datadog' || tool === 'healthcheck'
      ? node.kind.endsWith('service')
        ? node.name
        : node.application
      : null;
  let labels: Record<string, string>;
  let fingerprint: string | null;
  let fixedTitle: string | null = null;
  const first = deliveryValues(stable, r);
  switch (tool) {
    case 'alertmanager': {
      const job =
        node.kind === 'app_instance'
          ? node.application!
          : node.kind === 'application'
            ? 'slo'
            : network
              ? 'snmp'
              : (node.engine ?? 'node');
      labels = {
        alertname: symptom.name,
        instance: network
          ? node.name
          : `${node.name}:${node.kind.endsWith('instance') ? node.port : 9100}`,
        job,
        severity,
        ...(node.dc ? { dc: node.dc } : {}),
        ...(service ? { service } : {}),
      };
      fingerprint = hash(JSON.stringify(Object.entries(labels).sort())).slice(0, 16);
      break;
    }
    case 'zabbix': {
      const triggerId = String(100_000 + (hashInt(node.name, symptom.name) % 900_000_000));
      const zbx = {
        critical: 'Disaster',
        major: 'High',
        minor: 'Average',
        warning: 'Warning',
        info: 'Information',
      };
      labels = { host: stable.ci!, trigger_id: triggerId, severity: zbx[severity] };
      fingerprint = `zabbix-${triggerId}`;
      break;
    }
    case 'datadog': {
      const monitorId = String(1_000_000 + (hashInt(symptom.name, team) % 9_000_000));
      labels = {
        monitor_id: monitorId,
        env: 'prod',
        ...(ci ? { host: ci } : {}),
        ...(service ? { service } : {}),
        ...(node.dc ? { dc: node.dc } : {}),
      };
      fingerprint = `datadog-${monitorId}-${ci ?? service ?? node.name}`;
      break;
    }
    case 'cloudwatch': {
      const style = hashInt(team, 'cloudwatch') % 3;
      const suffix = hash(node.name, symptom.name).slice(0, 12).toUpperCase();
      fixedTitle =
        style === 0
          ? `${stable.ci}-${symptom.metric}-High`
          : style === 1
            ? `prod-${app}-${symptom.name}`
            : `awseb-e-${suffix.slice(0, 10).toLowerCase()}-stack-AWSEBCloudwatchAlarmHigh-${suffix}`;
      const dimension: Record<string, string> = node.instanceId
        ? { InstanceId: node.instanceId }
        : node.kind === 'database'
          ? { DBInstanceIdentifier: node.name }
          : node.kind === 'load_balancer'
            ? { LoadBalancer: `app/${node.name}/${suffix.slice(0, 16).toLowerCase()}` }
            : { ServiceName: app };
      labels = { region: 'eu-west-1', namespace: 'AWS/EC2', metric: symptom.metric, ...dimension };
      fingerprint = `arn:aws:cloudwatch:eu-west-1:493817260145:alarm:${fixedTitle}`;
      break;
    }
    case 'nagios': {
      const check = fill(symptom.check, first);
      labels = { host: stable.ci!, service_description: check };
      fingerprint = `${stable.ci}!${check}`;
      break;
    }
    case 'healthcheck': {
      fixedTitle = fill(symptom.summaries[phrasing % symptom.summaries.length]!, first);
      labels = {
        check: symptom.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).slice(1),
        target: stable.ci!,
      };
      fingerprint = null;
      break;
    }
  }
  return {
    id: truth.alert,
    truth,
    node,
    symptom,
    tool,
    severity,
    ci,
    service,
    phrasing,
    stable,
    labels,
    fingerprint,
    fixedTitle,
    identity:
      fingerprint ?? `${tool}|${ci}|${fixedTitle}|${JSON.stringify(Object.entries(labels))}`,
  };
}

/** One delivery of an alert, with fresh values in its texts. */
function renderAlert(
  plan: AlertPlan,
  status: AlertStatus,
  startsMs: number,
  endsMs: number | null,
  r: Random,
): AlertInput {
  const vars = deliveryValues(plan.stable, r);
  const { symptom, tool } = plan;
  const summary = fill(symptom.summaries[plan.phrasing % symptom.summaries.length]!, vars);
  const detail = fill(symptom.detail, vars);
  const firing = status === 'firing';
  let title: string;
  let description: string;
  let labels = plan.labels;
  switch (tool) {
    case 'alertmanager':
      title = summary;
      description = detail;
      break;
    case 'zabbix': {
      const prefix = plan.phrasing % 2 === 0 ? 'Problem: ' : '';
      const took = Math.round(((endsMs ?? startsMs) - startsMs) / MINUTE);
      title = firing ? `${prefix}${summary}` : `Resolved in ${took}m: ${summary}`;
      description = `${detail}\nOperational data: ${vars('pct')}\nHost: ${plan.stable.ci} (${plan.node.ip})`;
      labels = { ...labels, event_id: String(hashInt(plan.identity, startsMs) % 100_000_000) };
      break;
    }
    case 'datadog': {
      const state = firing ? (plan.severity === 'warning' ? 'Warn' : 'Triggered') : 'Recovered';
      title =
        plan.phrasing % 2 === 0 && plan.ci
          ? `[${state} on {host:${plan.ci}}] ${summary}`
          : `[P${1 + (plan.phrasing % 4)}] [${state}] ${summary}`;
      description = `${detail}\n\n@slack-${plan.node.team} @pagerduty-${plan.node.team}`;
      break;
    }
    case 'cloudwatch': {
      const value = vars('pct');
      const when = new Date(startsMs).toISOString().slice(0, 19);
      title = plan.fixedTitle!;
      description = firing
        ? `Threshold Crossed: 1 out of the last 1 datapoints [${value} (${when})] was greater than or equal to the threshold (80.0) (minimum 1 datapoint for OK -> ALARM transition). ${summary}.`
        : `Threshold Crossed: 1 out of the last 1 datapoints was less than the threshold (80.0) (minimum 1 datapoint for ALARM -> OK transition).`;
      break;
    }
    case 'nagios': {
      const state = firing
        ? plan.severity === 'critical' || plan.severity === 'major'
          ? 'CRITICAL'
          : 'WARNING'
        : 'OK';
      const output = firing
        ? fill(symptom.output, vars)
        : `${plan.labels.service_description} is OK`;
      title = `${state} - ${output}`;
      description = [
        '***** Nagios *****',
        `Notification Type: ${firing ? 'PROBLEM' : 'RECOVERY'}`,
        `Service: ${plan.labels.service_description}`,
        `Host: ${plan.stable.ci}`,
        `Address: ${plan.node.ip}`,
        `State: ${state}`,
        `Info: ${output}`,
      ].join('\n');
      break;
    }
    case 'healthcheck':
      title = plan.fixedTitle!;
      description = firing ? detail : `${plan.fixedTitle}: passing again`;
      break;
  }
  return {
    title,
    description,
    severity: plan.severity,
    status,
    ci: plan.ci,
    service: plan.service,
    source: tool,
    ...(plan.fingerprint ? { fingerprint: plan.fingerprint } : {}),
    labels,
    startsAt: new Date(startsMs).toISOString(),
    endsAt: endsMs === null ? null : new Date(endsMs).toISOString(),
  };
}

type Pending = { deliveredMs: number; order: number; alert: AlertInput; truth: DeliveryTruth };

/** How late a delivery is: mostly a second or two, sometimes minutes (agent buffers, retries). */
function lateness(r: Random): number {
  const x = r.next();
  if (x < 0.85) return between(r, 200, 3_000);
  if (x < 0.96) return between(r, 3_000, 90_000);
  return between(r, 2 * MINUTE, 30 * MINUTE);
}

/**
 * Every delivery of one alert from `startMs` to `endMs` (null: it never resolves): the first,
 * the tool's re-sends while it fires, the resolution; flapping splits it into short episodes;
 * now and then a webhook is delivered twice.
 */
function expandAlert(
  plan: AlertPlan,
  startMs: number,
  endMs: number | null,
  flapping: boolean,
  r: Random,
  out: (deliveredMs: number, alert: AlertInput) => void,
): void {
  const episodes: [number, number | null][] = [];
  let cursor = startMs;
  if (flapping) {
    const toggles = 3 + r.int(5);
    for (let k = 0; k < toggles; k++) {
      const off = cursor + between(r, 40_000, 4 * MINUTE);
      const on = off + between(r, 30_000, 3 * MINUTE);
      if (endMs !== null && on >= endMs) break;
      episodes.push([cursor, off]);
      cursor = on;
    }
  }
  episodes.push([cursor, endMs]);
  const resend = RESEND[plan.tool];
  const every = r.chance(resend.chance) ? between(r, ...resend.minutes) * MINUTE : 0;
  const send = (eventMs: number, alert: AlertInput) => {
    const delivered = eventMs + lateness(r);
    out(delivered, alert);
    if (r.chance(0.03)) out(delivered + between(r, 1_000, 20_000), alert);
  };
  for (const [s, e] of episodes) {
    send(s, renderAlert(plan, 'firing', s, null, r));
    const stop = e ?? s + 4 * HOUR;
    for (let t = s + every, n = 0; every > 0 && t < stop && n < 40; t += every, n++)
      send(t, renderAlert(plan, 'firing', s, null, r));
    if (e !== null) send(e, renderAlert(plan, 'resolved', s, e, r));
  }
}

/** The tier's stream in delivery order, each delivery with its truth; always the same for a tier. */
export function* generateStorm(tier: Tier): Generator<StormEvent> {
  const o = tier.storm;
  const world = buildWorld(tier.estate, o.seed);
  const startMs = Date.parse(o.start);
  const plans = planStorm(world, o, tier.name);
  const heap = new MinHeap<Pending>((a, b) => a.deliveredMs - b.deliveredMs || a.order - b.order);
  const busyUntil = new Map<string, number>();
  let order = 0;
  let seq = 0;

  const emit = (
    plan: AlertPlan,
    start: number,
    end: number | null,
    flapping: boolean,
    r: Random,
  ) => {
    // Dedup keys on the fingerprint: an alert whose fingerprint is still in use by another
    // alert (or just was) would be the same alert to any correlator, so it is not raised.
    const busy = busyUntil.get(plan.identity);
    if (busy !== undefined && busy > start) return;
    busyUntil.set(plan.identity, (end ?? start + 12 * HOUR) + 30 * MINUTE);
    expandAlert(plan, start, end, flapping, r, (deliveredMs, alert) =>
      heap.push({ deliveredMs, order: order++, alert, truth: plan.truth }),
    );
  };

  for (const [i, plan] of plans.entries()) {
    while (heap.size > 0 && heap.peek()!.deliveredMs < plan.at + startMs) yield next();
    const r = createRandom(o.seed, 4, i);
    if (plan.kind === 'noise') {
      const node = world.nodes[plan.ci]!;
      const symptom = symptoms.get(r.pick(noiseSymptoms(node.kind)))!;
      const truth = { alert: plan.id, incident: null, rootCause: node.name, problem: null };
      const alert = planAlert(
        world,
        plan.ci,
        symptom,
        r.pick(node.tools),
        null,
        r.pick(symptom.severities),
        truth,
        r,
      );
      const start = startMs + plan.at;
      const end = r.chance(0.04) ? null : start + duration(r, 6 * MINUTE, MINUTE, 4 * HOUR);
      emit(alert, start, end, r.chance(0.12), r);
      continue;
    }
    const faultEnd = plan.at + duration(r, plan.mode.minutes * MINUTE, 3 * MINUTE, 8 * HOUR);
    let k = 0;
    for (const a of cascade(world, plan, faultEnd, o.maxAffected, r)) {
      const node = world.nodes[a.node]!;
      const root = a.depth === 0;
      if (!r.chance(root ? 0.92 : (ALERT_CHANCE[node.kind] ?? 0.7))) continue;
      const names = root
        ? plan.mode.symptoms
        : impactSymptoms(node.kind, world.nodes[a.cause]!.kind);
      const picks: [string, Tool][] = [[root ? names[0]! : r.pick(names), r.pick(node.tools)]];
      if (root && names.length > 1 && r.chance(0.6)) picks.push([names[1]!, r.pick(node.tools)]);
      if (node.tools.length > 1 && r.chance(0.3))
        picks.push([picks[0]![0], node.tools.find((t) => t !== picks[0]![1])!]);
      if (!root && names.length > 1 && r.chance(0.15)) picks.push([r.pick(names), picks[0]![1]]);
      for (const [name, tool] of picks) {
        const symptom = symptoms.get(name)!;
        const truth = {
          alert: `${plan.incident}-a${++k}`,
          incident: plan.incident,
          rootCause: world.nodes[plan.root]!.name,
          problem: plan.problem,
        };
        const severity = r.chance(0.6) ? symptom.severities[0]! : r.pick(symptom.severities);
        const alert = planAlert(
          world,
          a.node,
          symptom,
          tool,
          root ? null : a.cause,
          severity,
          truth,
          r,
        );
        const start = startMs + a.at + between(r, ...DETECTION_S[tool]) * 1000;
        const end = startMs + a.end + between(r, 30_000, 180_000);
        if (start >= end) continue;
        emit(alert, start, r.chance(0.04) ? null : end, r.chance(0.06), r);
      }
    }
  }
  while (heap.size > 0) yield next();

  function next(): StormEvent {
    const p = heap.pop()!;
    return {
      delivery: { seq: seq++, deliveredAt: new Date(p.deliveredMs).toISOString(), alert: p.alert },
      truth: p.truth,
    };
  }
}

/** A binary min-heap. */
class MinHeap<T> {
  private items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (this.before(a[i]!, a[parent]!) >= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const rr = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!) < 0) m = l;
        if (rr < a.length && this.before(a[rr]!, a[m]!) < 0) m = rr;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
