import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

// The Debian package's binary: `apt-get install -y prometheus-alertmanager`.
const BINARY = '/usr/bin/prometheus-alertmanager';

type StoredAlert = {
  fingerprint: string;
  title: string;
  description: string | null;
  severity: string;
  status: string;
  ci: string | null;
  service: string | null;
  source: string;
  labels: Record<string, string>;
  startsAt: string;
  endsAt: string | null;
};

let tocsin: TestTocsin | undefined;
let tocsinUrl: string;
let dir: string | undefined;
let child: ChildProcess | undefined;
let amUrl: string;
// The child's last output, shown when it fails to start.
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

const MISSING =
  `${BINARY} not found: this test runs a real Alertmanager. Install it with ` +
  '`apt-get install -y prometheus-alertmanager` (Debian package).';

beforeAll(async () => {
  // The test itself fails, with the message: a missing binary is not a reason to skip.
  if (!existsSync(BINARY)) return;
  tocsin = await startTestTocsin();
  tocsinUrl = await tocsin.listen();
  dir = await mkdtemp(join(tmpdir(), 'tocsin-alertmanager-'));
  const port = await freePort();
  amUrl = `http://127.0.0.1:${port}`;
  const config = join(dir, 'alertmanager.yml');
  // JSON is YAML: no quoting of the URL or the token to get wrong.
  await writeFile(
    config,
    JSON.stringify({
      route: {
        receiver: 'tocsin',
        group_wait: '1s',
        group_interval: '1s',
        repeat_interval: '1m',
      },
      receivers: [
        {
          name: 'tocsin',
          webhook_configs: [
            {
              url: `${tocsinUrl}/api/v1/ingest/alertmanager`,
              send_resolved: true,
              http_config: { authorization: { credentials: ADMIN_TOKEN } },
            },
          ],
        },
      ],
    }),
  );
  child = spawn(
    BINARY,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${amUrl}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await eventually(
    async () => {
      if (child!.exitCode !== null) return `exited with code ${child!.exitCode}`;
      const res = await fetch(`${amUrl}/-/ready`);
      return res.ok ? 'ready' : undefined;
    },
    { what: 'Alertmanager to be ready' },
  ).then((state) => {
    if (state !== 'ready') throw new Error(`Alertmanager ${state}:\n${output}`);
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  await tocsin?.destroy();
});

async function postToAlertmanager(alerts: unknown[]): Promise<void> {
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  expect(res.status, await res.text()).toBe(200);
}

async function tocsinAlerts(status: 'firing' | 'resolved'): Promise<StoredAlert[]> {
  const res = await fetch(`${tocsinUrl}/api/v1/alerts?status=${status}`, {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (!res.ok) throw new Error(`GET /api/v1/alerts: ${res.status} ${await res.text()}`);
  const page = (await res.json()) as { items: StoredAlert[] };
  return page.items.filter((a) => a.source === 'alertmanager');
}

/** Both alerts in the given status, ordered by title. */
function both(status: 'firing' | 'resolved') {
  return eventually(
    async () => {
      const alerts = await tocsinAlerts(status);
      return alerts.length === 2
        ? alerts.sort((a, b) => a.title.localeCompare(b.title))
        : undefined;
    },
    { timeoutMs: 30_000, what: `both alerts to be ${status} in Tocsin` },
  );
}

describe('a real Prometheus Alertmanager as the client', () => {
  it('delivers firing alerts with their labels and annotations, then resolves them', async () => {
    if (!existsSync(BINARY)) throw new Error(MISSING);
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alerts = [
      {
        labels: { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'critical' },
        annotations: { summary: 'Disk full on db-1', description: '/var is 99% full' },
        generatorURL: 'http://prometheus.test:9090/graph?g0.expr=disk',
        startsAt,
      },
      {
        labels: { alertname: 'HighLatency', instance: 'web-2:8080', severity: 'warn' },
        annotations: {
          summary: 'High latency on web-2',
          description: 'p99 above 2s',
          runbook_url: 'https://runbooks.test/latency',
        },
        startsAt,
      },
    ];
    await postToAlertmanager(alerts);

    const firing = await both('firing');
    // Alertmanager's own view of the alerts: Tocsin keys them by Alertmanager's fingerprint.
    const res = await fetch(`${amUrl}/api/v2/alerts`);
    const inAlertmanager = (await res.json()) as {
      fingerprint: string;
      labels: Record<string, string>;
    }[];
    const fingerprintOf = (alertname: string) =>
      `alertmanager:${inAlertmanager.find((a) => a.labels.alertname === alertname)?.fingerprint}`;
    const group = { receiver: 'tocsin', group_key: '{}:{}', external_url: amUrl };
    expect(firing).toEqual([
      expect.objectContaining({
        title: 'Disk full on db-1',
        description: '/var is 99% full',
        severity: 'critical',
        status: 'firing',
        ci: 'db-1',
        service: null,
        fingerprint: fingerprintOf('DiskFull'),
        labels: {
          ...group,
          generator_url: 'http://prometheus.test:9090/graph?g0.expr=disk',
          alertname: 'DiskFull',
          instance: 'db-1:9100',
          severity: 'critical',
        },
        startsAt,
        endsAt: null,
      }),
      expect.objectContaining({
        title: 'High latency on web-2',
        description: 'p99 above 2s',
        severity: 'warning',
        status: 'firing',
        ci: 'web-2',
        service: null,
        fingerprint: fingerprintOf('HighLatency'),
        labels: {
          ...group,
          runbook_url: 'https://runbooks.test/latency',
          alertname: 'HighLatency',
          instance: 'web-2:8080',
          severity: 'warn',
        },
        startsAt,
        endsAt: null,
      }),
    ]);

    const endsAt = new Date(Date.now() - 1000).toISOString();
    await postToAlertmanager(alerts.map((a) => ({ ...a, endsAt })));
    const resolved = await both('resolved');
    expect(resolved.map((a) => [a.title, a.fingerprint, a.status, a.endsAt])).toEqual([
      ['Disk full on db-1', fingerprintOf('DiskFull'), 'resolved', endsAt],
      ['High latency on web-2', fingerprintOf('HighLatency'), 'resolved', endsAt],
    ]);
    expect(await tocsinAlerts('firing')).toEqual([]);
  });
});
