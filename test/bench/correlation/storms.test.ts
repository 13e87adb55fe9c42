import { describe, expect, it } from 'vitest';
import { alertInputSchema } from '../../../correlator/alert.ts';
import { relationshipTypes } from '../../../services/store/cmdb.ts';
import { ciResolver } from '../../../bench/correlation/baselines.ts';
import { degradeCmdb, generateEstate, type Cmdb } from '../../../bench/correlation/estate.ts';
import { createTiers, generateStorm, type StormEvent } from '../../../bench/correlation/storms.ts';

// The CI classes of migration 0004.
const CLASSES = new Set(
  'service business_service technical_service application app_instance database cache queue host server virtual_machine container network_device router switch firewall load_balancer storage cluster'.split(
    ' ',
  ),
);

const estate = generateEstate();
// Two days with fewer faults and background alerts keep the tests quick.
const tiers = createTiers(undefined, {
  days: 2,
  faultsPerDay: 25,
  noisePerDay: 150,
  recurringProblems: 3,
});
const tier = (name: string) => tiers.find((t) => t.name === name)!;
const events = [...generateStorm(tier('A'))];

/** For each CI, the CIs a failure of it can reach (the impact direction of the real CMDB). */
function impactReach(cmdb: Cmdb): (from: string) => Set<string> {
  const up = new Map<string, string[]>();
  const add = (a: string, b: string) => up.set(a, [...(up.get(a) ?? []), b]);
  for (const r of cmdb.relationships) {
    add(r.target, r.source);
    if (r.type === 'connected_to') add(r.source, r.target);
  }
  return (from) => {
    const seen = new Set([from]);
    const todo = [from];
    for (let x = todo.pop(); x !== undefined; x = todo.pop())
      for (const y of up.get(x) ?? []) if (!seen.has(y) && seen.add(y)) todo.push(y);
    return seen;
  };
}

describe('estate', () => {
  it('is a CMDB import of at least 2,000 CIs with known classes and relationship types', () => {
    expect(estate.cis.length).toBeGreaterThanOrEqual(2000);
    const names = new Set(estate.cis.map((c) => c.name));
    expect(names.size).toBe(estate.cis.length);
    for (const c of estate.cis) expect(CLASSES).toContain(c.class);
    for (const r of estate.relationships) {
      expect(names).toContain(r.source);
      expect(names).toContain(r.target);
      expect(relationshipTypes).toContain(r.type);
    }
  });

  it('has every kind of CI the issue names, and very connected hubs', () => {
    const classes = new Set(estate.cis.map((c) => c.class));
    for (const c of [
      'router',
      'switch',
      'firewall',
      'load_balancer',
      'server',
      'virtual_machine',
      'database',
      'cache',
      'queue',
      'storage',
      'app_instance',
      'application',
      'business_service',
    ])
      expect(classes).toContain(c);
    const needed = new Map<string, number>();
    for (const r of estate.relationships) needed.set(r.target, (needed.get(r.target) ?? 0) + 1);
    for (const hub of ['core-rtr-fra1-01', 'pg-shared-01', 'redis-shared'])
      expect(needed.get(hub)).toBeGreaterThanOrEqual(20);
  });

  it('needs nothing in a cycle', () => {
    const needs = new Map<string, string[]>();
    for (const r of estate.relationships)
      if (r.type !== 'connected_to')
        needs.set(r.source, [...(needs.get(r.source) ?? []), r.target]);
    const state = new Map<string, 'open' | 'done'>();
    const visit = (ci: string): void => {
      if (state.get(ci) === 'done') return;
      if (state.get(ci) === 'open') throw new Error(`cycle through ${ci}`);
      state.set(ci, 'open');
      for (const t of needs.get(ci) ?? []) visit(t);
      state.set(ci, 'done');
    };
    for (const c of estate.cis) visit(c.name);
  });

  it('is the same for the same seed', () => {
    expect(generateEstate()).toEqual(estate);
  });

  it('degrades into 20% fewer real edges and 5% spurious ones', () => {
    const degraded = degradeCmdb(estate);
    const key = (r: Cmdb['relationships'][number]) => `${r.source}>${r.target}>${r.type}`;
    const real = new Set(estate.relationships.map(key));
    const kept = degraded.relationships.filter((r) => real.has(key(r))).length;
    const spurious = degraded.relationships.length - kept;
    expect(kept).toBe(estate.relationships.length - Math.round(estate.relationships.length * 0.2));
    expect(spurious).toBe(Math.round(estate.relationships.length * 0.05));
    expect(degraded.cis).toEqual(estate.cis);
    expect(degradeCmdb(estate)).toEqual(degraded);
  });
});

