import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binomialTail,
  combinedChance,
  jointChance,
  mineProblems,
  poissonTail,
  repeatJointChance,
  scheduleChance,
  trendOf,
  type ProblemEvidence,
} from '../../correlator/problems.ts';
import { createPool, type Pool } from '../../services/store/db.ts';
import { defaultPriorityMatrix } from '../../services/store/workflows.ts';
import {
  eventually,
  jsonRequest,
  personToken,
  startTestTocsin,
  type TestTocsin,
} from '../support/tocsin.ts';

const DAY = 24 * 60 * 60 * 1000;
const settings = { lookbackDays: 30, minIncidents: 3, priorityMatrix: defaultPriorityMatrix };

let tocsin: TestTocsin;
let pool: Pool;
let pm: string;
beforeAll(async () => {
  // The services role only: no scheduler mines behind the tests' backs.
  tocsin = await startTestTocsin({ roles: ['services'] });
  pool = createPool(tocsin.config.databaseUrl, 4);
  pm = await personToken(tocsin, 'pam', ['problem_manager']);
});
afterAll(async () => {
  await pool.end();
  await tocsin.destroy();
});

// Each test mines its own stretch of time (a clock of its own, 100 days from the others'), so the
// look-backs never overlap and every test sees only its own incidents.
let slices = 0;
const sliceClock = () => new Date(Date.UTC(2024, 0, 1) + ++slices * 100 * DAY);

type Inc = { id: string; number: string };

/** An incident as the correlator leaves it: root-cause CI and dominant template set. */
async function incident(
  ci: string,
  template: string,
  openedAt: Date,
  extra: { state?: string; mergedInto?: string; alerts?: number } = {},
): Promise<Inc> {
  const { rows } = await pool.query<Inc>(
    `INSERT INTO incidents (title, severity, priority, opened_at, last_alert_at, cis, root_cause_ci,
       template, signature, state, merged_into, alert_count)
     VALUES ($1, 'major', 3, $2, $2, ARRAY[$3], $3, $4, $5, $6, $7, $8) RETURNING id, number`,
    [
      template.replaceAll('<ci>', ci),
      openedAt.toISOString(),
      ci,
      template,
      `${ci}|${template}`,
      extra.state ?? 'resolved',
      extra.mergedInto ?? null,
      extra.alerts ?? 1,
    ],
  );
  return rows[0]!;
}

/** Alerts of an incident on one CI, with these templates (as the correlator stores them). */
async function alerts(incidentId: string, ci: string, templates: string[]): Promise<void> {
  await pool.query(
    `INSERT INTO alerts (fingerprint, incident_id, ci, title, template, severity, status, source,
       starts_at, first_received_at, last_received_at)
     SELECT 'fp-' || $1 || '-' || n, $1::bigint, $2, t, t, 'major', 'resolved', 'test', now(), now(), now()
     FROM unnest($3::text[]) WITH ORDINALITY AS x(t, n)`,
    [incidentId, ci, templates],
  );
}

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY);

/** CIs `<prefix>-1` … `<prefix>-<n>` of one class in the CMDB: the peers of each other. */
async function fleet(ciClass: string, prefix: string, n: number): Promise<void> {
  await pool.query(
    `INSERT INTO configuration_items (name, class)
     SELECT $1 || '-' || g, $2 FROM generate_series(1, $3::int) g`,
    [prefix, ciClass, n],
  );
}

/** `source` relates to each of `targets` in the CMDB (`type`, e.g. contains, runs_on). */
async function relate(source: string, type: string, targets: string[]): Promise<void> {
  await pool.query(
    `INSERT INTO configuration_items (name, class) VALUES ($1, 'application')
     ON CONFLICT (name) DO NOTHING`,
    [source],
  );
  await pool.query(
    `INSERT INTO ci_relationships (source_id, target_id, type)
     SELECT s.id, t.id, $2 FROM configuration_items s, configuration_items t
     WHERE s.name = $1 AND t.name = ANY($3::text[])`,
    [source, type, targets],
  );
}

type ProblemRow = {
  id: string;
  number: string;
  title: string;
  state: string;
  signature: string;
  evidence: ProblemEvidence;
  priority: number;
  primary_ci: string | null;
  cis: string[];
  created_by: string;
};

async function problemsLike(pattern: string): Promise<ProblemRow[]> {
  const { rows } = await pool.query<ProblemRow>(
    `SELECT id, number, title, state, signature, evidence, priority, primary_ci, cis, created_by
     FROM problems WHERE signature LIKE $1 ORDER BY id`,
    [pattern],
  );
  return rows;
}

/**
 * Mining proposed one pattern, of this signature: its problem, whose evidence lists exactly these
 * incidents and a chance below the 5% level (the tests check the rest of its evidence).
 */
async function proposedAlone(
  result: Awaited<ReturnType<typeof mineProblems>>,
  signature: string,
  ids: readonly string[],
): Promise<ProblemRow> {
  expect(result.patterns.map((p) => [p.signature, p.outcome])).toEqual([[signature, 'proposed']]);
  const [problem] = await problemsLike(`${signature.slice(0, signature.indexOf('|'))}|%`);
  expect(problem!.evidence.chance).toBeLessThan(0.05);
  expect(problem!.evidence.incidents.map((i) => i.id).sort()).toEqual([...ids].sort());
  return problem!;
}

async function problemOfIncidents(ids: string[]): Promise<(string | null)[]> {
  const { rows } = await pool.query<{ problem_id: string | null }>(
    'SELECT problem_id FROM incidents WHERE id = ANY($1::bigint[]) ORDER BY id',
    [ids],
  );
  return rows.map((r) => r.problem_id);
}

