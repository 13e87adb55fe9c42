import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, Severity } from '../../correlator/alert.ts';
import { insertAlert } from '../../services/store/alerts.ts';
import {
  markOverridesApplied,
  pendingOverrides,
} from '../../services/store/correlation-overrides.ts';
import { createPool, type Pool } from '../../services/store/db.ts';
import { insertIncident } from '../../services/store/incidents.ts';
import { jsonRequest, personToken, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
let pool: Pool;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  tocsin = await startTestTocsin({ roles: ['services'] });
  pool = createPool(tocsin.config.databaseUrl, 2);
  tokens.noc = await personToken(tocsin, 'nora', ['noc_operator']);
  tokens.viewer = await personToken(tocsin, 'vic', ['viewer']);
});
afterAll(async () => {
  await pool?.end();
  await tocsin?.destroy();
});

const T0 = '2026-11-20T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
let fingerprints = 0;

type AlertSeed = {
  title?: string;
  ci?: string | null;
  severity?: Severity;
  status?: Alert['status'];
  minutes?: number;
};

/** An incident as the correlator would have left it, with its alerts, written through the store. */
async function seedIncident(
  title: string,
  alerts: AlertSeed[],
): Promise<{ id: string; number: string; alertIds: string[] }> {
  const incident = await insertIncident(pool, {
    title,
    severity: 'warning',
    urgency: 2,
    priority: 3,
    openedAt: at(Math.min(...alerts.map((a) => a.minutes ?? 0))),
    cis: [],
  });
  const alertIds: string[] = [];
  for (const seed of alerts) {
    const stored = await insertAlert(
      pool,
      {
        title: seed.title ?? `${title} alert`,
        description: null,
        severity: seed.severity ?? 'warning',
        status: seed.status ?? 'firing',
        ci: seed.ci === undefined ? null : seed.ci,
        service: null,
        source: 'generic',
        fingerprint: `fp-${++fingerprints}`,
        labels: {},
        startsAt: at(seed.minutes ?? 0),
        endsAt: null,
      },
      incident.id,
      { receivedAt: at(seed.minutes ?? 0), deliveryId: null },
    );
    alertIds.push(stored.id);
  }
  await pool.query('UPDATE incidents SET alert_count = $2 WHERE id = $1', [
    incident.id,
    alerts.length,
  ]);
  return { id: incident.id, number: incident.number, alertIds };
}

type IncidentRow = {
  state: string;
  severity: string;
  opened_at: string;
  last_alert_at: string;
  alert_count: number;
  cis: string[];
  merged_into: string | null;
  resolution_code: string | null;
  resolution_notes: string | null;
  closed_at: string | null;
  created_by: string;
  title: string;
  priority: number;
  version: string;
};

async function incidentRow(id: string): Promise<IncidentRow> {
  const { rows } = await pool.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
  return rows[0]!;
}

async function alertRows(
  ids: string[],
): Promise<Map<string, { incidentId: string; pinned: boolean }>> {
  const { rows } = await pool.query<{ id: string; incident_id: string; pinned: boolean }>(
    'SELECT id, incident_id, pinned FROM alerts WHERE id = ANY($1::bigint[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, { incidentId: r.incident_id, pinned: r.pinned }]));
}

async function overrides(): Promise<
  { id: string; kind: string; payload: unknown; actor: string; applied_at: string | null }[]
> {
  const { rows } = await pool.query<{
    id: string;
    kind: string;
    payload: unknown;
    actor: string;
    applied_at: string | null;
  }>('SELECT id, kind, payload, actor, applied_at FROM correlation_overrides ORDER BY id');
  return rows;
}

async function audit(type: string, id: string) {
  const { rows } = await pool.query<{
    actor: string;
    action: string | null;
    operation: string;
    field: string;
    old_value: unknown;
    new_value: unknown;
  }>(
    `SELECT actor, action, operation, field, old_value, new_value FROM audit_log
     WHERE record_type = $1 AND record_id = $2 ORDER BY id`,
    [type, id],
  );
  return rows;
}

async function outboxed(type: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ record_id: string }>(
    'SELECT record_id FROM search_outbox WHERE record_type = $1',
    [type],
  );
  return new Set(rows.map((r) => r.record_id));
}

