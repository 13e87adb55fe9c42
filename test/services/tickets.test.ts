import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestTocsin,
  type TestTocsin,
  jsonRequest,
  personToken as personTokenOf,
} from '../support/tocsin.ts';

let tocsin: TestTocsin;
const tokens: Record<string, string> = {};

const json = jsonRequest;
const personToken = (username: string, roles: string[]) => personTokenOf(tocsin, username, roles);

beforeAll(async () => {
  tocsin = await startTestTocsin({ roles: ['services'] });
  tokens.noc = await personToken('nora', ['noc_operator']);
  tokens.pm = await personToken('pete', ['problem_manager']);
  tokens.cm1 = await personToken('carla', ['change_manager']);
  tokens.cm2 = await personToken('chen', ['change_manager']);
  tokens.viewer = await personToken('vic', ['viewer']);
});
afterAll(() => tocsin.destroy());

type Ticket = Record<string, unknown> & { id: string; state: string; version: number };

async function create(kind: string, body: unknown, token: string): Promise<Ticket> {
  const res = await tocsin.request(`/api/v1/${kind}s`, json(body, token));
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get('ETag')).toMatch(/^"\d+"$/);
  return (await res.json()) as Ticket;
}

const act = (kind: string, id: string, action: string, token: string, body: unknown = {}) =>
  tocsin.request(`/api/v1/${kind}s/${id}/transitions/${action}`, json(body, token));

