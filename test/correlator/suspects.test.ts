import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KnownErrorMatcher,
  SuspectFinder,
  findSuspectedChanges,
  knownErrorPassages,
  type ChangeQuery,
  type KnownErrorQuery,
} from '../../correlator/suspects.ts';
import { importCmdb } from '../../services/store/cmdb.ts';
import { createPool, type Pool, type Queryable } from '../../services/store/db.ts';
import { knownErrorStore } from '../../services/store/known-errors.ts';
import { insertRecord } from '../../services/store/records.ts';
import { createTestDatabase } from '../support/db.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;

const T0 = Date.parse('2026-03-02T10:00:00Z');
const MINUTE = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

type ChangeSeed = {
  title: string;
  state: string;
  cis: string[];
  primaryCi?: string;
  actualStart?: number;
  actualEnd?: number;
  plannedStart?: number;
};

/** Inserts a change as an import or another tool would (times in minutes from T0); its number. */
async function seedChange(c: ChangeSeed): Promise<{ id: string; number: string }> {
  const { rows } = await pool.query<{ id: string; number: string }>(
    `INSERT INTO changes (type, title, state, priority, cis, primary_ci, actual_start, actual_end,
       planned_start, created_by)
     VALUES ('normal', $1, $2, 3, $3, $4, $5, $6, $7, 'test') RETURNING id, number`,
    [
      c.title,
      c.state,
      c.cis,
      c.primaryCi ?? null,
      c.actualStart === undefined ? null : at(c.actualStart),
      c.actualEnd === undefined ? null : at(c.actualEnd),
      c.plannedStart === undefined ? null : at(c.plannedStart),
    ],
  );
  return rows[0]!;
}

/** Creates a known error through the record store and sets its state. */
async function seedKnownError(
  values: { title: string; symptom: string; ciClass?: string; service?: string },
  state: 'draft' | 'published' | 'retired' = 'published',
): Promise<{ id: string; number: string }> {
  const record = await insertRecord(pool, knownErrorStore, {
    workaround: `Workaround for ${values.title}`,
    ...values,
  });
  await pool.query('UPDATE known_errors SET state = $2 WHERE id = $1', [record.id, state]);
  return { id: record.id, number: record.number };
}

/** A Queryable over the pool that counts the statements sent. */
function counting(): { q: Queryable; count: () => number } {
  let n = 0;
  const query = (...args: unknown[]) => {
    n++;
    return (pool.query as (...a: unknown[]) => unknown)(...args);
  };
  return { q: { query } as unknown as Queryable, count: () => n };
}

const changes: Record<string, { id: string; number: string }> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
  const imported = await importCmdb(
    pool,
    [
      { name: 'db-ledger', class: 'database' },
      { name: 'ledger-api', class: 'app_instance' },
      { name: 'core-sw-1', class: 'switch' },
      { name: 'web-1', class: 'virtual_machine' },
      { name: 'db-other', class: 'database' },
      { name: 'cache-1', class: 'cache' },
    ],
    [
      { source: 'ledger-api', target: 'db-ledger', type: 'depends_on' },
      { source: 'db-ledger', target: 'core-sw-1', type: 'connected_to' },
    ],
  );
  expect(imported.kind).toBe('imported');

  // Around the incidents opening at T0: one change that should win for each case, and one of each
  // way to be disqualified.
  changes.rootCause = await seedChange({
    title: 'Lower ledger pool size',
    state: 'implement',
    cis: ['db-ledger'],
    actualStart: -40,
  });
  changes.alerting = await seedChange({
    title: 'Deploy ledger-api 4.2',
    state: 'closed',
    cis: ['ledger-api'],
    actualStart: -10,
    actualEnd: -8,
  });
  changes.dependency = await seedChange({
    title: 'Core switch firmware',
    state: 'review',
    cis: [],
    primaryCi: 'core-sw-1',
    actualStart: -5,
    actualEnd: -3,
  });
  changes.canceled = await seedChange({
    title: 'Canceled pool change',
    state: 'canceled',
    cis: ['db-ledger'],
    actualStart: -2,
  });
  changes.tooOld = await seedChange({
    title: 'Ledger index rebuild',
    state: 'closed',
    cis: ['db-ledger'],
    actualStart: -180,
    actualEnd: -170,
  });
  changes.after = await seedChange({
    title: 'Ledger vacuum tuning',
    state: 'implement',
    cis: ['db-ledger'],
    actualStart: 5,
  });
  changes.wrongCi = await seedChange({
    title: 'Other database patch',
    state: 'closed',
    cis: ['db-other'],
    actualStart: -1,
    actualEnd: 0,
  });
  changes.notImplemented = await seedChange({
    title: 'Scheduled ledger upgrade',
    state: 'scheduled',
    cis: ['db-ledger'],
    plannedStart: -1,
  });
  changes.plannedOnly = await seedChange({
    title: 'Cache resize (no actual start recorded)',
    state: 'implement',
    cis: ['cache-1'],
    plannedStart: -25,
  });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const incident = (key: string, overrides: Partial<ChangeQuery> = {}): ChangeQuery => ({
  key,
  openedAt: at(0),
  rootCauseCi: null,
  alertingCis: [],
  dependencyCis: [],
  ...overrides,
});