const post = (path: string, body: unknown, token = tokens.noc!, headers = {}) =>
  tocsin.request(path, jsonRequest(body, token, headers));

async function problem(res: Response, status: number) {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  return (await res.json()) as { type: string; pointer?: string; detail?: string };
}

describe('merging incidents', () => {
  it('moves every alert into the target, cancels the merged ones and re-derives the target', async () => {
    const target = await seedIncident('Disk full', [
      { ci: 'db-1', severity: 'warning', minutes: 10 },
      { ci: 'db-1', severity: 'minor', status: 'resolved', minutes: 12 },
    ]);
    const b = await seedIncident('Checkout errors', [
      { ci: 'app-1', severity: 'critical', minutes: 0 },
    ]);
    const c = await seedIncident('Latency', [{ ci: null, severity: 'major', minutes: 20 }]);
    await pool.query('UPDATE alerts SET pinned = true WHERE id = $1', [c.alertIds[0]]);
    const before = await overrides();

    const res = await post(`/api/v1/incidents/${target.id}/merge`, {
      incidentIds: [b.id, c.id],
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const served = (await res.json()) as Record<string, unknown>;
    expect(served).toMatchObject({
      id: target.id,
      alertCount: 4,
      severity: 'critical',
      cis: ['app-1', 'db-1'],
      openedAt: at(0),
      lastAlertAt: at(20),
      state: 'new',
    });
    expect(res.headers.get('ETag')).toBe(`"${served.version as number}"`);

    const row = await incidentRow(target.id);
    expect(row).toMatchObject({ alert_count: 4, severity: 'critical', cis: ['app-1', 'db-1'] });
    expect(row.opened_at).toBe(at(0));
    expect(row.last_alert_at).toBe(at(20));

    for (const merged of [b, c]) {
      const m = await incidentRow(merged.id);
      expect(m).toMatchObject({
        state: 'canceled',
        merged_into: target.id,
        resolution_code: 'merged',
        resolution_notes: `Merged into ${target.number} by user:nora.`,
        alert_count: 0,
      });
      expect(m.closed_at).toEqual(expect.any(String));
    }

    const alerts = await alertRows([...target.alertIds, ...b.alertIds, ...c.alertIds]);
    for (const [, a] of alerts) expect(a.incidentId).toBe(target.id);
    // Pinned stays as it was: a merge pins nothing, and unpins nothing.
    expect(alerts.get(c.alertIds[0]!)!.pinned).toBe(true);
    expect(alerts.get(b.alertIds[0]!)!.pinned).toBe(false);
    expect(alerts.get(target.alertIds[0]!)!.pinned).toBe(false);

    const added = (await overrides()).slice(before.length);
    expect(added).toEqual([
      {
        id: expect.any(String) as string,
        kind: 'merge',
        payload: { incidentIds: [b.id, c.id], into: target.id },
        actor: 'user:nora',
        applied_at: null,
      },
    ]);

    expect(await audit('incident', b.id)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'user:nora',
          action: 'merge',
          field: 'merged_into',
          old_value: null,
          new_value: Number(target.id),
        }),
        expect.objectContaining({ field: 'state', old_value: 'new', new_value: 'canceled' }),
      ]),
    );
    expect(await audit('incident', target.id)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'user:nora',
          action: 'merge',
          field: 'severity',
          old_value: 'warning',
          new_value: 'critical',
        }),
      ]),
    );
    expect(await audit('alert', b.alertIds[0]!)).toEqual([
      {
        actor: 'user:nora',
        action: 'merge',
        operation: 'update',
        field: 'incident_id',
        old_value: Number(b.id),
        new_value: Number(target.id),
      },
    ]);

    const incidents = await outboxed('incident');
    for (const id of [target.id, b.id, c.id]) expect(incidents).toContain(id);
    const alertsOut = await outboxed('alert');
    for (const id of [...b.alertIds, ...c.alertIds]) expect(alertsOut).toContain(id);

    // The history route serves the merge like any other change.
    const history = await tocsin.request(`/api/v1/incidents/${b.id}/history`);
    const entries = ((await history.json()) as { items: { field: string; action: string }[] })
      .items;
    expect(entries).toContainEqual(expect.objectContaining({ field: 'state', action: 'merge' }));
  });

  it('refuses unknown, closed and self merges, and bad bodies, changing nothing', async () => {
    const target = await seedIncident('Target', [{ ci: 'x-1' }]);
    const other = await seedIncident('Other', [{ ci: 'x-2' }]);
    const merged = await seedIncident('Merged away', [{ ci: 'x-3' }]);
    expect(
      (await post(`/api/v1/incidents/${other.id}/merge`, { incidentIds: [merged.id] })).status,
    ).toBe(200);
    const before = await overrides();
    const targetBefore = await incidentRow(target.id);

    const unknownPath = await problem(
      await post('/api/v1/incidents/99999999/merge', { incidentIds: [other.id] }),
      404,
    );
    expect(unknownPath.pointer).toBe('');
    const unknownListed = await problem(
      await post(`/api/v1/incidents/${target.id}/merge`, { incidentIds: [other.id, '99999999'] }),
      404,
    );
    expect(unknownListed.pointer).toBe('/incidentIds/1');

    const self = await problem(
      await post(`/api/v1/incidents/${target.id}/merge`, { incidentIds: [target.id] }),
      409,
    );
    expect(self).toMatchObject({
      type: 'https://tocsin.dev/problems/merge-into-self',
      pointer: '/incidentIds/0',
    });

    const intoMerged = await problem(
      await post(`/api/v1/incidents/${merged.id}/merge`, { incidentIds: [target.id] }),
      409,
    );
    expect(intoMerged).toMatchObject({
      type: 'https://tocsin.dev/problems/incident-closed',
      pointer: '',
    });
    expect(intoMerged.detail).toContain(`merged into incident ${other.id}`);
    const mergingMerged = await problem(
      await post(`/api/v1/incidents/${target.id}/merge`, { incidentIds: [merged.id] }),
      409,
    );
    expect(mergingMerged.pointer).toBe('/incidentIds/0');

    for (const [body, pointer] of [
      [{ incidentIds: [] }, '/incidentIds'],
      [{ incidentIds: ['abc'] }, '/incidentIds/0'],
      [{ incidentIds: [other.id, other.id] }, '/incidentIds'],
      [{ incidentIds: [other.id], into: '1' }, '/into'],
      [{}, '/incidentIds'],
    ] as const) {
      const bad = await problem(await post(`/api/v1/incidents/${target.id}/merge`, body), 400);
      expect(bad.pointer, JSON.stringify(body)).toBe(pointer);
    }

    const stale = await problem(
      await post(`/api/v1/incidents/${target.id}/merge`, { incidentIds: [other.id] }, undefined, {
        'If-Match': '"999"',
      }),
      412,
    );
    expect(stale.type).toBe('https://tocsin.dev/problems/precondition-failed');

    expect(
      (
        await post(
          `/api/v1/incidents/${target.id}/merge`,
          { incidentIds: [other.id] },
          tokens.viewer,
        )
      ).status,
    ).toBe(403);
    expect(
      (
        await tocsin.request(`/api/v1/incidents/${target.id}/merge`, {
          ...jsonRequest({ incidentIds: [other.id] }),
          token: null,
        })
      ).status,
    ).toBe(401);

    // Nothing changed: no override, the target and the other incident as they were.
    expect(await overrides()).toEqual(before);
    expect(await incidentRow(target.id)).toEqual(targetBefore);
    expect((await incidentRow(other.id)).state).toBe('new');

    // With the right version the same merge goes through.
    const ok = await post(
      `/api/v1/incidents/${target.id}/merge`,
      { incidentIds: [other.id] },
      undefined,
      {
        'If-Match': `"${targetBefore.version}"`,
      },
    );
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(await ok.json()).toMatchObject({ alertCount: 3, cis: ['x-1', 'x-2', 'x-3'] });
  });
});