const act = (id: string, action: string, body: unknown = {}) =>
  tocsin.request(`/api/v1/problems/${id}/transitions/${action}`, jsonRequest(body, pm));

const DISK = 'disk <num>% full on <ci>';
const EVICTING = 'evicting keys: memory <pct> of maxmemory on <ci>';
const CPU = 'cpu usage <pct> on <ci>';
// The same failure in another monitoring tool's words (similarity 0.82 to CPU).
const CPU_SECOND_TOOL = 'high cpu usage <pct> on <ci>';

describe('mining recurring incidents', () => {
  it('proposes a candidate for N incidents with the same CI and template, with its evidence', async () => {
    const now = sliceClock();
    const opened = [25, 12, 9, 5, 2].map((d) => daysBefore(now, d));
    const incidents = [];
    for (const at of opened) incidents.push(await incident('db-ledger', DISK, at));
    // Outside the look-back: not counted.
    await incident('db-ledger', DISK, daysBefore(now, 45));

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns).toHaveLength(1);
    expect(result.patterns[0]).toMatchObject({ outcome: 'proposed', kind: 'ci', count: 5 });
    const [problem, ...others] = await problemsLike('ci:db-ledger|%');
    expect(others).toEqual([]);
    expect(problem).toMatchObject({
      state: 'candidate',
      signature: `ci:db-ledger|${DISK}`,
      title: 'Recurring: disk <num>% full on db-ledger (5 incidents in 30 days)',
      priority: 4,
      primary_ci: 'db-ledger',
      cis: ['db-ledger'],
      created_by: 'correlator',
    });
    const evidence = problem!.evidence;
    expect(evidence).toMatchObject({
      kind: 'ci',
      scope: 'ci:db-ledger',
      ci: 'db-ledger',
      class: null,
      template: DISK,
      templates: [DISK],
      count: 5,
      inLookback: 5,
      firstAt: opened[0]!.toISOString(),
      lastAt: opened[4]!.toISOString(),
      perWeek: 1.17,
      lookbackDays: 30,
      trend: { direction: 'rising', earlier: 1, later: 4 },
    });
    expect(evidence.incidents.map((i) => [i.id, i.number])).toEqual(
      incidents.map((i) => [i.id, i.number]),
    );
    // Proposing links nothing: only accepting does.
    expect(await problemOfIncidents(incidents.map((i) => i.id))).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    // The API serves it as a candidate with its two actions.
    const served = (await (await tocsin.request(`/api/v1/problems/${problem!.id}`)).json()) as {
      state: string;
      allowedActions: string[];
    };
    expect(served).toMatchObject({ state: 'candidate', allowedActions: ['accept', 'reject'] });
  });

  it('proposes nothing for N-1 incidents', async () => {
    const now = sliceClock();
    await incident('db-quiet', DISK, daysBefore(now, 20));
    await incident('db-quiet', DISK, daysBefore(now, 3));
    // Three incidents, but of different failures: no pattern either.
    await incident('db-quiet', 'replication lag <duration> on <ci>', daysBefore(now, 2));

    const result = await mineProblems(pool, settings, now);

    expect(result.incidentsRead).toBe(3);
    expect(result.patterns).toEqual([]);
    expect(await problemsLike('%db-quiet%')).toEqual([]);
  });

  it("groups two tools' wordings of the same failure on one CI, and not another failure", async () => {
    const now = sliceClock();
    const prometheus = 'disk <pct> full on <ci>';
    const zabbix = 'disk usage on <ci> is <pct> full';
    const cpu = 'high cpu load <pct> on <ci>';
    const ids = [
      (await incident('db-orders', zabbix, daysBefore(now, 28))).id,
      (await incident('db-orders', prometheus, daysBefore(now, 20))).id,
      (await incident('db-orders', zabbix, daysBefore(now, 10))).id,
      (await incident('db-orders', prometheus, daysBefore(now, 4))).id,
    ];
    await incident('db-orders', cpu, daysBefore(now, 6));
    await incident('db-orders', cpu, daysBefore(now, 3));

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns).toHaveLength(1);
    const [problem, ...others] = await problemsLike('ci:db-orders|%');
    expect(others).toEqual([]);
    // Two incidents each: the wording seen first names the pattern.
    expect(problem!.signature).toBe(`ci:db-orders|${zabbix}`);
    expect(problem!.evidence.templates).toEqual([prometheus, zabbix].sort());
    expect(problem!.evidence.count).toBe(4);
    expect(problem!.evidence.incidents.map((i) => i.id)).toEqual(ids);
    expect(problem!.evidence.trend).toMatchObject({ direction: 'steady', earlier: 2, later: 2 });
  });

  it('groups incidents whose loudest symptom differed when the other symptom alerted too', async () => {
    const now = sliceClock();
    const threads = 'thread pool exhausted on <ci> <num> requests rejected';
    const latency = 'p99 latency high on <ci>';
    const disk = 'disk <pct> full on <ci>';
    const ids = [
      (await incident('api-quote', threads, daysBefore(now, 21))).id,
      (await incident('api-quote', latency, daysBefore(now, 14))).id,
      (await incident('api-quote', threads, daysBefore(now, 7))).id,
    ];
    await alerts(ids[0]!, 'api-quote', [threads, latency]);
    await alerts(ids[1]!, 'api-quote', [latency, latency, threads]);
    await alerts(ids[2]!, 'api-quote', [threads]);
    // Another failure whose alerts say nothing of the others: not part of it.
    const other = await incident('api-quote', disk, daysBefore(now, 3));
    await alerts(other.id, 'api-quote', [disk, disk]);

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns.map((p) => [p.signature, p.count])).toEqual([
      [`ci:api-quote|${threads}`, 3],
    ]);
    const [problem] = await problemsLike('ci:api-quote|%');
    expect(problem!.evidence.templates).toEqual([latency, threads].sort());
    expect(problem!.evidence.incidents.map((i) => i.id)).toEqual(ids);
  });

  it('does not make a class problem of a fleet of one-off failures', async () => {
    const now = sliceClock();
    await fleet('app_instance', 'web-fleet', 40);
    const errors = 'error rate above threshold on <ci>';
    // One incident on each of 30 of the 40 CIs: the class fails this way, no CI recurs.
    for (let n = 1; n <= 30; n++)
      await incident(`web-fleet-${n}`, errors, daysBefore(now, (n * 29) / 30));

    const result = await mineProblems(pool, settings, now);

    expect(result.incidentsRead).toBe(30);
    expect(result.patterns).toEqual([]);
    expect(await problemsLike('%web%')).toEqual([]);
  });

  it('proposes a CI failing the same way repeatedly, amid the one-offs of its class', async () => {
    const now = sliceClock();
    await fleet('container', 'api-fleet', 40);
    const errors = 'error rate above threshold on <ci>';
    for (let n = 1; n <= 30; n++)
      await incident(`api-fleet-${n}`, errors, daysBefore(now, (n * 29) / 30));
    const ids = [];
    for (const d of [26, 19, 12, 6, 2])
      ids.push((await incident('api-fleet-7', errors, daysBefore(now, d + 0.5))).id);

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns.map((p) => [p.kind, p.signature, p.outcome])).toEqual([
      ['ci', `ci:api-fleet-7|${errors}`, 'proposed'],
    ]);
    const [problem] = await problemsLike('ci:api-fleet-7|%');
    // Its own one-off among the 30 is the same failure too: six occurrences.
    expect(problem!.evidence).toMatchObject({ kind: 'ci', count: 6, occurrences: 6, peers: 40 });
    expect(problem!.evidence.chance).toBeLessThan(0.05);
    expect(problem!.evidence.incidents.map((i) => i.id)).toEqual(expect.arrayContaining(ids));
    expect(await problemsLike('class:%')).toEqual([]);
  });

  it('does not propose a CI whose count is common for its class', async () => {
    const now = sliceClock();
    await fleet('server', 'batch-fleet', 10);
    const slow = 'job <quoted> slower than usual on <ci>';
    // Three each on every CI of the class: the class's normal, not one CI's problem.
    for (let n = 1; n <= 10; n++)
      for (const d of [24, 14, 4])
        await incident(`batch-fleet-${n}`, slow, daysBefore(now, d + n / 20));

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns.filter((p) => p.kind === 'ci')).toEqual([]);
  });

  /** Two lone alerts' incidents on each of 30 of 40 VMs: the class's background of this wording. */
  async function loneCpuAlerts(prefix: string, now: Date) {
    for (let n = 1; n <= 30; n++)
      for (const d of [20, 8]) await incident(`${prefix}-${n}`, CPU, daysBefore(now, d + n / 40));
  }

  it('proposes a CI whose failures several alerts reported, though lone alerts saying so are common', async () => {
    const now = sliceClock();
    await fleet('virtual_machine', 'cpu-fleet', 40);
    await loneCpuAlerts('cpu-fleet', now);
    const ids = [];
    for (const d of [24, 13, 3])
      ids.push((await incident('cpu-fleet-33', CPU, daysBefore(now, d), { alerts: 3 })).id);

    const result = await mineProblems(pool, settings, now);

    // Three lone alerts on it would be the class's normal (63 like occurrences on 40 VMs); three
    // failures that several alerts reported are not: no other VM had one.
    const problem = await proposedAlone(result, `ci:cpu-fleet-33|${CPU}`, ids);
    expect(problem.evidence).toMatchObject({ count: 3, occurrences: 3, corroborated: 3 });
  });

  it('counts a failure whose alerts the correlator split into incidents minutes apart as corroborated', async () => {
    const now = sliceClock();
    await fleet('virtual_machine', 'cpu-split', 40);
    await loneCpuAlerts('cpu-split', now);
    // Three failures at three different times of day, each a lone alert's incident and, three
    // minutes later, another's in a second tool's words: one occurrence each, reported twice.
    const ids = [];
    for (const d of [24, 13.3, 3.7])
      for (const [minutes, template] of [
        [0, CPU],
        [3, CPU_SECOND_TOOL],
      ] as const)
        ids.push(
          (await incident('cpu-split-33', template, daysBefore(now, d - minutes / (24 * 60)))).id,
        );

    const result = await mineProblems(pool, settings, now);

    // Counted incident by incident none is corroborated, and three lone occurrences are the
    // class's normal (as three lone alerts are, below): nothing would be proposed.
    const problem = await proposedAlone(result, `ci:cpu-split-33|${CPU}`, ids);
    expect(problem.evidence).toMatchObject({ count: 6, occurrences: 3, corroborated: 3 });
  });

  it('does not count an alert firing again in a new incident, in the same words, as a second report', async () => {
    const now = sliceClock();
    await fleet('virtual_machine', 'cpu-refire', 40);
    await loneCpuAlerts('cpu-refire', now);
    for (const d of [24, 13.3, 3.7])
      for (const minutes of [0, 30])
        await incident('cpu-refire-33', CPU, daysBefore(now, d - minutes / (24 * 60)));

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns).toEqual([]);
  });

  it('proposes a CI with somewhat more lone and somewhat more corroborated failures than its peers, neither enough alone', async () => {
    const now = sliceClock();
    // A class of its own in this file: its 40 CIs are the peers.
    await fleet('host', 'cpu-mix', 40);
    // Three lone alerts on each of 30 VMs (at different times of day), one failure several alerts
    // reported on each of 8 others.
    for (let n = 1; n <= 30; n++)
      for (const [j, d] of [25, 16, 7].entries())
        await incident(`cpu-mix-${n}`, CPU, daysBefore(now, d + n / 40 + j * 0.3));
    for (let n = 31; n <= 38; n++)
      await incident(`cpu-mix-${n}`, CPU, daysBefore(now, 20 + n / 40), { alerts: 2 });
    // Five lone and three corroborated on one VM, at eight different times of day.
    const ids = [];
    for (const [h, d] of [27, 24, 21, 18, 15, 12, 9, 6].entries())
      ids.push(
        (
          await incident('cpu-mix-40', CPU, daysBefore(now, d + (h * 3) / 24), {
            alerts: h < 3 ? 3 : 1,
          })
        ).id,
      );

    const result = await mineProblems(pool, settings, now);

    const problem = await proposedAlone(result, `ci:cpu-mix-40|${CPU}`, ids);
    // 8 occurrences where the class has 2.65 a VM: about 0.2 VMs of 40 by chance; 3 corroborated
    // where it has 0.28: about 0.09; both together: about 0.03.
    expect(problem.evidence).toMatchObject({
      occurrences: 8,
      corroborated: 3,
      schedule: null,
      test: 'lone and corroborated',
    });
    expect(problem.evidence.chance).toBeGreaterThan(0.01);
  });

  it('does not propose a CI for three lone alerts where lone alerts saying so are common', async () => {
    const now = sliceClock();
    await fleet('virtual_machine', 'cpu-lone', 40);
    await loneCpuAlerts('cpu-lone', now);
    // At three different times of day (00:00, 16:48, 07:12): nothing lines up either.
    for (const d of [24, 13.3, 3.7]) await incident('cpu-lone-33', CPU, daysBefore(now, d));

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns).toEqual([]);
  });

  it('proposes a CI whose lone alerts begin at about the same time of day, though lone alerts saying so are common', async () => {
    const now = sliceClock();
    await fleet('virtual_machine', 'cpu-nightly', 40);
    await loneCpuAlerts('cpu-nightly', now);
    // 02:05, 01:50 and 02:20 on three days: the class's other occurrences are spread over the day.
    const ids = [];
    for (const [d, minutes] of [
      [24, 125],
      [13, 110],
      [3, 140],
    ] as const)
      ids.push(
        (await incident('cpu-nightly-33', CPU, daysBefore(now, d - minutes / (24 * 60)))).id,
      );

    const result = await mineProblems(pool, settings, now);

    const problem = await proposedAlone(result, `ci:cpu-nightly-33|${CPU}`, ids);
    expect(problem.evidence).toMatchObject({
      count: 3,
      corroborated: 0,
      schedule: { at: '02:05', days: 3, windowMinutes: 30 },
    });
    expect(problem.evidence.schedule!.chance).toBeLessThan(0.05);
    expect(problem.evidence.chance).toBe(problem.evidence.schedule!.chance);
    expect(problem.evidence.test).toBe('schedule');
    // Weighed with its count too, which is the class's normal: no help here.
    expect(problem.evidence.schedule!.withCount).toBeGreaterThan(problem.evidence.chance!);
  });

  it('proposes a CI whose failures, often corroborated, begin at about the same time of day, neither its counts nor its schedule enough alone', async () => {
    const now = sliceClock();
    await fleet('host', 'cpu-sched', 40);
    // Three lone alerts on each of 30 hosts, at different times of day: 30 hosts could have lined
    // up three days as well. One failure several alerts reported on each of 3 others.
    for (let n = 1; n <= 30; n++)
      for (let j = 0; j < 3; j++)
        await incident(
          `cpu-sched-${n}`,
          CPU,
          daysBefore(now, 25 - j * 9 + (n * 0.61 + j * 5) / 24),
        );
    for (let n = 31; n <= 33; n++)
      await incident(`cpu-sched-${n}`, CPU, daysBefore(now, 20 + n / 40), { alerts: 2 });
    // Three on one host, at about 21:55 a week apart, two of them reported by several alerts.
    const ids = [];
    for (let j = 0; j < 3; j++)
      ids.push(
        (
          await incident('cpu-sched-40', CPU, daysBefore(now, 24 - j * 7 + (125 - j * 10) / 1440), {
            alerts: j < 2 ? 2 : 1,
          })
        ).id,
      );

    const result = await mineProblems(pool, settings, now);

    const problem = await proposedAlone(result, `ci:cpu-sched-40|${CPU}`, ids);
    expect(problem.evidence).toMatchObject({
      occurrences: 3,
      corroborated: 2,
      schedule: { at: '21:55', days: 3 },
      test: 'counts and schedule',
    });
    // The schedule alone: about 0.16 of the 31 hosts with three occurrences would line up so.
    // Its own chance with that of the lone and corroborated counts: about 0.02. (With the total
    // count alone, the class's normal, about 0.67; the corroborated count alone about 0.24.)
    expect(problem.evidence.schedule!.chance).toBeGreaterThan(0.1);
    expect(problem.evidence.chance).toBe(problem.evidence.schedule!.withCount);
  });

  it('does not propose lone alerts at the time of day when the whole class has them', async () => {
    const now = sliceClock();
    await fleet('virtual_machine', 'cpu-backup', 40);
    // A nightly job on every VM: two lone alerts each on 30 of them, all at about 02:00.
    for (let n = 1; n <= 30; n++)
      for (const d of [20, 8])
        await incident(`cpu-backup-${n}`, CPU, daysBefore(now, d - (120 + n) / (24 * 60)));
    for (const d of [24, 13, 3])
      await incident('cpu-backup-33', CPU, daysBefore(now, d - 125 / (24 * 60)));

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns).toEqual([]);
  });

  it('does not propose corroborated failures that every CI of the class has as often', async () => {
    const now = sliceClock();
    await fleet('virtual_machine', 'cpu-busy', 10);
    for (let n = 1; n <= 10; n++)
      for (const d of [24, 14, 4])
        await incident(`cpu-busy-${n}`, CPU, daysBefore(now, d + n / 20), { alerts: 2 });

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns.filter((p) => p.kind === 'ci')).toEqual([]);
  });

  /** Caches 1–4 of twenty evict keys four times each; four others once: the class's background. */
  async function evictions(prefix: string, now: Date) {
    const ids: string[] = [];
    for (const [n, days] of [
      [1, [27, 18, 8, 2]],
      [2, [25, 12, 3, 16]],
      [3, [22, 15, 1, 6]],
      [4, [20, 10, 5, 26]],
    ] as const)
      for (const d of days)
        ids.push((await incident(`${prefix}-${n}`, EVICTING, daysBefore(now, d))).id);
    const oneOffs: string[] = [];
    for (const n of [9, 11, 13, 15])
      oneOffs.push((await incident(`${prefix}-${n}`, EVICTING, daysBefore(now, n))).id);
    return { ids, oneOffs };
  }

  it('proposes a class pattern where CIs sharing a CI in the CMDB each recur, and not the one-offs', async () => {
    const now = sliceClock();
    await fleet('cache', 'cache', 20);
    // Caches 1–5 serve one application; 9 and 11 another (not a common cause of 1–4).
    await relate('checkout', 'uses', ['cache-1', 'cache-2', 'cache-3', 'cache-4', 'cache-5']);
    await relate('search', 'uses', ['cache-9', 'cache-11']);
    const { ids, oneOffs } = await evictions('cache', now);

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns.map((p) => [p.kind, p.signature, p.outcome])).toEqual([
      ['class', `class:cache@checkout|${EVICTING}`, 'proposed'],
    ]);
    const [problem] = await problemsLike('class:cache@checkout|%');
    expect(problem).toMatchObject({
      title: `Recurring on 4 cache CIs sharing checkout: ${EVICTING} (16 incidents in 30 days)`,
      cis: ['cache-1', 'cache-2', 'cache-3', 'cache-4'],
      primary_ci: null,
    });
    expect(problem!.evidence).toMatchObject({
      kind: 'class',
      class: 'cache',
      anchor: 'checkout',
      ci: null,
      count: 16,
      occurrences: 16,
      peers: 5,
      cis: ['cache-1', 'cache-2', 'cache-3', 'cache-4'],
    });
    expect(problem!.evidence.chance).toBeLessThan(0.05);
    expect(problem!.evidence.incidents.map((i) => i.id).sort()).toEqual([...ids].sort());
    for (const id of oneOffs)
      expect(problem!.evidence.incidents.map((i) => i.id)).not.toContain(id);
    expect(await problemsLike('ci:cache-%')).toEqual([]);
  });

  it('makes no class pattern of CIs that share nothing in the CMDB, however alike their failure', async () => {
    const now = sliceClock();
    await fleet('cache', 'lonely', 20);
    await evictions('lonely', now);

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns).toEqual([]);
  });

  it('makes no class pattern where the CIs sharing a CI are all that had the failure', async () => {
    const now = sliceClock();
    await fleet('cache', 'own', 20);
    // Only own-app's caches ever say it: nothing to weigh their count against (a wording of
    // theirs alone), so no evidence that they fail more than CIs that can say it do.
    await relate('own-app', 'uses', ['own-1', 'own-2', 'own-3', 'own-4']);
    for (const n of [1, 2, 3, 4])
      for (const d of [27 - n, 20 - n, 13 - n, 7 - n])
        await incident(`own-${n}`, EVICTING, daysBefore(now, d));

    const result = await mineProblems(pool, settings, now);

    expect(result.patterns).toEqual([]);
  });

  it('counts incidents opened within the quiet gap of the one before as one occurrence', async () => {
    const now = sliceClock();
    const template = 'replication lag <duration> on <ci>';
    // One long failure the correlator split in three, then once more: two occurrences.
    const start = daysBefore(now, 10).getTime();
    for (const minutes of [0, 40, 95])
      await incident('db-split', template, new Date(start + minutes * 60_000));
    await incident('db-split', template, daysBefore(now, 2));
    expect((await mineProblems(pool, settings, now)).patterns).toEqual([]);

    await incident('db-split', template, daysBefore(now, 1));
    const result = await mineProblems(pool, settings, new Date(now.getTime() + 1000));
    expect(result.patterns.map((p) => [p.outcome, p.count])).toEqual([['proposed', 5]]);
    const [problem] = await problemsLike('ci:db-split|%');
    expect(problem!.evidence).toMatchObject({ count: 5, occurrences: 3 });
  });

  it('does not mine an incident whose root-cause CI did not alert itself', async () => {
    const now = sliceClock();
    const template = 'host <ci> unreachable';
    for (const d of [20, 12, 4]) {
      const { id } = await incident('sw-silent', template, daysBefore(now, d));
      await pool.query(`UPDATE incidents SET cis = ARRAY['host-a', 'host-b'] WHERE id = $1`, [id]);
    }
    const result = await mineProblems(pool, settings, now);
    expect(result.incidentsRead).toBe(0);
    expect(result.patterns).toEqual([]);
  });

  it('proposes nothing new when run twice, and adds new incidents to the candidate', async () => {
    const now = sliceClock();
    const template = 'queue <quoted> backlog <num> messages on <ci>';
    for (const d of [20, 14, 6]) await incident('mq-billing', template, daysBefore(now, d));

    const first = await mineProblems(pool, settings, now);
    expect(first.patterns.map((p) => p.outcome)).toEqual(['proposed']);
    const [before] = await problemsLike('ci:mq-billing|%');

    const second = await mineProblems(pool, settings, now);
    expect(second.patterns.map((p) => p.outcome)).toEqual(['unchanged']);
    const [same, ...none] = await problemsLike('ci:mq-billing|%');
    expect(none).toEqual([]);
    expect(same).toEqual(before);

    const later = new Date(now.getTime() + DAY);
    const fourth = await incident('mq-billing', template, daysBefore(later, 0.5));
    const third = await mineProblems(pool, settings, later);
    expect(third.patterns.map((p) => [p.outcome, p.problemId, p.count])).toEqual([
      ['updated', before!.id, 4],
    ]);
    const [updated, ...still] = await problemsLike('ci:mq-billing|%');
    expect(still).toEqual([]);
    expect(updated!.title).toBe(
      'Recurring: queue <quoted> backlog <num> messages on mq-billing (4 incidents in 30 days)',
    );
    expect(updated!.evidence.count).toBe(4);
    expect(updated!.evidence.lastAt).toBe(daysBefore(later, 0.5).toISOString());
    expect(updated!.evidence.incidents.at(-1)!.id).toBe(fourth.id);
  });

  it('never proposes a rejected pattern again, even with new incidents', async () => {
    const now = sliceClock();
    const template = 'certificate for <ci> expires in <duration>';
    for (const d of [25, 15, 5]) await incident('lb-edge', template, daysBefore(now, d));
    await mineProblems(pool, settings, now);
    const [candidate] = await problemsLike('ci:lb-edge|%');

    // Rejecting needs a reason, like canceling.
    expect((await act(candidate!.id, 'reject')).status).toBe(422);
    const rejected = await act(candidate!.id, 'reject', { reason: 'renewed by automation' });
    expect(rejected.status).toBe(200);
    expect(await rejected.json()).toMatchObject({ state: 'rejected', stateCategory: 'canceled' });

    const later = new Date(now.getTime() + 10 * DAY);
    for (const d of [3, 2, 1]) await incident('lb-edge', template, daysBefore(later, d));
    // A drifted wording of the same failure is the same pattern too.
    await incident('lb-edge', 'certificate of <ci> expires in <duration>', daysBefore(later, 1));
    const result = await mineProblems(pool, settings, later);

    expect(result.patterns.map((p) => [p.outcome, p.state, p.problemId])).toEqual([
      ['held', 'rejected', candidate!.id],
    ]);
    const [after, ...none] = await problemsLike('%lb-edge%');
    expect(none).toEqual([]);
    expect(after).toMatchObject({ state: 'rejected', signature: candidate!.signature });
    expect(after!.evidence.count).toBe(3);
    expect(await pool.query(`SELECT 1 FROM problems WHERE cis @> ARRAY['lb-edge']`)).toMatchObject({
      rowCount: 1,
    });
  });

  it('never proposes a rejected pattern again after the template rules changed', async () => {
    const now = sliceClock();
    // As an earlier version stored it, before notification handles were masked as <mention>.
    const before = 'disk <pct> full on <ci> notify @slack-ops-team';
    for (const d of [25, 15, 5]) await incident('nas-ops', before, daysBefore(now, d));
    await mineProblems(pool, settings, now);
    const [candidate] = await problemsLike('ci:nas-ops|%');
    expect(candidate!.signature).toBe(`ci:nas-ops|${before}`);
    expect((await act(candidate!.id, 'reject', { reason: 'known, accepted risk' })).status).toBe(
      200,
    );

    // Past the look-back of the first three: the pattern is then only today's template.
    const later = new Date(now.getTime() + 40 * DAY);
    const today = 'disk <pct> full on <ci> notify <mention>';
    for (const d of [3, 2, 1]) await incident('nas-ops', today, daysBefore(later, d));
    const result = await mineProblems(pool, settings, later);

    expect(result.patterns.map((p) => [p.outcome, p.state, p.problemId])).toEqual([
      ['held', 'rejected', candidate!.id],
    ]);
    expect(await problemsLike('%nas-ops%')).toHaveLength(1);
  });

  it('accepting a candidate links its incidents in the same transaction; they are not mined again', async () => {
    const now = sliceClock();
    const template = 'pod <ci> oomkilled, restarts <num>';
    const ids: string[] = [];
    for (const d of [22, 16, 11, 3])
      ids.push((await incident('api-pay', template, daysBefore(now, d))).id);
    await mineProblems(pool, settings, now);
    const [candidate] = await problemsLike('ci:api-pay|%');
    // Merged into another incident after it was mined: not linked on accept.
    await pool.query(`UPDATE incidents SET state = 'canceled', merged_into = $2 WHERE id = $1`, [
      ids[3],
      ids[2],
    ]);

    const accepted = await act(candidate!.id, 'accept', { comment: 'Memory limit too low' });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({
      state: 'new',
      acknowledgedAt: expect.any(String) as string,
    });
    expect(await problemOfIncidents(ids)).toEqual([
      candidate!.id,
      candidate!.id,
      candidate!.id,
      null,
    ]);
    // The incidents' audit trail says who linked them, and by which action.
    const { rows: audit } = await pool.query<{ actor: string; action: string }>(
      `SELECT actor, action FROM audit_log
       WHERE record_type = 'incident' AND record_id = $1 AND field = 'problem_id'`,
      [ids[0]],
    );
    expect(audit).toEqual([{ actor: 'user:pam', action: 'accept' }]);
    // Accepting is only for candidates.
    expect((await act(candidate!.id, 'accept')).status).toBe(409);

    const result = await mineProblems(pool, settings, new Date(now.getTime() + DAY));
    expect(result.patterns).toEqual([]);
    expect(await problemsLike('ci:api-pay|%')).toHaveLength(1);
  });

  it('ignores merged and canceled incidents', async () => {
    const now = sliceClock();
    const template = 'backup job failed on <ci>';
    const kept = [
      await incident('nas-1', template, daysBefore(now, 20)),
      await incident('nas-1', template, daysBefore(now, 10)),
    ];
    const merged = await incident('nas-1', template, daysBefore(now, 9), {
      state: 'canceled',
      mergedInto: kept[1]!.id,
    });
    const canceled = await incident('nas-1', template, daysBefore(now, 4), { state: 'canceled' });

    expect((await mineProblems(pool, settings, now)).patterns).toEqual([]);

    const third = await incident('nas-1', template, daysBefore(now, 1), { state: 'in_progress' });
    const later = new Date(now.getTime() + 1000);
    const result = await mineProblems(pool, settings, later);
    expect(result.patterns.map((p) => [p.outcome, p.count])).toEqual([['proposed', 3]]);
    const [problem] = await problemsLike('ci:nas-1|%');
    const evidenceIds = problem!.evidence.incidents.map((i) => i.id);
    expect(evidenceIds).toEqual([kept[0]!.id, kept[1]!.id, third.id]);
    expect(evidenceIds).not.toContain(merged.id);
    expect(evidenceIds).not.toContain(canceled.id);
  });
});