describe('findSuspectedChanges', () => {
  it('ranks root-cause CI over alerting CI over dependency, disqualifies the rest, in one query', async () => {
    const batch = [
      incident('rootCause', {
        rootCauseCi: 'db-ledger',
        alertingCis: ['db-ledger', 'ledger-api'],
        dependencyCis: ['core-sw-1'],
      }),
      incident('alerting', { alertingCis: ['ledger-api'], dependencyCis: ['core-sw-1'] }),
      incident('dependency', { alertingCis: ['web-1'], dependencyCis: ['core-sw-1'] }),
      incident('none', { rootCauseCi: 'web-1', alertingCis: ['web-1'] }),
      // 45 min before T0 only the too old, later, scheduled and wrong-CI changes are near.
      incident('onlyDisqualified', {
        openedAt: at(-45),
        rootCauseCi: 'db-ledger',
        alertingCis: ['db-ledger', 'db-other'],
      }),
      incident('plannedOnly', { rootCauseCi: 'cache-1', alertingCis: ['cache-1'] }),
    ];
    const { q, count } = counting();
    const found = await findSuspectedChanges(q, batch);
    expect(count()).toBe(1);

    expect([...found.keys()].sort()).toEqual([
      'alerting',
      'dependency',
      'plannedOnly',
      'rootCause',
    ]);
    expect(found.get('rootCause')).toEqual({
      changeId: changes.rootCause!.id,
      number: changes.rootCause!.number,
      ci: 'db-ledger',
      role: 'root-cause',
      startedAt: at(-40),
      reason: `${changes.rootCause!.number} 'Lower ledger pool size' implemented on db-ledger, the root-cause CI, 40 min before the first alert`,
    });
    expect(found.get('alerting')).toMatchObject({
      changeId: changes.alerting!.id,
      ci: 'ledger-api',
      role: 'alerting',
    });
    expect(found.get('alerting')!.reason).toBe(
      `${changes.alerting!.number} 'Deploy ledger-api 4.2' implemented on ledger-api, an alerting CI, 10 min before the first alert`,
    );
    expect(found.get('dependency')).toMatchObject({
      changeId: changes.dependency!.id,
      ci: 'core-sw-1',
      role: 'dependency',
    });
    expect(found.get('dependency')!.reason).toContain('a CI the incident depends on, 5 min before');
    // In implement without an actual start: its planned start stands in.
    expect(found.get('plannedOnly')).toMatchObject({
      changeId: changes.plannedOnly!.id,
      startedAt: at(-25),
    });
  });

  it('counts a change still being implemented past the look-back, and names the nearest start', async () => {
    const found = await findSuspectedChanges(pool, [
      incident('late', { openedAt: at(240), rootCauseCi: 'db-ledger' }),
    ]);
    // Both implement changes on db-ledger are still under way 4 h later; the later-started wins.
    expect(found.get('late')).toMatchObject({ changeId: changes.after!.id, startedAt: at(5) });
    expect(found.get('late')!.reason).toBe(
      `${changes.after!.number} 'Ledger vacuum tuning' under way on db-ledger, the root-cause CI, since 3 h 55 min before the first alert`,
    );
    // A finished change counts only while its end is within the look-back.
    const ended = await findSuspectedChanges(pool, [
      incident('ended', { openedAt: at(60), alertingCis: ['ledger-api'] }),
      incident('endedLongAgo', { openedAt: at(150), alertingCis: ['ledger-api'] }),
    ]);
    expect(ended.get('ended')!.reason).toBe(
      `${changes.alerting!.number} 'Deploy ledger-api 4.2' implemented on ledger-api, an alerting CI, 1 h 10 min before the first alert`,
    );
    expect(ended.has('endedLongAgo')).toBe(false);
  });

  it('honours changeLookbackMs', async () => {
    // The alerting CI's change ended 8 min before T0: 23 min before an incident at T0 + 15 min.
    const batch = [incident('later', { openedAt: at(15), alertingCis: ['ledger-api'] })];
    const within = await findSuspectedChanges(pool, batch, 30 * MINUTE);
    expect(within.get('later')).toMatchObject({ changeId: changes.alerting!.id });
    expect((await findSuspectedChanges(pool, batch, 20 * MINUTE)).has('later')).toBe(false);
  });

  it('returns nothing for no incidents, without a query', async () => {
    const { q, count } = counting();
    expect((await findSuspectedChanges(q, [])).size).toBe(0);
    expect(count()).toBe(0);
  });
});