describe('concurrent corrections', () => {
  it('merging two incidents into each other at once: one wins, the other is refused', async () => {
    const a = await seedIncident('Twin A', [{ ci: 't-1' }]);
    const b = await seedIncident('Twin B', [{ ci: 't-2' }]);
    const answers = await Promise.all([
      post(`/api/v1/incidents/${a.id}/merge`, { incidentIds: [b.id] }),
      post(`/api/v1/incidents/${b.id}/merge`, { incidentIds: [a.id] }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const rows = [await incidentRow(a.id), await incidentRow(b.id)];
    expect(rows.map((r) => r.state).sort()).toEqual(['canceled', 'new']);
    const survivor = rows[0]!.state === 'new' ? a : b;
    expect(rows.find((r) => r.state === 'new')!.alert_count).toBe(2);
    expect(rows.find((r) => r.state === 'canceled')!.merged_into).toBe(survivor.id);
  });
});

describe('splitting an incident', () => {
  it('moves the alerts to a new incident created by the person, pinned, and re-derives both', async () => {
    const source = await seedIncident('Storm', [
      { title: 'DB down', ci: 'db-2', severity: 'critical', minutes: 0 },
      { title: 'Web slow', ci: 'web-1', severity: 'warning', minutes: 5 },
      { title: 'Web errors', ci: 'web-1', severity: 'minor', minutes: 6 },
      { title: 'Web old', ci: 'web-2', severity: 'critical', status: 'resolved', minutes: 7 },
    ]);
    await pool.query('UPDATE incidents SET impact = 1, urgency = 1, priority = 1 WHERE id = $1', [
      source.id,
    ]);
    const [d1, d2, d3, d4] = source.alertIds as [string, string, string, string];
    const before = await overrides();

    const res = await post(`/api/v1/incidents/${source.id}/split`, { alertIds: [d3, d2, d4] });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = (await res.json()) as Record<string, unknown> & { id: string; version: number };
    expect(res.headers.get('Location')).toBe(`/api/v1/incidents/${created.id}`);
    expect(res.headers.get('ETag')).toBe(`"${created.version}"`);
    expect(created).toMatchObject({
      // Named after its worst firing alert.
      title: 'Web errors on web-1',
      createdBy: 'user:nora',
      state: 'new',
      severity: 'minor',
      alertCount: 3,
      cis: ['web-1', 'web-2'],
      openedAt: at(5),
      lastAlertAt: at(7),
      impact: 1,
      urgency: 1,
      priority: 1,
      allowedActions: ['acknowledge', 'hold', 'resolve', 'cancel'],
    });

    const left = await incidentRow(source.id);
    expect(left).toMatchObject({
      state: 'new',
      alert_count: 1,
      cis: ['db-2'],
      severity: 'critical',
    });
    expect(left.last_alert_at).toBe(at(0));
    expect(left.opened_at).toBe(at(0));

    const alerts = await alertRows(source.alertIds);
    expect(alerts.get(d1)).toEqual({ incidentId: source.id, pinned: false });
    for (const id of [d2, d3, d4])
      expect(alerts.get(id)).toEqual({ incidentId: created.id, pinned: true });

    const added = (await overrides()).slice(before.length);
    expect(added).toEqual([
      expect.objectContaining({
        kind: 'split',
        payload: { alertIds: [d3, d2, d4], from: source.id, incidentId: created.id },
        actor: 'user:nora',
        applied_at: null,
      }),
    ]);

    const createdAudit = await audit('incident', created.id);
    expect(createdAudit[0]).toMatchObject({
      actor: 'user:nora',
      action: 'split',
      operation: 'insert',
      field: '*',
    });
    expect(await audit('alert', d2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'split',
          field: 'incident_id',
          new_value: Number(created.id),
        }),
        expect.objectContaining({
          action: 'split',
          field: 'pinned',
          old_value: false,
          new_value: true,
        }),
      ]),
    );
    const incidents = await outboxed('incident');
    expect(incidents).toContain(source.id);
    expect(incidents).toContain(created.id);
    const alertsOut = await outboxed('alert');
    for (const id of [d2, d3, d4]) expect(alertsOut).toContain(id);
  });

  it('refuses alerts of another incident, all of them, unknown ones and closed incidents', async () => {
    const source = await seedIncident('Pair', [{ ci: 'p-1' }, { ci: 'p-2' }]);
    const other = await seedIncident('Elsewhere', [{ ci: 'e-1' }]);
    const before = await overrides();
    const split = (id: string, alertIds: string[]) =>
      post(`/api/v1/incidents/${id}/split`, { alertIds });

    expect((await problem(await split('99999999', [source.alertIds[0]!]), 404)).pointer).toBe('');
    expect(
      (await problem(await split(source.id, [source.alertIds[0]!, '99999999']), 404)).pointer,
    ).toBe('/alertIds/1');
    const elsewhere = await problem(await split(source.id, [other.alertIds[0]!]), 422);
    expect(elsewhere).toMatchObject({
      type: 'https://tocsin.dev/problems/alert-not-in-incident',
      pointer: '/alertIds/0',
    });
    const all = await problem(await split(source.id, source.alertIds), 422);
    expect(all).toMatchObject({
      type: 'https://tocsin.dev/problems/split-takes-all',
      pointer: '/alertIds',
    });
    expect((await problem(await split(source.id, []), 400)).pointer).toBe('/alertIds');

    await pool.query("UPDATE incidents SET state = 'closed', closed_at = now() WHERE id = $1", [
      other.id,
    ]);
    const closed = await problem(await split(other.id, [other.alertIds[0]!]), 409);
    expect(closed.type).toBe('https://tocsin.dev/problems/incident-closed');

    expect(await overrides()).toEqual(before);
    const alerts = await alertRows(source.alertIds);
    for (const [, a] of alerts) expect(a).toEqual({ incidentId: source.id, pinned: false });
    const { rows } = await pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM incidents WHERE created_by = 'user:nora' AND title LIKE 'Pair%'",
    );
    expect(rows[0]!.n).toBe('0');
  });
});

