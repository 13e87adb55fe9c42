import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../correlator/alert.ts';
import type { EngineConfig } from '../../correlator/engine/config.ts';
import {
  createCorrelationEngine,
  type EngineCmdb,
  type EngineDelivery,
  type EngineResult,
} from '../../correlator/engine/engine.ts';

// A database two applications depend on, the hosts under them, a switch, a core router that is a
// hub (60 neighbours), and a cache far away from all of it.
const leaves = Array.from({ length: 60 }, (_, i) => `leaf-${String(i).padStart(2, '0')}`);
const cmdb: EngineCmdb = {
  cis: [
    'db-ledger',
    'app-billing',
    'app-payments',
    'host-db',
    'host-app1',
    'host-app2',
    'switch-1',
    'core-rtr',
    'cache-far',
    'host-far',
    ...leaves,
  ].map((name) => ({ name, attributes: name === 'host-db' ? { ip: '10.0.0.5' } : {} })),
  relationships: [
    { source: 'app-billing', target: 'db-ledger', type: 'depends_on' },
    { source: 'app-payments', target: 'db-ledger', type: 'depends_on' },
    { source: 'db-ledger', target: 'host-db', type: 'runs_on' },
    { source: 'app-billing', target: 'host-app1', type: 'runs_on' },
    { source: 'app-payments', target: 'host-app2', type: 'runs_on' },
    { source: 'host-db', target: 'switch-1', type: 'depends_on' },
    { source: 'host-app1', target: 'switch-1', type: 'depends_on' },
    { source: 'host-app2', target: 'switch-1', type: 'depends_on' },
    { source: 'switch-1', target: 'core-rtr', type: 'depends_on' },
    { source: 'cache-far', target: 'host-far', type: 'runs_on' },
    { source: 'host-far', target: 'core-rtr', type: 'depends_on' },
    ...leaves.map((leaf) => ({ source: leaf, target: 'core-rtr', type: 'depends_on' })),
  ],
};

const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function alert(
  fingerprint: string,
  ci: string,
  title: string,
  startsAfter: number,
  extra: Partial<AlertInput> = {},
): AlertInput {
  return {
    title,
    severity: 'critical',
    status: 'firing',
    ci,
    fingerprint,
    labels: {},
    startsAt: at(startsAfter),
    ...extra,
  };
}

/** The storm: the database fails, both applications follow, one is re-sent, a far cache alerts. */
const storm: { deliveredAfter: number; alert: AlertInput }[] = [
  {
    deliveredAfter: 5,
    alert: alert('f-db', 'db-ledger', 'Database db-ledger not accepting connections', 0),
  },
  {
    deliveredAfter: 45,
    alert: alert('f-billing', 'app-billing', 'High HTTP 5xx rate on app-billing: 40 of 100', 40),
  },
  {
    deliveredAfter: 62,
    alert: alert('f-far', 'cache-far', 'Disk space low on /var/log of cache-far: 97% full', 60),
  },
  {
    deliveredAfter: 75,
    alert: alert('f-pay', 'app-payments', 'High HTTP 5xx rate on app-payments: 12 of 100', 70),
  },
  {
    deliveredAfter: 340,
    alert: alert('f-billing', 'app-billing', 'High HTTP 5xx rate on app-billing: 55 of 100', 40),
  },
  {
    deliveredAfter: 1300,
    alert: alert('f-db', 'db-ledger', 'Database db-ledger not accepting connections', 0, {
      status: 'resolved',
      endsAt: at(1290),
    }),
  },
];

function deliveries(order: readonly number[]): EngineDelivery[] {
  return order.map((i, seq) => ({
    seq,
    deliveredAt: at(storm[i]!.deliveredAfter),
    alert: storm[i]!.alert,
  }));
}

async function correlate(
  stream: readonly EngineDelivery[],
  config: Partial<EngineConfig> = {},
): Promise<EngineResult> {
  const engine = await createCorrelationEngine(cmdb, config);
  for (const d of stream) engine.push(d);
  engine.flush();
  return engine.result();
}

/** Incident of each fingerprint (each delivery of it must agree), for order-free comparisons. */
function incidentByFingerprint(stream: readonly EngineDelivery[], result: EngineResult) {
  const byFingerprint = new Map<string, string | null>();
  stream.forEach((d, seq) => {
    const fingerprint = d.alert.fingerprint!;
    const incident = result.incidentOf[seq] ?? null;
    if (byFingerprint.has(fingerprint)) expect(byFingerprint.get(fingerprint)).toBe(incident);
    byFingerprint.set(fingerprint, incident);
  });
  return Object.fromEntries([...byFingerprint].sort(([a], [b]) => (a < b ? -1 : 1)));
}

