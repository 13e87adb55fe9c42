/**
 * The live correlator through the whole pipeline: HTTP ingest → inbox → the lease holder's engine
 * → PostgreSQL → API. Event times are set by the test (alerts' startsAt/endsAt), so the timers
 * (grace, time to live) run on the stream, never on the wall clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../services/store/db.ts';
import { eventually, jsonRequest, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

type Explanation = {
  decision: string;
  hops: number | null;
  path: string[];
  text: number;
  secondsSinceFirst: number;
  merged: string[];
  message: string;
  incidents?: { id: string; number: string; at: number[] }[];
};
type Alert = {
  id: string;
  fingerprint: string;
  incidentId: string;
  status: string;
  count: number;
  episode: number;
  flapping: boolean;
  expiredAt: string | null;
  endsAt: string | null;
  lastReceivedAt: string;
  description: string | null;
  severity: string;
  pinned: boolean;
  explanation: Explanation;
};
type Incident = {
  id: string;
  number: string;
  title: string;
  state: string;
  severity: string;
  alertCount: number;
  cis: string[];
  rootCause: { ci: string; score: number; reason: string }[];
  rootCauseCi: string | null;
  blastRadius: number;
  suspectedChangeId: string | null;
  knownErrorId: string | null;
  workaround: string | null;
  resolvesAt: string | null;
  reopenCount: number;
  mergedInto: string | null;
};

const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** A small estate: two applications on a ledger database on a host; a cache far away. */
const cmdb = {
  cis: [
    { name: 'db-ledger', class: 'database' },
    { name: 'host-db', class: 'server' },
    { name: 'app-billing', class: 'application' },
    { name: 'app-payments', class: 'application' },
    { name: 'cache-far', class: 'cache' },
    { name: 'host-far', class: 'server' },
  ],
  relationships: [
    { source: 'app-billing', target: 'db-ledger', type: 'depends_on' },
    { source: 'app-payments', target: 'db-ledger', type: 'depends_on' },
    { source: 'db-ledger', target: 'host-db', type: 'runs_on' },
    { source: 'cache-far', target: 'host-far', type: 'runs_on' },
  ],
};

async function start(correlation: Record<string, unknown> = {}): Promise<TestTocsin> {
  const tocsin = await startTestTocsin({
    env: { TOCSIN_CORRELATION: JSON.stringify(correlation) },
  });
  const res = await tocsin.request('/api/v1/cmdb/import', jsonRequest(cmdb));
  expect(res.status).toBe(200);
  return tocsin;
}

async function post(tocsin: TestTocsin, alerts: Record<string, unknown>[]): Promise<void> {
  const res = await tocsin.request('/api/v1/ingest/generic', jsonRequest(alerts));
  expect(res.status).toBe(202);
  await eventually(
    async () => {
      const { pending } = (await (await tocsin.request('/api/v1/pipeline')).json()) as {
        pending: number;
      };
      return pending === 0 ? true : undefined;
    },
    { what: 'the inbox to be correlated' },
  );
}