describe('moving an alert', () => {
  it('pins it in the target, re-derives both, and cancels an incident left empty', async () => {
    const from = await seedIncident('Lonely', [{ ci: 'q-1', severity: 'critical', minutes: 30 }]);
    const to = await seedIncident('Queue', [{ ci: 'q-2', severity: 'minor', minutes: 40 }]);
    const alertId = from.alertIds[0]!;
    const before = await overrides();

    const res = await post(`/api/v1/alerts/${alertId}/move`, { incidentId: to.id });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as {
      alert: Record<string, unknown>;
      from: Record<string, unknown>;
      to: Record<string, unknown>;
    };
    expect(body.alert).toMatchObject({ id: alertId, incidentId: to.id });
    expect(body.to).toMatchObject({
      id: to.id,
      alertCount: 2,
      severity: 'critical',
      cis: ['q-1', 'q-2'],
      openedAt: at(30),
      lastAlertAt: at(40),
    });
    expect(body.from).toMatchObject({
      id: from.id,
      state: 'canceled',
      alertCount: 0,
      resolutionCode: 'canceled',
    });

    const emptied = await incidentRow(from.id);
    expect(emptied).toMatchObject({ state: 'canceled', merged_into: null, alert_count: 0 });
    expect(emptied.resolution_notes).toBe(
      `Its last alert was moved to ${to.number} by user:nora; no alert is left in it.`,
    );
    expect(await alertRows([alertId])).toEqual(
      new Map([[alertId, { incidentId: to.id, pinned: true }]]),
    );
    expect((await overrides()).slice(before.length)).toEqual([
      expect.objectContaining({
        kind: 'move',
        payload: { alertIds: [alertId], from: from.id, incidentId: to.id },
        actor: 'user:nora',
      }),
    ]);
    expect(await audit('incident', from.id)).toContainEqual(
      expect.objectContaining({ action: 'move', field: 'state', new_value: 'canceled' }),
    );
    expect(await audit('alert', alertId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: 'user:nora', action: 'move', field: 'pinned' }),
        expect.objectContaining({
          field: 'incident_id',
          old_value: Number(from.id),
          new_value: Number(to.id),
        }),
      ]),
    );
    expect(await outboxed('incident')).toContain(from.id);
    expect(await outboxed('alert')).toContain(alertId);
  });

  it('keeps an incident that still has alerts, and pins an alert moved to its own incident', async () => {
    const from = await seedIncident('Two', [
      { ci: 'r-1', severity: 'critical', minutes: 0 },
      { ci: 'r-2', severity: 'warning', minutes: 1 },
    ]);
    const to = await seedIncident('Other', [{ ci: 'r-3', minutes: 2 }]);
    const res = await post(`/api/v1/alerts/${from.alertIds[0]!}/move`, { incidentId: to.id });
    expect(res.status).toBe(200);
    expect(await incidentRow(from.id)).toMatchObject({
      state: 'new',
      alert_count: 1,
      cis: ['r-2'],
      // No alert of that severity fires there any more.
      severity: 'warning',
    });

    const stay = from.alertIds[1]!;
    const pinned = await post(`/api/v1/alerts/${stay}/move`, { incidentId: from.id });
    expect(pinned.status).toBe(200);
    expect(await pinned.json()).toMatchObject({ from: null, to: { id: from.id, alertCount: 1 } });
    expect(await alertRows([stay])).toEqual(
      new Map([[stay, { incidentId: from.id, pinned: true }]]),
    );
    expect((await overrides()).at(-1)).toMatchObject({
      kind: 'move',
      payload: { alertIds: [stay], from: from.id, incidentId: from.id },
    });
  });

  it('refuses unknown alerts and incidents, closed targets, stale versions and bad bodies', async () => {
    const from = await seedIncident('Mover', [{ ci: 's-1' }, { ci: 's-2' }]);
    const closed = await seedIncident('Done', [{ ci: 's-3' }]);
    await pool.query("UPDATE incidents SET state = 'canceled' WHERE id = $1", [closed.id]);
    const alertId = from.alertIds[0]!;
    const before = await overrides();
    const move = (id: string, body: unknown, headers = {}) =>
      post(`/api/v1/alerts/${id}/move`, body, undefined, headers);

    expect((await problem(await move('99999999', { incidentId: from.id }), 404)).pointer).toBe('');
    expect((await problem(await move(alertId, { incidentId: '99999999' }), 404)).pointer).toBe(
      '/incidentId',
    );
    expect(await problem(await move(alertId, { incidentId: closed.id }), 409)).toMatchObject({
      type: 'https://tocsin.dev/problems/incident-closed',
      pointer: '/incidentId',
    });
    expect((await problem(await move(alertId, { incidentId: 'x' }), 400)).pointer).toBe(
      '/incidentId',
    );
    expect(
      (await problem(await move(alertId, { incidentId: from.id }, { 'If-Match': '"42"' }), 412))
        .type,
    ).toBe('https://tocsin.dev/problems/precondition-failed');
    expect(
      (await post(`/api/v1/alerts/${alertId}/move`, { incidentId: closed.id }, tokens.viewer))
        .status,
    ).toBe(403);

    expect(await overrides()).toEqual(before);
    expect(await alertRows([alertId])).toEqual(
      new Map([[alertId, { incidentId: from.id, pinned: false }]]),
    );
    // A matching If-Match (the alert's version) lets it through.
    const ok = await move(alertId, { incidentId: from.id }, { 'If-Match': '"1"' });
    expect(ok.status, await ok.clone().text()).toBe(200);
  });
});

