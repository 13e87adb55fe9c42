import { describe, expect, it } from 'vitest';
import {
  alertnameAndService,
  ciResolver,
  perCi,
  timeWindow,
  topology,
} from '../../../bench/correlation/baselines.ts';
import type { Delivery } from '../../../bench/correlation/correlator.ts';
import type { Cmdb } from '../../../bench/correlation/estate.ts';

const T0 = Date.parse('2026-11-02T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

type Spec = {
  minute: number;
  ci: string | null;
  title?: string;
  alertname?: string;
  service?: string;
  fingerprint?: string;
  status?: 'firing' | 'resolved';
  startedMinute?: number;
};

/** Deliveries in the order given, each delivered a second after its event time. */
function stream(...specs: Spec[]): Delivery[] {
  return specs.map((s, seq) => {
    const firing = (s.status ?? 'firing') === 'firing';
    const starts = at(s.startedMinute ?? s.minute);
    const labels: Record<string, string> = s.alertname ? { alertname: s.alertname } : {};
    return {
      seq,
      deliveredAt: new Date(Date.parse(at(s.minute)) + 1000).toISOString(),
      alert: {
        title: s.title ?? `Problem on ${s.ci}`,
        severity: 'major',
        status: firing ? 'firing' : 'resolved',
        ci: s.ci,
        service: s.service ?? null,
        source: 'test',
        ...(s.fingerprint ? { fingerprint: s.fingerprint } : {}),
        labels,
        startsAt: starts,
        endsAt: firing ? null : at(s.minute),
      },
    };
  });
}

// A chain a → b → c → d → e (each needs the next), plus f on its own.
const cmdb: Cmdb = {
  cis: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({
    name,
    class: 'virtual_machine',
    attributes: { fqdn: `${name}.dc1.example.net`, ip: `10.0.0.${name.charCodeAt(0)}` },
  })),
  relationships: [
    { source: 'a', target: 'b', type: 'depends_on' },
    { source: 'b', target: 'c', type: 'runs_on' },
    { source: 'c', target: 'd', type: 'hosted_on' },
    { source: 'd', target: 'e', type: 'depends_on' },
  ],
};

/** The incidents as groups of delivery positions, in order of their first delivery. */
function groups(incidents: (string | null)[]): number[][] {
  const byId = new Map<string, number[]>();
  incidents.forEach((id, i) =>
    byId.set(id ?? `alone-${i}`, [...(byId.get(id ?? `alone-${i}`) ?? []), i]),
  );
  return [...byId.values()];
}

describe('ciResolver', () => {
  it('finds a CI by name, FQDN or IP, ignoring case', () => {
    const resolve = ciResolver(cmdb);
    expect(resolve('C')).toBe('c');
    expect(resolve('c.dc1.example.net')).toBe('c');
    expect(resolve('10.0.0.99')).toBe('c');
    expect(resolve('nowhere')).toBeNull();
    expect(resolve(null)).toBeNull();
  });
});

describe('time window', () => {
  it('splits where the gap between new alerts exceeds the window', async () => {
    const s = stream(
      { minute: 0, ci: 'a' },
      { minute: 3, ci: 'f' },
      { minute: 7, ci: 'b' },
      { minute: 20, ci: 'c' },
    );
    const p = await timeWindow(5 * 60_000).correlate(s, cmdb);
    expect(groups(p.incidents)).toEqual([[0, 1, 2], [3]]);
    expect(p.rootCauses.get(p.incidents[0]!)).toEqual(['a', 'f', 'b']);
  });

  it('keeps a re-sent alert in its incident, even after the window', async () => {
    const s = stream(
      { minute: 0, ci: 'a', fingerprint: 'fp-a' },
      { minute: 30, ci: 'b' },
      { minute: 31, ci: 'a', fingerprint: 'fp-a', startedMinute: 0 },
    );
    const p = await timeWindow().correlate(s, cmdb);
    expect(groups(p.incidents)).toEqual([[0, 2], [1]]);
  });

  it('orders by event time, not delivery order', async () => {
    // Delivered last, but it happened first: it opens the incident and is its first CI.
    const s = stream({ minute: 2, ci: 'b' }, { minute: 0, ci: 'a' });
    const p = await timeWindow().correlate(s, cmdb);
    expect(groups(p.incidents)).toEqual([[0, 1]]);
    expect(p.rootCauses.get(p.incidents[0]!)![0]).toBe('a');
  });
});