async function get<T>(tocsin: TestTocsin, path: string): Promise<T> {
  const res = await tocsin.request(path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function alertOf(tocsin: TestTocsin, fingerprint: string): Promise<Alert> {
  const { items } = await get<{ items: Alert[] }>(
    tocsin,
    `/api/v1/alerts?fingerprint=${encodeURIComponent(fingerprint)}`,
  );
  expect(items.length, fingerprint).toBeGreaterThan(0);
  return get<Alert>(tocsin, `/api/v1/alerts/${items[0]!.id}`);
}

const incident = (tocsin: TestTocsin, id: string) =>
  get<Incident>(tocsin, `/api/v1/incidents/${id}`);

describe('an explanation quoting what a sender wrote', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await start();
  });
  afterAll(async () => {
    await tocsin.destroy();
  });

  it('links only the incidents the correlator named, not a CI called "incident <id>"', async () => {
    await post(tocsin, [
      { title: 'Disk full on db-ledger', ci: 'db-ledger', fingerprint: 'named' },
    ]);
    const named = await alertOf(tocsin, 'named');
    // Two alerts on a CI the CMDB does not know, whose name reads as that incident's id.
    const ci = `incident ${named.incidentId}`;
    const quoting = { title: 'Queue depth above 10,000 on edge gateway', ci };
    await post(tocsin, [
      { ...quoting, fingerprint: 'quoting-1', startsAt: at(0) },
      { ...quoting, fingerprint: 'quoting-2', startsAt: at(20) },
    ]);
    const first = await alertOf(tocsin, 'quoting-1');
    const second = await alertOf(tocsin, 'quoting-2');
    expect(second.incidentId).toBe(first.incidentId);
    expect(second.incidentId).not.toBe(named.incidentId);
    const { number } = await incident(tocsin, second.incidentId);
    // Its CI's name is quoted as it is; only the incident the correlator put it in is named by
    // number and listed.
    expect(second.explanation.message).toMatch(
      new RegExp(`^incident ${number}: same CI incident ${named.incidentId};`),
    );
    expect(second.explanation.incidents).toEqual([{ id: second.incidentId, number, at: [0] }]);
  });
});