describe('incidents', () => {
  it('derive priority from impact × urgency, and follow their state machine', async () => {
    const incident = await create(
      'incident',
      { title: 'Checkout fails for EU customers', impact: 1, urgency: 2, service: 'checkout' },
      tokens.noc!,
    );
    expect(incident).toMatchObject({
      number: expect.stringMatching(/^INC\d{7}$/) as string,
      state: 'new',
      stateCategory: 'open',
      priority: 2,
      channel: 'phone',
      createdBy: 'user:nora',
      allowedActions: ['acknowledge', 'hold', 'resolve', 'cancel'],
    });

    const ack = await act('incident', incident.id, 'acknowledge', tokens.noc!);
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({
      state: 'in_progress',
      acknowledgedAt: expect.any(String) as string,
    });

    const holdWithoutReason = await act('incident', incident.id, 'hold', tokens.noc!);
    expect(holdWithoutReason.status).toBe(422);
    expect(await holdWithoutReason.json()).toMatchObject({ pointer: '/reason' });

    const closeTooEarly = await act('incident', incident.id, 'close', tokens.noc!);
    expect(closeTooEarly.status).toBe(409);
    expect(await closeTooEarly.json()).toMatchObject({
      state: 'in_progress',
      allowed: ['hold', 'resolve', 'cancel'],
    });

    const resolveWithoutCode = await act('incident', incident.id, 'resolve', tokens.noc!);
    expect(resolveWithoutCode.status).toBe(422);
    const resolved = await act('incident', incident.id, 'resolve', tokens.noc!, {
      resolutionCode: 'workaround',
      resolutionNotes: 'Failed over to the secondary PSP.',
      comment: 'Customers confirm checkout works.',
    });
    expect(await resolved.json()).toMatchObject({
      state: 'resolved',
      stateCategory: 'resolved',
      resolutionCode: 'workaround',
    });
    const reopened = (await (
      await act('incident', incident.id, 'reopen', tokens.noc!)
    ).json()) as Ticket;
    expect(reopened).toMatchObject({ state: 'in_progress', reopenCount: 1, resolvedAt: null });

    const notes: unknown = await (
      await tocsin.request(`/api/v1/incidents/${incident.id}/notes`)
    ).json();
    expect(notes).toMatchObject({
      items: [
        { kind: 'work_note', author: 'user:nora', body: 'Customers confirm checkout works.' },
      ],
    });
  });

  it('audit every change: who, when, which field, old and new', async () => {
    const incident = await create('incident', { title: 'VPN drops', urgency: 3 }, tokens.noc!);
    await act('incident', incident.id, 'acknowledge', tokens.noc!);
    const patch = await tocsin.request(`/api/v1/incidents/${incident.id}`, {
      ...json({ assignee: 'nora', urgency: 1 }, tokens.noc),
      method: 'PATCH',
    });
    expect(patch.status).toBe(200);
    const history = (await (
      await tocsin.request(`/api/v1/incidents/${incident.id}/history`)
    ).json()) as { items: Record<string, unknown>[] };
    const changes = history.items.map(({ actor, operation, action, field, old, new: value }) => ({
      actor,
      operation,
      action,
      field,
      old,
      new: value,
    }));
    expect(changes[0]).toMatchObject({
      actor: 'user:nora',
      operation: 'insert',
      action: 'create',
      field: '*',
      new: expect.objectContaining({ title: 'VPN drops', urgency: 3, priority: 4 }) as unknown,
    });
    expect(changes.slice(1)).toEqual(
      expect.arrayContaining([
        {
          actor: 'user:nora',
          operation: 'update',
          action: 'acknowledge',
          field: 'state',
          old: 'new',
          new: 'in_progress',
        },
        {
          actor: 'user:nora',
          operation: 'update',
          action: null,
          field: 'assignee',
          old: null,
          new: 'nora',
        },
        { actor: 'user:nora', operation: 'update', action: null, field: 'urgency', old: 3, new: 1 },
        {
          actor: 'user:nora',
          operation: 'update',
          action: null,
          field: 'priority',
          old: 4,
          new: 2,
        },
      ]),
    );
    for (const entry of history.items) expect(Date.parse(String(entry.at))).not.toBeNaN();
  });

  it('refuse a lost update with 412, and take an update made on the current version', async () => {
    const incident = await create('incident', { title: 'Slow login' }, tokens.noc!);
    const etag = `"${incident.version}"`;
    const first = await tocsin.request(`/api/v1/incidents/${incident.id}`, {
      ...json({ assignee: 'alice' }, tokens.noc, { 'If-Match': etag }),
      method: 'PATCH',
    });
    expect(first.status).toBe(200);
    const newTag = first.headers.get('ETag');
    expect(newTag).toBe(`"${incident.version + 1}"`);

    const stale = await tocsin.request(`/api/v1/incidents/${incident.id}`, {
      ...json({ assignee: 'bob' }, tokens.noc, { 'If-Match': etag }),
      method: 'PATCH',
    });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('Content-Type')).toBe('application/problem+json');
    const staleTransition = await tocsin.request(
      `/api/v1/incidents/${incident.id}/transitions/acknowledge`,
      { ...json({}, tokens.noc, { 'If-Match': etag }) },
    );
    expect(staleTransition.status).toBe(412);

    const current: unknown = await (
      await tocsin.request(`/api/v1/incidents/${incident.id}`)
    ).json();
    expect(current).toMatchObject({ assignee: 'alice', state: 'new' });
    const retried = await tocsin.request(`/api/v1/incidents/${incident.id}`, {
      ...json({ assignee: 'bob' }, tokens.noc, { 'If-Match': newTag! }),
      method: 'PATCH',
    });
    expect(retried.status).toBe(200);
  });

  it('list with filters, sort, fields and cursors; an unknown field is a 400', async () => {
    for (const [title, impact, urgency] of [
      ['Filter me: printer jam', 3, 3],
      ['Filter me: core switch down', 1, 1],
      ['Filter me: disk 91%', 2, 2],
    ] as const)
      await create('incident', { title, impact, urgency, category: 'filter-test' }, tokens.noc!);

    const list = async (query: string) => {
      const res = await tocsin.request(`/api/v1/incidents?${query}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const urgent = await list(
      `filter=${encodeURIComponent('category=filter-test;priority<=3')}&sort=priority&fields=title,priority`,
    );
    expect(urgent.body).toEqual({
      items: [
        { title: 'Filter me: core switch down', priority: 1 },
        { title: 'Filter me: disk 91%', priority: 3 },
      ],
      nextCursor: null,
    });

    const page1 = await list('filter=category%3Dfilter-test&sort=-priority&limit=2&fields=title');
    expect((page1.body.items as unknown[]).length).toBe(2);
    const page2 = await list(
      `filter=category%3Dfilter-test&sort=-priority&limit=2&fields=title&cursor=${String(page1.body.nextCursor)}`,
    );
    expect(page2.body).toEqual({
      items: [{ title: 'Filter me: core switch down' }],
      nextCursor: null,
    });

    expect((await list('q=printer&fields=title')).body.items).toEqual([
      { title: 'Filter me: printer jam' },
    ]);
    for (const bad of [
      'filter=colour%3Dred',
      'filter=priority%3Chigh',
      'filter=cis%3C3',
      'sort=description',
      'fields=title,colour',
      'colour=red',
    ]) {
      const res = await list(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.pointer, bad).toMatch(/^\/query\//);
    }
  });

  it('filter on times given as RFC 3339 timestamps or calendar days, and nothing else', async () => {
    const incident = await create(
      'incident',
      { title: 'Filter me by time', category: 'time-filter' },
      tokens.noc!,
    );
    const titles = async (filter: string) => {
      const res = await tocsin.request(
        `/api/v1/incidents?fields=title&filter=${encodeURIComponent(`category=time-filter;${filter}`)}`,
      );
      expect(res.status, `${filter}: ${await res.clone().text()}`).toBe(200);
      return ((await res.json()) as { items: { title: string }[] }).items.map((i) => i.title);
    };
    const openedAt = Date.parse(incident.openedAt as string);
    expect(await titles(`openedAt>=${new Date(openedAt).toISOString()}`)).toEqual([incident.title]);
    expect(await titles(`openedAt<${new Date(openedAt).toISOString()}`)).toEqual([]);
    expect(await titles('openedAt>2026-01-01')).toEqual([incident.title]);
    expect(await titles('openedAt<2100-01-01T00:00:00+02:00')).toEqual([incident.title]);
    // Date.parse took each of these: "-1" and "1" as 2001 (so the filter matched), "2026-02-30"
    // as 2 March, "12/31/1999" in the server's time zone; the year 10000 reached PostgreSQL,
    // whose refusal named no filter.
    for (const value of ['-1', '1', '2026-02-30', '12/31/1999', 'x 2026', 'Tue, 1 Jan 10000']) {
      for (const path of ['/api/v1/incidents', '/api/v1/search']) {
        const res = await tocsin.request(
          `${path}?filter=${encodeURIComponent(`openedAt>${value}`)}`,
        );
        expect(res.status, `${path} ${value}`).toBe(400);
        expect(await res.json()).toMatchObject({
          pointer: '/query/filter',
          detail: expect.stringContaining(
            `"${value}" is not a valid time for "openedAt"`,
          ) as string,
        });
      }
    }
  });

  it('refuse a body over the limit with 413, before reading it all', async () => {
    const res = await tocsin.request('/api/v1/incidents', {
      ...json({ title: 'x'.repeat(6 * 1024 * 1024) }, tokens.noc),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  });

  it('answer 404 for a missing incident and 400 for a reference to one', async () => {
    expect((await tocsin.request('/api/v1/incidents/999999')).status).toBe(404);
    const res = await tocsin.request(
      '/api/v1/incidents',
      json({ title: 'Child', parentId: '999999' }, tokens.noc),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: expect.stringMatching(/missing-reference$/) as string,
    });
  });

  it('refuse a parent that makes an incident its own ancestor, and change nothing', async () => {
    // Both were taken: an incident its own parent, and two incidents each other's.
    const a = await create('incident', { title: 'Parent' }, tokens.noc!);
    const b = await create('incident', { title: 'Child', parentId: a.id }, tokens.noc!);
    const c = await create('incident', { title: 'Grandchild', parentId: b.id }, tokens.noc!);
    const patch = (id: string, parentId: string | null) =>
      tocsin.request(`/api/v1/incidents/${id}`, {
        ...json({ parentId }, tokens.noc),
        method: 'PATCH',
      });
    for (const parent of [a.id, b.id, c.id]) {
      const res = await patch(a.id, parent);
      expect(res.status, parent).toBe(400);
      expect(await res.json()).toMatchObject({
        pointer: '/parentId',
        detail: expect.stringContaining('cannot be its own ancestor') as string,
      });
    }
    const stored = (await (await tocsin.request(`/api/v1/incidents/${a.id}`)).json()) as Ticket;
    expect(stored).toMatchObject({ parentId: null, version: a.version });
    // A parent elsewhere, and none, are taken; so are other writes to an incident with a parent.
    expect((await patch(c.id, a.id)).status).toBe(200);
    expect((await patch(c.id, null)).status).toBe(200);
    expect((await act('incident', b.id, 'acknowledge', tokens.noc!)).status).toBe(200);
  });
});

describe('problems', () => {
  it('go from new through analysis and fix to closed', async () => {
    const problem = await create(
      'problem',
      { title: 'Ledger replication lags every Monday', impact: 2, urgency: 2 },
      tokens.pm!,
    );
    expect(problem).toMatchObject({
      number: expect.stringMatching(/^PRB\d{7}$/) as string,
      state: 'new',
    });
    for (const [action, state] of [
      ['assess', 'assess'],
      ['analyze', 'root_cause_analysis'],
      ['fix', 'fix_in_progress'],
    ]) {
      const res = await act('problem', problem.id, action!, tokens.pm!);
      expect(await res.json()).toMatchObject({ state });
    }
    const patched = await tocsin.request(`/api/v1/problems/${problem.id}`, {
      ...json(
        { cause: 'Weekly VACUUM FULL on the primary', workaround: 'Pause the job' },
        tokens.pm,
      ),
      method: 'PATCH',
    });
    expect(patched.status).toBe(200);
    expect(
      await (
        await act('problem', problem.id, 'resolve', tokens.pm!, { resolutionCode: 'fixed' })
      ).json(),
    ).toMatchObject({ state: 'resolved' });
    expect(await (await act('problem', problem.id, 'close', tokens.pm!)).json()).toMatchObject({
      state: 'closed',
      stateCategory: 'closed',
    });
    expect((await act('problem', problem.id, 'accept', tokens.pm!)).status).toBe(409);
  });
});

describe('changes', () => {
  const window = (fromHours: number, toHours: number) => ({
    plannedStart: new Date(Date.UTC(2027, 0, 10, fromHours)).toISOString(),
    plannedEnd: new Date(Date.UTC(2027, 0, 10, toHours)).toISOString(),
  });

  it('run the normal flow: assessed, approved by enough change managers, implemented, closed', async () => {
    const change = await create(
      'change',
      {
        type: 'normal',
        title: 'Upgrade db-ledger to PostgreSQL 16',
        cis: ['db-ledger'],
        requiredApprovals: 2,
        ...window(1, 3),
      },
      tokens.cm1!,
    );
    expect(change).toMatchObject({
      number: expect.stringMatching(/^CHG\d{7}$/) as string,
      state: 'new',
      approvals: [],
      warnings: [],
    });
    expect(await (await act('change', change.id, 'submit', tokens.cm1!)).json()).toMatchObject({
      state: 'assess',
    });
    const noPlan = await act('change', change.id, 'request_approval', tokens.cm1!);
    expect(noPlan.status).toBe(422);
    expect(await noPlan.json()).toMatchObject({ pointer: '/implementationPlan' });
    await tocsin.request(`/api/v1/changes/${change.id}`, {
      ...json(
        { implementationPlan: 'pg_upgrade --link', backoutPlan: 'Fail back to the replica' },
        tokens.cm1,
      ),
      method: 'PATCH',
    });
    expect(
      await (await act('change', change.id, 'request_approval', tokens.cm1!)).json(),
    ).toMatchObject({ state: 'authorize' });

    const first = (await (await act('change', change.id, 'approve', tokens.cm1!)).json()) as Ticket;
    expect(first).toMatchObject({
      state: 'authorize',
      approvals: [{ approver: 'user:carla', decision: 'approved' }],
    });
    const again = (await (await act('change', change.id, 'approve', tokens.cm1!)).json()) as Ticket;
    expect(again.state).toBe('authorize');
    const second = (await (
      await act('change', change.id, 'approve', tokens.cm2!)
    ).json()) as Ticket;
    expect(second.state).toBe('scheduled');

    expect(await (await act('change', change.id, 'implement', tokens.cm1!)).json()).toMatchObject({
      state: 'implement',
      actualStart: expect.any(String) as string,
    });
    expect(await (await act('change', change.id, 'review', tokens.cm1!)).json()).toMatchObject({
      state: 'review',
    });
    expect(
      (await act('change', change.id, 'close', tokens.cm1!, { resolutionCode: 'fine' })).status,
    ).toBe(422);
    expect(
      await (
        await act('change', change.id, 'close', tokens.cm1!, { resolutionCode: 'successful' })
      ).json(),
    ).toMatchObject({ state: 'closed' });
  });

  it('let standard changes skip assessment and approval, and emergency ones skip assessment', async () => {
    const standard = await create(
      'change',
      { type: 'standard', title: 'Rotate TLS certificate', ...window(5, 6) },
      tokens.cm1!,
    );
    expect(await (await act('change', standard.id, 'submit', tokens.cm1!)).json()).toMatchObject({
      state: 'scheduled',
    });
    expect((await act('change', standard.id, 'approve', tokens.cm1!)).status).toBe(409);
    const emergency = await create(
      'change',
      { type: 'emergency', title: 'Block abusive ASN', ...window(7, 8) },
      tokens.cm1!,
    );
    expect(await (await act('change', emergency.id, 'submit', tokens.cm1!)).json()).toMatchObject({
      state: 'authorize',
    });
    const unplanned = await create(
      'change',
      { type: 'emergency', title: 'No window' },
      tokens.cm1!,
    );
    // A window that ends before it starts, on create or by an edit: named by field.
    const backwards = await tocsin.request(
      '/api/v1/changes',
      json({ type: 'normal', title: 'Backwards', ...window(9, 8) }, tokens.cm1),
    );
    expect(backwards.status).toBe(400);
    expect(await backwards.json()).toMatchObject({
      errors: [{ pointer: '/plannedEnd', detail: 'must be after plannedStart' }],
    });
    const shortened = await tocsin.request(`/api/v1/changes/${emergency.id}`, {
      ...json({ plannedEnd: window(0, 6).plannedEnd }, tokens.cm1),
      method: 'PATCH',
    });
    expect(shortened.status).toBe(400);
    expect(await shortened.json()).toMatchObject({ pointer: '/plannedEnd' });
    const refused = await act('change', unplanned.id, 'submit', tokens.cm1!);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ pointer: '/plannedStart' });
  });

  it('warn when two changes overlap on the same CI', async () => {
    const a = await create(
      'change',
      { type: 'normal', title: 'Patch lb-1', cis: ['lb-1', 'lb-2'], ...window(10, 12) },
      tokens.cm1!,
    );
    const b = await create(
      'change',
      { type: 'normal', title: 'Reboot lb-1', cis: ['lb-1'], ...window(11, 13) },
      tokens.cm2!,
    );
    const c = await create(
      'change',
      { type: 'normal', title: 'Reboot lb-1 later', cis: ['lb-1'], ...window(12, 14) },
      tokens.cm2!,
    );
    expect(b.warnings).toEqual([
      expect.objectContaining({
        code: 'overlapping-change',
        change: expect.objectContaining({ id: a.id, cis: ['lb-1'] }) as unknown,
      }),
    ]);
    const seenFromA = (await (await tocsin.request(`/api/v1/changes/${a.id}`)).json()) as Ticket;
    expect((seenFromA.warnings as { change: { id: string } }[]).map((w) => w.change.id)).toEqual([
      b.id,
    ]);
    expect((c.warnings as { change: { id: string } }[]).map((w) => w.change.id)).toEqual([b.id]);
  });

  it('implement after the planned end: still under way, and every change on its CIs still reads', async () => {
    // Its actual start came after its planned end: the window [actual start, planned end] ran
    // backwards, PostgreSQL's tstzrange refused it, and the committed transition, every read of
    // the change and of any other change on its CIs answered 400.
    const past = {
      plannedStart: new Date(Date.now() - 2 * 3600_000).toISOString(),
      plannedEnd: new Date(Date.now() - 3600_000).toISOString(),
    };
    const late = await create(
      'change',
      { type: 'standard', title: 'Late reboot of mq-1', cis: ['mq-1'], ...past },
      tokens.cm1!,
    );
    // Planned over the present, on the same CI: the late change, under way, overlaps it.
    const next = await create(
      'change',
      {
        type: 'standard',
        title: 'Patch mq-1',
        cis: ['mq-1'],
        plannedStart: new Date(Date.now() - 1800_000).toISOString(),
        plannedEnd: new Date(Date.now() + 3600_000).toISOString(),
      },
      tokens.cm1!,
    );
    expect((await act('change', late.id, 'submit', tokens.cm1!)).status).toBe(200);
    const implemented = await act('change', late.id, 'implement', tokens.cm1!);
    expect(implemented.status, await implemented.clone().text()).toBe(200);
    const started = (await implemented.json()) as Ticket & {
      actualStart: string;
      warnings: { change: { id: string } }[];
    };
    expect(started.state).toBe('implement');
    expect(started.warnings).toEqual([
      expect.objectContaining({ change: expect.objectContaining({ id: next.id }) as unknown }),
    ]);
    const read = await tocsin.request(`/api/v1/changes/${late.id}`);
    expect(read.status, await read.clone().text()).toBe(200);
    const other = await tocsin.request(`/api/v1/changes/${next.id}`);
    expect(other.status, await other.clone().text()).toBe(200);
    const warned = (await other.json()) as Ticket & {
      warnings: { change: { id: string; start: string; end: string } }[];
    };
    expect(warned.warnings.map((w) => w.change.id)).toEqual([late.id]);
    const window = warned.warnings[0]!.change;
    expect(window.start).toBe(started.actualStart);
    expect(Date.parse(window.end)).toBeGreaterThanOrEqual(Date.parse(window.start));
    const list = await tocsin.request('/api/v1/changes?filter=state=implement');
    expect(list.status).toBe(200);
  });
});

// Every route of the services and ingest apps, the role it needs, and a request for it. A
// denied caller gets 403 before the body is read; an allowed one gets anything but 401 and 403.
// `none`: the API documentation, open to every caller.
const matrix: [method: string, path: string, role: string][] = [
  ['GET', '/api/v1/incidents', 'viewer'],
  ['POST', '/api/v1/incidents', 'noc_operator'],
  ['GET', '/api/v1/incidents/1', 'viewer'],
  ['PATCH', '/api/v1/incidents/1', 'noc_operator'],
  ['POST', '/api/v1/incidents/1/transitions/acknowledge', 'noc_operator'],
  ['GET', '/api/v1/incidents/1/notes', 'viewer'],
  ['POST', '/api/v1/incidents/1/notes', 'noc_operator'],
  ['GET', '/api/v1/incidents/1/history', 'viewer'],
  ['GET', '/api/v1/incidents/1/similar', 'viewer'],
  ['POST', '/api/v1/incidents/1/merge', 'noc_operator'],
  ['POST', '/api/v1/incidents/1/split', 'noc_operator'],
  ['GET', '/api/v1/problems/patterns', 'viewer'],
  ['GET', '/api/v1/incidents/1/slas', 'viewer'],
  ['GET', '/api/v1/slas', 'viewer'],
  ['POST', '/api/v1/slas', 'admin'],
  ['GET', '/api/v1/slas/1', 'viewer'],
  ['PUT', '/api/v1/slas/1', 'admin'],
  ['GET', '/api/v1/calendars', 'viewer'],
  ['POST', '/api/v1/calendars', 'admin'],
  ['GET', '/api/v1/stats', 'viewer'],
  ['GET', '/api/v1/known-errors', 'viewer'],
  ['POST', '/api/v1/known-errors', 'problem_manager'],
  ['GET', '/api/v1/known-errors/1', 'viewer'],
  ['PATCH', '/api/v1/known-errors/1', 'problem_manager'],
  ['POST', '/api/v1/known-errors/1/transitions/publish', 'problem_manager'],
  ['GET', '/api/v1/known-errors/1/history', 'viewer'],
  ['GET', '/api/v1/problems', 'viewer'],
  ['POST', '/api/v1/problems', 'problem_manager'],
  ['GET', '/api/v1/problems/1', 'viewer'],
  ['PATCH', '/api/v1/problems/1', 'problem_manager'],
  ['POST', '/api/v1/problems/1/transitions/assess', 'problem_manager'],
  ['GET', '/api/v1/problems/1/notes', 'viewer'],
  ['POST', '/api/v1/problems/1/notes', 'problem_manager'],
  ['GET', '/api/v1/problems/1/history', 'viewer'],
  ['GET', '/api/v1/changes', 'viewer'],
  ['POST', '/api/v1/changes', 'change_manager'],
  ['GET', '/api/v1/changes/1', 'viewer'],
  ['PATCH', '/api/v1/changes/1', 'change_manager'],
  ['POST', '/api/v1/changes/1/transitions/approve', 'change_manager'],
  ['GET', '/api/v1/changes/1/notes', 'viewer'],
  ['POST', '/api/v1/changes/1/notes', 'change_manager'],
  ['GET', '/api/v1/changes/1/history', 'viewer'],
  ['GET', '/api/v1/alerts', 'viewer'],
  ['GET', '/api/v1/alerts/1', 'viewer'],
  ['POST', '/api/v1/alerts/1/move', 'noc_operator'],
  ['GET', '/api/v1/assets', 'viewer'],
  ['POST', '/api/v1/assets', 'admin'],
  ['GET', '/api/v1/assets/1', 'viewer'],
  ['PATCH', '/api/v1/assets/1', 'admin'],
  ['POST', '/api/v1/assets/1/transitions/receive', 'admin'],
  ['GET', '/api/v1/assets/1/history', 'viewer'],
  ['GET', '/api/v1/services', 'viewer'],
  ['POST', '/api/v1/services', 'admin'],
  ['GET', '/api/v1/services/1', 'viewer'],
  ['PATCH', '/api/v1/services/1', 'admin'],
  ['GET', '/api/v1/services/1/history', 'viewer'],
  ['GET', '/api/v1/search', 'viewer'],
  ['POST', '/api/v1/cmdb/import', 'admin'],
  ['GET', '/api/v1/cis', 'viewer'],
  ['GET', '/api/v1/cis/1', 'viewer'],
  ['PATCH', '/api/v1/cis/1', 'admin'],
  ['GET', '/api/v1/cis/1/history', 'viewer'],
  ['GET', '/api/v1/cis/1/impact', 'viewer'],
  ['GET', '/api/v1/cis/1/context', 'viewer'],
  ['GET', '/api/v1/ci-classes', 'viewer'],
  ['POST', '/api/v1/tokens', 'admin'],
  ['GET', '/api/v1/tokens', 'admin'],
  ['DELETE', '/api/v1/tokens/1', 'admin'],
  ['GET', '/api/v1/notices', 'admin'],
  ['POST', '/api/v1/notices/1/acknowledge', 'admin'],
  ['GET', '/api/v1/pipeline', 'viewer'],
  ['POST', '/api/v1/users', 'admin'],
  ['GET', '/api/v1/users', 'admin'],
  ['GET', '/api/v1/users/1', 'admin'],
  ['PATCH', '/api/v1/users/1', 'admin'],
  ['GET', '/api/v1/users/1/history', 'admin'],
  ['POST', '/api/v1/users/1/tokens', 'admin'],
  ['GET', '/api/v1/users/1/tokens', 'admin'],
  ['DELETE', '/api/v1/users/1/tokens/1', 'admin'],
  ['POST', '/api/v1/groups', 'admin'],
  ['GET', '/api/v1/groups', 'admin'],
  ['GET', '/api/v1/openapi.json', 'none'],
  ['GET', '/api/v1/docs', 'none'],
  ['GET', '/api/v1/docs/1', 'none'],
];
const everyRole = ['admin', 'noc_operator', 'problem_manager', 'change_manager', 'viewer'];

describe('the role matrix', () => {
  const roleTokens: Record<string, string> = {};
  beforeAll(async () => {
    for (const role of everyRole) roleTokens[role] = await personToken(`matrix-${role}`, [role]);
  });

  it('lists every API route the app serves', () => {
    const served = new Set(
      tocsin.app.routes
        .filter((r) => r.path.startsWith('/api/v1/') && r.method !== 'ALL')
        .map((r) => `${r.method} ${r.path.replace(/:[a-zA-Z]+/g, ':x')}`),
    );
    const listed = new Set(
      matrix.map(
        ([method, path]) =>
          `${method} ${path.replace(/\/\d+(?=\/|$)/g, '/:x').replace(/transitions\/\w+$/, 'transitions/:x')}`,
      ),
    );
    expect([...served].filter((r) => !listed.has(r))).toEqual([]);
  });

  it.each(
    matrix.flatMap(([method, path, role]) => everyRole.map((as) => [method, path, role, as])),
  )('%s %s needs %s; as %s', async (method, path, role, as) => {
    const res = await tocsin.request(path, {
      method,
      token: roleTokens[as]!,
      ...(method === 'GET' || method === 'DELETE'
        ? {}
        : { body: '{}', headers: { 'Content-Type': 'application/json' } }),
    });
    if (as === role || as === 'admin' || role === 'none')
      expect([401, 403]).not.toContain(res.status);
    else expect(res.status).toBe(403);
  });

  it('answers 401 without a token, and with a revoked one', async () => {
    expect((await tocsin.request('/api/v1/incidents', { token: null })).status).toBe(401);
    const user = (await (
      await tocsin.request('/api/v1/users', json({ username: 'leaver', roles: ['viewer'] }))
    ).json()) as { id: string };
    const token = (await (
      await tocsin.request(`/api/v1/users/${user.id}/tokens`, json({ name: 'laptop' }))
    ).json()) as { id: string; token: string };
    expect((await tocsin.request('/api/v1/incidents', { token: token.token })).status).toBe(200);
    await tocsin.request(`/api/v1/users/${user.id}/tokens/${token.id}`, { method: 'DELETE' });
    // The authenticator caches a token's answer for five seconds.
    await new Promise((r) => setTimeout(r, 5_100));
    expect((await tocsin.request('/api/v1/incidents', { token: token.token })).status).toBe(401);
  });

  it('gives a person the roles of their groups', async () => {
    const group = await tocsin.request(
      '/api/v1/groups',
      json({ name: 'network-ops', roles: ['noc_operator'] }),
    );
    expect(group.status).toBe(201);
    const token = await personToken('gina', []);
    expect((await tocsin.request('/api/v1/incidents', json({ title: 'x' }, token))).status).toBe(
      403,
    );
    const withGroup = await personToken('gus', []);
    const users = (await (await tocsin.request('/api/v1/users')).json()) as {
      items: { id: string; username: string }[];
    };
    const gus = users.items.find((u) => u.username === 'gus')!;
    const patched = await tocsin.request(`/api/v1/users/${gus.id}`, {
      ...json({ groups: ['network-ops'] }),
      method: 'PATCH',
    });
    expect(patched.status).toBe(200);
    expect(
      (await tocsin.request('/api/v1/incidents', json({ title: 'x' }, withGroup))).status,
    ).toBe(201);
    const unknownGroup = await tocsin.request(`/api/v1/users/${gus.id}`, {
      ...json({ groups: ['nope'] }),
      method: 'PATCH',
    });
    expect(unknownGroup.status).toBe(400);
  });
});
