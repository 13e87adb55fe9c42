import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import {
  createTemplateIndex,
  loadTextTools,
  type TemplateIndex,
} from '../../correlator/similarity.ts';
import { toTemplate } from '../../correlator/templates.ts';

const loadedModules = () => Object.keys(createRequire(import.meta.url).cache);

// First in the file, so that nothing else has loaded natural yet.
describe('loading natural', () => {
  it('happens on first use, loads two files rather than the package, and prints nothing', async () => {
    expect(loadedModules().filter((path) => path.includes('/natural/'))).toEqual([]);
    const write = vi.spyOn(process.stdout, 'write');
    try {
      const tools = await loadTextTools();
      expect(tools.stem('replication')).toBe('replic');
      expect(tools.tokenize('disk /var at <pct> on <ci>')).toEqual([
        'disk',
        'var',
        'at',
        '<pct>',
        'on',
        '<ci>',
      ]);
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
    const loaded = loadedModules();
    expect(loaded.some((path) => path.endsWith('stemmers/porter_stemmer.js'))).toBe(true);
    expect(loaded.some((path) => path.endsWith('natural/lib/natural/index.js'))).toBe(false);
    // The package entry's storage back-ends run dotenv, which reads .env into process.env.
    expect(loaded.some((path) => /node_modules\/(dotenv|mongoose)\//.test(path))).toBe(false);
  });
});

/** Alert texts as the monitoring tools word them, with the template each must reduce to. */
const templateCases: { tool: string; text: string; ci: string | null; template: string }[] = [
  {
    tool: 'prometheus',
    text: 'Filesystem on /var at web-01:9100 has only 8.2% available space left and is filling up.',
    ci: 'web-01',
    template: 'filesystem on /var at <ci> has only <pct> available space left and is filling up.',
  },
  {
    tool: 'prometheus',
    text: '[FIRING:2] NodeFilesystemSpaceFillingUp (instance="web-01.prod.example.com:9100", mountpoint="/var", severity="warning")',
    ci: 'web-01.prod.example.com',
    template:
      '[firing:<num>] node filesystem space filling up (instance=<ci>, mountpoint=/var, severity=<quoted>)',
  },
  {
    tool: 'prometheus',
    text: 'KubePodCrashLooping: Pod payments/api-6d8f7bb9c4-x2k4q (container api) is restarting 2.5 times / 10 minutes.',
    ci: 'payments',
    template:
      'kube pod crash looping: pod <ci>/api-<id> (container api) is restarting <num> times / <duration>.',
  },
  {
    tool: 'zabbix',
    text: 'Problem started at 08:06:51 on 2026.11.29 Problem name: Free disk space is less than 10% on volume /data1 Host: DB-LEDGER-01 Original problem ID: 48213',
    ci: 'db-ledger-1',
    template:
      'problem started at <time> on <time> problem name: free disk space is less than <pct> on volume <path> host: <ci> original problem id: <num>',
  },
  {
    tool: 'zabbix',
    text: 'Zabbix agent on db-ledger-1.corp.local is unreachable for 5 minutes',
    ci: 'db-ledger-1',
    template: 'zabbix agent on <ci> is unreachable for <duration>',
  },
  {
    tool: 'datadog',
    text: '[Triggered on {host:web-01}] Disk usage is high on web-01: 91.2% used on /var',
    ci: 'web-01',
    template: '[triggered on {host:<ci>}] disk usage is high on <ci>: <pct> used on /var',
  },
  {
    tool: 'datadog',
    text: '[P2] [Triggered] Elevated errors on checkout-02: 5.1% of requests failed. @slack-team-checkout @pagerduty-Checkout-Oncall',
    ci: 'checkout-02',
    template: '[p2] [triggered] elevated errors on <ci>: <pct> of requests failed. <mention>',
  },
  {
    tool: 'datadog',
    text: 'Request f47ac10b-58cc-4372-a567-0e02b2c3d479 to https://billing.internal:8443/api/v2/invoices/99812?expand=lines failed: HTTP 503 after 30012ms',
    ci: 'billing',
    template: 'request <uuid> to <url>/api/v2/invoices/<id> failed: http <num> after <duration>',
  },
  {
    tool: 'cloudwatch',
    text: 'ALARM: "web-01-disk-var-high" in US East (N. Virginia): Threshold Crossed: 1 out of the last 1 datapoints [93.17 (29/11/26 08:06:00)] was greater than or equal to the threshold (90.0).',
    ci: 'web-01',
    template:
      'alarm: <ci>-disk-var-high in us east (n. virginia): threshold crossed: <num> out of the last <num> datapoints [<num> (<time>)] was greater than or equal to the threshold (<num>).',
  },
  {
    tool: 'cloudwatch',
    text: 'ReplicaLag 45.2 Seconds > 30 Seconds on RDS instance db-ledger-1 (i-0abc123def4567890)',
    ci: 'db-ledger-1',
    template: 'replica lag <duration> > <duration> on rds instance <ci> (i-<hex>)',
  },
  {
    tool: 'nagios',
    text: 'web-01/Disk /var is CRITICAL - DISK CRITICAL - free space: /var 812 MB (4.1% inode=63%):',
    ci: 'web-01',
    template:
      '<ci>/disk /var is critical - disk critical - free space: /var <size> (<pct> inode=<pct>):',
  },
  {
    tool: 'nagios',
    text: '** PROBLEM Host Alert: WEB01 is DOWN ** PING CRITICAL - Packet loss = 100% Date/Time: Sat Nov 29 08:06:51 UTC 2026',
    ci: 'web-01',
    template:
      '** problem host alert: <ci> is down ** ping critical - packet loss = <pct> date/time: <time>',
  },
  {
    tool: 'generic',
    text: 'MySQL replication lag is 35 seconds on db-2 (master 10.0.4.12:3306, relay log /var/lib/mysql/relay-bin.000123)',
    ci: 'db-2',
    template: 'mysql replication lag is <duration> on <ci> (master <ip>, relay log <path>)',
  },
  {
    tool: 'generic',
    text: "Job 'nightly-backup' failed on backup-01 for ops@example.com at 2026-11-29T08:06:51.123Z, exit code 137",
    ci: 'backup-01',
    template: 'job <quoted> failed on <ci> for <email> at <time>, exit code <num>',
  },
  {
    tool: 'generic',
    text: 'Peers 10.0.0.1, 10.0.0.2 and 2001:db8::7 unreachable from [fe80::1%eth0]:179, MAC 00:1a:2b:3c:4d:5e',
    ci: null,
    template: 'peers <ip> unreachable from <ip>, mac <mac>',
  },
  {
    tool: 'generic',
    text: 'Throughput 120 req/s (was 1.2k req/s), 35 MB/s written, heap 1.5GiB, uptime 3d4h, build v1.24.3, commit deadbeef01',
    ci: null,
    template:
      'throughput <rate> (was <rate>), <rate> written, heap <size>, uptime <duration>, build <version>, commit <hex>',
  },
];

describe('toTemplate', () => {
  it.each(templateCases)('$tool: $text', ({ text, ci, template }) => {
    expect(toTemplate(text, ci)).toBe(template);
  });

  it('gives the same template to the same failure on other CIs and values', () => {
    expect(toTemplate('Disk /var at 91% on web-01 (10.0.3.7)', 'web-01')).toBe(
      toTemplate('Disk /var at 97% on web-17 (10.0.3.9)', 'web-17'),
    );
    expect(toTemplate('Disk /var at 91% on web-01 (10.0.3.7)', 'web-01')).toBe(
      'disk /var at <pct> on <ci> (<ip>)',
    );
    expect(toTemplate('Free disk space is less than 10% on volume /data1')).toBe(
      toTemplate('Free disk space is less than 5% on volume /data2'),
    );
  });

  it.each([
    ['web-01', 'WEB-01 down'],
    ['web-01', 'web01 down'],
    ['web-01', 'web_1 down'],
    ['web-01', 'web-01.prod.example.com down'],
    ['web-01', 'Web-01:9100 down'],
    ['web-01.prod.example.com', 'web-01 down'],
    ['web-01.prod.example.com', 'WEB01.PROD.EXAMPLE.COM down'],
    ['db-ledger-1', 'db_ledger_01 down'],
  ])('masks CI %s in "%s"', (ci, text) => {
    expect(toTemplate(text, ci)).toBe('<ci> down');
  });

  it.each([
    ['web-1', 'web-10 down', 'web-<num> down'],
    ['web-01', 'myweb-01 down', 'myweb-<num> down'],
    ['db-1', 'db-10 down', 'db-<num> down'],
    ['web-01', 'web-01a down', 'web-01a down'],
  ])('leaves other names alone: CI %s in "%s"', (ci, text, template) => {
    expect(toTemplate(text, ci)).toBe(template);
  });

  it('is idempotent, so a stored template can be passed back as a text', () => {
    for (const { template } of templateCases) expect(toTemplate(template)).toBe(template);
  });

  it('splits CamelCase names into words, but not units', () => {
    expect(toTemplate('HighCPUUsage: 1.5GiB free, HTTPError on iOS')).toBe(
      'high cpu usage: <size> free, http error on ios',
    );
  });

  it('keeps words that only look like values', () => {
    expect(toTemplate('p99 latency of 5xx responses on x86_64 over IPv6')).toBe(
      'p99 latency of 5xx responses on x86_64 over ipv6',
    );
  });
});

/**
 * A warm corpus of alert titles, worded as the tools' normalizers leave them (prefixes such as
 * `[Triggered]` or `[FIRING:1]` are stripped at ingest): IDF needs a few dozen templates to tell
 * failure words from the words every alert uses.
 */
const corpus = {
  promSpace: [
    'Filesystem on /var at web-01:9100 has only 8.2% available space left and is filling up.',
    'web-01',
  ],
  promInodes: [
    'Filesystem on /var at web-02:9100 has only 4.1% available inodes left and is filling up fast.',
    'web-02',
  ],
  crashLoop: [
    'Pod payments/api-6d8f7bb9c4-x2k4q (container api) is restarting 2.5 times / 10 minutes.',
    'payments',
  ],
  latency: ['p99 request latency is 812ms on checkout-7', 'checkout-7'],
  targets: [
    '33% of the node-exporter/node-exporter targets in monitoring namespace are down.',
    null,
  ],
  conntrack: ['87% of conntrack entries are used on lb-3', 'lb-3'],
  kubelet: ["Kubelet 'node-12' is running at 96% of its Pod capacity.", 'node-12'],
  clock: [
    'Clock on ntp-client-4 is not synchronising. Ensure NTP is configured on this host.',
    'ntp-client-4',
  ],
  memory: ['Memory is filling up at app-9, 93% in use', 'app-9'],
  zabbixSpace: ['Free disk space is less than 10% on volume /var', 'db-ledger-1'],
  zabbixInodes: ['Free inodes is less than 10% on volume /var', 'db-ledger-1'],
  agent: ['Zabbix agent is not available (for 3m)', 'mq-2'],
  cpu: ['High CPU utilization (over 90% for 5m)', 'app-3'],
  lackMemory: ['Lack of available memory (< 20M of 7.6 GB)', 'cache-1'],
  mysqlLag: ['MySQL: Replication lag is too high (over 30s for 5m)', 'db-ledger-2'],
  link: ['Interface eth0: Link down', 'sw-core-1'],
  datadogDisk: ['Disk usage is high on web-01: 91.2% used on /var', 'web-01'],
  postgresLag: ['Postgres replication delay is 42s on db-2', 'db-2'],
  certificate: ['SSL certificate for api.example.com expires in 15 days', 'api.example.com'],
  fragmentation: ['Redis memory fragmentation ratio is 1.83 on cache-2', 'cache-2'],
  consumerLag: ['Kafka consumer lag for group billing-consumers is 18234 messages', 'kafka-1'],
  errorRate: ['Error rate on service checkout is 7.2% (threshold 5%)', 'checkout'],
  cloudwatchCpu: [
    'app-5-cpu-high: Threshold Crossed: 1 datapoint [95.2] was greater than the threshold (90.0).',
    'app-5',
  ],
  rdsStorage: [
    'RDS-FreeStorageSpace-db-ledger-1: Threshold Crossed: FreeStorageSpace 1.2 GB < 2 GB',
    'db-ledger-1',
  ],
  elb5xx: ['ELB-5XX-shop-lb: Threshold Crossed: HTTPCode_ELB_5XX_Count 153 > 100', 'shop-lb'],
  sqsAge: [
    'SQS-ApproximateAgeOfOldestMessage-orders: Threshold Crossed: 900 Seconds > 600 Seconds',
    'orders',
  ],
  nagiosDisk: [
    'web-01/Disk /var is CRITICAL - DISK CRITICAL - free space: /var 812 MB (4.1% inode=63%):',
    'web-01',
  ],
  ping: ['web-03 is DOWN - PING CRITICAL - Packet loss = 100%, RTA = 0.00 ms', 'web-03'],
  http: [
    'shop-1/HTTP is CRITICAL - HTTP CRITICAL: HTTP/1.1 503 Service Unavailable - 421 bytes in 0.012 second response time',
    'shop-1',
  ],
  nagiosCertificate: [
    "edge-2/SSL Certificate is WARNING - SSL WARNING - Certificate 'shop.example.com' expires in 14 day(s) (Sat Dec 13 08:00:00 2026).",
    'edge-2',
  ],
  ntp: ['ntp-1/NTP is WARNING - NTP WARNING: Offset 1.23 secs', 'ntp-1'],
  swap: ['app-2/Swap is CRITICAL - SWAP CRITICAL - 3% free (31 MB out of 1023 MB)', 'app-2'],
  esHealth: ['Elasticsearch cluster health is RED on es-1', 'es-1'],
  heap: ['JVM heap usage above 90% on es-2 (old gen GC 1.2s)', 'es-2'],
  unacked: ['RabbitMQ queue orders has 12000 unacknowledged messages', 'mq-1'],
  bgp: ['BGP session to 10.255.0.1 is down on edge-1', 'edge-1'],
  backup: ['Backup job nightly-full failed on backup-01 (exit code 2)', 'backup-01'],
  files: ['Too many open files on app-7 (65535 of 65536 file descriptors)', 'app-7'],
  dns: ['DNS resolution failing for internal.example.com from app-4', 'app-4'],
} satisfies Record<string, [string, string | null]>;

type Name = keyof typeof corpus;

async function warmIndex(): Promise<{ index: TemplateIndex; id: Record<Name, number> }> {
  const index = await createTemplateIndex();
  const id = {} as Record<Name, number>;
  for (const [name, [text, ci]] of Object.entries(corpus)) id[name as Name] = index.add(text, ci);
  return { index, id };
}

describe('TemplateIndex similarity', () => {
  it('scores the same failure with other values as the same template', async () => {
    const { index, id } = await warmIndex();
    const again = index.add(
      'Filesystem on /var at web-17:9100 has only 2.5% available space left and is filling up.',
      'web-17',
    );
    expect(again).toBe(id.promSpace);
    expect(index.similarity(again, id.promSpace)).toBe(1);
    for (const [name, text, ci] of [
      ['zabbixSpace', 'Free disk space is less than 5% on volume /var', 'db-ledger-7'],
      ['datadogDisk', 'Disk usage is high on WEB04: 97.5% used on /var', 'web-04'],
      [
        'crashLoop',
        'Pod orders/api-59b7c8d6f5-p7zrk (container api) is restarting 1 times / 5 minutes.',
        'orders',
      ],
      [
        'nagiosDisk',
        'db-3/Disk /var is CRITICAL - DISK CRITICAL - free space: /var 90 MB (0.4% inode=99%):',
        'db-3',
      ],
      [
        'ping',
        'web-11.prod is DOWN - PING CRITICAL - Packet loss = 80%, RTA = 1200.5 ms',
        'web-11',
      ],
      [
        'cloudwatchCpu',
        'app-6-cpu-high: Threshold Crossed: 3 datapoint [99.1] was greater than the threshold (85.0).',
        'app-6',
      ],
      [
        'nagiosCertificate',
        "edge-9/SSL Certificate is WARNING - SSL WARNING - Certificate 'www.example.org' expires in 2 day(s) (Mon Dec 1 10:00:00 2026).",
        'edge-9',
      ],
    ] as const) {
      expect(index.add(text, ci), text).toBe(id[name]);
    }
  });

  it('scores related failures on the same mount in between', async () => {
    const { index, id } = await warmIndex();
    const same = 0.9;
    const unrelated = 0.2;
    for (const [a, b] of [
      ['zabbixSpace', 'zabbixInodes'],
      ['promSpace', 'promInodes'],
      ['zabbixSpace', 'nagiosDisk'],
      ['datadogDisk', 'nagiosDisk'],
    ] as const) {
      const score = index.similarity(id[a], id[b]);
      expect(score, `${a} ~ ${b}`).toBeGreaterThan(unrelated + 0.1);
      expect(score, `${a} ~ ${b}`).toBeLessThan(same);
    }
    expect(index.sharedTerms(id.zabbixSpace, id.zabbixInodes)).toEqual(
      expect.arrayContaining(['free', 'var', 'volum']),
    );
  });

  it('scores unrelated failures low', async () => {
    const { index, id } = await warmIndex();
    for (const [a, b] of [
      ['certificate', 'postgresLag'],
      ['certificate', 'mysqlLag'],
      ['nagiosCertificate', 'mysqlLag'],
      ['nagiosCertificate', 'postgresLag'],
      ['crashLoop', 'postgresLag'],
      ['datadogDisk', 'postgresLag'],
      ['ping', 'latency'],
    ] as const) {
      expect(index.similarity(id[a], id[b]), `${a} ~ ${b}`).toBeLessThan(0.2);
    }
  });

  it('is symmetric, 1 for a template with itself, 0 for an id it does not hold', async () => {
    const { index, id } = await warmIndex();
    const names = Object.keys(corpus) as Name[];
    for (const a of names) {
      expect(index.similarity(id[a], id[a])).toBe(1);
      for (const b of names) {
        const score = index.similarity(id[a], id[b]);
        expect(score).toBe(index.similarity(id[b], id[a]));
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
      }
    }
    expect(index.similarity(id.cpu, 10_000)).toBe(0);
    expect(index.nearest(10_000)).toEqual([]);
    // A text with no word left (stop words only) matches nothing, itself included.
    const empty = index.add('It is on the', null);
    expect(index.similarity(empty, empty)).toBe(0);
    expect(index.nearest(empty, 10, 0)).toEqual([]);
  });

  it('finds the nearest templates best first', async () => {
    const { index, id } = await warmIndex();
    const found = index.nearest(id.zabbixSpace, 3, 0.3);
    expect(found.map((m) => m.templateId)).toEqual([
      id.zabbixInodes,
      id.nagiosDisk,
      id.datadogDisk,
    ]);
    expect(found.map((m) => m.score)).toEqual([...found.map((m) => m.score)].sort((a, b) => b - a));
    expect(index.nearest(id.certificate, 1, 0.3)).toEqual([
      {
        templateId: id.nagiosCertificate,
        score: index.similarity(id.certificate, id.nagiosCertificate),
      },
    ]);
  });

  it('computes each template once and caches stems', async () => {
    const { index } = await warmIndex();
    const before = index.stats();
    for (let i = 0; i < 100; i++)
      index.add(`Disk usage is high on web-${i}: ${i}% used on /var`, `web-${i}`);
    const after = index.stats();
    expect(after.templates).toBe(before.templates);
    expect(after.templateHits - before.templateHits).toBe(100);
    expect(after.stemCacheMisses).toBe(before.stemCacheMisses);
    expect(after.vectorComputations).toBe(before.vectorComputations);
  });
});

/**
 * Distinct failure templates, a condition on a component: 50 × 40 = 2,000. The made-up words are
 * letters (nothing to mask) ending in `x` (the Porter stemmer leaves them distinct).
 */
function syntheticTexts(): [string, string][] {
  const components = Array.from({ length: 50 }, (_, i) => `svc${toWord(i)}x service`);
  const conditions = Array.from({ length: 40 }, (_, i) => `cond${toWord(i)}x detected`);
  return conditions.flatMap((condition, c) =>
    components.map((component, s): [string, string] => [
      `${condition} on ${component} host-${c * 50 + s}: ${s % 100}% for ${c + 1} minutes`,
      `host-${c * 50 + s}`,
    ]),
  );
}

/** A number as letters (`0` → `a`, `27` → `bb`), so that synthetic words are not masked. */
function toWord(n: number): string {
  return n.toString(26).replace(/./g, (d) => String.fromCharCode(97 + parseInt(d, 26)));
}

describe('TemplateIndex nearest', () => {
  it('narrows candidates with the inverted index instead of scanning', async () => {
    const index = await createTemplateIndex();
    const ids = syntheticTexts().map(([text, ci]) => index.add(text, ci));
    expect(index.stats().templates).toBe(2_000);
    const query = ids[1234]!;
    const before = index.stats();
    const found = index.nearest(query, 5, 0.5);
    const comparisons = index.stats().comparisons - before.comparisons;
    // Only templates sharing the query's component (49) or condition (39) are compared: the words
    // every template has cannot reach 0.5 on their own, so their postings are not read.
    expect(comparisons).toBe(88);

    const scan = ids
      .filter((other) => other !== query)
      .map((other) => ({ templateId: other, score: index.similarity(query, other) }))
      .filter((m) => m.score >= 0.5)
      .sort((a, b) => b.score - a.score || a.templateId - b.templateId)
      .slice(0, 5);
    expect(found).toEqual(scan);
    expect(found).toHaveLength(5);
  });

  it('reads the postings of common stems only when they could reach minScore', async () => {
    const index = await createTemplateIndex();
    const ids = syntheticTexts().map(([text, ci]) => index.add(text, ci));
    const comparisons = (minScore: number) => {
      const before = index.stats().comparisons;
      index.nearest(ids[1234]!, 5, minScore);
      return index.stats().comparisons - before;
    };
    // Even at 0.2, the five stems and placeholders of every template are weak in every template
    // (max-score bound ≈ 5 × 0.14 × 0.14), so they are not probed; at 0.05 they are.
    expect(comparisons(0.2)).toBe(88);
    expect(comparisons(0.05)).toBe(1_999);
  });

  it('stops at maxCandidates and says so', async () => {
    const index = await createTemplateIndex({ maxCandidates: 100 });
    syntheticTexts().forEach(([text, ci]) => index.add(text, ci));
    const common = index.add('Detected on service', null);
    const before = index.stats();
    index.nearest(common, 5, 0.01);
    const after = index.stats();
    expect(after.comparisons - before.comparisons).toBe(100);
    expect(after.truncatedQueries - before.truncatedQueries).toBe(1);
  });
});

describe('TemplateIndex memory', () => {
  it('evicts the least recently used templates past maxTemplates, and their stems', async () => {
    const index = await createTemplateIndex({ maxTemplates: 100 });
    const texts = syntheticTexts();
    const ids = texts.map(([text, ci]) => index.add(text, ci));
    const stats = index.stats();
    expect(stats.templates).toBe(100);
    expect(stats.evictions).toBe(1_900);

    // The vocabulary is that of the templates held, as if only they had been added.
    const fresh = await createTemplateIndex();
    texts.slice(-100).forEach(([text, ci]) => fresh.add(text, ci));
    expect(stats.terms).toBe(fresh.stats().terms);

    const evicted = ids[0]!;
    const held = ids.at(-1)!;
    expect(index.has(evicted)).toBe(false);
    expect(index.template(evicted)).toBeUndefined();
    expect(index.similarity(evicted, held)).toBe(0);
    for (const id of ids.slice(-100)) {
      for (const match of index.nearest(id, 10, 0.01))
        expect(index.has(match.templateId)).toBe(true);
    }
    // An evicted template comes back with a new id.
    const [text, ci] = texts[0]!;
    expect(index.add(text, ci)).not.toBe(evicted);
  });

  it('keeps a template that is used again', async () => {
    const index = await createTemplateIndex({ maxTemplates: 3 });
    const a = index.add('Disk full on web-1', 'web-1');
    const b = index.add('Replication lag on db-1', 'db-1');
    index.add('Certificate expires on edge-1', 'edge-1');
    expect(index.add('Disk full on web-2', 'web-2')).toBe(a);
    index.add('Link down on sw-1', 'sw-1');
    expect(index.has(a)).toBe(true);
    expect(index.has(b)).toBe(false);
  });
});

describe('TemplateIndex IDF epochs', () => {
  it('keeps scores fixed within an epoch and re-weights every vector once at the next', async () => {
    const index = await createTemplateIndex();
    const texts = syntheticTexts();
    const ids = texts.slice(0, 1_000).map(([text, ci]) => index.add(text, ci));
    const [a, b] = [ids[10]!, ids[60]!];
    const score = index.similarity(a, b);
    const { idfEpochs } = index.stats();
    // Epochs grow geometrically (10% churn each), not with every template.
    expect(idfEpochs).toBeLessThan(100);

    // 5% more templates: the same epoch, so exactly the same score.
    texts.slice(1_000, 1_050).forEach(([text, ci]) => index.add(text, ci));
    expect(index.stats().idfEpochs).toBe(idfEpochs);
    expect(index.similarity(a, b)).toBe(score);

    // 10% more: one new epoch, every held vector re-weighted once, and the score barely moves.
    const before = index.stats();
    texts.slice(1_050, 1_151).forEach(([text, ci]) => index.add(text, ci));
    const after = index.stats();
    expect(after.idfEpochs).toBe(idfEpochs + 1);
    // The 101 new vectors, and the templates held when the epoch started (1,051 to 1,151).
    const reweighted = after.vectorComputations - before.vectorComputations - 101;
    expect(reweighted).toBeGreaterThanOrEqual(1_051);
    expect(reweighted).toBeLessThanOrEqual(1_151);
    expect(index.similarity(a, b)).not.toBe(score);
    expect(index.similarity(a, b)).toBeCloseTo(score, 1);
  });
});
