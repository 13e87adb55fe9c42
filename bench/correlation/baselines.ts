/**
 * The baselines of bench/correlation: the simple rules a NOC uses before it has an engine, each
 * a correlator over the same stream as the engine, scored the same way.
 *
 * Every baseline reads the stream in event-time order (the alert's own time: `startsAt` when it
 * fires, `endsAt` when it resolves), which is an advantage an online engine does not have with
 * late deliveries. Every baseline deduplicates: a delivery whose fingerprint is firing (or
 * resolved less than 15 minutes ago) joins that alert's incident. A new alert goes where the rule
 * says. Each incident's naive root-cause ranking is its CIs in the order they first alerted; its
 * naive problem: incidents whose first CI is the same are one problem.
 */
import { deriveFingerprint } from '../../ingest/fingerprint.ts';
import type { Correlator, Delivery, Prediction } from './correlator.ts';
import type { Cmdb } from './estate.ts';

const MINUTE = 60_000;
const FLAP_GRACE_MS = 15 * MINUTE;

/** A delivery as the baselines see it. */
type Event = {
  delivery: Delivery;
  /** Event time, ms. */
  at: number;
  firing: boolean;
  /** The dedup key: the fingerprint, or the one ingest would derive. */
  key: string;
  /** The CMDB name of its CI, when the CMDB knows it. */
  ci: string | null;
};

/** Where a new alert goes; `observe` sees every delivery with the incident it went to. */
type Rule = {
  assign: (e: Event, open: () => string) => string;
  observe?: (e: Event, incident: string) => void;
  /** The incident an id ended up in (after merges). */
  final?: (incident: string) => string;
};

/** Maps what an alert calls its CI (a name, FQDN, IP, cloud instance id) to its CMDB name. */
export function ciResolver(cmdb: Cmdb): (ci: string | null | undefined) => string | null {
  const names = new Map<string, string>();
  for (const c of cmdb.cis) {
    names.set(c.name.toLowerCase(), c.name);
    for (const k of ['fqdn', 'instanceId', 'ip']) {
      const v = c.attributes?.[k];
      if (typeof v === 'string') names.set(v.toLowerCase(), c.name);
    }
  }
  return (ci) => (ci ? (names.get(ci.toLowerCase()) ?? null) : null);
}

function toEvents(stream: readonly Delivery[], cmdb: Cmdb): Event[] {
  const resolve = ciResolver(cmdb);
  const events = stream.map((delivery) => {
    const a = delivery.alert;
    const firing = a.status === 'firing';
    const when = (!firing && a.endsAt) || a.startsAt || delivery.deliveredAt;
    const source = a.source ?? 'generic';
    const ci = a.ci ?? null;
    return {
      delivery,
      at: Date.parse(when),
      firing,
      key: a.fingerprint ?? deriveFingerprint({ source, ci, title: a.title, labels: a.labels }),
      ci: resolve(ci) ?? resolve(a.service),
    };
  });
  return events.sort((x, y) => x.at - y.at || x.delivery.seq - y.delivery.seq);
}

/** Runs a rule over a stream: dedup, assignment, naive root causes and problems. */
function runRule(stream: readonly Delivery[], cmdb: Cmdb, rule: Rule): Prediction {
  const incidents: (string | null)[] = new Array<string | null>(stream.length).fill(null);
  const alerts = new Map<string, { incident: string; open: boolean; lastAt: number }>();
  let next = 0;
  const open = () => `I${++next}`;
  const events = toEvents(stream, cmdb);
  for (const e of events) {
    const known = alerts.get(e.key);
    const incident =
      known && (known.open || e.at - known.lastAt <= FLAP_GRACE_MS)
        ? known.incident
        : rule.assign(e, open);
    rule.observe?.(e, incident);
    alerts.set(e.key, { incident, open: e.firing, lastAt: e.at });
    incidents[e.delivery.seq] = incident;
  }
  // Final ids (after merges), then each incident's CIs in the order they first alerted.
  const final = rule.final;
  if (final) incidents.forEach((id, i) => (incidents[i] = id === null ? null : final(id)));
  const cisOf = new Map<string, Set<string>>();
  for (const e of events) {
    const ci = e.ci ?? e.delivery.alert.ci;
    const id = incidents[e.delivery.seq]!;
    if (!ci || !e.firing) continue;
    cisOf.set(id, (cisOf.get(id) ?? new Set<string>()).add(ci));
  }
  const rootCauses = new Map<string, string[]>();
  for (const [id, cis] of cisOf) rootCauses.set(id, [...cis].slice(0, 3));
  const byFirst = new Map<string, string[]>();
  for (const [id, cis] of rootCauses) {
    const first = cis[0];
    if (first !== undefined) byFirst.set(first, [...(byFirst.get(first) ?? []), id]);
  }
  const problems = new Map<string, string>();
  for (const [ci, ids] of byFirst)
    if (ids.length > 1) for (const id of ids) problems.set(id, `recurring:${ci}`);
  return { incidents, rootCauses, problems };
}