describe('the time of day a failure keeps beginning at', () => {
  const at = (day: number, hhmm: string) => Date.parse(`2025-06-${10 + day}T${hhmm}:00Z`);

  it('lines up occurrences within the window on different days, across midnight too', () => {
    const own = [at(1, '23:50'), at(2, '00:15'), at(4, '23:40'), at(5, '12:00')];
    expect(scheduleChance(own, [], 30 * 60_000)).toMatchObject({
      at: '23:50',
      days: 3,
      windowMinutes: 30,
    });
    // Two on one day are one day; nothing else lines up.
    const sameDay = [at(1, '02:00'), at(1, '02:20'), at(3, '09:00')];
    expect(scheduleChance(sameDay, [], 30 * 60_000)).toBe(null);
  });

  it('weighs the alignment against the hours the class has the failure at, and the CIs that could line up as well', () => {
    const own = [at(1, '02:00'), at(2, '02:10'), at(3, '01:55')];
    const spread = Array.from({ length: 48 }, (_, i) => [at(6, '00:00') + i * 30 * 60_000]);
    const atNight = spread.map(([t]) => [t! - (t! % DAY) + 2 * 60 * 60_000]);
    const rare = scheduleChance(own, spread, 30 * 60_000)!;
    // Three 1-hour windows lining up, each about 1/24 of the day: about 3 (1/24)^2.
    expect(rare.chance).toBeGreaterThan(0.003);
    expect(rare.chance).toBeLessThan(0.02);
    expect(scheduleChance(own, atNight, 30 * 60_000)!.chance).toBe(1);
  });

  it('expects each CI of the class to line up as many days by its own occurrences, or be as unlikely', () => {
    const own = [at(1, '02:00'), at(2, '02:10'), at(3, '01:55')];
    const window = 30 * 60_000;
    // Nine CIs with three occurrences each, 40 minutes apart in time of day: none within the
    // window of another CI's, so an hour of the day is its window's share, 1/24. A tenth with two
    // occurrences cannot line up three days.
    const times = Array.from({ length: 27 }, (_, i) => at(1 + (i % 3), '00:00') + i * 40 * 60_000);
    const few = Array.from({ length: 9 }, (_, c) => times.filter((_, i) => i % 9 === c));
    const alone = scheduleChance(own, few, window)!;
    const withPair = scheduleChance(own, [...few, [at(1, '05:00'), at(2, '05:00')]], window)!;
    // Each lines up its three days with 3 (1/24)^2, less than this CI's own chance (its hours are
    // a little busier): any of them lining up is less likely than this CI's alignment.
    const each = 3 * binomialTail(2, 1 / 24, 2);
    expect(each).toBeLessThan(alone.own);
    expect(alone.chance).toBeCloseTo(alone.own + 9 * each, 6);
    expect(withPair.chance).toBeCloseTo(withPair.own + 9 * each, 6);
    // CIs with more occurrences line up three days more easily; each counts as likely as this
    // CI's own alignment at most.
    const many = Array.from({ length: 9 }, (_, c) => [
      ...few[c]!,
      at(4, '00:00') + c * 40 * 60_000,
    ]);
    const busy = scheduleChance(own, many, window)!;
    expect(4 * binomialTail(3, 1 / 24, 2)).toBeGreaterThan(busy.own);
    expect(busy.chance).toBeCloseTo(10 * busy.own, 6);
    // Nine CIs that each keep their own time of day (06:00 to 22:00) line up with themselves, not
    // with one another: the class's hours stay the window's share.
    const scheduled = Array.from({ length: 9 }, (_, c) =>
      [1, 2, 3].map((d) => at(d, '00:00') + (c + 3) * 2 * 60 * 60_000),
    );
    const apart = scheduleChance(own, scheduled, window)!;
    expect(apart.chance).toBeCloseTo(apart.own + 9 * Math.min(apart.own, each), 6);
  });
});