describe('the correlator’s view of overrides', () => {
  it('reads pending overrides in id order after a cursor, and marks them applied', async () => {
    const all = await overrides();
    expect(all.length).toBeGreaterThan(3);
    const first = await pendingOverrides(pool, '0', 2);
    expect(first.map((o) => o.id)).toEqual(all.slice(0, 2).map((o) => o.id));
    expect(first[0]).toMatchObject({
      kind: all[0]!.kind,
      payload: all[0]!.payload,
      actor: 'user:nora',
      createdAt: expect.stringMatching(/Z$/) as string,
      appliedAt: null,
    });
    const next = await pendingOverrides(pool, first[1]!.id, 1000);
    expect(next.map((o) => o.id)).toEqual(all.slice(2).map((o) => o.id));

    expect(
      await markOverridesApplied(
        pool,
        first.map((o) => o.id),
      ),
    ).toBe(2);
    expect(
      await markOverridesApplied(
        pool,
        first.map((o) => o.id),
      ),
    ).toBe(0);
    expect(await markOverridesApplied(pool, [])).toBe(0);
    const pending = await pendingOverrides(pool, '0', 1000);
    expect(pending.map((o) => o.id)).toEqual(all.slice(2).map((o) => o.id));
    const applied = (await overrides()).slice(0, 2);
    for (const o of applied) expect(o.applied_at).toEqual(expect.any(String));
  });
});