describe('KnownErrorMatcher', () => {
  const knownErrors: Record<string, { id: string; number: string }> = {};

  beforeAll(async () => {
    knownErrors.pool = await seedKnownError({
      title: 'Ledger DB connection pool exhausted',
      symptom:
        'Applications fail with connection pool exhausted errors on the ledger database; new sessions are refused.',
      ciClass: 'database',
      service: 'ledger',
    });
    knownErrors.cacheClass = await seedKnownError({
      title: 'Connection pool exhausted on Redis',
      symptom: 'Clients report connection pool exhausted.',
      ciClass: 'cache',
    });
    knownErrors.switchPorts = await seedKnownError({
      title: 'Core switch interface flapping',
      symptom: 'Ports go up and down every few seconds after a firmware upgrade.',
      ciClass: 'network_device',
    });
    knownErrors.replicaLag = await seedKnownError({
      title: 'Ledger replicas lag on Mondays',
      symptom: 'Replica lag grows by minutes every Monday at 02:00 on ledger replicas.',
      ciClass: 'database',
      service: 'ledger',
    });
    knownErrors.draft = await seedKnownError(
      {
        title: 'Connection pool exhausted',
        symptom: 'connection pool exhausted',
        ciClass: 'database',
      },
      'draft',
    );
    knownErrors.retired = await seedKnownError(
      { title: 'Connection pool exhausted', symptom: 'connection pool exhausted' },
      'retired',
    );
  });

  const ke = (key: string, overrides: Partial<KnownErrorQuery> = {}): KnownErrorQuery => ({
    key,
    rootCauseCi: 'db-ledger',
    alertingCis: ['db-ledger', 'ledger-api'],
    service: 'ledger',
    templates: ['connection pool exhausted on <ci>', 'http <num> errors on <ci>'],
    ...overrides,
  });

  it('matches by scope and text, never by scope alone, for a batch in one query', async () => {
    const matcher = new KnownErrorMatcher();
    const batch = [
      ke('match'),
      ke('otherService', { service: 'payments' }),
      ke('noService', { service: null }),
      ke('otherClass', { rootCauseCi: 'web-1', alertingCis: ['web-1'] }),
      ke('textDiffers', { templates: ['high cpu on <ci>', 'disk usage above <pct> on <ci>'] }),
      // core-sw-1 is a switch; the known error is for network devices, a parent class.
      ke('parentClass', {
        rootCauseCi: 'core-sw-1',
        alertingCis: ['core-sw-1'],
        service: null,
        templates: ['interface <quoted> flapping on <ci>'],
      }),
      ke('unknownCi', { rootCauseCi: 'ghost', alertingCis: ['ghost'], service: null }),
    ];
    const { q, count } = counting();
    const found = await matcher.match(q, batch);
    // The known errors (cache miss), then the CI classes of the whole batch.
    expect(count()).toBe(2);
    expect([...found.keys()].sort()).toEqual(['match', 'parentClass']);

    const match = found.get('match')!;
    expect(match).toMatchObject({
      knownErrorId: knownErrors.pool!.id,
      number: knownErrors.pool!.number,
      workaround: 'Workaround for Ledger DB connection pool exhausted',
      template: 'connection pool exhausted on <ci>',
      passage: 'Ledger DB connection pool exhausted',
    });
    expect(match.score).toBeGreaterThanOrEqual(0.5);
    expect(match.reason).toBe(
      `${knownErrors.pool!.number} 'Ledger DB connection pool exhausted' matches 'connection pool exhausted on <ci>' (${match.score.toFixed(2)}) by its title, for database CIs of the ledger service`,
    );
    const ports = found.get('parentClass')!;
    expect(ports).toMatchObject({
      knownErrorId: knownErrors.switchPorts!.id,
      template: 'interface <quoted> flapping on <ci>',
    });
    expect(ports.score).toBeGreaterThanOrEqual(0.5);

    // Cached: the next batch reads only the CI classes.
    const again = await matcher.match(q, [ke('match')]);
    expect(again.get('match')?.knownErrorId).toBe(knownErrors.pool!.id);
    expect(count()).toBe(3);
  });

  it('re-reads the known errors once the refresh interval has passed, or when invalidated', async () => {
    let now = 0;
    const matcher = new KnownErrorMatcher(
      { knownErrorMinScore: 0.5, knownErrorRefreshMs: 5 * MINUTE },
      () => now,
    );
    const query = ke('cpu', { templates: ['high cpu on <ci>'] });
    expect((await matcher.match(pool, [query])).has('cpu')).toBe(false);
    const cpu = await seedKnownError({
      title: 'Reporting job saturates the ledger database',
      symptom: 'High CPU on the ledger database. The nightly reporting job is running.',
      ciClass: 'database',
    });
    now = 4 * MINUTE;
    expect((await matcher.match(pool, [query])).has('cpu')).toBe(false);
    now = 5 * MINUTE;
    // Matched by a sentence of its symptom: the title has none of the alert's words.
    expect((await matcher.match(pool, [query])).get('cpu')).toMatchObject({
      knownErrorId: cpu.id,
      passage: 'High CPU on the ledger database',
    });

    await pool.query(`UPDATE known_errors SET state = 'retired' WHERE id = $1`, [cpu.id]);
    expect((await matcher.match(pool, [query])).has('cpu')).toBe(true);
    matcher.invalidate();
    expect((await matcher.match(pool, [query])).has('cpu')).toBe(false);
  });

  it('compares a known error by its title, its symptom and each of its sentences', () => {
    expect(
      knownErrorPassages({
        title: 'Pool exhausted',
        symptom: 'Pool exhausted; sessions refused. Version 1.2 is affected at 02:00!\nRetry',
      }),
    ).toEqual([
      'Pool exhausted',
      'Pool exhausted; sessions refused. Version 1.2 is affected at 02:00!\nRetry',
      'sessions refused',
      'Version 1.2 is affected at 02:00',
      'Retry',
    ]);
  });
});

