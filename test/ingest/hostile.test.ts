import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

// Inputs the fuzz test does not reach by chance: each once broke ingest or a reader of what
// ingest stored.

let tocsin: TestTocsin;
beforeAll(async () => {
  tocsin = await startTestTocsin({
    roles: ['ingest', 'services', 'correlator'],
    env: { TOCSIN_INGEST_RATE_LIMIT: '0' },
  });
});
afterAll(() => tocsin.destroy());

const post = (source: string, body: unknown, contentType = 'application/json') =>
  tocsin.request(`/api/v1/ingest/${source}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': contentType },
  });

/** Waits until every accepted alert is correlated. */
async function drained(): Promise<void> {
  await eventually(
    async () => {
      const res = await tocsin.request('/api/v1/pipeline');
      const { pending } = (await res.json()) as { pending: number };
      return pending === 0 ? true : undefined;
    },
    { timeoutMs: 30_000, what: 'the inbox to be correlated' },
  );
}

type StoredAlert = {
  id: string;
  fingerprint: string;
  ci: string | null;
  incidentId: string | null;
  startsAt: string;
  endsAt: string | null;
  explanation: { late: boolean; message: string };
};

async function alertsWith(fingerprint: string): Promise<StoredAlert[]> {
  const res = await tocsin.request(`/api/v1/alerts?fingerprint=${encodeURIComponent(fingerprint)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: StoredAlert[] }).items;
}

describe('a tool’s own delivery id', () => {
  const event = (id: string, fingerprint: string) => ({
    specversion: '1.0',
    id,
    source: '/hostile',
    type: 'hostile.opened',
    data: { title: `delivery ${fingerprint}`, fingerprint },
  });
  const ce = 'application/cloudevents+json';

  it('with U+0000 is answered as a duplicate when sent again, not with a 500', async () => {
    const body = event('id\u0000nul', 'id-nul');
    expect(await (await post('cloudevents', body, ce)).json()).toEqual({ accepted: 1 });
    const again = await post('cloudevents', body, ce);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ accepted: 1, duplicate: true });
    // Datadog's own id field, the same way.
    const datadog = { id: 'dd\u0000nul', title: 'datadog nul id', alert_type: 'error' };
    expect((await post('datadog', datadog)).status).toBe(202);
    expect(await (await post('datadog', datadog)).json()).toEqual({ accepted: 1, duplicate: true });
  });

  it('that differs from another only where text cannot hold it is another delivery', async () => {
    // U+0000, two different lone surrogates and U+FFFD are all U+FFFD once stored as text.
    const ids = ['other\u0000', 'other\ud800', 'other\udbff', 'other\ufffd'];
    for (const [i, id] of ids.entries()) {
      const res = await post('cloudevents', event(id, `id-distinct-${i}`), ce);
      expect(await res.json()).toEqual({ accepted: 1 });
    }
    await drained();
    for (const i of ids.keys()) expect(await alertsWith(`id-distinct-${i}`)).toHaveLength(1);
  });
});

describe('what a sender wrote, quoted in an alert’s explanation', () => {
  it('never breaks reading the alert or the list', async () => {
    // A CI not in the CMDB is quoted ("<ci> not in the CMDB") when a second alert with the same
    // text joins the first's incident; the message's "incident <id>" names are read as ids.
    const ci = 'incident 99999999999999999999';
    const title = 'Replication lag above threshold on the ledger replica';
    for (const fingerprint of ['quoted-1', 'quoted-2'])
      expect((await post('generic', { title, ci, fingerprint })).status).toBe(202);
    await drained();
    const [second] = await alertsWith('quoted-2');
    expect(JSON.stringify(second!.explanation)).toContain(ci);
    const one = await tocsin.request(`/api/v1/alerts/${second!.id}`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as StoredAlert).ci).toBe(ci);
    expect((await tocsin.request('/api/v1/alerts?limit=100')).status).toBe(200);
  });
});

