/**
 * Determinism and scale-out: the same stream always gives the same incidents; a replay of what
 * the live pipeline received gives the incidents the live pipeline made; and three correlator
 * processes on one stream give the same incidents as one, and lose nothing when the holder stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEstate } from '../../bench/correlation/estate.ts';
import { defaultStormOptions, generateStorm, type Tier } from '../../bench/correlation/storms.ts';
import { parseStream, replay, StreamError } from '../../correlator/replay.ts';
import { correlatedDeliveries, readCmdb } from '../../services/store/correlation.ts';
import { createPool } from '../../services/store/db.ts';
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

describe('three correlator processes on one stream', () => {
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
    for (let i = 0; i < 3; i++)
      correlators.push(await startTestTocsin({ roles: ['correlator'], sharing: ingest }));
    await postInChunks(ingest, stream.slice(0, half));
    await drained(ingest);
    expect(correlators.filter((c) => c.correlatorLeader())).toHaveLength(1);
    expect(await liveIncidents(ingest)).toEqual(await replayed(ingest, half));
  }, 120_000);

  it('lose nothing when the one holding the lease stops', async () => {
    const leader = correlators.find((c) => c.correlatorLeader())!;
    await leader.close();
    correlators.splice(correlators.indexOf(leader), 1);
    await postInChunks(ingest, stream.slice(half));
    await drained(ingest);
    expect(correlators.filter((c) => c.correlatorLeader())).toHaveLength(1);
    const pool = createPool(ingest.config.databaseUrl, 1);
    try {
      const { rows } = await pool.query<{ alone: string }>(
        'SELECT count(*) AS alone FROM alerts WHERE incident_id IS NULL',
      );
      expect(rows[0]!.alone).toBe('0');
    } finally {
      await pool.end();
    }
    // The successor restores open incidents and alerts from storage, but not the engine's
    // background statistics (recent onset rates): its decisions may differ slightly from one
    // uninterrupted correlator's. Every alert is correlated; the incidents stay close.
    const live = await liveIncidents(ingest);
    const replay = await replayed(ingest, stream.length);
    expect(Math.abs(live.length - replay.length)).toBeLessThanOrEqual(replay.length * 0.1);
  }, 120_000);
});
