import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
let url: URL;
const slow: Socket[] = [];

beforeAll(async () => {
  tocsin = await startTestTocsin({
    roles: ['ingest', 'services'],
    // Room for two of the largest bodies at once.
    env: { TOCSIN_MAX_BODY_BYTES: '4096', TOCSIN_MAX_BODY_BYTES_IN_FLIGHT: '8192' },
  });
  url = new URL(await tocsin.listen());
});

afterAll(async () => {
  // Closed even when the test failed: the server does not close while they are open.
  for (const socket of slow) socket.destroy();
  await tocsin.destroy();
});

/** A client that declares the largest body and sends ten bytes of it, then nothing. */
function slowSender(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        'POST /api/v1/ingest/generic HTTP/1.1\r\nHost: tocsin\r\n' +
          `Authorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\n` +
          'Content-Length: 4096\r\n\r\n{"title":"',
      );
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const send = (path: string, body: string) =>
  fetch(new URL(path, url), {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body,
  });

describe('request bodies being received at once', () => {
  it('are bounded by TOCSIN_MAX_BODY_BYTES_IN_FLIGHT: past it a 503 with Retry-After, until one ends', async () => {
    slow.push(await slowSender(), await slowSender());
    // Once both are being read, their 8,192 bytes are the whole budget: any other body waits.
    const refused = await eventually(
      async () => {
        const res = await send('/api/v1/ingest/generic', JSON.stringify({ title: 'third' }));
        return res.status === 503 ? res : undefined;
      },
      { what: 'a 503 while two bodies are in flight' },
    );
    expect(refused.headers.get('Retry-After')).toBe('1');
    // Operators see it: the budget is full.
    expect(await (await tocsin.request('/metrics')).text()).toMatch(
      /\ntocsin_body_bytes_in_flight 8192\n/,
    );
    expect(refused.headers.get('Content-Type')).toBe('application/problem+json');
    expect(((await refused.json()) as { detail: string }).detail).toContain(
      'TOCSIN_MAX_BODY_BYTES_IN_FLIGHT',
    );
    // The records API shares the budget.
    expect((await send('/api/v1/cis', JSON.stringify({ name: 'x', class: 'server' }))).status).toBe(
      503,
    );
    // A request without a body takes nothing from it (a DELETE sends neither Content-Length nor
    // Transfer-Encoding): it is answered as ever.
    const bodyless = await fetch(new URL('/api/v1/tokens/999999', url), {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(bodyless.status).toBe(404);
    // A client gone gives its share back.
    slow[0]!.destroy();
    const accepted = await eventually(
      async () => {
        const res = await send('/api/v1/ingest/generic', JSON.stringify({ title: 'fourth' }));
        return res.status === 202 ? res : undefined;
      },
      { what: 'a 202 once one slow sender left' },
    );
    expect(accepted.status).toBe(202);
    slow[1]!.destroy();
  });
});
