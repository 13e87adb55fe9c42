/**
 * Determinism and scale-out: the same stream always gives the same incidents; a replay of what
 * the live pipeline received gives the incidents the live pipeline made, also across a CMDB
 * change; and correlator processes on one stream give the same incidents as one, also when the
 * holder stops and another restores the engine from storage.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEstate } from '../../bench/correlation/estate.ts';
import { defaultStormOptions, generateStorm, type Tier } from '../../bench/correlation/storms.ts';
import type { EngineAlert } from '../../correlator/engine/engine.ts';
import { LiveCorrelator } from '../../correlator/live.ts';
import { parseStream, replay, StreamError } from '../../correlator/replay.ts';
import { correlatedDeliveries, readCmdb } from '../../services/store/correlation.ts';
import { createPool, type Pool } from '../../services/store/db.ts';
import { eventually, jsonRequest, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

// A few hours of tier A's storm on the bench estate: faults cascading along dependencies,
// background noise, re-sends, late and out-of-order deliveries.
const estate = generateEstate();
const tier: Tier = {
  name: 'A',
  summary: 'test',
  estate,
  cmdb: estate,
  storm: {
    ...defaultStormOptions,
    start: '2026-11-02T08:00:00.000Z',
    days: 0.25,
    faultsPerDay: 60,
    noisePerDay: 400,
  },
};
const stream = [...generateStorm(tier)].map((e) => e.delivery.alert);

/** Incidents as sets of fingerprints, in a canonical order: what two runs must agree on. */
function partition(pairs: Iterable<[fingerprint: string, incident: string]>): string[][] {
  const groups = new Map<string, Set<string>>();
  for (const [fingerprint, incident] of pairs) {
    const group = groups.get(incident) ?? new Set<string>();
    group.add(fingerprint);
    groups.set(incident, group);
  }
  return [...groups.values()].map((g) => [...g].sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

async function drained(tocsin: TestTocsin): Promise<void> {
  await eventually(
    async () => {
      const { pending } = (await (await tocsin.request('/api/v1/pipeline')).json()) as {
        pending: number;
      };
      return pending === 0 ? true : undefined;
    },
    { what: 'the inbox to be correlated', timeoutMs: 60_000 },
  );
}

async function postInChunks(tocsin: TestTocsin, alerts: readonly unknown[]): Promise<void> {
  for (let i = 0; i < alerts.length; i += 50) {
    const res = await tocsin.request(
      '/api/v1/ingest/generic',
      jsonRequest(alerts.slice(i, i + 50)),
    );
    expect(res.status).toBe(202);
  }
}

/** The live pipeline's incidents by fingerprint, from the database. */
async function liveIncidents(tocsin: TestTocsin): Promise<string[][]> {
  const pool = createPool(tocsin.config.databaseUrl, 1);
  try {
    const { rows } = await pool.query<{ fingerprint: string; incident_id: string }>(
      'SELECT fingerprint, incident_id FROM alerts',
    );
    return partition(rows.map((r) => [r.fingerprint, r.incident_id]));
  } finally {
    await pool.end();
  }
}

/** What two runs must also agree on per alert episode: its state, and why it is where it is. */
type AlertDecision = {
  status: string;
  flapping: boolean;
  changes: number;
  count: number;
  decision: string;
  score: number;
  text: number;
};

/** The live pipeline's alerts by fingerprint and episode, from the database. */
async function liveAlerts(tocsin: TestTocsin): Promise<Record<string, AlertDecision>> {
  const pool = createPool(tocsin.config.databaseUrl, 1);
  try {
    const { rows } = await pool.query<{
      key: string;
      status: string;
      flapping: boolean;
      changes: number;
      count: number;
      explanation: { decision: string; score: number; text: number };
    }>(
      `SELECT fingerprint || '/' || episode AS key, status, flapping, changes, count, explanation
       FROM alerts ORDER BY fingerprint, episode`,
    );
    return Object.fromEntries(
      rows.map(({ key, explanation: { decision, score, text }, ...state }) => [
        key,
        { ...state, decision, score, text },
      ]),
    );
  } finally {
    await pool.end();
  }
}

/** The inbox exported in the correlator's order and replayed: its alerts as liveAlerts() has them. */
async function replayedAlerts(
  tocsin: TestTocsin,
  expected: number,
): Promise<Record<string, AlertDecision>> {
  const pool = createPool(tocsin.config.databaseUrl, 1);
  try {
    const lines: string[] = [];
    for await (const d of correlatedDeliveries(pool, { from: '-infinity', until: 'infinity' }))
      lines.push(JSON.stringify({ receivedAt: d.receivedAt, alert: d.alert }));
    const deliveries = parseStream(lines.join('\n'));
    expect(deliveries).toHaveLength(expected);
    const { alertOf } = await replay(await readCmdb(pool), deliveries);
    // Episodes are numbered per fingerprint in the order the engine made them: first delivery.
    const episodes = new Map<string, number>();
    const seen = new Map<EngineAlert, string>();
    for (const alert of alertOf)
      if (!seen.has(alert)) {
        const episode = (episodes.get(alert.fingerprint) ?? 0) + 1;
        episodes.set(alert.fingerprint, episode);
        seen.set(alert, `${alert.fingerprint}/${episode}`);
      }
    return Object.fromEntries(
      [...seen]
        .sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([alert, key]) => [
          key,
          {
            status: alert.firing ? 'firing' : 'resolved',
            flapping: alert.flapping,
            changes: alert.changes,
            count: alert.deliveries,
            decision: alert.explanation.decision,
            score: alert.explanation.score,
            text: alert.explanation.text,
          },
        ]),
    );
  } finally {
    await pool.end();
  }
}

/** The inbox exported in the correlator's order, replayed in process over the stored CMDB. */
async function replayed(tocsin: TestTocsin, expected = stream.length): Promise<string[][]> {
  const pool = createPool(tocsin.config.databaseUrl, 1);
  try {
    const lines: string[] = [];
    for await (const d of correlatedDeliveries(pool, { from: '-infinity', until: 'infinity' }, 97))
      lines.push(JSON.stringify({ receivedAt: d.receivedAt, alert: d.alert }));
    const deliveries = parseStream(lines.join('\n'));
    expect(deliveries).toHaveLength(expected);
    const result = await replay(await readCmdb(pool), deliveries);
    return partition(
      deliveries.map((d, i) => [d.alert.fingerprint!, result.incidentOf[i]!] as [string, string]),
    );
  } finally {
    await pool.end();
  }
}

describe('a stream replayed', () => {
  it('gives the same incidents every time', async () => {
    const deliveries = parseStream(stream.map((a) => JSON.stringify(a)).join('\n'));
    const a = await replay(estate, deliveries);
    const b = await replay(estate, deliveries);
    expect(b).toEqual(a);
    const incidents = new Set(a.incidentOf).size;
    expect(incidents).toBeGreaterThan(10);
    expect(incidents).toBeLessThan(deliveries.length / 2);
  });

  it('rejects a line that is not an alert, naming it', () => {
    expect(() =>
      parseStream('{"title":"ok","startsAt":"2026-11-20T10:00:00Z"}\n{"severity":1}'),
    ).toThrow(StreamError);
    expect(() =>
      parseStream('{"title":"ok","startsAt":"2026-11-20T10:00:00Z"}\n{"severity":1}'),
    ).toThrow(/^line 2: \/title/);
    expect(() => parseStream('not json')).toThrow(/^line 1: not JSON/);
  });
});

describe('the live pipeline and a replay of what it received', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await startTestTocsin();
    expect((await tocsin.request('/api/v1/cmdb/import', jsonRequest(estate))).status).toBe(200);
    await postInChunks(tocsin, stream);
    await drained(tocsin);
  }, 120_000);
  afterAll(() => tocsin.destroy());

  it('make the same incidents', async () => {
    const live = await liveIncidents(tocsin);
    expect(live.length).toBeGreaterThan(10);
    expect(await replayed(tocsin)).toEqual(live);
  });
});

