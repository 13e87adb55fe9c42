import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
let url: URL;

beforeAll(async () => {
  tocsin = await startTestTocsin({
    roles: ['ingest', 'services'],
    env: { TOCSIN_REQUEST_TIMEOUT_SECONDS: '1' },
  });
  url = new URL(await tocsin.listen());
});

afterAll(async () => {
  await tocsin.destroy();
});

/** Sends `head` on a raw socket, keeps it open, and resolves with what came back until it closed. */
function sendAndWait(head: string, giveUpMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(url.port), url.hostname, () => socket.write(head));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection was still open after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

describe('a client that sends its request too slowly', () => {
  it('gets a 408 and its connection closed after TOCSIN_REQUEST_TIMEOUT_SECONDS, not Node’s 300 s', async () => {
    // Node's own limit is 300 s; 1 s is set here, so 10 s is ample for it and far from 300.
    const bodyPromised =
      'POST /api/v1/ingest/generic HTTP/1.1\r\nHost: tocsin\r\n' +
      `Authorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\n` +
      'Content-Length: 1000\r\n\r\n{"title":"never finished"';
    expect(await sendAndWait(bodyPromised, 10_000)).toMatch(/^HTTP\/1\.1 408 /);
    const headersUnfinished = 'GET /api/v1/health HTTP/1.1\r\nHost: tocsin\r\n';
    expect(await sendAndWait(headersUnfinished, 10_000)).toMatch(/^HTTP\/1\.1 408 /);
    // The server goes on answering others.
    const res = await fetch(new URL('/api/v1/ingest/generic', url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'sent in time', fingerprint: 'in-time' }),
    });
    expect(res.status).toBe(202);
  });
});