describe('evidence weighed together', () => {
  it('is the exact chance of a deviance as large over both counts', () => {
    // By brute force: every pair of counts whose summed deviance is at least the observed one.
    const deviance = (x: number, mean: number) =>
      x <= mean ? 0 : 2 * (x * Math.log(x / mean) - (x - mean));
    const pmf = (mean: number, x: number) => {
      let log = -mean;
      for (let i = 1; i <= x; i++) log += Math.log(mean) - Math.log(i);
      return Math.exp(log);
    };
    const brute = (lone: number, corroborated: number, loneMean: number, cMean: number) => {
      const needed = deviance(lone, loneMean) + deviance(corroborated, cMean) - 1e-9;
      let sum = 0;
      for (let i = 0; i < 80; i++)
        for (let j = 0; j < 40; j++)
          if (deviance(i, loneMean) + deviance(j, cMean) >= needed)
            sum += pmf(loneMean, i) * pmf(cMean, j);
      return sum;
    };
    for (const [lone, corroborated, loneMean, cMean] of [
      [5, 3, 2.45, 0.28],
      [9, 1, 3.7, 0.1],
      [2, 4, 1.7, 0.05],
    ] as const) {
      const chance = jointChance(lone, corroborated, loneMean, cMean);
      expect(chance).toBeCloseTo(brute(lone, corroborated, loneMean, cMean), 10);
    }
    // Each count somewhat high: together less likely than either alone.
    const together = jointChance(5, 3, 2.45, 0.28);
    expect(together).toBeLessThan(poissonTail(2.45, 5));
    expect(together).toBeLessThan(poissonTail(0.28, 3));
    // Neither above its mean: nothing unusual.
    expect(jointChance(2, 0, 2.45, 0.28)).toBe(1);
  });

  it('weighs a wording only some CIs raise against the CIs that raised it', () => {
    // An application's own log text: 3 other instances of a 338-CI class raised it 3, 2 and 3
    // times (2 of the 8 reported by several alerts); this one 2 lone and 2 corroborated.
    const counts = new Map([
      ['app-01', 3],
      ['app-02', 2],
      ['app-03', 3],
      ['app-04', 4],
    ]);
    const corroborated = new Map([
      ['app-01', 1],
      ['app-02', 1],
      ['app-04', 2],
    ]);
    // Against the whole class (6 lone and 2 corroborated on 338 CIs) it looks impossible by chance…
    expect(338 * jointChance(2, 2, 6 / 338, 2 / 338)).toBeLessThan(0.001);
    // …but the instances that can raise it have it about as often: λ / (1 - e^-λ) = 8/3.
    const rate = 2.4325;
    expect(rate / -Math.expm1(-rate)).toBeCloseTo(8 / 3, 3);
    const chance = repeatJointChance(counts, corroborated, 'app-04', 2, 2);
    expect(chance).toBeCloseTo(
      (4 * jointChance(2, 2, rate * 0.75, rate * 0.25)) / -Math.expm1(-rate),
      3,
    );
    expect(chance).toBeGreaterThan(0.05);
    // Fewer than two other CIs had it: nothing to learn from them.
    expect(repeatJointChance(new Map([['app-01', 3]]), corroborated, 'app-04', 2, 2)).toBe(0);
  });

  it("combines the count's and the schedule's chances by Fisher's method", () => {
    expect(combinedChance(0.1, 0.1)).toBeCloseTo(0.01 * (1 - Math.log(0.01)), 12);
    expect(combinedChance(0.1, 0.1)).toBeGreaterThan(0.01);
    expect(combinedChance(0.1, 0.1)).toBeLessThan(0.1);
    expect(combinedChance(1, 1)).toBe(1);
    expect(combinedChance(0, 0.5)).toBe(0);
  });
});