/**
 * The pool with a hook that runs once, right before the next read of the inbox: what it does
 * lands between the correlator's other reads and that one, however fast or slow the machine.
 */
function beforeNextInboxRead(pool: Pool): {
  pool: Pool;
  /** Resolves once the hook has run. */
  arm(hook: () => Promise<void>): Promise<void>;
} {
  let armed: (() => Promise<void>) | null = null;
  const hooked = new Proxy(pool, {
    get(target, key) {
      if (key === 'query')
        return async (text: string, values?: unknown[]) => {
          if (
            armed !== null &&
            /FROM alert_inbox\s+WHERE processed_at IS NULL AND NOT \(id BETWEEN/.test(text)
          ) {
            const hook = armed;
            armed = null;
            await hook();
          }
          return target.query(text, values);
        };
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return {
    pool: hooked,
    arm(hook) {
      return new Promise((resolve, reject) => {
        armed = () => hook().then(resolve, reject);
      });
    },
  };
}

describe('the live correlator and a reorder buffer', () => {
  it('refuses one: the deliveries it held would be marked correlated and lost with the process', () => {
    const options = {
      pool: createPool('postgres://127.0.0.1:1/none', 1),
      priorityMatrix: [[1]],
      log: pino({ level: 'silent' }),
    };
    expect(() => new LiveCorrelator({ ...options, engine: { reorderMs: 60_000 } })).toThrow(
      /reorderMs must be 0 for the live correlator/,
    );
    expect(() => new LiveCorrelator({ ...options, engine: { reorderMs: 0 } })).not.toThrow();
    void options.pool.end();
  });
});

describe('a CMDB change that lands just before the correlator reads the alerts after it', () => {
  let ingest: TestTocsin;
  let pool: Pool;
  let correlator: LiveCorrelator | undefined;
  beforeAll(async () => {
    ingest = await startTestTocsin({ roles: ['ingest', 'services'] });
    pool = createPool(ingest.config.databaseUrl, 4);
  });
  afterAll(async () => {
    await correlator?.close();
    await pool.end();
    await ingest.destroy();
  });

  it('correlates those alerts on the changed CMDB, as a replay does', async () => {
    const inbox = beforeNextInboxRead(pool);
    correlator = new LiveCorrelator({
      pool: inbox.pool,
      engine: {},
      priorityMatrix: ingest.config.priorityMatrix,
      log: pino({ level: 'silent' }),
    });
    correlator.start();
    await eventually(() => Promise.resolve(correlator!.leader ? true : undefined), {
      what: 'the lease',
    });
    // It holds the lease on an empty CMDB. The estate is imported and the storm accepted after
    // it, both after the correlator last looked at the CMDB and before it reads the storm.
    await inbox.arm(async () => {
      expect((await ingest.request('/api/v1/cmdb/import', jsonRequest(estate))).status).toBe(200);
      await postInChunks(ingest, stream);
    });
    await drained(ingest);
    const live = await liveIncidents(ingest);
    expect(live.length).toBeGreaterThan(10);
    expect(await replayed(ingest)).toEqual(live);
  });
});

describe('a CMDB change while the live pipeline correlates', () => {
  let tocsin: TestTocsin;
  beforeAll(async () => {
    tocsin = await startTestTocsin();
    const cmdb = {
      cis: [
        { name: 'db-ledger', class: 'database' },
        { name: 'app-billing', class: 'application' },
      ],
      relationships: [{ source: 'app-billing', target: 'db-ledger', type: 'depends_on' }],
    };
    expect((await tocsin.request('/api/v1/cmdb/import', jsonRequest(cmdb))).status).toBe(200);
  });
  afterAll(() => tocsin.destroy());

  it('changes nothing else: an alert flapping across it is still one flapping alert', async () => {
    const T0 = Date.parse('2026-11-20T10:00:00.000Z');
    const flap = (status: string, seconds: number) => ({
      title: 'Interface eth0 down on db-ledger',
      ci: 'db-ledger',
      fingerprint: 'flap-across',
      status,
      startsAt: new Date(T0 + seconds * 1000).toISOString(),
      ...(status === 'resolved' ? { endsAt: new Date(T0 + seconds * 1000).toISOString() } : {}),
    });
    await postInChunks(tocsin, [
      flap('firing', 0),
      flap('resolved', 60),
      flap('firing', 120),
      flap('resolved', 180),
    ]);
    await drained(tocsin);
    const unrelated = { cis: [{ name: 'printer-7', class: 'server' }], relationships: [] };
    expect((await tocsin.request('/api/v1/cmdb/import', jsonRequest(unrelated))).status).toBe(200);
    // The fourth change within the flap window, after the CMDB changed.
    await postInChunks(tocsin, [flap('firing', 240)]);
    await drained(tocsin);
    const pool = createPool(tocsin.config.databaseUrl, 1);
    try {
      const { rows } = await pool.query<{ flapping: boolean; changes: number }>(
        "SELECT flapping, changes FROM alerts WHERE fingerprint = 'flap-across'",
      );
      expect(rows).toEqual([{ flapping: true, changes: 4 }]);
    } finally {
      await pool.end();
    }
    expect(await replayed(tocsin, 5)).toEqual(await liveIncidents(tocsin));
  });
});

describe('four correlator processes on one stream', () => {
  const half = Math.floor(stream.length / 2);
  let ingest: TestTocsin;
  const correlators: TestTocsin[] = [];
  beforeAll(async () => {
    ingest = await startTestTocsin({ roles: ['ingest', 'services'] });
    expect((await ingest.request('/api/v1/cmdb/import', jsonRequest(estate))).status).toBe(200);
  });
  afterAll(async () => {
    for (const c of correlators) await c.destroy();
    await ingest.destroy();
  });

  it('make the same incidents as one', async () => {
    for (let i = 0; i < 4; i++)
      correlators.push(await startTestTocsin({ roles: ['correlator'], sharing: ingest }));
    await postInChunks(ingest, stream.slice(0, half));
    await drained(ingest);
    expect(correlators.filter((c) => c.correlatorLeader())).toHaveLength(1);
    expect(await liveIncidents(ingest)).toEqual(await replayed(ingest, half));
  }, 120_000);

  it('make the same incidents as one when the one holding the lease stops, three times', async () => {
    // The stream's event times are weeks before the clock: the successor restores by event time.
    const rest = stream.length - half;
    for (const [from, to] of [
      [half, half + Math.floor(rest / 3)],
      [half + Math.floor(rest / 3), half + Math.floor((2 * rest) / 3)],
      [half + Math.floor((2 * rest) / 3), stream.length],
    ] as const) {
      const leader = correlators.find((c) => c.correlatorLeader())!;
      await leader.close();
      correlators.splice(correlators.indexOf(leader), 1);
      await postInChunks(ingest, stream.slice(from, to));
      await drained(ingest);
      expect(correlators.filter((c) => c.correlatorLeader())).toHaveLength(1);
      // Each successor restored the engine as it stood: the incidents are a replay's, and so is
      // every alert's state and why it is where it is (the text statistics weigh in the score).
      expect(await liveIncidents(ingest)).toEqual(await replayed(ingest, to));
      expect(await liveAlerts(ingest)).toEqual(await replayedAlerts(ingest, to));
    }
    const pool = createPool(ingest.config.databaseUrl, 1);
    try {
      const { rows } = await pool.query<{ alone: string }>(
        'SELECT count(*) AS alone FROM alerts WHERE incident_id IS NULL',
      );
      expect(rows[0]!.alone).toBe('0');
    } finally {
      await pool.end();
    }
  }, 180_000);
});