describe('SuspectFinder', () => {
  it('answers both look-ups for every incident of a batch', async () => {
    const finder = new SuspectFinder({ changeLookbackMs: 60 * MINUTE });
    const found = await finder.find(pool, [
      {
        key: 'both',
        openedAt: at(0),
        rootCauseCi: 'db-ledger',
        alertingCis: ['db-ledger'],
        dependencyCis: [],
        service: 'ledger',
        templates: ['connection pool exhausted on <ci>'],
      },
      {
        key: 'neither',
        openedAt: at(0),
        rootCauseCi: 'web-1',
        alertingCis: ['web-1'],
        dependencyCis: [],
        service: null,
        templates: ['connection pool exhausted on <ci>'],
      },
    ]);
    expect(found.get('both')?.change?.changeId).toBe(changes.rootCause!.id);
    expect(found.get('both')?.knownError?.title).toBe('Ledger DB connection pool exhausted');
    expect(found.get('neither')).toEqual({ change: null, knownError: null });
  });

  it('rejects settings out of range', () => {
    expect(() => new SuspectFinder({ knownErrorMinScore: 0 })).toThrow(/knownErrorMinScore/);
    expect(() => new SuspectFinder({ changeLookbackMs: -1 })).toThrow(/changeLookbackMs/);
  });
});
