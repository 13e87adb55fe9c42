import { describe, expect, it } from 'vitest';
import { defaultDegrade, degradeCmdb, generateEstate } from '../../bench/correlation/estate.ts';
import { defaultStormOptions, generateStorm } from '../../bench/correlation/storms.ts';
import type { AlertInput } from '../../correlator/alert.ts';
import { resolveEngineConfig, type EngineConfig } from '../../correlator/engine/config.ts';
import {
  createCorrelationEngine,
  type CorrelationEngine,
  type EngineAlert,
  type EngineCmdb,
  type EngineDelivery,
  type EngineIncidentChange,
  type EngineResult,
  type RestoredIncident,
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

/** Alerts, each delivered so many seconds after T0, as numbered deliveries. */
function timeline(entries: readonly { deliveredAfter: number; alert: AlertInput }[]) {
  return entries.map((d, seq): EngineDelivery => ({
    seq,
    deliveredAt: at(d.deliveredAfter),
    alert: d.alert,
  }));
}

/** db-ledger refusing connections since startsAfter; resolved at endsAfter when given. */
function ledgerDown(startsAfter: number, endsAfter?: number): AlertInput {
  return alert(
    'f-db',
    'db-ledger',
    'Database db-ledger not accepting connections',
    startsAfter,
    endsAfter === undefined ? {} : { status: 'resolved', endsAt: at(endsAfter) },
  );
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

  it('decides behind a reorder buffer longer than the lateness as it does on arrival', async () => {
    // The database and an application on it a minute later, then the far cache every 5 minutes
    // for 40: the buffer releases the two only once the stream is 30 minutes past them. They are
    // in order, not late, and the timers and rates wait for them (they ran 25 minutes ahead:
    // every buffered alert was late, and the database's incident was forgotten before the
    // application's alert was placed).
    const stream = timeline([
      { deliveredAfter: 0, alert: ledgerDown(0) },
      {
        deliveredAfter: 60,
        alert: alert('f-billing', 'app-billing', 'High HTTP 5xx rate on app-billing', 60),
      },
      ...Array.from({ length: 8 }, (_, i) => ({
        deliveredAfter: 300 * (i + 1),
        alert: alert(
          `f-far-${i}`,
          'cache-far',
          `Disk space low on cache-far: ${90 + i}% full`,
          300 * (i + 1),
        ),
      })),
    ]);
    const buffered = await correlate(stream, { reorderMs: 30 * 60_000 });
    const onArrival = await correlate(stream);
    expect(buffered.incidentOf[1]).toBe(buffered.incidentOf[0]);
    expect(buffered.alertOf[1]!.explanation).toMatchObject({ decision: 'attach', late: false });
    expect(buffered.alertOf.filter((a) => a!.explanation.late)).toEqual([]);
    expect(incidentByFingerprint(stream, buffered)).toEqual(
      incidentByFingerprint(stream, onArrival),
    );
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

  it('takes no alert into an incident at its size limit, and keeps no lookups for it', async () => {
    const stream = deliveries([0, 1, 2, 3]);
    const engine = await createCorrelationEngine(cmdb, { maxIncidentAlerts: 2 });
    for (const d of stream) engine.push(d);
    engine.flush();
    const of = incidentByFingerprint(stream, engine.result());
    expect(of['f-billing']).toBe(of['f-db']);
    expect(of['f-pay']).not.toBe(of['f-db']);
    // One entry each for the two incidents of one alert; none for the full one.
    expect(engine.size.ciLookups).toBe(2);
    expect(engine.size.templateLookups).toBe(2);
  });

  it('drops lookup entries the window has passed, keeping the incidents (no eviction)', async () => {
    const stream = deliveries([0, 1, 2, 3]);
    const engine = await createCorrelationEngine(cmdb);
    for (const d of stream) engine.push(d);
    expect(engine.size.ciLookups).toBeGreaterThan(0);
    const incidents = engine.result().incidents.length;
    // Past the window and the allowed lateness (and the next minute's scan).
    engine.advanceTo(Date.parse(stream.at(-1)!.alert.startsAt!) + 60 * 60_000);
    expect(engine.size).toMatchObject({ ciLookups: 0, templateLookups: 0 });
    expect(engine.result().incidents).toHaveLength(incidents);
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

describe('a resolve or a re-send delivered late', () => {
  const title = 'Database db-ledger not accepting connections';
  /** A firing; startsAfter null: the sender gave no startsAt. */
  const firing = (startsAfter: number | null, deliveredAfter: number) => {
    const { startsAt: _startsAt, ...rest } = alert('f-db', 'db-ledger', title, 0);
    return {
      deliveredAfter,
      alert: startsAfter === null ? rest : { ...rest, startsAt: at(startsAfter) },
    };
  };
  /** A resolve; startsAfter null: the sender gave no startsAt. */
  const resolved = (startsAfter: number | null, endsAfter: number, deliveredAfter: number) => {
    const { startsAt: _startsAt, ...rest } = alert('f-db', 'db-ledger', title, 0, {
      status: 'resolved',
      endsAt: at(endsAfter),
    });
    return {
      deliveredAfter,
      alert: startsAfter === null ? rest : { ...rest, startsAt: at(startsAfter) },
    };
  };

  /** The stream on arrival; the fingerprint's latest alert as takeChanges() reports it. */
  async function latestOf(stream: readonly { deliveredAfter: number; alert: AlertInput }[]) {
    const engine = await createCorrelationEngine(cmdb);
    for (const d of timeline(stream)) engine.push(d);
    engine.flush();
    const alerts = engine.takeChanges().alerts.filter((c) => c.alert.fingerprint === 'f-db');
    const latest = alerts.reduce((a, b) => (b.alert.startsAt > a.alert.startsAt ? b : a));
    return { ...latest, episodes: alerts.length };
  }

  // Firing again 2 min after it resolved is a flap of the same alert; 30 min after, past the
  // refire grace, a new episode.
  it.each([
    { refire: 120, episodes: 1 },
    { refire: 1800, episodes: 2 },
  ])(
    'leaves the current firing firing when an earlier firing resolves late (again at $refire s)',
    async ({ refire, episodes }) => {
      const before = [firing(0, 5), resolved(0, 60, 65), firing(refire, refire + 5)];
      const late = resolved(0, 60, refire + 30);
      const after = await latestOf([...before, late]);
      expect(after.episodes).toBe(episodes);
      expect(after.alert.firing).toBe(true);
      expect(after.resolvedAt).toBeNull();
      expect(after.alert.explanation.ignoredLateResolves).toBe(1);
      expect(after.alert.explanation.message).toMatch(/late resolve of an earlier firing/);
      // Its own resolve then resolves it, when it ended.
      const own = await latestOf([...before, late, resolved(refire, refire + 600, refire + 605)]);
      expect(own.alert.firing).toBe(false);
      expect(own.resolvedAt).toBe(Date.parse(at(refire + 600)));
    },
  );

  // The resolve of a firing 30 min after the last one resolved comes before that firing (late):
  // it is the new episode's, resolved, and the late firing re-sends it; not a resolve of the old
  // episode, which would leave the new one firing until it expires, with that delivery in the old
  // episode's incident. Within the refire grace (2 min after), or with no startsAt, it is the
  // known alert's, as a flap's or an unplaceable resolve is.
  it.each([
    { refire: 1800, stated: true, episodes: 2, firing: false },
    { refire: 120, stated: true, episodes: 1, firing: true },
    { refire: 1800, stated: false, episodes: 2, firing: true },
  ])(
    'makes a resolve stating a start past the refire grace a new episode ($refire s, startsAt $stated)',
    async ({ refire, stated, episodes, firing: stillFiring }) => {
      const stream = [
        firing(0, 5),
        resolved(0, 60, 65),
        resolved(stated ? refire : null, refire + 300, refire + 305),
        firing(refire, refire + 400),
      ];
      const latest = await latestOf(stream);
      expect(latest.episodes).toBe(episodes);
      expect(latest.alert.firing).toBe(stillFiring);
      const engine = await createCorrelationEngine(cmdb);
      for (const d of timeline(stream)) engine.push(d);
      engine.flush();
      const { incidentOf } = engine.result();
      // The late resolve and its firing land together, apart from the old episode, when new.
      expect(incidentOf[2] === incidentOf[0]).toBe(episodes === 1 || !stated);
      if (episodes === 2 && stated) expect(incidentOf[2]).toBe(incidentOf[3]);
    },
  );

  it('keeps what the current firing says when a late delivery of an earlier one is ignored', async () => {
    const says = (
      d: { deliveredAfter: number; alert: AlertInput },
      severity: AlertInput['severity'],
      title: string,
    ) => ({ ...d, alert: { ...d.alert, severity, title } });
    const before = [
      says(firing(0, 5), 'minor', 'db-ledger slow'),
      says(resolved(0, 60, 65), 'minor', 'db-ledger slow'),
      says(firing(1800, 1805), 'critical', 'db-ledger down'),
    ];
    const late = await latestOf([...before, says(resolved(0, 60, 1830), 'info', 'db-ledger ok')]);
    expect(late.alert.explanation.ignoredLateResolves).toBe(1);
    expect(late.alert).toMatchObject({ severity: 'critical', title: 'db-ledger down' });
    // A re-send of the current firing does update it.
    const resent = await latestOf([...before, says(firing(1800, 1830), 'major', 'db-ledger slow')]);
    expect(resent.alert).toMatchObject({ severity: 'major', title: 'db-ledger slow' });
  });

  it.each([
    { name: 'with the same startsAt as the current firing', resolve: resolved(120, 400, 405) },
    { name: 'of a firing that overlaps the current one', resolve: resolved(0, 400, 405) },
    // Today's behaviour: without startsAt nothing says which firing it ended.
    { name: 'without startsAt, however early it ended', resolve: resolved(null, 60, 150) },
  ])('resolves the current firing with a resolve $name', async ({ resolve }) => {
    const latest = await latestOf([firing(0, 5), resolved(0, 60, 65), firing(120, 125), resolve]);
    expect(latest.alert.firing).toBe(false);
    expect(latest.resolvedAt).toBe(Date.parse(resolve.alert.endsAt!));
    expect(latest.alert.explanation.ignoredLateResolves).toBeUndefined();
  });

  // A flap: fired at 0, resolved at 60, fired again at 120 (the same alert, its first startsAt),
  // resolved at 400.
  const flapped = () => [
    firing(0, 5),
    resolved(0, 60, 65),
    firing(120, 125),
    resolved(120, 400, 405),
  ];

  it('leaves a resolved alert resolved when its second firing is re-sent after its resolve', async () => {
    const after = await latestOf([...flapped(), firing(120, 450)]);
    expect(after.episodes).toBe(1);
    expect(after.alert.firing).toBe(false);
    expect(after.alert.changes).toBe(3);
    expect(after.resolvedAt).toBe(Date.parse(at(400)));
    expect(after.alert.explanation.ignoredLateResends).toBe(1);
    expect(after.alert.explanation.message).toMatch(/late re-send of an ended firing/);
  });

  // 100 s after the resolve, within the refire grace, a flap of the same alert; 30 min after, a
  // new episode.
  it.each([
    { refire: 500, episodes: 1 },
    { refire: 2200, episodes: 2 },
  ])(
    'still fires again on a real refire after the late re-send (at $refire s)',
    async ({ refire, episodes }) => {
      const after = await latestOf([...flapped(), firing(120, 450), firing(refire, refire + 5)]);
      expect(after.episodes).toBe(episodes);
      expect(after.alert.firing).toBe(true);
      expect(after.resolvedAt).toBeNull();
    },
  );

  // Today's behaviour: without startsAt the delivery time stands for it, after the resolve.
  it('fires again on a re-send without startsAt after the resolve', async () => {
    const after = await latestOf([...flapped(), firing(null, 450)]);
    expect(after.episodes).toBe(1);
    expect(after.alert.firing).toBe(true);
    expect(after.alert.explanation.ignoredLateResends).toBeUndefined();
  });
});

describe('the chance correction', () => {
  // Half an hour of one-off alerts on the leaves behind the hub: each is far from everything else
  // (the hub is not crossed), so each opens its own incident, and the estate is busy: about 0.03
  // alerts per CI per minute, ten times tier C's.
  const noise = leaves.map((leaf, i) =>
    alert(`f-noise-${leaf}`, leaf, `Backup job failed on ${leaf}`, i * 29),
  );
  // The same busy half hour, but each one-off alert has a second on its CI ten seconds later.
  const noiseInPairs = leaves
    .slice(0, 30)
    .flatMap((leaf, i) => [
      alert(`f-noise-${leaf}`, leaf, `Backup job failed on ${leaf}`, i * 58),
      alert(`f-noise2-${leaf}`, leaf, `Backup volume full on ${leaf}`, i * 58 + 10),
    ]);
  // Then the database alerts, and a minute later an application one hop from it.
  const pair = (dbTitle: string, appTitle: string) => [
    alert('f-db', 'db-ledger', dbTitle, 1740),
    alert('f-billing', 'app-billing', appTitle, 1800),
  ];
  const unrelatedTexts = pair(
    'Database db-ledger not accepting connections',
    'Certificate of app-billing expires in 5 days',
  );
  const alike = pair(
    'Connection pool exhausted on db-ledger',
    'Connection pool exhausted on app-billing',
  );
  // Topology's chance alone: these lookalikes behind one router within half an hour would be one
  // incident on text and time (textTimeAttaches unmatched), and no longer background.
  const topologyOnly = { textTimeAttaches: 'unplaced' } as const;
  const run = async (alerts: AlertInput[], config: Partial<EngineConfig> = {}) => {
    const stream = alerts.map((a, seq) => ({ seq, deliveredAt: a.startsAt!, alert: a }));
    const result = await correlate(stream, { ...topologyOnly, ...config });
    const last = result.alertOf.at(-1)!;
    return { together: result.incidentOf.at(-1) === result.incidentOf.at(-2), last };
  };

  it('attaches a coincidence one hop away in a quiet estate, and not in a noisy one', async () => {
    const quiet = await run(unrelatedTexts);
    expect(quiet.together).toBe(true);
    expect(quiet.last.explanation).toMatchObject({ decision: 'attach', hops: 1 });
    // The database's own alert is the only opener in the window: next to no chance.
    expect(quiet.last.explanation.chance).toBeLessThan(0.05);
    // A lone alert with no recent lone alert to go by: taken for a first alert half the time.
    expect(quiet.last.explanation.message).toMatch(
      /chance of a coincidence 0\.0\d+ \(0\.\d+ counting how often lone alerts have had company, and how near\); score/,
    );
    const noisy = await run([...noise, ...unrelatedTexts], { loneIncidentChance: false });
    expect(noisy.together).toBe(false);
    // About 0.12 unrelated alerts a minute land within a hop of the database, against the 0.16 a
    // minute a lone alert's incident is credited a minute after it.
    expect(noisy.last.explanation.chance).toBeGreaterThan(0.3);
    expect(noisy.last.explanation.chance).toBeLessThan(0.6);
    expect(noisy.last.explanation.message).toMatch(
      /scored 0\.\d+ < 0\.4 \(chance of a coincidence 0\.\d+\)/,
    );
  });

  it('does not let a lone alert take a lookalike where lone alerts have had no company', async () => {
    const noisy = await run([...noise, ...alike]);
    expect(noisy.together).toBe(false);
    // None of the 32 openers old enough to have had company had it: (0 + 1) / (32 + 2) of the
    // 0.16 a minute, against the 0.12 unrelated ones.
    expect(noisy.last.explanation.chance).toBeGreaterThan(0.9);
    expect(noisy.last.explanation.message).toMatch(
      /best candidate E\d+ is one alert, more likely a coincidence than its company \(chance of a coincidence 0\.9\d+/,
    );
    // Without the rule, the text match carries it (the correction alone weighs 0.3 to 0.6).
    const without = await run([...noise, ...alike], { loneIncidentChance: false });
    expect(without.together).toBe(true);
    expect(without.last.explanation.chance).toBeGreaterThan(0.3);
    expect(without.last.explanation.message).toMatch(/chance of a coincidence 0\.\d+; score/);
  });

  it('lets a lone alert take a lookalike where lone alerts have had company', async () => {
    // Where each one-off alert had its second (noiseInPairs), the lone alert's chance is about the
    // correction's own (below ½).
    const busy = await run([...noiseInPairs, ...alike]);
    expect(busy.together).toBe(true);
    expect(busy.last.explanation.text).toBeGreaterThan(0.9);
    expect(busy.last.explanation.message).toMatch(
      /chance of a coincidence 0\.\d+ \(0\.[0-4]\d* counting how often lone alerts have had company, and how near\); score/,
    );
  });

  it("paces a lone alert's company as lone alerts' company has lately come", async () => {
    // The busy half hour where each one-off alert had its second ten seconds later: a lone alert's
    // company comes within seconds, so a lookalike a minute after the database's alert is its
    // company, and one four minutes after it a coincidence (credited with one more alert per
    // five minutes, timeDecayMs, it was taken: chance about 0.4).
    const after = (seconds: number) => [
      alert('f-db', 'db-ledger', 'Connection pool exhausted on db-ledger', 1740),
      alert('f-billing', 'app-billing', 'Connection pool exhausted on app-billing', 1740 + seconds),
    ];
    // Each pair an incident of its own (the leaves' lookalike pairs would merge on text).
    const apart = { textFragmentMerges: false };
    const soon = await run([...noiseInPairs, ...after(60)], apart);
    expect(soon.together).toBe(true);
    expect(soon.last.explanation.lone).toBeLessThan(0.5);
    const late = await run([...noiseInPairs, ...after(240)], apart);
    expect(late.together).toBe(false);
    expect(late.last.explanation.message).toMatch(
      /best candidate E\d+ is one alert, more likely a coincidence than its company \(chance of a coincidence (1|0\.9\d+),/,
    );
  });

  it('puts three lookalikes close in the CMDB and in time together though each pair is likelier a coincidence', async () => {
    // The database, then half a minute later the payments application one hop from it (alone: a
    // lone alert's likelier coincidence), then billing one hop from the database and two from
    // payments: two lone alerts would take it, each other's company.
    const three = [
      alert('f-db', 'db-ledger', 'Connection pool exhausted on db-ledger', 1740),
      alert('f-pay', 'app-payments', 'Connection pool exhausted on app-payments', 1770),
      alert('f-billing', 'app-billing', 'Connection pool exhausted on app-billing', 1800),
    ];
    const stream = [...noise, ...three].map((a, seq) => ({
      seq,
      deliveredAt: a.startsAt!,
      alert: a,
    }));
    const result = await correlate(stream, topologyOnly);
    const [db, pay, billing] = result.incidentOf.slice(-3);
    expect(result.alertOf.at(-2)!.explanation.decision).toBe('new');
    expect(billing).toBe(db);
    expect(pay).toBe(db);
    expect(result.alertOf.at(-1)!.explanation).toMatchObject({ decision: 'merge', hops: 1 });
    expect(result.alertOf.at(-1)!.explanation.message).toMatch(/lone alerts near it are company/);
  });

  it('weighs nothing for chance when turned off', async () => {
    const off = await run([...noise, ...unrelatedTexts], { chanceCorrection: false });
    expect(off.together).toBe(true);
    expect(off.last.explanation.chance).toBe(0);
  });

  it('counts only the openers within its window: an hour later the estate is quiet again', async () => {
    const later = unrelatedTexts.map((a) => ({
      ...a,
      startsAt: new Date(Date.parse(a.startsAt!) + 60 * 60_000).toISOString(),
    }));
    const quietAgain = await run([...noise, ...later]);
    expect(quietAgain.together).toBe(true);
    expect(quietAgain.last.explanation.chance).toBeLessThan(0.05);
  });

  it('refuses a background window longer than a restore is given, and a non-boolean switch', () => {
    expect(() => resolveEngineConfig({ backgroundWindowMs: 31 * 60_000 })).toThrow(
      /backgroundWindowMs must be at most windowMs \+ refireGraceMs/,
    );
    expect(() => resolveEngineConfig({ chanceCorrection: 'yes' as unknown as boolean })).toThrow(
      /chanceCorrection must be true or false/,
    );
    expect(resolveEngineConfig({}).backgroundWindowMs).toBe(30 * 60_000);
  });

  it('refuses a hop bound that is not a whole number of at most 16', () => {
    for (const maxHops of [2.5, 17, 300])
      expect(() => resolveEngineConfig({ maxHops })).toThrow(/maxHops must be a whole number/);
    expect(resolveEngineConfig({ maxHops: 16 }).maxHops).toBe(16);
  });

  // A storm on the database's corner: three alerts on db-ledger, two on host-db, one on
  // app-billing within twenty seconds (attaches at 0 and 1 hop); then host-app2, two hops from
  // db-ledger and host-db and three from app-billing, with unrelated text: the score (two hops, no
  // text) refuses it.
  const corner = (from: number) => [
    alert('f-db-1', 'db-ledger', 'Database db-ledger not accepting connections', from),
    alert('f-db-2', 'db-ledger', 'Replication lag on db-ledger', from + 2),
    alert('f-host-1', 'host-db', 'Disk latency high on host-db', from + 5),
    alert('f-db-3', 'db-ledger', 'Slow queries on db-ledger', from + 8),
    alert('f-host-2', 'host-db', 'Load average high on host-db', from + 10),
    alert('f-billing', 'app-billing', 'High HTTP 5xx rate on app-billing', from + 20),
    alert('f-host-app2', 'host-app2', 'Certificate of host-app2 expires in 5 days', from + 30),
  ];

  it('attaches a candidate the score refuses when a coincidence that many hops away is unlikely', async () => {
    const taken = await run(corner(0));
    expect(taken.together).toBe(true);
    expect(taken.last.explanation).toMatchObject({ decision: 'attach', hops: 2 });
    expect(taken.last.explanation.score).toBeLessThan(0.4);
    expect(taken.last.explanation.message).toMatch(
      /score 0\.\d+ < 0\.4, taken as a coincidence exactly 2 hops away is unlikely \(chance 0\.0[0-4]\d* < 0\.05, weighing how far from their incidents alerts have landed lately\)/,
    );
    // Off, the score decides, and says so.
    const refused = await run(corner(0), { coincidenceLevel: 0 });
    expect(refused.together).toBe(false);
    expect(refused.last.explanation.message).toMatch(/scored 0\.\d+ < 0\.4 \(chance/);
    // After the busy half hour of one-off alerts, a coincidence that far is not unlikely.
    const busy = await run([...noise, ...corner(1740)]);
    expect(busy.together).toBe(false);
    expect(busy.last.explanation.message).toMatch(
      /and a coincidence exactly 2 hops away is not unlikely enough \(0\.\d+ ≥ 0\.05\)/,
    );
  });

  it('merges a fragment of the cascade that would not take the alert when it is likelier than not the company of both', async () => {
    // Ten leaves alert twice ten seconds apart (lone alerts have had company), then the database's
    // corner storm: host-app2, two hops from it, opens its own incident (a coincidence that far is
    // not unlikely enough) and two more alerts on host-app2 join that fragment. Then host-app1,
    // two hops from host-db and from host-app2, with host-db's text: the storm takes it, and the
    // fragment, whose score refuses it, is likelier than not its company too.
    const pairs = leaves
      .slice(0, 10)
      .flatMap((leaf, i) => [
        alert(`f-noise-${leaf}`, leaf, `Backup job failed on ${leaf}`, i * 58),
        alert(`f-noise2-${leaf}`, leaf, `Backup volume full on ${leaf}`, i * 58 + 10),
      ]);
    const cascade = [
      ...corner(1740),
      alert('f-host-app2-b', 'host-app2', 'Packet loss on host-app2', 1775),
      alert('f-host-app2-c', 'host-app2', 'Swap usage high on host-app2', 1778),
      alert('f-host-app1', 'host-app1', 'Disk latency high on host-app1', 1785),
    ];
    const stream = [...pairs, ...cascade].map((a, seq) => ({
      seq,
      deliveredAt: a.startsAt!,
      alert: a,
    }));
    const fragmentAt = pairs.length + 6;
    const split = async (config: Partial<EngineConfig>, byHand = false) => {
      const engine = await createCorrelationEngine(cmdb, { ...topologyOnly, ...config });
      for (const d of stream) {
        if (d.seq === stream.length - 1 && byHand) {
          // A person confirms the fragment as its own incident: the engine never merges it.
          const { alertOf, incidentOf } = engine.result();
          engine.moveAlerts([alertOf[fragmentAt]!.id], incidentOf[fragmentAt]!);
        }
        engine.push(d);
      }
      engine.flush();
      return engine.result();
    };
    const apart = await split({ fragmentMerges: false });
    const [storm, fragment] = [apart.incidentOf[pairs.length], apart.incidentOf[fragmentAt]];
    expect(fragment).not.toBe(storm);
    expect(apart.alertOf[fragmentAt]!.explanation.message).toMatch(
      /a coincidence exactly 2 hops away is not unlikely enough/,
    );
    expect(apart.incidentOf.slice(fragmentAt)).toEqual([fragment, fragment, fragment, storm]);
    expect(apart.alertOf.at(-1)!.explanation.decision).toBe('attach');

    const merged = await split({});
    expect(new Set(merged.incidentOf.slice(pairs.length))).toEqual(new Set([storm]));
    expect(merged.alertOf.at(-1)!.explanation).toMatchObject({
      decision: 'merge',
      hops: 2,
      merged: [fragment],
    });
    expect(merged.alertOf.at(-1)!.explanation.message).toMatch(
      new RegExp(
        `merged ${fragment!}, a fragment of the same cascade: the alert is 2 hops from its CI ` +
          'host-app2 \\(score 0\\.3\\d+, chance of a coincidence exactly that far 0\\.\\d+\\), ' +
          'likelier than not the company of both \\(0\\.\\d+ × 0\\.\\d+ = 0\\.5\\d* > 0\\.5\\)$',
      ),
    );

    const confirmed = await split({}, true);
    expect(confirmed.incidentOf.at(-1)).toBe(storm);
    expect(confirmed.incidentOf[fragmentAt]).toBe(fragment);
    expect(confirmed.alertOf.at(-1)!.explanation.decision).toBe('attach');
  });

  it('merges a fragment the CMDB does not join when it holds the alert template and is likelier than not the company of both', async () => {
    // The far cache and its host time out on the ledger together (one fragment: the CMDB puts
    // them nowhere near the database, behind the hub), the database and its host fail (another),
    // then app-billing, next to the database, times out on the ledger with the cache's words.
    const alerts = [
      alert('t-cache', 'cache-far', 'Ledger upstream timeout after 30 s', 0),
      alert('t-host-far', 'host-far', 'Ledger upstream timeout after 30 s', 10),
      alert('t-host-db', 'host-db', 'Disk latency high on host-db', 20),
      alert('t-db', 'db-ledger', 'Database db-ledger not accepting connections', 30),
      alert('t-billing', 'app-billing', 'Ledger upstream timeout after 30 s', 40),
    ];
    const stream = alerts.map((a, seq) => ({ seq, deliveredAt: a.startsAt!, alert: a }));
    const apart = await correlate(stream, { textFragmentMerges: false });
    const [far, db] = [apart.incidentOf[0], apart.incidentOf[2]];
    expect(far).not.toBe(db);
    expect(apart.incidentOf).toEqual([far, far, db, db, db]);
    expect(apart.alertOf.at(-1)!.explanation.decision).toBe('attach');

    const merged = await correlate(stream, {});
    expect(new Set(merged.incidentOf)).toEqual(new Set([db]));
    expect(merged.alertOf.at(-1)!.explanation).toMatchObject({
      decision: 'merge',
      hops: 1,
      merged: [far],
    });
    expect(merged.alertOf.at(-1)!.explanation.message).toMatch(
      new RegExp(
        `merged ${far!}, a fragment of the same cascade the CMDB does not join: it holds the ` +
          "alert's template, its alert with it 30 s before \\(chance of a coincidence anywhere in " +
          'the estate 0(\\.\\d+)?\\), likelier than not the company of both',
      ),
    );
  });

  it('reaches an incident four hops away in the CMDB, the depth a missing edge makes of three', async () => {
    // A chain a – b – c – d – e: e is four hops from a.
    const chain: EngineCmdb = {
      cis: ['ci-a', 'ci-b', 'ci-c', 'ci-d', 'ci-e'].map((name) => ({ name })),
      relationships: [
        { source: 'ci-b', target: 'ci-a', type: 'depends_on' },
        { source: 'ci-c', target: 'ci-b', type: 'depends_on' },
        { source: 'ci-d', target: 'ci-c', type: 'depends_on' },
        { source: 'ci-e', target: 'ci-d', type: 'depends_on' },
      ],
    };
    const stream = [
      alert('f-a', 'ci-a', 'Connection pool exhausted on ci-a', 0),
      alert('f-e', 'ci-e', 'Connection pool exhausted on ci-e', 60),
    ].map((a, seq) => ({ seq, deliveredAt: a.startsAt!, alert: a }));
    const run = async (config: Partial<EngineConfig>) => {
      const engine = await createCorrelationEngine(chain, {
        textTimeAttaches: 'unplaced',
        ...config,
      });
      for (const d of stream) engine.push(d);
      engine.flush();
      return engine.result();
    };
    const reached = await run({});
    expect(reached.incidentOf[1]).toBe(reached.incidentOf[0]);
    expect(reached.alertOf[1]!.explanation).toMatchObject({ decision: 'attach', hops: 4 });
    const bounded = await run({ maxHops: 3 });
    expect(bounded.incidentOf[1]).not.toBe(bounded.incidentOf[0]);
  });

  it('refuses a coincidence level above 1', () => {
    expect(() => resolveEngineConfig({ coincidenceLevel: 1.5 })).toThrow(
      /coincidenceLevel must be at most 1/,
    );
  });
});

describe('text and time where the CMDB cannot place an alert', () => {
  // The test CMDB with a VM it knows but relates to nothing (its edges are missing).
  const withOrphan: EngineCmdb = { ...cmdb, cis: [...cmdb.cis, { name: 'vm-orphan' }] };
  const storm = [
    alert('f-db', 'db-ledger', 'Database db-ledger not accepting connections', 0),
    alert('f-billing', 'app-billing', 'High HTTP 5xx rate on app-billing: 40 of 100', 40),
  ];
  const lookalike = (ci: string, seconds = 60) =>
    alert(`f-${ci}`, ci, `Database ${ci} not accepting connections`, seconds);
  const run = async (alerts: AlertInput[], config: Partial<EngineConfig> = {}) => {
    const engine = await createCorrelationEngine(withOrphan, config);
    alerts.forEach((a, seq) => engine.push({ seq, deliveredAt: a.startsAt!, alert: a }));
    engine.flush();
    const result = engine.result();
    const last = result.alertOf.at(-1)!;
    return { together: result.incidentOf.at(-1) === result.incidentOf[0], last };
  };

  it('attaches an alert on a CI with no relationship on similar text soon after, and says why', async () => {
    const { together, last } = await run([...storm, lookalike('vm-orphan')]);
    expect(together).toBe(true);
    expect(last.explanation).toMatchObject({
      decision: 'attach',
      basis: 'text-time',
      hops: null,
      path: [],
    });
    expect(last.explanation.text).toBeGreaterThan(0.6);
    // Two openers' worth of background against a storm of two alerts a minute apart.
    expect(last.explanation.chance).toBeGreaterThan(0);
    expect(last.explanation.chance).toBeLessThan(0.3);
    expect(last.explanation.message).toMatch(
      /vm-orphan has no relationship in the CMDB; text similarity [\d.]+; 60 s after its first alert, 60 s after its alert with that text; chance of a coincidence 0\.\d+ \(anywhere in the estate\); score 0\.\d+/,
    );
  });

  it('attaches an alert on a CI the CMDB does not know the same way', async () => {
    const { together, last } = await run([...storm, lookalike('vm-unknown')]);
    expect(together).toBe(true);
    expect(last.explanation.basis).toBe('text-time');
    expect(last.explanation.message).toMatch(/vm-unknown not in the CMDB/);
  });

  it('leaves it alone when turned off, on dissimilar text, or long after', async () => {
    expect(
      (await run([...storm, lookalike('vm-orphan')], { textTimeAttaches: 'never' })).together,
    ).toBe(false);
    const other = alert(
      'f-o',
      'vm-orphan',
      'Disk space low on /var/log of vm-orphan: 97% full',
      60,
    );
    expect((await run([...storm, other])).together).toBe(false);
    // Ten minutes after its last alert: time no longer beats the dissimilar-text storm's chance.
    expect((await run([...storm, lookalike('vm-orphan', 40 + 14 * 60)])).together).toBe(false);
  });

  it('leaves it alone in a noisy estate: unrelated alerts land that soon anywhere', async () => {
    const noise = leaves.map((leaf, i) =>
      alert(`f-noise-${leaf}`, leaf, `Backup job failed on ${leaf}`, i * 29),
    );
    const later = [...storm, lookalike('vm-orphan')].map((a) => ({
      ...a,
      startsAt: new Date(Date.parse(a.startsAt!) + 1740_000).toISOString(),
    }));
    // Only for CIs the CMDB cannot place: sixty lookalikes behind one router within half an hour
    // would otherwise be one incident on text and time (unmatched), not background.
    const { together, last } = await run([...noise, ...later], { textTimeAttaches: 'unplaced' });
    expect(together).toBe(false);
    expect(last.explanation.decision).toBe('new');
    expect(last.explanation.chance).toBeGreaterThan(0.5);
  });

  it('places a CI the CMDB relates elsewhere on text and time too (unmatched), unless unplaced only', async () => {
    // cache-far is 3 hops from nothing of the storm (the core router is a hub, never crossed).
    const placed = [...storm, lookalike('cache-far')];
    expect((await run(placed, { textTimeAttaches: 'unplaced' })).together).toBe(false);
    const unmatched = await run(placed);
    expect(unmatched.together).toBe(true);
    expect(unmatched.last.explanation.basis).toBe('text-time');
    expect(unmatched.last.explanation.message).toMatch(/not near in the CMDB/);
  });

  it('says how near the CMDB put it when text and time outweigh a weak topology score', async () => {
    // leaf-01 alerts, the core router (a hub) follows; leaf-02's only neighbour is the router,
    // whose alert says something else, so topology alone is too weak, while leaf-01's text is
    // leaf-02's own, three minutes apart.
    const fivexx = (leaf: string, seconds: number) =>
      alert(`f-${leaf}`, leaf, `High HTTP 5xx rate on ${leaf}: 40 of 100`, seconds);
    const alerts = [
      fivexx('leaf-01', 0),
      alert('f-rtr', 'core-rtr', 'BGP session to upstream down on core-rtr', 10),
      fivexx('leaf-02', 200),
    ];
    const { together, last } = await run(alerts);
    expect(together).toBe(true);
    expect(last.explanation).toMatchObject({ decision: 'attach', basis: 'text-time', hops: null });
    const weak = /1 hop from it in the CMDB \(topology score (0\.\d+) < 0\.4, too weak alone\)/;
    expect(last.explanation.message).toMatch(weak);
    expect(Number(weak.exec(last.explanation.message)![1])).toBeLessThan(last.explanation.score);
    expect((await run(alerts, { textTimeAttaches: 'unplaced' })).together).toBe(false);
  });

  it("weighs a lone alert's incident on text and time as on topology: company, or a coincidence", async () => {
    // Background alerts elsewhere, each unlike the others (each opens its own incident, none has
    // company), then an alert on the orphan and a lookalike on a CI the CMDB does not know.
    const symptoms = ['Backup job failed', 'Disk space low', 'NTP clock drift', 'Swap usage high'];
    const noise = symptoms.map((symptom, i) =>
      alert(`f-noise-${i}`, leaves[i]!, `${symptom} on ${leaves[i]!}`, i * 60),
    );
    const pair = [lookalike('vm-orphan', 1200), lookalike('vm-unknown', 1230)];
    const firstOfPair = async (config: Partial<EngineConfig> = {}) => {
      const engine = await createCorrelationEngine(withOrphan, config);
      [...noise, ...pair].forEach((a, seq) =>
        engine.push({ seq, deliveredAt: a.startsAt!, alert: a }),
      );
      engine.flush();
      const { incidentOf, alertOf } = engine.result();
      return { together: incidentOf.at(-1) === incidentOf.at(-2), last: alertOf.at(-1)! };
    };
    const withoutWeighing = await firstOfPair({ loneIncidentChance: false });
    expect(withoutWeighing.together).toBe(true);
    expect(withoutWeighing.last.explanation.basis).toBe('text-time');
    const weighed = await firstOfPair();
    expect(weighed.together).toBe(false);
    expect(weighed.last.explanation.decision).toBe('new');
    expect(weighed.last.explanation.chance).toBeGreaterThan(0.5);
    expect(weighed.last.explanation.message).toMatch(
      /is one alert, more likely a coincidence than its company/,
    );
  });

  it('refuses an unknown mode', () => {
    expect(() =>
      resolveEngineConfig({ textTimeAttaches: 'sometimes' as EngineConfig['textTimeAttaches'] }),
    ).toThrow(/textTimeAttaches must be one of never, unplaced, unmatched/);
    expect(resolveEngineConfig({}).textTimeAttaches).toBe('unmatched');
  });
});

describe('root-cause ranking', () => {
  // One data centre behind core-1, a hub everything in it depends on (60 one-off leaves, a
  // database host and six application hosts, and a switch); a second one behind core-2, so that
  // core-1's dependents are not the whole CMDB. db-a runs on host-a and six apps depend on it
  // (each runs on its own host); six hosts on switch sw, each with an app.
  const n = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
  const [apps, appHosts, swHosts, swApps] = [n('app', 6), n('hx', 6), n('hs', 6), n('app-s', 6)];
  const [rackLeaves, farLeaves] = [n('leaf', 60), n('far', 100)];
  // Behind core-2: application web contains four instances, each on its own host; all of them
  // use db-web.
  const [webInstances, webHosts] = [n('web', 4), n('hw', 4)];
  const needs = (source: string, target: string, type = 'depends_on') => ({ source, target, type });
  const dc: EngineCmdb = {
    cis: [
      'core-1',
      'core-2',
      'db-a',
      'host-a',
      'sw',
      ...apps,
      ...appHosts,
      ...swHosts,
      ...swApps,
      ...rackLeaves,
      ...farLeaves,
      'web',
      'db-web',
      'host-dbw',
      ...webInstances,
      ...webHosts,
    ].map((name) => ({ name })),
    relationships: [
      needs('db-a', 'host-a', 'runs_on'),
      needs('host-a', 'core-1'),
      ...apps.flatMap((app, i) => [
        needs(app, 'db-a'),
        needs(app, appHosts[i]!, 'runs_on'),
        needs(appHosts[i]!, 'core-1'),
      ]),
      needs('sw', 'core-1'),
      ...swHosts.flatMap((host, i) => [needs(host, 'sw'), needs(swApps[i]!, host, 'runs_on')]),
      ...rackLeaves.map((leaf) => needs(leaf, 'core-1')),
      ...farLeaves.map((leaf) => needs(leaf, 'core-2')),
      needs('db-web', 'host-dbw', 'runs_on'),
      needs('host-dbw', 'core-2'),
      ...webInstances.flatMap((instance, i) => [
        needs('web', instance, 'contains'),
        needs(instance, 'db-web', 'uses'),
        needs(instance, webHosts[i]!, 'runs_on'),
        needs(webHosts[i]!, 'core-2'),
      ]),
    ],
  };

  /**
   * The root causes of one incident of alerts on these CIs (a minute apart, in this order), put
   * together by a person's merge, so that only the ranking is under test and not the clustering;
   * every candidate kept.
   */
  const rank = async (cis: readonly string[], config: Partial<EngineConfig> = {}) => {
    const engine = await createCorrelationEngine(dc, { rootCauseCandidates: 100, ...config });
    cis.forEach((ci, seq) => {
      const a = alert(`f-${ci}`, ci, `Service check failed on ${ci}`, seq * 60);
      engine.push({ seq, deliveredAt: a.startsAt!, alert: a });
    });
    engine.flush();
    const names = [...new Set(engine.result().incidentOf)].filter((i) => i !== null);
    engine.mergeIncidents(names.slice(1), names[0]!);
    const incidents = engine.result().incidents.filter((i) => i.alerts.length > 0);
    expect(incidents).toHaveLength(1);
    return incidents[0]!.rootCause;
  };

  it('ranks an alerting database whose dependents explain the incident above the silent hub', async () => {
    // The database's apps alert (one before it), and two unrelated leaves behind the hub join in.
    const cis = ['app-1', 'db-a', 'app-2', 'app-3', 'app-4', 'app-5', 'leaf-7', 'leaf-8'];
    const ranked = await rank(cis);
    expect(ranked[0]).toMatchObject({
      ci: 'db-a',
      reason:
        '5 of 8 alerting CIs depend on it (app-1, app-2, app-3, app-4, app-5); ' +
        '5 of its 6 dependents alert; alerting',
    });
    const hub = ranked.find((c) => c.ci === 'core-1');
    expect(hub?.reason).toMatch(
      /^8 of 8 alerting CIs depend on it .*; 8 of its 87 dependents alert; not alerting itself$/,
    );
    // By coverage alone the hub, which explains every alert, wins.
    const byCoverage = await rank(cis, { rootCauseSpecificity: false });
    expect(byCoverage[0]?.ci).toBe('core-1');
  });

  it('still ranks first a silent switch that is the common cause of most of its dependents', async () => {
    const cis = ['hs-1', 'app-s-1', 'hs-2', 'hs-3', 'app-s-2', 'hs-4', 'hs-5'];
    const ranked = await rank(cis);
    expect(ranked[0]?.ci).toBe('sw');
    expect(ranked[0]?.reason).toMatch(
      /^7 of 7 alerting CIs depend on it .*; 7 of its 12 dependents alert; not alerting itself$/,
    );
    // The hub covers them as well, but most of what depends on it is quiet.
    expect(ranked.findIndex((c) => c.ci === 'core-1')).toBeGreaterThan(0);
    // Alerting (and first) does not make one host, which explains two alerts, the cause.
    expect(ranked.find((c) => c.ci === 'hs-1')?.reason).toMatch(/^1 of 7 .*; alerted first$/);
    expect(ranked.findIndex((c) => c.ci === 'hs-1')).toBeGreaterThan(0);
  });

  it('ranks the silent hub first when only it explains alerts all over its dependents', async () => {
    const ranked = await rank(rackLeaves.slice(0, 30));
    expect(ranked[0]?.ci).toBe('core-1');
    expect(ranked[0]?.reason).toMatch(/^30 of 30 alerting CIs depend on it .*; 30 of its 87 /);
  });

  it('ranks an application whose instances all alert as the cause, not one instance or their database', async () => {
    // A bad release: the application and three of its four instances alert, an instance first.
    const cis = ['web-2', 'web', 'web-1', 'web-3'];
    const ranked = await rank(cis);
    expect(ranked[0]).toMatchObject({
      ci: 'web',
      reason:
        '3 of 4 alerting CIs are its parts or depend on it (web-2, web-1, web-3); ' +
        '3 of its 4 parts and dependents alert; alerting',
    });
    // Each instance explains only itself and the application.
    expect(ranked.find((c) => c.ci === 'web-2')?.reason).toMatch(
      /^1 of 4 alerting CIs depend on it \(web\); 1 of its 1 dependents alert; alerted first$/,
    );
    // By the impact direction alone, the silent database all four use explains them best.
    const withoutParts = await rank(cis, { rootCauseContainment: false });
    expect(withoutParts[0]?.ci).toBe('db-web');
    expect(withoutParts.find((c) => c.ci === 'web')?.reason).toBe(
      '0 of 4 alerting CIs depend on it; nothing depends on it; alerting',
    );
  });

  it('still ranks a failing instance first when the application shows it and no other part alerts', async () => {
    const ranked = await rank(['web-3', 'web']);
    expect(ranked.map((c) => c.ci).slice(0, 2)).toEqual(['web-3', 'web']);
    expect(ranked[1]?.reason).toBe(
      '1 of 2 alerting CIs are its parts or depend on it (web-3); ' +
        '1 of its 4 parts and dependents alert; alerting',
    );
  });

  it('ranks a lone alerting CI as its own root cause, whatever it depends on', async () => {
    const ranked = await rank(['app-3']);
    expect(ranked.map((c) => c.ci)).toEqual(['app-3']);
    expect(ranked[0]?.reason).toBe(
      '0 of 1 alerting CIs depend on it; nothing depends on it; alerted first',
    );
  });
});

/** An alert row as the live correlator stores it (correlator/live.ts #write). */
type StoredAlertRow = {
  key: string;
  incident: string;
  view: EngineAlert;
  resolvedAt: number | null;
  recentChanges: readonly number[];
  /** The CI and description as the latest delivery named them. */
  ci: string | null;
  description: string | null;
  lastSeenAt: number;
};

/** An incident row as the live correlator stores it. */
type StoredIncidentRow = Pick<
  EngineIncidentChange,
  'firstAt' | 'lastAt' | 'state' | 'resolvesAt' | 'resolvedAt' | 'reopened'
> & { mergedInto: string | null };

/** What a restore is given; each part can be left out to measure what it is worth. */
type RestoreParts = {
  templates: boolean;
  flapHistory: boolean;
  horizon: 'event' | 'open-only';
  /** The alerts' explanations (which say which alerts opened their incident). */
  explanations: boolean;
};

const faithful: RestoreParts = {
  templates: true,
  flapHistory: true,
  horizon: 'event',
  explanations: true,
};

/**
 * What the live correlator keeps in PostgreSQL of an engine's changes, written batch by batch as
 * live.ts writes them (stored ids for alerts, by fingerprint and episode, and for incidents), and
 * restored into a new engine as live.ts restores it. No database: the rows are the columns.
 */
class Storage {
  readonly alerts = new Map<string, StoredAlertRow>();
  readonly incidents = new Map<string, StoredIncidentRow>();
  latest = -Infinity;
  readonly #alertKeys = new Map<string, string>();
  readonly #incidentIds = new Map<string, string>();
  readonly #episodes = new Map<string, number>();

  write(engine: CorrelationEngine, batch: readonly EngineDelivery[]): void {
    const bySeq = new Map(batch.map((d) => [d.seq, d]));
    const latest = new Map<string, EngineDelivery>();
    for (const { seq, alertId } of engine.takeProcessed()) latest.set(alertId, bySeq.get(seq)!);
    const changes = engine.takeChanges();
    for (const incident of changes.incidents) {
      const id = this.#incidentIds.get(incident.id) ?? `I${this.incidents.size + 1}`;
      this.#incidentIds.set(incident.id, id);
      const { firstAt, lastAt, state, resolvesAt, resolvedAt, reopened } = incident;
      const mergedInto = this.incidents.get(id)?.mergedInto ?? null;
      this.incidents.set(id, {
        firstAt,
        lastAt,
        state,
        resolvesAt,
        resolvedAt,
        reopened,
        mergedInto,
      });
    }
    for (const { alert, incident, resolvedAt, recentChanges } of changes.alerts) {
      let key = this.#alertKeys.get(alert.id);
      if (key === undefined) {
        const episode = (this.#episodes.get(alert.fingerprint) ?? 0) + 1;
        this.#episodes.set(alert.fingerprint, episode);
        key = `${alert.fingerprint}/${episode}`;
        this.#alertKeys.set(alert.id, key);
      }
      const before = this.alerts.get(key);
      const delivery = latest.get(alert.id);
      this.alerts.set(key, {
        key,
        incident: this.#incidentIds.get(incident)!,
        view: { ...alert },
        resolvedAt,
        recentChanges: [...recentChanges],
        ci: delivery ? (delivery.alert.ci ?? null) : (before?.ci ?? null),
        description: delivery
          ? (delivery.alert.description ?? null)
          : (before?.description ?? null),
        lastSeenAt: Math.max(
          before?.lastSeenAt ?? -Infinity,
          delivery ? Date.parse(delivery.deliveredAt) : -Infinity,
        ),
      });
    }
    for (const { from, into } of changes.merged) {
      // One made and merged within a batch was never stored.
      const merged = this.incidents.get(this.#incidentIds.get(from) ?? '');
      if (merged !== undefined) merged.mergedInto = this.#incidentIds.get(into)!;
      this.#incidentIds.delete(from);
    }
    if (Number.isFinite(engine.latest)) this.latest = engine.latest;
  }

  /** Restores the incidents the engine may still hold into a new engine, as live.ts does. */
  restore(engine: CorrelationEngine, parts: RestoreParts = faithful): void {
    const horizon = engine.restoreHorizon(this.latest);
    const byIncident = new Map<string, StoredAlertRow[]>();
    for (const row of this.alerts.values())
      byIncident.set(row.incident, [...(byIncident.get(row.incident) ?? []), row]);
    const held = [...this.incidents].filter(([id, i]) => {
      if (i.mergedInto !== null) return false;
      if (i.state === 'open' || i.state === 'resolving') return true;
      if (parts.horizon === 'open-only') return false;
      const alerts = byIncident.get(id) ?? [];
      return (
        i.lastAt >= horizon ||
        (i.resolvedAt ?? -Infinity) >= horizon ||
        alerts.some((a) => a.view.firing || a.view.flapping)
      );
    });
    const restored = held.map(([id, i]): RestoredIncident => ({
      firstAt: i.firstAt,
      lastAt: i.lastAt,
      state: i.state,
      resolvesAt: i.resolvesAt,
      resolvedAt: i.resolvedAt,
      reopened: i.reopened,
      manual: false,
      alerts: (byIncident.get(id) ?? []).map((row) => ({
        ...row.view,
        id: `db:${row.key}`,
        ci: row.ci,
        description: row.description,
        resolvedAt: row.resolvedAt,
        lastSeenAt: row.lastSeenAt,
        explanation: parts.explanations ? row.view.explanation : null,
        template: parts.templates ? row.view.template : null,
        recentChanges: parts.flapHistory ? row.recentChanges : [],
      })),
    }));
    const templates = parts.templates
      ? new Set([...this.alerts.values()].map((row) => row.view.template))
      : [];
    const names = engine.restore(restored, { latest: this.latest, templates });
    this.#incidentIds.clear();
    this.#alertKeys.clear();
    held.forEach(([id], i) => this.#incidentIds.set(names[i]!, id));
    for (const key of this.alerts.keys()) this.#alertKeys.set(`db:${key}`, key);
  }

  /**
   * Every alert row as it decides: its incident, state and why it is there (less the engine's
   * incident names in the explanation's words, and where they are in them), by stored key.
   */
  decisions(): Record<string, unknown> {
    return Object.fromEntries(
      [...this.alerts].map(([key, row]) => {
        const { id: _id, explanation, ...view } = row.view;
        const { message: _message, refs: _refs, merged, ...why } = explanation;
        return [
          key,
          {
            incident: row.incident,
            ...view,
            ...why,
            merged: merged.length,
            resolvedAt: row.resolvedAt,
            recentChanges: row.recentChanges,
          },
        ];
      }),
    );
  }
}

// Tier A's storms on the bench estate: cascades, noise, re-sends, flaps, late deliveries. A busy
// quarter of a day (the replay tests' stream), and a quieter day and a quarter in which alerts
// that never resolve expire and incidents long resolved are forgotten.
const stormEstate = generateEstate();
function stormOf(days: number, faultsPerDay: number, noisePerDay: number): EngineDelivery[] {
  const options = { ...defaultStormOptions, start: '2026-11-02T08:00:00.000Z' };
  const storm = { ...options, days, faultsPerDay, noisePerDay };
  const tier = {
    name: 'A' as const,
    summary: 'test',
    estate: stormEstate,
    cmdb: stormEstate,
    storm,
  };
  return [...generateStorm(tier)].map((e) => e.delivery);
}
const storms = {
  busy: stormOf(0.25, 60, 400),
  long: stormOf(1.25, 30, 150),
  // Tier C's background: ten times tier A's noise, where the chance correction decides.
  noisy: stormOf(0.25, 80, 8000),
  // Twice the busy storm's faults for half a day: enough for a degraded CMDB's orphans to alert.
  dense: stormOf(0.25, 240, 400),
  // Twice the busy storm's faults for twice as long: cascades close enough to merge.
  merging: stormOf(0.5, 120, 400),
};

/** Nine cuts on batch boundaries, at every tenth of a stream. */
function cutsOf(stream: readonly EngineDelivery[]): number[] {
  return Array.from({ length: 9 }, (_, i) => Math.round((stream.length * (i + 1)) / 10 / 25) * 25);
}

/**
 * The stream through one engine as the live correlator runs it, stored batch by batch; at each
 * cut (a delivery index on a batch boundary) a new engine is restored from storage and goes on.
 */
async function stored(
  stream: readonly EngineDelivery[],
  cuts: readonly number[],
  options: {
    parts?: RestoreParts;
    cmdb?: EngineCmdb;
    batch?: number;
    config?: Partial<EngineConfig>;
  } = {},
): Promise<Storage> {
  const { parts = faithful, cmdb: on = stormEstate, batch: size = 25, config = {} } = options;
  const mode = { recordDeliveries: false, evict: true };
  const storage = new Storage();
  let engine = await createCorrelationEngine(on, config, mode);
  for (let from = 0; from < stream.length; from += size) {
    if (cuts.includes(from)) {
      engine = await createCorrelationEngine(on, config, mode);
      storage.restore(engine, parts);
    }
    const batch = stream.slice(from, from + size);
    for (const d of batch) engine.push(d);
    storage.write(engine, batch);
  }
  return storage;
}

/**
 * Expects an engine restored at each cut to store the same decisions and incidents as the one
 * that never stopped.
 */
async function expectRestoredAlike(
  stream: readonly EngineDelivery[],
  cuts: readonly number[],
  uninterrupted: Storage,
  options: Parameters<typeof stored>[2] = {},
): Promise<void> {
  for (const cut of cuts) {
    const restored = await stored(stream, [cut], options);
    expect(restored.decisions(), `restored at delivery ${cut}`).toEqual(uninterrupted.decisions());
    expect(restored.incidents, `restored at delivery ${cut}`).toEqual(uninterrupted.incidents);
  }
}

/** How many stored alerts decide differently from the reference, and in which fields. */
function differences(reference: Storage, other: Storage): Record<string, number> {
  const left = reference.decisions();
  const right = other.decisions();
  const fields: Record<string, number> = {};
  for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
    const l = (left[key] ?? {}) as Record<string, unknown>;
    const r = (right[key] ?? {}) as Record<string, unknown>;
    const differing = [...new Set([...Object.keys(l), ...Object.keys(r)])].filter(
      (f) => JSON.stringify(l[f]) !== JSON.stringify(r[f]),
    );
    if (differing.length > 0) fields.alerts = (fields.alerts ?? 0) + 1;
    for (const f of differing) fields[f] = (fields[f] ?? 0) + 1;
  }
  return fields;
}

describe('an engine restored mid-stream from what the live correlator stores', () => {
  it.each([
    { name: 'busy', stream: storms.busy, expired: 0 },
    { name: 'long', stream: storms.long, expired: 1 },
    { name: 'noisy', stream: storms.noisy, expired: 0 },
    { name: 'merging', stream: storms.merging, expired: 0 },
  ])(
    'decides every later alert and incident as the engine that never stopped ($name storm, at every tenth)',
    async ({ stream, expired }) => {
      const uninterrupted = await stored(stream, []);
      const alerts = [...uninterrupted.alerts.values()].map((row) => row.view);
      // The stream has what a restore must carry over: attaches, flaps, expiries.
      expect(alerts.filter((a) => a.explanation.decision === 'attach').length).toBeGreaterThan(20);
      expect(alerts.filter((a) => a.changes >= 4).length).toBeGreaterThan(0);
      expect(alerts.filter((a) => a.expired).length).toBeGreaterThanOrEqual(expired);
      const cuts = cutsOf(stream);
      await expectRestoredAlike(stream, cuts, uninterrupted);
      // A restored engine restored again.
      const twice = await stored(stream, [cuts[2]!, cuts[6]!]);
      expect(twice.decisions()).toEqual(uninterrupted.decisions());
    },
    60_000,
  );

  it('fills incidents to their size limit as the engine that never stopped', async () => {
    const config = { maxIncidentAlerts: 4 };
    const uninterrupted = await stored(storms.busy, [], { config });
    const sizes = new Map<string, number>();
    for (const row of uninterrupted.alerts.values())
      sizes.set(row.incident, (sizes.get(row.incident) ?? 0) + 1);
    expect(Math.max(...sizes.values())).toBe(4);
    await expectRestoredAlike(storms.busy, cutsOf(storms.busy), uninterrupted, { config });
  }, 60_000);

  it('places alerts the CMDB cannot place by text and time as the engine that never stopped', async () => {
    // Tier B's CMDB: a fifth of the edges missing, so some CIs have none left.
    const degraded = degradeCmdb(stormEstate, defaultDegrade);
    const stream = storms.dense;
    const uninterrupted = await stored(stream, [], { cmdb: degraded });
    const alerts = [...uninterrupted.alerts.values()].map((row) => row.view);
    expect(alerts.filter((a) => a.explanation.basis === 'text-time').length).toBeGreaterThanOrEqual(
      1,
    );
    await expectRestoredAlike(
      stream,
      cutsOf(stream).filter((_, i) => i % 2 === 0),
      uninterrupted,
      { cmdb: degraded },
    );
  }, 60_000);

  it.each([
    { setting: 'textAloneAttaches', config: { textAloneAttaches: true } },
    { setting: 'textTimeAttaches unmatched', config: { textTimeAttaches: 'unmatched' as const } },
  ])(
    'finds text-similar incidents as the engine that never stopped, merged ones too ($setting)',
    async ({ config }) => {
      const degraded = degradeCmdb(stormEstate, defaultDegrade);
      const stream = storms.dense;
      const options = { cmdb: degraded, config };
      const uninterrupted = await stored(stream, [], options);
      const alerts = [...uninterrupted.alerts.values()].map((row) => row.view);
      // Merges leave an incident with the lookups of the ones it absorbed, which a restore
      // rebuilds as one (the incident its alerts ended up in).
      expect(alerts.filter((a) => a.explanation.decision === 'merge').length).toBeGreaterThan(0);
      await expectRestoredAlike(stream, cutsOf(stream), uninterrupted, options);
    },
    60_000,
  );

  it('decides differently without the text statistics or the incidents resolved recently', async () => {
    // What each part is worth on the busy stream: leave it out and later decisions change.
    const stream = storms.busy;
    const uninterrupted = await stored(stream, []);
    const without = async (parts: Partial<RestoreParts>) => {
      const total: Record<string, number> = {};
      for (const cut of cutsOf(stream)) {
        const other = await stored(stream, [cut], { parts: { ...faithful, ...parts } });
        for (const [field, n] of Object.entries(differences(uninterrupted, other)))
          total[field] = (total[field] ?? 0) + n;
      }
      return total;
    };
    const noTexts = await without({ templates: false });
    expect(noTexts.text).toBeGreaterThan(0);
    expect(noTexts.score).toBeGreaterThan(0);
    const openOnly = await without({ horizon: 'open-only' });
    expect(openOnly.incident).toBeGreaterThan(0);
  }, 60_000);

  it('weighs chance in a noisy estate as the engine that never stopped, from the explanations', async () => {
    // The restored engine decides the noisy stream as the one that never stopped (above); this
    // is what the stream exercises there, and what the explanations carry over.
    const stream = storms.noisy;
    const uninterrupted = await stored(stream, []);
    const explanations = [...uninterrupted.alerts.values()].map((row) => row.view.explanation);
    // The stream exercises the correction: many candidates were likely coincidences.
    expect(explanations.filter((e) => e.chance >= 0.3).length).toBeGreaterThan(20);
    // The openers are known by their explanations: without them the background is lost.
    const cut = cutsOf(stream)[4]!;
    const blind = await stored(stream, [cut], { parts: { ...faithful, explanations: false } });
    expect(differences(uninterrupted, blind).chance).toBeGreaterThan(0);
  }, 60_000);

  /** A firing or resolved delivery of one interface alert on db-ledger, `seconds` into the stream. */
  const flapDelivery = (
    status: 'firing' | 'resolved',
    seconds: number,
    seq: number,
  ): EngineDelivery => ({
    seq,
    deliveredAt: at(seconds + 5),
    alert: alert('f-db', 'db-ledger', 'Interface eth0 down on db-ledger', seconds, {
      status,
      ...(status === 'resolved' ? { endsAt: at(seconds) } : {}),
    }),
  });

  it('keeps an alert flapping across a restore: its change times are stored', async () => {
    const flap = (status: 'firing' | 'resolved', seconds: number) =>
      flapDelivery(status, seconds, seconds / 60);
    // Three changes before the restore, the fourth within the flap window after it.
    const stream = [
      flap('firing', 0),
      flap('resolved', 60),
      flap('firing', 120),
      flap('resolved', 180),
      flap('firing', 240),
    ];
    const options = { cmdb, batch: 1 };
    const uninterrupted = await stored(stream, [], options);
    expect(uninterrupted.alerts.get('f-db/1')?.view).toMatchObject({ flapping: true, changes: 4 });
    expect((await stored(stream, [4], options)).decisions()).toEqual(uninterrupted.decisions());
    const forgetful = await stored(stream, [4], {
      ...options,
      parts: { ...faithful, flapHistory: false },
    });
    expect(forgetful.alerts.get('f-db/1')?.view).toMatchObject({ flapping: false, changes: 4 });
  });

  it('lets a flapping episode that a new one replaced cool down, restored or not', async () => {
    const flap = (status: 'firing' | 'resolved', seconds: number) =>
      flapDelivery(status, seconds, 0);
    const stream = [
      // Five changes: flapping, resolved at 300 s.
      flap('firing', 0),
      flap('resolved', 60),
      flap('firing', 120),
      flap('resolved', 180),
      flap('firing', 240),
      flap('resolved', 300),
      // Past the refire grace (15 min), within the flap window (30 min): a new episode.
      flap('firing', 300 + 16 * 60),
      // Event time (less the allowed lateness, 5 min) passes the first episode's flap window.
      {
        seq: 0,
        deliveredAt: at(300 + 40 * 60 + 5),
        alert: alert('f-far', 'cache-far', 'Disk full on cache-far', 300 + 40 * 60),
      },
    ].map((d, seq) => ({ ...d, seq }));
    const options = { cmdb, batch: 1 };
    const uninterrupted = await stored(stream, [], options);
    expect(uninterrupted.alerts.get('f-db/2')?.view).toMatchObject({ firing: true });
    // Quiet for a flap window after it resolved, the replaced episode stops flapping.
    expect(uninterrupted.alerts.get('f-db/1')?.view).toMatchObject({
      firing: false,
      flapping: false,
      changes: 5,
    });
    // Its incident, with nothing else firing or flapping, resolves instead of staying open.
    expect(uninterrupted.incidents.get('I1')?.state).toBe('resolving');
    await expectRestoredAlike(stream, [6, 7], uninterrupted, options);
  });

  it('leaves a flapping alert firing on a late resolve of its earlier firing, restored or not', async () => {
    const stream = timeline([
      { deliveredAfter: 5, alert: ledgerDown(0) },
      { deliveredAfter: 65, alert: ledgerDown(0, 60) },
      // Within the refire grace: the same alert, its current firing from 120 s.
      { deliveredAfter: 125, alert: ledgerDown(120) },
      // The first firing's resolve again, late: only the stored change times tell it is earlier.
      { deliveredAfter: 150, alert: ledgerDown(0, 60) },
      { deliveredAfter: 725, alert: ledgerDown(120, 720) },
    ]);
    const options = { cmdb, batch: 1 };
    const uninterrupted = await stored(stream, [], options);
    const row = uninterrupted.alerts.get('f-db/1')!;
    expect(uninterrupted.alerts.size).toBe(1);
    expect(row.view).toMatchObject({ firing: false, changes: 3, deliveries: 5 });
    expect(row.view.explanation.ignoredLateResolves).toBe(1);
    expect(row.resolvedAt).toBe(Date.parse(at(720)));
    await expectRestoredAlike(stream, [1, 2, 3, 4], uninterrupted, options);
  });

  it('leaves a flapped alert resolved on a late re-send of its ended firing, restored or not', async () => {
    const stream = timeline([
      { deliveredAfter: 5, alert: ledgerDown(0) },
      { deliveredAfter: 65, alert: ledgerDown(0, 60) },
      // Within the refire grace: the same alert, keeping its first startsAt.
      { deliveredAfter: 125, alert: ledgerDown(120) },
      { deliveredAfter: 405, alert: ledgerDown(120, 400) },
      // The second firing again, late: only the stored resolve time tells it has ended.
      { deliveredAfter: 450, alert: ledgerDown(120) },
      // A real refire, after the resolve.
      { deliveredAfter: 505, alert: ledgerDown(500) },
      { deliveredAfter: 725, alert: ledgerDown(500, 720) },
    ]);
    const options = { cmdb, batch: 1 };
    const uninterrupted = await stored(stream, [], options);
    const row = uninterrupted.alerts.get('f-db/1')!;
    expect(uninterrupted.alerts.size).toBe(1);
    expect(row.view).toMatchObject({ firing: false, changes: 5, deliveries: 7 });
    expect(row.view.explanation.ignoredLateResends).toBe(1);
    expect(row.resolvedAt).toBe(Date.parse(at(720)));
    await expectRestoredAlike(stream, [1, 2, 3, 4, 5, 6], uninterrupted, options);
  });

  it('reopens an incident resolved just before a restore, in a stream of past event times', async () => {
    const stream = timeline([
      { deliveredAfter: 5, alert: alert('f-db', 'db-ledger', 'Database db-ledger down', 0) },
      {
        deliveredAfter: 65,
        alert: alert('f-db', 'db-ledger', 'Database db-ledger down', 0, {
          status: 'resolved',
          endsAt: at(60),
        }),
      },
      // Far away and later: event time passes the incident's resolve grace (60 s + 5 min).
      { deliveredAfter: 705, alert: alert('f-far', 'cache-far', 'Disk full on cache-far', 700) },
      // Within the refire grace of its resolution: the same alert flaps, its incident reopens.
      { deliveredAfter: 905, alert: alert('f-db', 'db-ledger', 'Database db-ledger down', 900) },
    ]);
    const options = { cmdb, batch: 1 };
    const uninterrupted = await stored(stream, [], options);
    expect(uninterrupted.incidents.get('I1')).toMatchObject({ state: 'open', reopened: 1 });
    expect(uninterrupted.alerts.size).toBe(2);
    const restored = await stored(stream, [3], options);
    expect(restored.incidents).toEqual(uninterrupted.incidents);
    expect(restored.decisions()).toEqual(uninterrupted.decisions());
    // Restoring only open incidents (what a wall-clock cut-off gave a past stream): a new episode.
    const openOnly = await stored(stream, [3], {
      ...options,
      parts: { ...faithful, horizon: 'open-only' },
    });
    expect(openOnly.alerts.size).toBe(3);
  });
});