describe('the trend', () => {
  it('compares the later half of the look-back with the earlier, a difference of one being noise', () => {
    const now = new Date('2025-06-30T00:00:00Z');
    const at = (days: number[]) => days.map((d) => daysBefore(now, d).toISOString());
    expect(trendOf(at([29, 20, 3]), 30, now)).toMatchObject({
      direction: 'steady',
      earlier: 2,
      later: 1,
      splitAt: daysBefore(now, 15).toISOString(),
    });
    expect(trendOf(at([29, 25, 20, 18, 3]), 30, now)).toMatchObject({
      direction: 'falling',
      earlier: 4,
      later: 1,
    });
    expect(trendOf(at([40, 14, 3, 1]), 30, now)).toMatchObject({
      direction: 'rising',
      earlier: 0,
      later: 3,
    });
  });
});

describe('the problem.mine job', () => {
  let correlator: TestTocsin;
  beforeAll(async () => {
    // A correlator of its own installation, mining every second.
    correlator = await startTestTocsin({
      roles: ['correlator'],
      env: { TOCSIN_PROBLEM_MINING_CRON: '* * * * * *', TOCSIN_PROBLEM_MIN_INCIDENTS: '4' },
    });
  });
  afterAll(() => correlator.destroy());

  it('is scheduled from TOCSIN_PROBLEM_MINING_CRON and proposes candidates with the configured minimum', async () => {
    const own = createPool(correlator.config.databaseUrl, 1);
    try {
      const insert = (ci: string, days: number) =>
        own.query(
          `INSERT INTO incidents (title, severity, priority, opened_at, last_alert_at, cis,
             root_cause_ci, template, state)
           VALUES ('t', 'major', 3, now() - $1 * interval '1 day',
             now() - $1 * interval '1 day', ARRAY[$2], $2, $3, 'resolved')`,
          [days, ci, DISK],
        );
      // Three incidents are below this installation's minimum of four; four reach it. Both are
      // mined in one transaction, so the first candidate seen shows what that run did with both.
      for (const d of [9, 6, 3]) await insert('db-three', d);
      for (const d of [9, 6, 3, 1]) await insert('db-four', d);
      const problems = await eventually(
        async () => {
          const { rows } = await own.query<{ signature: string; state: string }>(
            'SELECT signature, state FROM problems ORDER BY id',
          );
          return rows.length > 0 ? rows : undefined;
        },
        { what: 'the scheduled job to propose a candidate' },
      );
      expect(problems).toEqual([{ signature: `ci:db-four|${DISK}`, state: 'candidate' }]);
    } finally {
      await own.end();
    }
  });
});