describe('a sender’s time ahead of receipt', () => {
  it('is read as receipt, and leaves the correlator’s event time where the others’ are', async () => {
    const title = 'Checkout latency above its objective on the payment gateway';
    expect((await post('generic', { title, ci: 'pay-1', fingerprint: 'ahead-first' })).status).toBe(
      202,
    );
    await drained();
    // A sender whose clock is a year fast, and one that sends a placeholder far ahead.
    const ahead = [
      { title: 'clock fast', fingerprint: 'ahead-year', startsAt: '2027-11-30T00:00:00Z' },
      { title: 'placeholder', fingerprint: 'ahead-9998', startsAt: '9998-06-01T00:00:00Z' },
      {
        title: 'resolved ahead',
        fingerprint: 'ahead-resolved',
        status: 'resolved',
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '9998-06-01T00:00:00Z',
      },
    ];
    const sentAt = Date.now();
    for (const alert of ahead) expect((await post('generic', alert)).status).toBe(202);
    expect((await post('generic', { title, ci: 'pay-1', fingerprint: 'ahead-next' })).status).toBe(
      202,
    );
    await drained();
    const nearSend = (at: string | null | undefined) =>
      Math.abs(Date.parse(at ?? '') - sentAt) < 60_000;
    for (const fingerprint of ['ahead-year', 'ahead-9998'])
      expect(nearSend((await alertsWith(fingerprint))[0]?.startsAt)).toBe(true);
    const [resolved] = await alertsWith('ahead-resolved');
    expect(resolved!.startsAt).toBe('2026-01-01T00:00:00.000Z');
    expect(nearSend(resolved!.endsAt)).toBe(true);
    // The next alert of the first one's text and CI is on time, and joins its incident.
    const [first] = await alertsWith('ahead-first');
    const [next] = await alertsWith('ahead-next');
    expect(next!.explanation.late).toBe(false);
    expect(next!.incidentId).toBe(first!.incidentId);
  });
});

describe('a sender’s placeholder time, the Unix epoch', () => {
  it('is read as receipt, so that the alert joins the incident its text and CI belong to', async () => {
    const title = 'Certificate expires within 7 days on the login endpoint';
    expect((await post('generic', { title, ci: 'sso-1', fingerprint: 'epoch-first' })).status).toBe(
      202,
    );
    await drained();
    const sentAt = Date.now();
    const epoch = { title, ci: 'sso-1', fingerprint: 'epoch', startsAt: '1970-01-01T00:00:00Z' };
    expect((await post('generic', epoch)).status).toBe(202);
    await drained();
    const [first] = await alertsWith('epoch-first');
    const [stored] = await alertsWith('epoch');
    expect(Math.abs(Date.parse(stored!.startsAt) - sentAt)).toBeLessThan(60_000);
    expect(stored!.explanation.late).toBe(false);
    expect(stored!.incidentId).toBe(first!.incidentId);
  });
});

describe('a client that closes its connection before its body arrived', () => {
  it('is counted as a 400, not as an error of ours', async () => {
    const url = new URL(await tocsin.listen());
    // Headers, then less body than the Content-Length promised, then the end of the stream.
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.end(
          'POST /api/v1/ingest/generic HTTP/1.1\r\nHost: tocsin\r\n' +
            `Authorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\n` +
            'Content-Length: 1000\r\n\r\n{"title":"never finished"',
        );
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    });
    const counted = (status: number) =>
      new RegExp(`tocsin_ingest_requests_total\\{source="generic",status="${status}"\\} (\\d+)`);
    const metrics = await eventually(async () => {
      const text = await (await tocsin.request('/metrics')).text();
      return counted(400).test(text) || counted(500).test(text) ? text : undefined;
    });
    expect(metrics).toMatch(counted(400));
    expect(metrics).not.toMatch(counted(500));
  });
});

describe('a compressed body', () => {
  it('is refused with a 415 that names Content-Encoding, not read as JSON noise', async () => {
    const body = JSON.stringify({ title: 'compressed', fingerprint: 'gzip-1' });
    const send = (encoding: string, payload: Uint8Array<ArrayBuffer> | string) =>
      tocsin.request('/api/v1/ingest/generic', {
        method: 'POST',
        body: payload,
        headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
      });
    for (const encoding of ['gzip', 'br', 'x-gzip, identity']) {
      const res = await send(encoding, new Uint8Array(gzipSync(body)));
      expect(res.status).toBe(415);
      expect(res.headers.get('Content-Type')).toBe('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toContain('Content-Encoding');
    }
    expect((await send('identity', body)).status).toBe(202);
  });
});
