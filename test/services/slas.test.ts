import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, withTransaction, type Pool } from '../../services/store/db.ts';
import { lockSlaSubject, syncSlaTimers, type SlaTimer } from '../../services/store/slas.ts';
import { startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
let pool: Pool;
beforeAll(async () => {
  tocsin = await startTestTocsin({ roles: ['services'] });
  pool = createPool(tocsin.config.databaseUrl, 2);
});
afterAll(async () => {
  await pool.end();
  await tocsin.destroy();
});

const send = async (method: string, path: string, body: unknown = {}) => {
  const res = await tocsin.request(path, {
    method,
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** The incident's timers as they stand at `now`: the store's sync with an injected clock. */
const timersAt = (id: string, now: string) =>
  withTransaction(pool, async (tx) => {
    const subject = await lockSlaSubject(tx, id);
    return syncSlaTimers(tx, subject!, new Date(now));
  });
const byKind = (timers: SlaTimer[], kind: string) => timers.find((t) => t.kind === kind)!;
const plus = (iso: string, minutes: number) =>
  new Date(Date.parse(iso) + minutes * 60_000).toISOString();

describe('SLAs', () => {
  let p1: string;
  beforeAll(async () => {
    const sla = await send('POST', '/api/v1/slas', {
      name: 'P1/P2 checkout',
      priorities: [1, 2],
      services: ['checkout'],
      responseMinutes: 15,
      resolutionMinutes: 240,
    });
    expect(sla.status).toBe(201);
    p1 = String(sla.body.id);
    const other = await send('POST', '/api/v1/slas', {
      name: 'Everything else',
      responseMinutes: 60,
      resolutionMinutes: 60 * 24 * 3,
      atRiskShare: 0.5,
    });
    expect(other.status).toBe(201);
  });

  it('apply by priority and service, start at opening, pause on hold and breach', async () => {
    const created = await send('POST', '/api/v1/incidents', {
      title: 'Checkout down',
      service: 'checkout',
      impact: 1,
      urgency: 1,
    });
    const id = String(created.body.id);
    const opened = String(created.body.openedAt);
    const timers = await timersAt(id, plus(opened, 10));
    expect(timers.map((t) => [t.sla, t.kind]).sort()).toEqual(
      [
        ['Everything else', 'resolution'],
        ['Everything else', 'response'],
        ['P1/P2 checkout', 'resolution'],
        ['P1/P2 checkout', 'response'],
      ].sort(),
    );
    const response = byKind(
      timers.filter((t) => t.sla === 'P1/P2 checkout'),
      'response',
    );
    expect(response).toMatchObject({ state: 'running', atRisk: false, breached: false });
    expect(response.elapsedSeconds).toBeCloseTo(600, 0);
    expect(response.breachAt).toBe(plus(opened, 15));

    const late = (await timersAt(id, plus(opened, 20))).filter((t) => t.sla === 'P1/P2 checkout');
    expect(byKind(late, 'response')).toMatchObject({ state: 'breached', breached: true });
    expect(byKind(late, 'resolution')).toMatchObject({ state: 'running', breached: false });
  });

  it('stop the response at acknowledgement and hold the resolution while on hold', async () => {
    const created = await send('POST', '/api/v1/incidents', {
      title: 'Checkout slow',
      service: 'checkout',
      impact: 2,
      urgency: 1,
    });
    const id = String(created.body.id);
    expect((await send('POST', `/api/v1/incidents/${id}/transitions/acknowledge`)).status).toBe(
      200,
    );
    expect(
      (await send('POST', `/api/v1/incidents/${id}/transitions/hold`, { reason: 'vendor' })).status,
    ).toBe(200);
    const res = await tocsin.request(`/api/v1/incidents/${id}/slas`);
    const timers = ((await res.json()) as { items: SlaTimer[] }).items.filter(
      (t) => t.sla === 'P1/P2 checkout',
    );
    expect(byKind(timers, 'response')).toMatchObject({ state: 'met', breached: false });
    expect(byKind(timers, 'resolution')).toMatchObject({ state: 'paused', breachAt: null });
    // Hours on hold do not count: a day later the resolution timer is where it was.
    const tomorrow = await timersAt(id, new Date(Date.now() + 24 * 3600_000).toISOString());
    const resolution = byKind(
      tomorrow.filter((t) => t.sla === 'P1/P2 checkout'),
      'resolution',
    );
    expect(resolution.state).toBe('paused');
    expect(resolution.elapsedSeconds).toBeLessThan(60);
  });

  it('leave an incident of another priority and service to the SLAs that fit it', async () => {
    const created = await send('POST', '/api/v1/incidents', {
      title: 'Printer jam',
      service: 'office',
      impact: 3,
      urgency: 3,
    });
    const timers = await timersAt(String(created.body.id), String(created.body.openedAt));
    expect(new Set(timers.map((t) => t.sla))).toEqual(new Set(['Everything else']));
  });

  it('refuse a definition that cannot work, and an update on a stale version', async () => {
    const bad = await send('POST', '/api/v1/slas', {
      name: 'Backwards',
      responseMinutes: 60,
      resolutionMinutes: 30,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.pointer).toBe('/resolutionMinutes');
    const calendar = await send('POST', '/api/v1/calendars', {
      name: 'Nowhere',
      timezone: 'Mars/Olympus',
      hours: { mon: [['09:00', '17:00']] },
    });
    expect(calendar.status).toBe(400);
    const stale = await tocsin.request(`/api/v1/slas/${p1}`, {
      method: 'PUT',
      body: JSON.stringify({ name: 'P1/P2 checkout', responseMinutes: 10, resolutionMinutes: 200 }),
      headers: { 'Content-Type': 'application/json', 'If-Match': '"99"' },
    });
    expect(stale.status).toBe(412);
  });

  it('report MTTA, MTTR, SLA met share and incidents per service and CI', async () => {
    const created = await send('POST', '/api/v1/incidents', {
      title: 'Checkout errors',
      service: 'checkout',
      cis: ['api-1'],
      impact: 1,
      urgency: 2,
    });
    const id = String(created.body.id);
    await send('POST', `/api/v1/incidents/${id}/transitions/acknowledge`);
    await send('POST', `/api/v1/incidents/${id}/transitions/resolve`, { resolutionCode: 'fixed' });
    const res = await tocsin.request('/api/v1/stats');
    expect(res.status).toBe(200);
    const stats = (await res.json()) as {
      incidents: number;
      mttaSeconds: number;
      mttrSeconds: number;
      slaMet: { all: number; response: number; resolution: number };
      byService: { service: string; incidents: number }[];
      byCi: { ci: string; incidents: number }[];
    };
    expect(stats.incidents).toBe(4);
    expect(stats.mttaSeconds).toBeGreaterThanOrEqual(0);
    expect(stats.mttrSeconds).toBeGreaterThanOrEqual(0);
    // Finished timers: two met responses, and the resolved incident's two resolutions.
    expect(stats.slaMet.resolution).toBe(1);
    expect(stats.byService).toEqual([
      { service: 'checkout', incidents: 3 },
      { service: 'office', incidents: 1 },
    ]);
    expect(stats.byCi).toEqual([{ ci: 'api-1', incidents: 1 }]);
  });
});