describe('storms', () => {
  it('are the same stream for the same tier', () => {
    const again = [...generateStorm(tier('A'))];
    expect(again).toEqual(events);
  });

  it('give tier B the storms of tier A and a degraded CMDB', () => {
    const b = [...generateStorm(tier('B'))];
    const strip = (e: StormEvent) => e.delivery;
    expect(b.map(strip)).toEqual(events.map(strip));
    expect(tier('B').cmdb.relationships.length).toBeLessThan(estate.relationships.length);
    expect(tier('A').cmdb).toBe(tier('A').estate);
  });

  it('give tier C far more background noise', () => {
    const noise = (es: StormEvent[]) =>
      new Set(es.filter((e) => e.truth.incident === null).map((e) => e.truth.alert)).size;
    expect(noise([...generateStorm(tier('C'))])).toBeGreaterThan(5 * noise(events));
  });

  it('deliver canonical alerts that generic ingest accepts, in delivery order', () => {
    let last = '';
    events.forEach((e, i) => {
      expect(e.delivery.seq).toBe(i);
      expect(e.delivery.deliveredAt >= last).toBe(true);
      last = e.delivery.deliveredAt;
      const parsed = alertInputSchema.safeParse(e.delivery.alert);
      if (!parsed.success)
        throw new Error(`${JSON.stringify(e.delivery.alert)}: ${parsed.error.message}`);
    });
  });

  it('only put in an incident the CIs its root cause can reach in the real CMDB', () => {
    const reach = impactReach(estate);
    const resolve = ciResolver(estate);
    let checked = 0;
    for (const { delivery, truth } of events) {
      const ci = resolve(delivery.alert.ci) ?? resolve(delivery.alert.service);
      expect(ci).not.toBeNull();
      if (truth.incident === null) {
        expect(truth.rootCause).toBe(ci);
        expect(truth.problem).toBeNull();
        continue;
      }
      // A bad deploy reaches the application's own instances too.
      const contained = estate.relationships.some(
        (r) => r.type === 'contains' && r.source === truth.rootCause && r.target === ci,
      );
      if (!contained) expect(reach(truth.rootCause)).toContain(ci);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('have noise, cascades, recurrences, re-sends, flapping and late deliveries', () => {
    const byAlert = new Map<string, StormEvent[]>();
    for (const e of events) byAlert.set(e.truth.alert, [...(byAlert.get(e.truth.alert) ?? []), e]);
    const incidents = new Map<string, Set<string>>();
    for (const e of events)
      if (e.truth.incident)
        incidents.set(
          e.truth.incident,
          (incidents.get(e.truth.incident) ?? new Set()).add(e.truth.alert),
        );
    const problems = new Map<string, Set<string>>();
    for (const e of events)
      if (e.truth.problem)
        problems.set(
          e.truth.problem,
          (problems.get(e.truth.problem) ?? new Set()).add(e.truth.incident!),
        );
    const firing = (es: StormEvent[]) => es.filter((e) => e.delivery.alert.status === 'firing');
    const resent = [...byAlert.values()].filter((es) => {
      const starts = firing(es).map((e) => e.delivery.alert.startsAt);
      return starts.length > new Set(starts).size;
    });
    const flapping = [...byAlert.values()].filter(
      (es) => new Set(firing(es).map((e) => e.delivery.alert.startsAt)).size > 1,
    );
    // Late: the first delivery of an alert arrives minutes after the alert started.
    const late = [...byAlert.values()].filter((es) => {
      const first = firing(es)[0]?.delivery;
      return (
        first && Date.parse(first.deliveredAt) - Date.parse(first.alert.startsAt!) > 2 * 60_000
      );
    });
    const outOfOrder = events.filter(
      (e, i) => i > 0 && e.delivery.alert.startsAt! < events[i - 1]!.delivery.alert.startsAt!,
    );
    expect(events.some((e) => e.truth.incident === null)).toBe(true);
    expect(Math.max(...[...incidents.values()].map((a) => a.size))).toBeGreaterThan(10);
    expect([...problems.values()].every((p) => p.size >= 2)).toBe(true);
    expect(problems.size).toBeGreaterThanOrEqual(3);
    expect(resent.length).toBeGreaterThan(10);
    expect(flapping.length).toBeGreaterThan(5);
    expect(late.length).toBeGreaterThan(10);
    expect(outOfOrder.length).toBeGreaterThan(10);
    // One tool's same symptom reads differently from one delivery to the next.
    const titles = (es: StormEvent[]) =>
      new Set(firing(es).map((e) => e.delivery.alert.description));
    expect(resent.filter((es) => titles(es).size > 1).length).toBeGreaterThan(5);
  });
});