describe('group_by alertname, service', () => {
  it('groups alerts with the same alertname and service', async () => {
    const s = stream(
      { minute: 0, ci: 'a', alertname: 'HostDown', service: 'billing' },
      { minute: 1, ci: 'b', alertname: 'HostDown', service: 'billing' },
      { minute: 1, ci: 'c', alertname: 'HostDown', service: 'crm' },
      { minute: 2, ci: 'd', title: 'Disk full', service: 'billing' },
      { minute: 40, ci: 'e', alertname: 'HostDown', service: 'billing' },
    );
    const p = await alertnameAndService().correlate(s, cmdb);
    // The first group is still firing at minute 40 (heard from within the hour): it takes e.
    expect(groups(p.incidents)).toEqual([[0, 1, 4], [2], [3]]);
  });

  it('closes a group once its alerts resolved and the gap passed', async () => {
    const s = stream(
      { minute: 0, ci: 'a', alertname: 'HostDown', fingerprint: 'x' },
      {
        minute: 2,
        ci: 'a',
        alertname: 'HostDown',
        fingerprint: 'x',
        status: 'resolved',
        startedMinute: 0,
      },
      { minute: 30, ci: 'b', alertname: 'HostDown' },
    );
    const p = await alertnameAndService().correlate(s, cmdb);
    expect(groups(p.incidents)).toEqual([[0, 1], [2]]);
  });
});

describe('per CI', () => {
  it('groups alerts on the same CI, under any of its names', async () => {
    const s = stream(
      { minute: 0, ci: 'a', title: 'CPU high' },
      { minute: 5, ci: 'a.dc1.example.net', title: 'Disk full' },
      { minute: 6, ci: 'b', title: 'CPU high' },
      { minute: 70, ci: 'a', title: 'Memory high' },
    );
    const p = await perCi().correlate(s, cmdb);
    expect(groups(p.incidents)).toEqual([[0, 1], [2], [3]]);
    // Two incidents whose first CI is a: the naive problem.
    expect(p.problems.get(p.incidents[0]!)).toBe('recurring:a');
    expect(p.problems.get(p.incidents[3]!)).toBe('recurring:a');
    expect(p.problems.has(p.incidents[2]!)).toBe(false);
  });
});

describe('topology', () => {
  it('joins alerts within the hops and the window, in either direction', async () => {
    const s = stream(
      { minute: 0, ci: 'a' },
      { minute: 1, ci: 'c' },
      { minute: 2, ci: 'e' },
      { minute: 3, ci: 'f' },
      { minute: 30, ci: 'b' },
    );
    const p = await topology(2, 10 * 60_000).correlate(s, cmdb);
    // a–c: 2 hops; c–e: 2 hops; f is unrelated; b comes after the window.
    expect(groups(p.incidents)).toEqual([[0, 1, 2], [3], [4]]);
  });

  it('merges the incidents an alert bridges', async () => {
    const s = stream({ minute: 0, ci: 'a' }, { minute: 1, ci: 'e' }, { minute: 2, ci: 'c' });
    const p = await topology(2, 10 * 60_000).correlate(s, cmdb);
    expect(groups(p.incidents)).toEqual([[0, 1, 2]]);
    expect(p.rootCauses.get(p.incidents[0]!)).toEqual(['a', 'e', 'c']);
  });

  it('leaves an alert whose CI the CMDB does not know on its own', async () => {
    const s = stream({ minute: 0, ci: 'a' }, { minute: 1, ci: 'unknown-host' });
    const p = await topology().correlate(s, cmdb);
    expect(groups(p.incidents)).toEqual([[0], [1]]);
  });
});
