import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../services/store/db.ts';
import { startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
beforeAll(async () => {
  // Ingest only: nothing consumes the inbox, so what the tests accept stays there to inspect.
  tocsin = await startTestTocsin({
    roles: ['ingest', 'services'],
    env: { TOCSIN_MAX_BODY_BYTES: '4096', TOCSIN_MAX_ALERTS_PER_DELIVERY: '5' },
  });
});
afterAll(() => tocsin.destroy());

const post = (
  body: string,
  init: { contentType?: string; token?: string | null; source?: string } = {},
) =>
  tocsin.request(`/api/v1/ingest/${init.source ?? 'generic'}`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': init.contentType ?? 'application/json' },
    ...(init.token === undefined ? {} : { token: init.token }),
  });

async function problem(res: Response) {
  expect(res.headers.get('Content-Type')).toBe('application/problem+json');
  return (await res.json()) as {
    status: number;
    title: string;
    detail?: string;
    pointer?: string;
    errors?: { pointer: string }[];
  };
}

async function pending(): Promise<number> {
  const res = await tocsin.request('/api/v1/pipeline');
  return ((await res.json()) as { pending: number }).pending;
}

describe('POST /api/v1/ingest/generic', () => {
  it('accepts one alert, an array and NDJSON, each durable before the 202', async () => {
    const before = await pending();
    const one = await post(JSON.stringify({ title: 'CPU high', ci: 'web-1' }));
    expect(one.status).toBe(202);
    expect(await one.json()).toEqual({ accepted: 1 });
    const many = await post(JSON.stringify([{ title: 'a' }, { title: 'b', severity: 'critical' }]));
    expect(await many.json()).toEqual({ accepted: 2 });
    const ndjson = await post('{"title":"c"}\n\n{"title":"d","status":"resolved"}\n', {
      contentType: 'application/x-ndjson',
    });
    expect(ndjson.status).toBe(202);
    expect(await ndjson.json()).toEqual({ accepted: 2 });
    expect((await pending()) - before).toBe(5);
  });

  it('answers 401 without a token and with a wrong one', async () => {
    const none = await post('{"title":"x"}', { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toMatch(/^Bearer/);
    expect((await problem(none)).title).toBe('Authentication required');
    const wrong = await post('{"title":"x"}', { token: 'not-the-token' });
    expect(wrong.status).toBe(401);
  });

  it('answers 400 with a JSON pointer to the bad field', async () => {
    const res = await post(
      JSON.stringify([{ title: 'ok' }, { title: 'x', severity: 'apocalyptic' }]),
    );
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.pointer).toBe('/1/severity');
    expect(body.errors?.map((e) => e.pointer)).toEqual(['/1/severity']);
  });

  it('points at a missing title, an unknown field and a bad timestamp', async () => {
    const res = await post(JSON.stringify({ titel: 'typo', startsAt: 'yesterday' }));
    const body = await problem(res);
    expect(res.status).toBe(400);
    expect(body.errors?.map((e) => e.pointer).sort()).toEqual(
      ['/startsAt', '/title', '/titel'].sort(),
    );
  });

  it('answers 400 for malformed JSON and NDJSON, naming the line', async () => {
    const json = await post('{"title": ');
    expect(json.status).toBe(400);
    expect((await problem(json)).detail).toMatch(/not JSON/);
    const ndjson = await post('{"title":"a"}\n{"title":\n', {
      contentType: 'application/x-ndjson',
    });
    expect(ndjson.status).toBe(400);
    expect((await problem(ndjson)).detail).toMatch(/line 2/);
    const empty = await post('[]');
    expect(empty.status).toBe(400);
    // A label zod's record would drop without a word is refused by name instead.
    const proto = await post('{"title":"t","labels":{"__proto__":"x","team":"db"}}');
    expect(proto.status).toBe(400);
    expect((await problem(proto)).detail).toMatch(/"__proto__"/);
  });

  it('answers 413 for a body over the limit and accepts nothing of it', async () => {
    const before = await pending();
    const big = JSON.stringify([
      { title: 'x'.repeat(1000) },
      { title: 'y'.repeat(1000) },
      { title: 'z'.repeat(1000) },
      { title: 'w'.repeat(1500) },
    ]);
    expect(big.length).toBeGreaterThan(4096);
    const res = await post(big);
    expect(res.status).toBe(413);
    expect((await problem(res)).status).toBe(413);
    expect(await pending()).toBe(before);
  });

  it('answers 413 for more alerts in one delivery than allowed, as an array, NDJSON or a group', async () => {
    const before = await pending();
    const alerts = (n: number) => Array.from({ length: n }, (_, i) => ({ title: `many ${i}` }));
    const asArray = await post(JSON.stringify(alerts(6)));
    expect(asArray.status).toBe(413);
    const body = await problem(asArray);
    expect(body.title).toBe('Too many alerts in one delivery');
    expect(body.detail).toBe(
      'This delivery carries 6 alerts; one delivery may carry at most 5. Send them in several.',
    );
    // NDJSON is counted by its lines before any is read: the sixth need not even be JSON.
    const lines = [...alerts(5).map((a) => JSON.stringify(a)), 'not json', ''].join('\n');
    const asNdjson = await post(lines, { contentType: 'application/x-ndjson' });
    expect(asNdjson.status).toBe(413);
    expect((await problem(asNdjson)).detail).toContain('carries 6 alerts');
    // A tool's own grouping counts as what it yields: six alerts in one Alertmanager group.
    const group = {
      version: '4',
      status: 'firing',
      receiver: 'tocsin',
      groupKey: '{}:{}',
      alerts: Array.from({ length: 6 }, (_, i) => ({
        status: 'firing',
        labels: { alertname: `Many${i}`, instance: 'web-1' },
        annotations: {},
        startsAt: new Date().toISOString(),
        fingerprint: `many${i}`,
      })),
    };
    const asGroup = await post(JSON.stringify(group), { source: 'alertmanager' });
    expect(asGroup.status).toBe(413);
    expect((await problem(asGroup)).detail).toContain('carries 6 alerts');
    expect(await pending()).toBe(before);
    // As many as allowed are taken.
    expect((await post(JSON.stringify(alerts(5)))).status).toBe(202);
    expect(await pending()).toBe(before + 5);
  });

  it('answers 415 for a content type it does not read, and 404 for an unknown source', async () => {
    const xml = await post('<alert/>', { contentType: 'application/xml' });
    expect(xml.status).toBe(415);
    const unknown = await post('{"title":"x"}', { source: 'nagios-xi' });
    expect(unknown.status).toBe(404);
    expect((await problem(unknown)).detail).toMatch(/nagios-xi/);
  });

  it('decodes a body in the charset its Content-Type declares, unless its bytes are UTF-8', async () => {
    const pool = createPool(tocsin.config.databaseUrl, 1);
    const stored = async (fingerprint: string) =>
      (
        await pool.query<{ title: string }>(
          `SELECT alert->>'title' AS title FROM alert_inbox WHERE alert->>'fingerprint' = $1`,
          [fingerprint],
        )
      ).rows.map((r) => r.title);
    const send = (body: Uint8Array<ArrayBuffer>, contentType: string) =>
      tocsin.request('/api/v1/ingest/generic', {
        method: 'POST',
        body,
        headers: { 'Content-Type': contentType },
      });
    const title = 'Température élevée sur srv-lyon-1';
    const json = (fingerprint: string) => JSON.stringify({ title, fingerprint });
    // As an old script sends it: ISO-8859-1 bytes, one per letter.
    const latin1 = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
    const utf8 = (text: string) => new TextEncoder().encode(text);
    try {
      const cases: [string, Uint8Array<ArrayBuffer>, string][] = [
        ['latin1', latin1(json('latin1')), 'application/json; charset=ISO-8859-1'],
        // UTF-8 labelled ISO-8859-1 (a common mislabelling), labels in odd forms, and unknown
        // labels are all read as UTF-8, as before: none is refused.
        ['mislabelled', utf8(json('mislabelled')), 'application/json; charset=ISO-8859-1'],
        ['quoted', utf8(json('quoted')), `application/json; charset='utf-8'`],
        ['double-quoted', utf8(json('double-quoted')), 'application/json; charset="UTF-8"'],
        ['empty', utf8(json('empty')), 'application/json; charset='],
        ['unknown', utf8(json('unknown')), 'application/json; charset=utf8mb4'],
      ];
      for (const [fingerprint, body, contentType] of cases) {
        expect((await send(body, contentType)).status, fingerprint).toBe(202);
        expect(await stored(fingerprint), fingerprint).toEqual([title]);
      }
      // The payload kept (GET /alerts/{id} serves it) is the decoded text, stored as UTF-8, under
      // the media type alone: no charset left to say it is anything but UTF-8.
      const { rows } = await pool.query<{ content_type: string; body: string }>(
        `SELECT d.content_type, d.body FROM alert_inbox i
         JOIN ingest_deliveries d ON d.id = i.delivery_id WHERE i.alert->>'fingerprint' = 'latin1'`,
      );
      expect(rows).toEqual([{ content_type: 'application/json', body: json('latin1') }]);
    } finally {
      await pool.end();
    }
  });

  it('counts deliveries per source and status in /metrics', async () => {
    const text = await (await tocsin.request('/metrics')).text();
    expect(text).toMatch(/tocsin_ingest_requests_total\{source="generic",status="202"\} [1-9]/);
    expect(text).toMatch(/tocsin_ingest_requests_total\{source="generic",status="401"\} [1-9]/);
    expect(text).toMatch(/tocsin_ingest_requests_total\{source="unknown",status="404"\} 1/);
    // Five in the first test, five in the per-delivery limit's, six in the charset test; none of
    // the refused ones.
    expect(text).toMatch(/tocsin_alerts_accepted_total\{source="generic"\} 16\n/);
    expect(text).toMatch(/tocsin_ingest_requests_total\{source="alertmanager",status="413"\} 1/);
  });
});