describe('a storm through the live pipeline', () => {
  let tocsin: TestTocsin;
  let pool: Pool;
  let change: string;
  let knownError: string;
  beforeAll(async () => {
    tocsin = await start();
    pool = createPool(tocsin.config.databaseUrl, 2);
    // A change implemented on the database 10 minutes before the storm, one on the far cache's
    // host a day before (too old), and a known error for pool exhaustion on databases.
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO changes (type, title, state, priority, cis, actual_start, actual_end, created_by)
       VALUES ('normal', 'Lower ledger pool size', 'review', 3, '{db-ledger}', $1, $2, 'test'),
              ('normal', 'Patch far host', 'closed', 3, '{host-far}', $3, $3, 'test')
       RETURNING id`,
      [at(-600), at(-540), at(-86_400)],
    );
    change = rows[0]!.id;
    const ke = await pool.query<{ id: string }>(
      `INSERT INTO known_errors (title, symptom, workaround, ci_class, created_by)
       VALUES ('Ledger connection pool exhausted', 'connection pool exhausted',
               'Restart pgbouncer on the ledger host', 'database', 'test') RETURNING id`,
    );
    knownError = ke.rows[0]!.id;
    await post(tocsin, [
      {
        title: 'Connection pool exhausted on db-ledger',
        ci: 'db-ledger',
        severity: 'critical',
        fingerprint: 'storm-db',
        startsAt: at(0),
      },
      {
        title: 'HTTP 5xx rate above 20% on app-billing',
        ci: 'app-billing',
        severity: 'major',
        fingerprint: 'storm-billing',
        startsAt: at(40),
      },
      {
        title: 'HTTP 5xx rate above 20% on app-payments',
        ci: 'app-payments',
        severity: 'major',
        fingerprint: 'storm-payments',
        startsAt: at(50),
      },
      {
        title: 'Disk space low on /var of cache-far: 97% full',
        ci: 'cache-far',
        severity: 'warning',
        fingerprint: 'far-disk',
        startsAt: at(60),
      },
      // The database alert re-sent by its tool.
      {
        title: 'Connection pool exhausted on db-ledger',
        ci: 'db-ledger',
        severity: 'critical',
        fingerprint: 'storm-db',
        startsAt: at(0),
      },
    ]);
  });
  afterAll(async () => {
    await pool.end();
    await tocsin.destroy();
  });

  it('puts the storm in one incident and the far alert in another, each explained', async () => {
    const db = await alertOf(tocsin, 'storm-db');
    const billing = await alertOf(tocsin, 'storm-billing');
    const payments = await alertOf(tocsin, 'storm-payments');
    const far = await alertOf(tocsin, 'far-disk');
    expect(billing.incidentId).toBe(db.incidentId);
    expect(payments.incidentId).toBe(db.incidentId);
    expect(far.incidentId).not.toBe(db.incidentId);
    expect(db.explanation.decision).toBe('new');
    expect(billing.explanation).toMatchObject({
      decision: 'attach',
      hops: 1,
      path: ['app-billing', 'db-ledger'],
      secondsSinceFirst: 40,
    });
    expect(billing.explanation.message).toContain('app-billing – db-ledger (1 hop)');
    // It names the incident as people know it, by number, and lists it with its id.
    const { number } = await incident(tocsin, db.incidentId);
    expect(number).toMatch(/^INC\d{7}$/);
    expect(billing.explanation.message).toContain(`incident ${number}:`);
    expect(billing.explanation.incidents).toEqual([{ id: db.incidentId, number, at: [0] }]);
  });

  it('deduplicates the re-sent alert into one with two deliveries', async () => {
    const db = await alertOf(tocsin, 'storm-db');
    expect(db.count).toBe(2);
    expect(db.episode).toBe(1);
    const { items } = await get<{ items: Alert[] }>(tocsin, '/api/v1/alerts?fingerprint=storm-db');
    expect(items).toHaveLength(1);
  });

  it('names the root cause and its blast radius in the incident and its title', async () => {
    const db = await alertOf(tocsin, 'storm-db');
    const storm = await incident(tocsin, db.incidentId);
    expect(storm.rootCauseCi).toBe('db-ledger');
    expect(storm.rootCause[0]).toMatchObject({ ci: 'db-ledger' });
    expect(storm.rootCause[0]!.reason).toContain('2 of 3 alerting CIs depend on it');
    expect(storm.title).toBe(
      'Connection pool exhausted on db-ledger — likely cause db-ledger, 2 more CIs affected',
    );
    expect(storm).toMatchObject({ alertCount: 3, blastRadius: 3, severity: 'critical' });
  });

  it('links the change implemented on the root cause before it as the suspected change', async () => {
    const storm = await incident(tocsin, (await alertOf(tocsin, 'storm-db')).incidentId);
    expect(storm.suspectedChangeId).toBe(change);
    const far = await incident(tocsin, (await alertOf(tocsin, 'far-disk')).incidentId);
    expect(far.suspectedChangeId, 'a change a day old is not suspected').toBeNull();
  });

  it("puts the matching known error's workaround on the incident, and only there", async () => {
    const storm = await incident(tocsin, (await alertOf(tocsin, 'storm-db')).incidentId);
    expect(storm.knownErrorId).toBe(knownError);
    expect(storm.workaround).toBe('Restart pgbouncer on the ledger host');
    const far = await incident(tocsin, (await alertOf(tocsin, 'far-disk')).incidentId);
    expect(far.knownErrorId).toBeNull();
  });
});

describe('an alert that bridges two incidents', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    // One hop at most: the two applications (two hops apart) are not near each other, while the
    // database both depend on is one hop from each.
    tocsin = await start({ maxHops: 1 });
  });
  afterAll(() => tocsin.destroy());

  it('merges them, says so, and cancels the merged one', async () => {
    // Two applications two hops apart: two incidents.
    await post(tocsin, [
      {
        title: 'Login latency p99 above 2 s on app-billing',
        ci: 'app-billing',
        fingerprint: 'bridge-billing',
        startsAt: at(0),
      },
      {
        title: 'Payment queue consumer lag 5000 messages on app-payments',
        ci: 'app-payments',
        fingerprint: 'bridge-payments',
        startsAt: at(20),
      },
    ]);
    const billing = await alertOf(tocsin, 'bridge-billing');
    const payments = await alertOf(tocsin, 'bridge-payments');
    expect(payments.incidentId).not.toBe(billing.incidentId);
    // The database both depend on fails: one hop from each.
    await post(tocsin, [
      {
        title: 'Database db-ledger not accepting connections',
        ci: 'db-ledger',
        fingerprint: 'bridge-db',
        severity: 'critical',
        startsAt: at(30),
      },
    ]);
    const db = await alertOf(tocsin, 'bridge-db');
    expect(db.explanation.decision).toBe('merge');
    const after = [
      await alertOf(tocsin, 'bridge-billing'),
      await alertOf(tocsin, 'bridge-payments'),
    ];
    expect(after.map((a) => a.incidentId)).toEqual([db.incidentId, db.incidentId]);
    const gone = [billing.incidentId, payments.incidentId].find((id) => id !== db.incidentId)!;
    expect(db.explanation.merged).toEqual([gone]);
    const merged = await incident(tocsin, gone);
    expect(merged).toMatchObject({ state: 'canceled', mergedInto: db.incidentId });
    const survivor = await incident(tocsin, db.incidentId);
    expect(survivor.alertCount).toBe(3);
    expect(survivor.rootCauseCi).toBe('db-ledger');
  });
});

describe('an incident whose alerts resolve', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    // A minute's grace; no lateness, so the watermark is the latest event time.
    tocsin = await start({ resolveGraceMs: 60_000, allowedLatenessMs: 0 });
  });
  afterAll(() => tocsin.destroy());

  const x = (status: string, seconds: number) => ({
    title: 'Replication lag above 30 s on db-ledger',
    ci: 'db-ledger',
    fingerprint: 'life-x',
    status,
    startsAt: at(0),
    ...(status === 'resolved' ? { endsAt: at(seconds) } : {}),
  });
  const elsewhere = (n: number, seconds: number) => ({
    title: `Unrelated check ${n} failed on cache-far`,
    ci: 'cache-far',
    fingerprint: `life-far-${n}`,
    startsAt: at(seconds),
  });

  it('resolves by itself a grace period after, keeps open if one fires again, reopens after', async () => {
    await post(tocsin, [x('firing', 0)]);
    const id = (await alertOf(tocsin, 'life-x')).incidentId;
    await post(tocsin, [x('resolved', 10)]);
    let now = await incident(tocsin, id);
    expect(now.state).toBe('new');
    expect(now.resolvesAt).toBe(at(70));

    // Within the grace it fires again: the incident stays open, nothing pending.
    await post(tocsin, [elsewhere(1, 30), { ...x('firing', 0), startsAt: at(40) }]);
    now = await incident(tocsin, id);
    expect(now).toMatchObject({ state: 'new', resolvesAt: null });

    // It resolves again; event time passes the grace: resolved.
    await post(tocsin, [x('resolved', 50)]);
    await post(tocsin, [elsewhere(2, 120)]);
    now = await incident(tocsin, id);
    expect(now.state).toBe('resolved');
    expect(now.resolvesAt).toBeNull();

    // It fires again soon after: the same incident reopens.
    await post(tocsin, [{ ...x('firing', 0), startsAt: at(130) }]);
    now = await incident(tocsin, id);
    expect(now).toMatchObject({ state: 'in_progress', reopenCount: 1 });
    expect((await alertOf(tocsin, 'life-x')).incidentId).toBe(id);
  });
});

describe('a flapping alert', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await start({ resolveGraceMs: 0, allowedLatenessMs: 0, flapChanges: 4 });
  });
  afterAll(() => tocsin.destroy());

  it('is marked flapping and does not churn its incident', async () => {
    const flap = (status: string, seconds: number) => ({
      title: 'Interface eth0 down on host-db',
      ci: 'host-db',
      fingerprint: 'flap-1',
      status,
      startsAt: at(seconds),
      ...(status === 'resolved' ? { endsAt: at(seconds) } : {}),
    });
    await post(tocsin, [flap('firing', 0)]);
    const id = (await alertOf(tocsin, 'flap-1')).incidentId;
    // Without flapping, each resolution would resolve the incident (no grace).
    await post(tocsin, [flap('resolved', 10)]);
    expect((await incident(tocsin, id)).state).toBe('resolved');
    await post(tocsin, [flap('firing', 20)]);
    await post(tocsin, [flap('resolved', 30)]);
    await post(tocsin, [flap('firing', 40)]);
    await post(tocsin, [flap('resolved', 50)]);
    const alert = await alertOf(tocsin, 'flap-1');
    expect(alert.flapping).toBe(true);
    expect(alert.incidentId).toBe(id);
    const now = await incident(tocsin, id);
    expect(now.state, 'a flapping alert keeps its incident open').toBe('in_progress');
    // It resolved twice before the fourth change showed it flapping, and reopened each time.
    expect(now.reopenCount).toBe(2);
  });
});

describe('a firing alert never resolved', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await start({ alertTtlMs: 10_000, alertTtlBySourceMs: {}, allowedLatenessMs: 0 });
  });
  afterAll(() => tocsin.destroy());

  it("expires after its source's time to live, measured in event time", async () => {
    // Event times ahead of the receipt, so that the stream, not the wall clock, moves time on;
    // expiry is checked at each event-time minute, and ingest reads a time more than a minute
    // ahead of the receipt as the receipt. So: the next minute B at least 15 s away (waiting for
    // the minute to turn if it is nearer), the alert 12 s before it, the other two at B - 10 s
    // and at B.
    if (60_000 - (Date.now() % 60_000) < 15_000)
      await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 100));
    const B = Math.ceil(Date.now() / 60_000) * 60_000;
    const when = (s: number) => new Date(B + s * 1000).toISOString();
    await post(tocsin, [
      { title: 'Backup job overdue', ci: 'host-far', fingerprint: 'ttl-1', startsAt: when(-12) },
    ]);
    expect((await alertOf(tocsin, 'ttl-1')).status).toBe('firing');
    await post(tocsin, [
      { title: 'Another check', ci: 'cache-far', fingerprint: 'ttl-2', startsAt: when(-10) },
    ]);
    expect((await alertOf(tocsin, 'ttl-1')).status, 'within its time to live').toBe('firing');
    await post(tocsin, [
      { title: 'A later check', ci: 'cache-far', fingerprint: 'ttl-3', startsAt: when(0) },
    ]);
    const expired = await alertOf(tocsin, 'ttl-1');
    expect(expired.status).toBe('resolved');
    expect(expired.expiredAt).not.toBeNull();
    expect(expired.endsAt, 'an expired alert ended when it expired').toBe(expired.expiredAt);
  });
});

describe('an alert with a long text in characters of several bytes', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await start();
  });
  afterAll(() => tocsin.destroy());

  it('is correlated, its incident signature bounded (a fuzzed alert once blocked every batch)', async () => {
    // 1,024 characters of 3 bytes each, in no repeating order (so PostgreSQL cannot compress
    // them): the signature `<CI>|<template>` would be over 3 kB, more than a btree entry of
    // incidents_signature holds, and the batch writing it failed for ever.
    const title = Array.from({ length: 1024 }, (_, i) =>
      String.fromCharCode(0x4e00 + ((i * 7919) % 20_000)),
    ).join('');
    await post(tocsin, [
      { title, ci: 'db-ledger', fingerprint: 'long-1' },
      { title: 'Disk full on host-far', ci: 'host-far', fingerprint: 'long-2' },
    ]);
    const alert = await alertOf(tocsin, 'long-1');
    expect(alert.incidentId).not.toBeNull();
    const { signature } = await get<{ signature: string }>(
      tocsin,
      `/api/v1/incidents/${alert.incidentId}`,
    );
    expect(signature.length).toBeLessThanOrEqual(600);
    expect(signature).toMatch(/^db-ledger\|.+…#[0-9a-f]{16}$/);
    expect((await alertOf(tocsin, 'long-2')).incidentId).not.toBeNull();
  });

  it('keeps a CI named like an engine incident as it is in the explanation', async () => {
    // The stored message names incidents by number; a CI called E1 is not incident E1.
    await post(tocsin, [
      { title: 'Link down on E1', ci: 'E1', fingerprint: 'e1-1' },
      { title: 'Link down on E1', ci: 'E1', fingerprint: 'e1-2' },
    ]);
    const first = await alertOf(tocsin, 'e1-1');
    const second = await alertOf(tocsin, 'e1-2');
    expect(second.incidentId).toBe(first.incidentId);
    const { number } = await get<{ number: string }>(
      tocsin,
      `/api/v1/incidents/${second.incidentId}`,
    );
    expect(second.explanation.message).toMatch(new RegExp(`^incident ${number}: same CI E1;`));
  });
});

/**
 * A Tocsin whose `alerts` table runs this PL/pgSQL statement before each row is written (NEW is
 * the row; the sequence `tries` is there to count): a failure injected for one alert, as a bug,
 * an unforeseen value or a busy database would cause it.
 */
function startWithAlertsCheck(statement: string): { tocsin: TestTocsin; pool: Pool } {
  const ctx = {} as { tocsin: TestTocsin; pool: Pool };
  beforeAll(async () => {
    ctx.tocsin = await start();
    ctx.pool = createPool(ctx.tocsin.config.databaseUrl, 1);
    await ctx.pool.query(`
      CREATE SEQUENCE tries;
      CREATE FUNCTION check_alert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN ${statement} RETURN NEW; END $$;
      CREATE TRIGGER check_alert BEFORE INSERT OR UPDATE ON alerts
        FOR EACH ROW EXECUTE FUNCTION check_alert();`);
  });
  afterAll(async () => {
    await ctx.pool.end();
    await ctx.tocsin.destroy();
  });
  return ctx;
}

describe('an accepted alert whose correlation fails every time', () => {
  // A write PostgreSQL refuses for this one alert only, as a bug or an unforeseen value would.
  const ctx = startWithAlertsCheck(
    `IF NEW.fingerprint = 'poison' THEN RAISE EXCEPTION 'refused for the test'; END IF;`,
  );

  it('is set aside with a notice to admins, and the alerts after it are correlated', async () => {
    const { tocsin } = ctx;
    await post(tocsin, [
      { title: 'Disk full on host-far', ci: 'host-far', fingerprint: 'before' },
      { title: 'Never written', ci: 'db-ledger', fingerprint: 'poison' },
      { title: 'Cache evictions high on cache-far', ci: 'cache-far', fingerprint: 'after' },
    ]);
    expect((await alertOf(tocsin, 'before')).incidentId).not.toBeNull();
    expect((await alertOf(tocsin, 'after')).incidentId).not.toBeNull();
    const poisoned = await get<{ items: unknown[] }>(tocsin, '/api/v1/alerts?fingerprint=poison');
    expect(poisoned.items).toEqual([]);
    const notices = await get<{
      items: { kind: string; details: { error: string; alert: { fingerprint: string } } }[];
    }>(tocsin, '/api/v1/notices');
    const aside = notices.items.filter((n) => n.kind === 'correlation-failed');
    expect(aside).toHaveLength(1);
    expect(aside[0]!.details.alert.fingerprint).toBe('poison');
    expect(aside[0]!.details.error).toMatch(/refused for the test/);
  });
});

describe('an accepted alert whose write meets transient failures', () => {
  // A deadlock reported six times in a row for this alert's write, then none: more failures at
  // the same row than it takes to set a failing alert aside (five).
  const ctx = startWithAlertsCheck(
    `IF NEW.fingerprint = 'contended' AND nextval('tries') <= 6 THEN
       RAISE EXCEPTION 'deadlock for the test' USING ERRCODE = '40P01';
     END IF;`,
  );

  it('is retried until it is written, never set aside', async () => {
    const { tocsin, pool } = ctx;
    await post(tocsin, [
      { title: 'Disk full on host-far', ci: 'host-far', fingerprint: 'contended' },
    ]);
    expect((await alertOf(tocsin, 'contended')).incidentId).not.toBeNull();
    const { rows } = await pool.query<{ tries: string }>('SELECT last_value AS tries FROM tries');
    expect(Number(rows[0]!.tries), 'the deadlocks did happen').toBeGreaterThan(6);
    const notices = await get<{ items: { kind: string }[] }>(tocsin, '/api/v1/notices');
    expect(notices.items.filter((n) => n.kind === 'correlation-failed')).toEqual([]);
  });
});

describe('a firing alert re-sent', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await start();
  });
  afterAll(() => tocsin.destroy());

  it('counts each delivery and its time, and takes a changed text or severity', async () => {
    const resend = (seconds: number, more: Record<string, unknown> = {}) => ({
      title: 'Replication lag above 30 s',
      description: 'Replica lag is 42 s',
      severity: 'major',
      ci: 'db-ledger',
      fingerprint: 'resend-1',
      startsAt: at(0),
      labels: { team: 'dba' },
      ...more,
    });
    await post(tocsin, [resend(0)]);
    const first = await alertOf(tocsin, 'resend-1');
    expect(first.count).toBe(1);
    // Identical re-sends, one delivery each: only the count and the last-received time move.
    for (let i = 1; i <= 3; i++) await post(tocsin, [resend(i * 60)]);
    const same = await alertOf(tocsin, 'resend-1');
    expect(same.id).toBe(first.id);
    expect(same.count).toBe(4);
    expect(Date.parse(same.lastReceivedAt)).toBeGreaterThan(Date.parse(first.lastReceivedAt));
    expect(same.description).toBe('Replica lag is 42 s');
    expect(same.incidentId).toBe(first.incidentId);
    // A re-send that says something new is taken whole.
    await post(tocsin, [resend(300, { severity: 'critical', description: 'Replica lag is 95 s' })]);
    const changed = await alertOf(tocsin, 'resend-1');
    expect(changed.count).toBe(5);
    expect(changed.severity).toBe('critical');
    expect(changed.description).toBe('Replica lag is 95 s');
    // Its explanation did not change with the text: still the one it was placed with (the write
    // leaves it out when the engine's is the one already stored).
    expect(first.explanation.message).toMatch(/\S/);
    expect(changed.explanation).toEqual(first.explanation);
    // And then identical again: counted, the new text kept.
    await post(tocsin, [resend(360, { severity: 'critical', description: 'Replica lag is 95 s' })]);
    const after = await alertOf(tocsin, 'resend-1');
    expect(after.count).toBe(6);
    expect(after.severity).toBe('critical');
    expect(after.description).toBe('Replica lag is 95 s');
    expect(after.explanation).toEqual(first.explanation);
  });
});

describe("a person's correction", () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await start();
  });
  afterAll(() => tocsin.destroy());

  it('is respected: a moved alert stays where it was put when it is re-sent', async () => {
    const db = {
      title: 'Slow queries on db-ledger',
      ci: 'db-ledger',
      fingerprint: 'fix-db',
      startsAt: at(0),
    };
    const billing = {
      title: 'Checkout errors on app-billing',
      ci: 'app-billing',
      fingerprint: 'fix-billing',
      startsAt: at(20),
    };
    const far = {
      title: 'Cache evictions high on cache-far',
      ci: 'cache-far',
      fingerprint: 'fix-far',
      startsAt: at(30),
    };
    await post(tocsin, [db, billing, far]);
    const before = await alertOf(tocsin, 'fix-billing');
    const farIncident = (await alertOf(tocsin, 'fix-far')).incidentId;
    expect(before.incidentId).toBe((await alertOf(tocsin, 'fix-db')).incidentId);
    const moved = await tocsin.request(
      `/api/v1/alerts/${before.id}/move`,
      jsonRequest({ incidentId: farIncident }),
    );
    expect(moved.status).toBe(200);
    // Re-sent, and a new alert on the same CI: the moved one stays with the person's choice.
    await post(tocsin, [{ ...billing, title: 'Checkout errors on app-billing (still)' }]);
    await post(tocsin, [{ ...db, fingerprint: 'fix-db-2', title: 'Locks piling up on db-ledger' }]);
    const after = await alertOf(tocsin, 'fix-billing');
    expect(after).toMatchObject({ incidentId: farIncident, pinned: true, count: 2 });
    const overrides = await get<{ items: unknown[] }>(
      tocsin,
      `/api/v1/alerts?incidentId=${farIncident}`,
    );
    expect(overrides.items).toHaveLength(2);
  });
});