/** One incident for every alert that comes within `gapMs` of the previous new alert. */
export function timeWindow(gapMs = 5 * MINUTE): Correlator {
  return {
    name: `time window (${gapMs / MINUTE} min gap)`,
    mode: 'in-process',
    correlate: (stream, cmdb) => {
      let current = '';
      let lastAt = -Infinity;
      return Promise.resolve(
        runRule(stream, cmdb, {
          assign(e, open) {
            if (e.at - lastAt > gapMs) current = open();
            lastAt = Math.max(lastAt, e.at);
            return current;
          },
        }),
      );
    },
  };
}

/**
 * Groups by a key, as Alertmanager's `group_by` does: a group takes new alerts while one of its
 * alerts is firing (and was heard from within `staleMs`) or for `gapMs` after its last delivery.
 */
function groupBy(name: string, keyOf: (e: Event) => string, gapMs: number): Correlator {
  const staleMs = 60 * MINUTE;
  return {
    name,
    mode: 'in-process',
    correlate: (stream, cmdb) => {
      type Group = { id: string; lastAt: number; lastFiringAt: number; firing: Set<string> };
      const groups = new Map<string, Group>();
      const byId = new Map<string, Group>();
      return Promise.resolve(
        runRule(stream, cmdb, {
          assign(e, open) {
            const g = groups.get(keyOf(e));
            const active =
              g !== undefined &&
              ((g.firing.size > 0 && e.at - g.lastFiringAt <= staleMs) || e.at - g.lastAt <= gapMs);
            if (active) return g.id;
            const fresh = {
              id: open(),
              lastAt: e.at,
              lastFiringAt: e.at,
              firing: new Set<string>(),
            };
            groups.set(keyOf(e), fresh);
            byId.set(fresh.id, fresh);
            return fresh.id;
          },
          observe(e, incident) {
            const g = byId.get(incident)!;
            g.lastAt = Math.max(g.lastAt, e.at);
            if (e.firing) {
              g.firing.add(e.key);
              g.lastFiringAt = Math.max(g.lastFiringAt, e.at);
            } else g.firing.delete(e.key);
          },
        }),
      );
    },
  };
}

/** Alertmanager's `group_by: [alertname, service]`; the title stands in for a missing alertname. */
export function alertnameAndService(gapMs = 5 * MINUTE): Correlator {
  return groupBy(
    'group_by alertname, service',
    ({ delivery: { alert } }) =>
      `${alert.labels.alertname ?? alert.title}\u0000${alert.service ?? ''}`,
    gapMs,
  );
}

/** One incident per CI while it keeps alerting (30 minutes: the skeleton's placeholder rule). */
export function perCi(gapMs = 30 * MINUTE): Correlator {
  return groupBy(
    `per CI (${gapMs / MINUTE} min)`,
    (e) => e.ci ?? e.delivery.alert.ci ?? e.key,
    gapMs,
  );
}

/** The CIs within `hops` of each CI in the CMDB seen as an undirected graph, computed on demand. */
function neighbourhoods(cmdb: Cmdb, hops: number): (ci: string) => string[] {
  const adjacent = new Map<string, string[]>();
  const link = (a: string, b: string) => adjacent.set(a, [...(adjacent.get(a) ?? []), b]);
  for (const r of cmdb.relationships) {
    link(r.source, r.target);
    link(r.target, r.source);
  }
  const cache = new Map<string, string[]>();
  return (ci) => {
    const known = cache.get(ci);
    if (known) return known;
    const seen = new Set([ci]);
    let frontier = [ci];
    for (let h = 0; h < hops; h++) {
      const next: string[] = [];
      for (const x of frontier)
        for (const y of adjacent.get(x) ?? [])
          if (!seen.has(y)) {
            seen.add(y);
            next.push(y);
          }
      frontier = next;
    }
    const all = [...seen];
    cache.set(ci, all);
    return all;
  };
}

/**
 * Topology only: a new alert joins every incident with an alert on a CI within `hops` of its own
 * (in the CMDB the correlator sees, either direction) in the last `windowMs`, merging them when it
 * bridges several: connected components of alerting CIs. No hub capping, no text.
 */
export function topology(hops = 2, windowMs = 10 * MINUTE): Correlator {
  return {
    name: `topology (${hops} hops, ${windowMs / MINUTE} min)`,
    mode: 'in-process',
    correlate: (stream, cmdb) => {
      const near = neighbourhoods(cmdb, hops);
      const parent = new Map<string, string>();
      const find = (id: string): string => {
        let root = id;
        while (parent.has(root)) root = parent.get(root)!;
        for (let x = id; x !== root;) {
          const up = parent.get(x)!;
          parent.set(x, root);
          x = up;
        }
        return root;
      };
      const lastOnCi = new Map<string, { incident: string; at: number }>();
      return Promise.resolve(
        runRule(stream, cmdb, {
          assign(e, open) {
            if (e.ci === null) return open();
            const found = new Set<string>();
            for (const x of near(e.ci)) {
              const last = lastOnCi.get(x);
              if (last && e.at - last.at <= windowMs) found.add(find(last.incident));
            }
            const [first, ...others] = [...found];
            if (first === undefined) return open();
            for (const other of others) parent.set(other, first);
            return first;
          },
          observe(e, incident) {
            if (e.ci !== null) lastOnCi.set(e.ci, { incident, at: e.at });
          },
          final: find,
        }),
      );
    },
  };
}

/** The four baselines of the issue, with their default settings. */
export function baselines(): Correlator[] {
  return [timeWindow(), alertnameAndService(), perCi(), topology()];
}