const inOrder = [0, 1, 2, 3, 4, 5];

describe('the correlation engine', () => {
  it('makes a database failure and the two apps it takes down one incident, the database its root cause', async () => {
    const stream = deliveries(inOrder);
    const result = await correlate(stream);
    const of = incidentByFingerprint(stream, result);
    expect(of['f-billing']).toBe(of['f-db']);
    expect(of['f-pay']).toBe(of['f-db']);
    const incident = result.incidents.find((i) => i.id === of['f-db'])!;
    expect(incident.rootCause[0]?.ci).toBe('db-ledger');
    expect(incident.rootCause[0]?.reason).toMatch(/2 of 3 alerting CIs depend on it/);
    const billing = incident.alerts.find((a) => a.fingerprint === 'f-billing')!;
    expect(billing.explanation).toMatchObject({
      decision: 'attach',
      hops: 1,
      secondsSinceFirst: 40,
    });
    expect(billing.explanation.path).toEqual(['app-billing', 'db-ledger']);
  });

  it('leaves an unrelated alert elsewhere in an incident of its own', async () => {
    const stream = deliveries(inOrder);
    const of = incidentByFingerprint(stream, await correlate(stream));
    expect(of['f-far']).not.toBe(of['f-db']);
  });

  it('does not duplicate an alert that is re-sent, and resolves it when it resolves', async () => {
    const result = await correlate(deliveries(inOrder));
    const incident = result.incidents.find((i) => i.alerts.some((a) => a.fingerprint === 'f-db'))!;
    expect(incident.alerts.map((a) => a.fingerprint)).toEqual(['f-db', 'f-billing', 'f-pay']);
    const billing = incident.alerts.find((a) => a.fingerprint === 'f-billing')!;
    expect(billing.deliveries).toBe(2);
    expect(billing.title).toMatch(/55 of 100/);
    expect(incident.alerts.find((a) => a.fingerprint === 'f-db')!.firing).toBe(false);
    expect(result.incidents).toHaveLength(2);
  });

  it('groups an out-of-order delivery as in order when it processes each on arrival', async () => {
    const shuffled = deliveries([3, 2, 1, 0, 5, 4]);
    const ordered = deliveries(inOrder);
    const a = await correlate(ordered);
    const b = await correlate(shuffled);
    expect(incidentByFingerprint(shuffled, b)).toEqual(incidentByFingerprint(ordered, a));
  });

  it('gives identical incidents for an out-of-order delivery within the reorder delay', async () => {
    const shuffled = deliveries([3, 2, 1, 0, 5, 4]);
    const ordered = deliveries(inOrder);
    const a = await correlate(ordered, { reorderMs: 30 * 60_000 });
    const b = await correlate(shuffled, { reorderMs: 30 * 60_000 });
    expect(incidentByFingerprint(shuffled, b)).toEqual(incidentByFingerprint(ordered, a));
    expect(b.incidents).toEqual(a.incidents);
  });

  it('gives identical output for the same stream twice', async () => {
    const stream = deliveries(inOrder);
    expect(await correlate(stream)).toEqual(await correlate(stream));
  });

  it('takes a new CMDB without forgetting anything: only later alerts are placed on it', async () => {
    const stream = deliveries(inOrder);
    const empty = await createCorrelationEngine({ cis: [], relationships: [] });
    empty.replaceCmdb(cmdb);
    const changed = await createCorrelationEngine(cmdb);
    for (const d of stream) {
      empty.push(d);
      // The same CMDB again after every delivery: an engine that kept its state decides the same.
      changed.push(d);
      changed.replaceCmdb({ cis: [...cmdb.cis], relationships: [...cmdb.relationships] });
    }
    empty.flush();
    changed.flush();
    const reference = await correlate(stream);
    expect(empty.result()).toEqual(reference);
    expect(changed.result()).toEqual(reference);
  });

  it('does not glue unrelated alerts together through a hub', async () => {
    const stream: EngineDelivery[] = [
      alert('f-l1', 'leaf-01', 'Backup job failed on leaf-01', 0),
      alert('f-l2', 'leaf-02', 'Certificate on leaf-02 expires in 5 days', 10),
    ].map((a, seq) => ({ seq, deliveredAt: a.startsAt!, alert: a }));
    const result = await correlate(stream);
    expect(result.incidentOf[0]).not.toBe(result.incidentOf[1]);
  });
});
