/**
 * bench/search: Elasticsearch indexing rate and the latency of the questions a NOC and a problem
 * manager ask search, beside the same questions asked of PostgreSQL directly, in the same run.
 *
 *   npm run bench:search [-- --alerts 1000000 --incidents 100000 --iterations 60 --seed 42]
 *
 * 1. A fresh database `tocsin_bench_<random>`, migrated; generated incidents, alerts and problems
 *    (bench/search-data.ts, deterministic with --seed) streamed in with COPY.
 * 2. Indexing through Tocsin's own path: `reindexAll` (new indices with refresh off, batches of
 *    `projectRecords`, alias swap) under the index prefix `bench-search-<random>`; docs/s over the
 *    whole load, and where the time went (PostgreSQL read, JavaScript, JSON, bulk).
 * 3. The indexes a DBA would add for these questions (named in the output), then each question
 *    `--iterations` times after `--warmup`, Elasticsearch (Tocsin's searchRecordsFaceted,
 *    incidentPatterns, similarIncidents) and PostgreSQL interleaved with the same parameters.
 * Prints a table and the targets, writes bench/results/search-<time>.json, and drops the database
 * and the indices (by name) whatever happens.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { DiagnosticResult } from '@elastic/elasticsearch';
import { from as copyFrom } from 'pg-copy-streams';
import { createPool, ensureDatabase, quoteIdent, type Pool } from '../services/store/db.ts';
import { migrate } from '../services/store/migrate.ts';
import { reindexAll } from '../services/store/reindex.ts';
import { aliasOf, createSearchClient, type SearchClient } from '../services/store/search.ts';
import { incidentPatterns, similarIncidents } from '../services/store/search-insights.ts';
import {
  searchRecordsFaceted,
  type SearchPredicate,
  type SearchResult,
} from '../services/store/search-query.ts';
import { listTickets } from '../services/store/tickets.ts';
import { recordTypes } from '../services/store/outbox.ts';
import { createRandom, type Random } from './random.ts';
import {
  alerts,
  createDataset,
  incidents,
  type Dataset,
  type GeneratedAlert,
  type GeneratedIncident,
  type GeneratedProblem,
} from './search-data.ts';

const { values: args } = parseArgs({
  options: {
    alerts: { type: 'string', default: '1000000' },
    incidents: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '42' },
    iterations: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    'database-server': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    'elasticsearch-url': {
      type: 'string',
      default: process.env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200',
    },
    // Keeps the database and the indices for a look (EXPLAIN, _search) instead of dropping them.
    keep: { type: 'boolean', default: false },
  },
});
const alertCount = Number(args.alerts);
const incidentCount = Number(args.incidents);
const seed = Number(args.seed);
const iterations = Number(args.iterations);
const warmup = Number(args.warmup);
for (const [name, value] of Object.entries({ alertCount, incidentCount, iterations, warmup }))
  if (!Number.isInteger(value) || value < (name === 'warmup' ? 0 : 1))
    throw new Error(`--${name} must be a positive integer`);

const root = new URL('..', import.meta.url).pathname;
const id = randomBytes(4).toString('hex');
const database = `tocsin_bench_${id}`;
const databaseUrl = `${args['database-server']}/${database}`;
const prefix = `bench-search-${id}`;
const LIMIT = 20;
const LIST_LIMIT = 50;

const elapsed = (since: number) => (performance.now() - since) / 1000;
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

// --- Loading PostgreSQL -------------------------------------------------------------------------

const NULL = '\\N';
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const text = (v: string | null) =>
  v === null ? NULL : /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : v;
const time = (v: Date | null) => (v === null ? NULL : v.toISOString());
const num = (v: number | null) => (v === null ? NULL : String(v));
const textArray = (vs: string[]) =>
  text(`{${vs.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`);

const COPY_PROBLEMS = `-- Bulk load of generated problems (COPY text format). Params: none.
COPY problems (id, number, title, description, state, impact, urgency, priority, category, service,
  primary_ci, cis, assignment_group, opened_at, cause, workaround, signature, created_by, updated_at)
FROM STDIN`;

function problemLine(p: GeneratedProblem): string {
  return (
    [
      num(p.id),
      text(p.number),
      text(p.title),
      text(p.description),
      text(p.state),
      num(p.impact),
      num(p.urgency),
      num(p.priority),
      text(p.category),
      text(p.service),
      text(p.primaryCi),
      textArray(p.cis),
      text(p.assignmentGroup),
      time(p.openedAt),
      text(p.cause),
      text(p.workaround),
      text(p.signature),
      'bench',
      time(p.updatedAt),
    ].join('\t') + '\n'
  );
}

const COPY_INCIDENTS = `-- Bulk load of generated incidents (COPY text format). Params: none.
COPY incidents (id, number, title, description, state, severity, impact, urgency, priority,
  category, service, primary_ci, cis, assignment_group, assignee, opened_at, acknowledged_at,
  resolved_at, closed_at, hold_reason, resolution_code, resolution_notes, reopen_count, channel,
  major, problem_id, last_alert_at, alert_count, version, updated_at, created_by)
FROM STDIN`;

function incidentLine(i: GeneratedIncident): string {
  return (
    [
      num(i.id),
      text(i.number),
      text(i.title),
      text(i.description),
      text(i.state),
      text(i.severity),
      num(i.impact),
      num(i.urgency),
      num(i.priority),
      text(i.category),
      text(i.service),
      text(i.primaryCi),
      textArray(i.cis),
      text(i.assignmentGroup),
      text(i.assignee),
      time(i.openedAt),
      time(i.acknowledgedAt),
      time(i.resolvedAt),
      time(i.closedAt),
      text(i.holdReason),
      text(i.resolutionCode),
      text(i.resolutionNotes),
      num(i.reopenCount),
      text(i.channel),
      i.major ? 't' : 'f',
      num(i.problemId),
      time(i.lastAlertAt),
      num(i.alertCount),
      num(i.version),
      time(i.updatedAt),
      'correlator',
    ].join('\t') + '\n'
  );
}

const COPY_ALERTS = `-- Bulk load of generated alerts (COPY text format). Params: none.
COPY alerts (id, fingerprint, incident_id, ci, title, description, severity, status, source,
  service, labels, starts_at, ends_at, first_received_at, last_received_at, count, version,
  updated_at)
FROM STDIN`;

function alertLine(a: GeneratedAlert): string {
  return (
    [
      num(a.id),
      text(a.fingerprint),
      num(a.incidentId),
      text(a.ci),
      text(a.title),
      text(a.description),
      text(a.severity),
      text(a.status),
      text(a.source),
      text(a.service),
      text(JSON.stringify(a.labels)),
      time(a.startsAt),
      time(a.endsAt),
      time(a.firstReceivedAt),
      time(a.lastReceivedAt),
      num(a.count),
      num(a.version),
      time(a.endsAt ?? a.lastReceivedAt),
    ].join('\t') + '\n'
  );
}

/**
 * Streams rows into a table with COPY, 256 KiB at a time with backpressure, so that no more than
 * one chunk of rows is ever in memory. Triggers and foreign keys are off for the session (the
 * audit trail of a generated load is not what is measured, and the generator keeps references
 * consistent).
 */
async function copyRows<T>(
  pool: Pool,
  sql: string,
  rows: Iterable<T>,
  line: (row: T) => string,
): Promise<number> {
  let count = 0;
  function* chunks(): Generator<string> {
    let buffer: string[] = [];
    let size = 0;
    for (const row of rows) {
      const l = line(row);
      buffer.push(l);
      size += l.length;
      count++;
      if (size >= 262_144) {
        yield buffer.join('');
        buffer = [];
        size = 0;
      }
    }
    if (buffer.length > 0) yield buffer.join('');
  }
  const client = await pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
    await client.query('RESET session_replication_role');
  } finally {
    client.release();
  }
  return count;
}

const AFTER_LOAD = `-- Identities and numbers continue after the loaded rows. Params: none.
SELECT setval(pg_get_serial_sequence('incidents', 'id'), GREATEST(1, (SELECT max(id) FROM incidents))),
  setval(pg_get_serial_sequence('alerts', 'id'), GREATEST(1, (SELECT max(id) FROM alerts))),
  setval(pg_get_serial_sequence('problems', 'id'), GREATEST(1, (SELECT max(id) FROM problems))),
  setval('incident_number_seq', 1001 + (SELECT count(*) FROM incidents)),
  setval('problem_number_seq', 1001 + (SELECT count(*) FROM problems))`;

// What a DBA sets for this database: no JIT (its compile time, 1.7 s of a 2.9 s patterns query
// here, dwarfs what it saves on these queries) and enough work_mem for their sorts and hashes not
// to spill to disk (2.9 s → 0.7 s for patterns, measured).
const DBA_SETTINGS = (db: string) => [
  `-- No JIT for this database. Params: none.\nALTER DATABASE ${quoteIdent(db)} SET jit = off`,
  `-- Room for sorts and hashes. Params: none.\nALTER DATABASE ${quoteIdent(db)} SET work_mem = '32MB'`,
];

// What a DBA adds for these questions: a full-text document per row in which each searched field
// keeps its own weight (A title, B description, C resolution notes, D the keyword fields as whole
// values), so that a query can ask, as Tocsin's query_string does (best_fields, AND), for every
// word in one same field; GIN indexes on them; a trigram index on incident titles; b-trees for the
// filtered lists and time ranges. The 'simple' configuration cuts words as Elasticsearch's
// standard analyzer does (no stemming, no stop words). The generated columns are added before the
// load, so COPY computes them (no table rewrite).
const DBA_COLUMNS = [
  `-- Full-text document of an incident, one weight per field. Params: none.
ALTER TABLE incidents ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple', title), 'A') ||
  setweight(to_tsvector('simple', coalesce(description, '')), 'B') ||
  setweight(to_tsvector('simple', coalesce(resolution_notes, '')), 'C') ||
  setweight(array_to_tsvector(array_remove(cis || ARRAY[number, primary_ci, service,
    assignment_group, assignee], NULL)), 'D')) STORED`,
  `-- Full-text document of an alert, one weight per field. Params: none.
ALTER TABLE alerts ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('simple', title), 'A') ||
  setweight(to_tsvector('simple', coalesce(description, '')), 'B') ||
  setweight(array_to_tsvector(array_remove(ARRAY[ci, service, fingerprint], NULL)), 'D')) STORED`,
];
const DBA_INDEXES: { name: string; sql: string }[] = [
  { name: 'pg_trgm extension', sql: 'CREATE EXTENSION IF NOT EXISTS pg_trgm' },
  {
    name: 'incidents GIN (search tsvector)',
    sql: 'CREATE INDEX bench_incidents_search ON incidents USING gin (search)',
  },
  {
    name: 'alerts GIN (search tsvector)',
    sql: 'CREATE INDEX bench_alerts_search ON alerts USING gin (search)',
  },
  {
    // GiST rather than GIN: it serves nearest-first (KNN) order, so that similar incidents need not
    // rank every title sharing a common trigram (measured: 40–65 ms against 55–200 ms with GIN).
    name: 'incidents GiST (title gist_trgm_ops)',
    sql: 'CREATE INDEX bench_incidents_title_trgm ON incidents USING gist (title gist_trgm_ops)',
  },
  {
    name: 'incidents (service, opened_at)',
    sql: 'CREATE INDEX bench_incidents_service_opened ON incidents (service, opened_at)',
  },
  {
    name: 'incidents (opened_at)',
    sql: 'CREATE INDEX bench_incidents_opened ON incidents (opened_at)',
  },
  {
    name: 'alerts (service, starts_at)',
    sql: 'CREATE INDEX bench_alerts_service_starts ON alerts (service, starts_at)',
  },
];

// --- The questions, asked of PostgreSQL -----------------------------------------------------------

// The tail shared by the faceted questions: from a `hits` CTE (type, id, state, priority,
// severity, service, grp, at, rank), the first page with the records and highlighted title and
// description, the facets of the whole result (top 20 values each) and the time buckets.
const FACETED_TAIL = `
page AS (SELECT * FROM hits ORDER BY rank DESC, at DESC, id DESC LIMIT $LIMIT),
grouped AS (
  SELECT CASE WHEN GROUPING(type) = 0 THEN 'type' WHEN GROUPING(state) = 0 THEN 'state'
      WHEN GROUPING(priority) = 0 THEN 'priority' WHEN GROUPING(severity) = 0 THEN 'severity'
      WHEN GROUPING(service) = 0 THEN 'service' ELSE 'assignmentGroup' END AS facet,
    COALESCE(type, state, priority::text, severity, service, grp) AS value, count(*) AS n
  FROM hits GROUP BY GROUPING SETS ((type), (state), (priority), (severity), (service), (grp))
),
ranked AS (
  SELECT facet, value, n, row_number() OVER (PARTITION BY facet ORDER BY n DESC, value) AS k
  FROM grouped WHERE value IS NOT NULL
)
SELECT
  (SELECT json_agg(json_build_object('type', p.type, 'id', p.id, 'score', p.rank,
      'record', COALESCE(to_jsonb(i), to_jsonb(a)) - 'search',
      'title', ts_headline('simple', COALESCE(i.title, a.title), query.query,
        'StartSel=<mark>, StopSel=</mark>, HighlightAll=true'),
      'description', ts_headline('simple', COALESCE(i.description, a.description, ''), query.query,
        'StartSel=<mark>, StopSel=</mark>, MaxFragments=2'))
    ORDER BY p.rank DESC, p.at DESC, p.id DESC)
   FROM page p CROSS JOIN query
   LEFT JOIN incidents i ON p.type = 'incident' AND i.id = p.id
   LEFT JOIN alerts a ON p.type = 'alert' AND a.id = p.id) AS items,
  (SELECT json_object_agg(facet, buckets) FROM (
     SELECT facet, json_agg(json_build_object('value', value, 'count', n) ORDER BY n DESC, value)
       AS buckets
     FROM ranked WHERE k <= 20 GROUP BY facet) f) AS facets,
  (SELECT json_build_object(
     '1h', count(*) FILTER (WHERE at >= now() - interval '1 hour'),
     '24h', count(*) FILTER (WHERE at >= now() - interval '24 hours'),
     '7d', count(*) FILTER (WHERE at >= now() - interval '7 days'),
     '30d', count(*) FILTER (WHERE at >= now() - interval '30 days')) FROM hits) AS time`;

const PG_FREE_TEXT = `-- Free text over incidents and alerts: every word in one same field (title, description,
-- resolution notes), or the whole query equal to a keyword field's value; best first (ts_rank),
-- highlighted, with the facets and time buckets of the whole result. Params: words.
WITH words AS (
  SELECT (SELECT string_agg(format('(%s)', (
      SELECT string_agg(quote_literal(l) || ':' || w, ' & ')
      FROM unnest(tsvector_to_array(to_tsvector('simple', $1::text))) AS l)), ' | ')
    FROM unnest(ARRAY['A', 'B', 'C']) AS w)
    || CASE WHEN $1::text ~ '^\\S+$' THEN ' | ' || quote_literal($1::text) || ':D' ELSE '' END
    AS text
),
query AS (SELECT text::tsquery AS query FROM words),
hits AS MATERIALIZED (
  SELECT 'incident' AS type, i.id, i.state, i.priority, i.severity, i.service,
    i.assignment_group AS grp, i.opened_at AS at, ts_rank(i.search, q.query) AS rank
  FROM incidents i, query q WHERE i.search @@ q.query
  UNION ALL
  SELECT 'alert', a.id, NULL, NULL, a.severity, a.service, NULL, a.starts_at,
    ts_rank(a.search, q.query)
  FROM alerts a, query q WHERE a.search @@ q.query
),${FACETED_TAIL.replace('$LIMIT', String(LIMIT))}`;

const PG_INCIDENT_LIST = `-- Open incidents of a service by priority and age, newest first, with the facets of the whole
-- result. Params: states, highest priority number, service, opened since.
WITH query AS (SELECT ''::tsquery AS query),
hits AS MATERIALIZED (
  SELECT 'incident' AS type, id, state, priority, severity, service, assignment_group AS grp,
    opened_at AS at, 0::real AS rank
  FROM incidents
  WHERE state = ANY($1::text[]) AND priority <= $2 AND service = $3 AND opened_at >= $4
),${FACETED_TAIL.replace('$LIMIT', String(LIST_LIMIT))}`;

const PG_ALERT_LIST = `-- Firing alerts of a service by severity and age, newest first, with the facets of the whole
-- result. Params: status, severities, service, started since.
WITH query AS (SELECT ''::tsquery AS query),
hits AS MATERIALIZED (
  SELECT 'alert' AS type, id, NULL::text AS state, NULL::smallint AS priority, severity, service,
    NULL::text AS grp, starts_at AS at, 0::real AS rank
  FROM alerts
  WHERE status = $1 AND severity = ANY($2::text[]) AND service = $3 AND starts_at >= $4
),${FACETED_TAIL.replace('$LIMIT', String(LIST_LIMIT))}`;

const PG_PATTERNS = `-- Recurring patterns among incidents opened in [from, to): per dimension (title, CI, service,
-- category) the values with the most incidents (at least min), each with first and last, weekly
-- counts (UTC weeks from Monday, empty weeks included) and the problems covering some of them.
-- Params: from, to, top, min incidents.
WITH inc AS MATERIALIZED (
  SELECT title, cis, service, category, opened_at, problem_id FROM incidents
  WHERE opened_at >= $1 AND opened_at < $2
),
dims AS MATERIALIZED (
  SELECT 'signature' AS dim, title AS value, opened_at, problem_id FROM inc
  UNION ALL SELECT 'ci', ci, opened_at, problem_id FROM inc, unnest(cis) AS ci
  UNION ALL SELECT 'service', service, opened_at, problem_id FROM inc WHERE service IS NOT NULL
  UNION ALL SELECT 'category', category, opened_at, problem_id FROM inc WHERE category IS NOT NULL
),
counted AS (
  SELECT dim, value, count(*) AS n, min(opened_at) AS first_at, max(opened_at) AS last_at,
    row_number() OVER (PARTITION BY dim ORDER BY count(*) DESC, value) AS k
  FROM dims GROUP BY dim, value HAVING count(*) >= $4
),
top AS (SELECT * FROM counted WHERE k <= $3),
members AS MATERIALIZED (SELECT d.* FROM dims d JOIN top t USING (dim, value)),
weeks AS (
  SELECT generate_series(date_trunc('week', $1::timestamptz, 'UTC'),
    date_trunc('week', $2::timestamptz, 'UTC'), interval '1 week') AS week
),
per_week AS (
  SELECT dim, value, date_trunc('week', opened_at, 'UTC') AS week, count(*) AS n
  FROM members GROUP BY 1, 2, 3
),
weekly AS (
  SELECT t.dim, t.value,
    json_agg(json_build_object('week', w.week, 'count', COALESCE(c.n, 0)) ORDER BY w.week) AS weekly
  FROM top t CROSS JOIN weeks w
  LEFT JOIN per_week c ON c.dim = t.dim AND c.value = t.value AND c.week = w.week
  GROUP BY t.dim, t.value
),
problems AS (
  SELECT dim, value, (array_agg(DISTINCT problem_id))[1:10] AS problems
  FROM members WHERE problem_id IS NOT NULL GROUP BY dim, value
)
SELECT t.dim, t.value, t.n, t.first_at, t.last_at, w.weekly, COALESCE(p.problems, '{}') AS problems
FROM top t JOIN weekly w USING (dim, value) LEFT JOIN problems p USING (dim, value)
ORDER BY t.dim, t.k`;

const PG_SIMILAR = `-- Incidents like this one, best first: the 100 nearest titles by trigram distance (pg_trgm,
-- GiST index, nearest first), re-ranked by similarity plus a bonus for a shared CI and for the
-- same service; the incident itself left out. Params: incident id, limit.
SELECT c.id, c.score, to_jsonb(i) - 'search' AS record
FROM (
  SELECT k.id, k.similarity
      + CASE WHEN k.cis && me.cis THEN 0.5 ELSE 0 END
      + CASE WHEN k.service = me.service THEN 0.1 ELSE 0 END AS score
  FROM incidents me, LATERAL (
    SELECT n.id, n.cis, n.service, similarity(n.title, me.title) AS similarity
    FROM incidents n WHERE n.id <> me.id ORDER BY n.title <-> me.title LIMIT 100) k
  WHERE me.id = $1
  ORDER BY score DESC, k.id DESC LIMIT $2
) c JOIN incidents i USING (id)
ORDER BY c.score DESC, c.id DESC`;

// --- Running the questions ----------------------------------------------------------------------

/** What one answer was: how many records matched (for the side-by-side check) and its ids. */
type Answer = { matches: number; ids: string[] };
type Round = {
  /** What this round asks (the words, the service…), kept in the results file. */
  label: string;
  es: () => Promise<Answer>;
  pg: () => Promise<Answer>;
  pgList?: () => Promise<Answer>;
};
type Question = { name: string; round: (r: Random) => Round };

function matchesOf(result: SearchResult): number {
  return (result.facets.type ?? []).reduce((n, b) => n + b.count, 0);
}

async function faceted(
  es: SearchClient,
  request: { q: string; types: ('incident' | 'alert')[]; predicates: SearchPredicate[] },
  limit: number,
): Promise<Answer> {
  const outcome = await searchRecordsFaceted(es, prefix, { ...request, limit, cursor: null });
  if (outcome.kind !== 'ok') throw new Error(`search failed: ${outcome.reason}`);
  return { matches: matchesOf(outcome.result), ids: outcome.result.items.map((h) => h.id) };
}

type PgFaceted = {
  items: { id: number }[] | null;
  facets: Record<string, { value: string; count: number }[]> | null;
};

async function pgFaceted(pool: Pool, sql: string, params: unknown[]): Promise<Answer> {
  const { rows } = await pool.query<PgFaceted>(sql, params);
  const row = rows[0]!;
  return {
    matches: (row.facets?.type ?? []).reduce((n, b) => n + b.count, 0),
    ids: (row.items ?? []).map((i) => String(i.id)),
  };
}

const PHRASES = [
  'disk full',
  'replication lag',
  'cpu',
  'memory usage',
  'oom killed',
  'connection refused',
  'certificate expired',
  'packet loss',
  'http 503',
  'latency',
  'kafka consumer lag',
  'crashloopbackoff',
  'dns timeout',
  'backup failed',
  'deadlocks',
  'login failures',
  'queue backlog',
  'ssl handshake',
  'node notready',
  'health check failing',
  'redis',
  'power supply',
  'bgp peer down',
  'vpn tunnel',
  'stripe timeouts',
  'slow queries',
  'raid degraded',
  'too many open files',
  'gc pause',
  'synthetic checkout',
];

function questions(d: Dataset, es: SearchClient, pool: Pool): Question[] {
  const { services, cis } = d.catalog;
  const now = () => Date.now();
  const openStates = ['new', 'in_progress', 'on_hold'];
  return [
    {
      name: 'faceted free text, incidents + alerts',
      round: (r) => {
        // Mostly symptoms; some a CI's name, some a symptom on one service.
        const x = r.next();
        const q =
          x < 0.7
            ? r.pick(PHRASES)
            : x < 0.85
              ? r.pick(cis).name
              : `${r.pick(PHRASES)} ${r.pick(services)}`;
        return {
          label: q,
          es: () => faceted(es, { q, types: ['incident', 'alert'], predicates: [] }, LIMIT),
          pg: () => pgFaceted(pool, PG_FREE_TEXT, [q]),
        };
      },
    },
    {
      name: 'open P1-P2 incidents of a service, 7 days',
      round: (r) => {
        const service = r.pick(services);
        const since = new Date(now() - 7 * 86_400_000).toISOString();
        const predicates: SearchPredicate[] = [
          { field: 'state', op: '=', values: openStates },
          { field: 'priority', op: '<=', values: [2] },
          { field: 'service', op: '=', values: [service] },
          { field: 'openedAt', op: '>=', values: [since] },
        ];
        return {
          label: service,
          es: () => faceted(es, { q: '', types: ['incident'], predicates }, LIST_LIMIT),
          pg: () => pgFaceted(pool, PG_INCIDENT_LIST, [openStates, 2, service, since]),
          // What GET /api/v1/incidents runs for the same filter: the list without facets.
          pgList: async () => {
            const page = await listTickets(pool, 'incident', {
              predicates,
              q: null,
              sort: { field: 'openedAt', descending: true },
              limit: LIST_LIMIT,
              cursor: null,
            });
            return { matches: page.items.length, ids: page.items.map((t) => t.id) };
          },
        };
      },
    },
    {
      name: 'firing critical/major alerts of a service, 7 days',
      round: (r) => {
        const service = r.pick(services);
        const severities = ['critical', 'major'];
        const since = new Date(now() - 7 * 86_400_000).toISOString();
        const predicates: SearchPredicate[] = [
          { field: 'status', op: '=', values: ['firing'] },
          { field: 'severity', op: '=', values: severities },
          { field: 'service', op: '=', values: [service] },
          { field: 'startsAt', op: '>=', values: [since] },
        ];
        return {
          label: service,
          es: () => faceted(es, { q: '', types: ['alert'], predicates }, LIST_LIMIT),
          pg: () => pgFaceted(pool, PG_ALERT_LIST, ['firing', severities, service, since]),
        };
      },
    },
    {
      name: 'recurring patterns, 90 days',
      round: (r) => {
        // A 90-day window ending up to 30 days ago, to the minute: no two rounds alike.
        const to = new Date(now() - r.int(30 * 24 * 60) * 60_000);
        const from = new Date(to.getTime() - 90 * 86_400_000);
        const range = { from: from.toISOString(), to: to.toISOString(), top: 10, minIncidents: 3 };
        return {
          label: `${range.from} – ${range.to}`,
          es: async () => {
            const answer = await incidentPatterns(es, prefix, range);
            if (answer.kind !== 'ok') throw new Error(`patterns failed: ${answer.reason}`);
            const all = Object.values(answer.value).flat();
            return { matches: all.length, ids: all.map((p) => p.value) };
          },
          pg: async () => {
            const { rows } = await pool.query<{ value: string }>(PG_PATTERNS, [
              range.from,
              range.to,
              range.top,
              range.minIncidents,
            ]);
            return { matches: rows.length, ids: rows.map((p) => p.value) };
          },
        };
      },
    },
    {
      name: 'similar incidents (top 10)',
      round: (r) => {
        const incident = String(1 + r.int(d.incidents));
        return {
          label: `incident ${incident}`,
          es: async () => {
            const answer = await similarIncidents(es, prefix, incident, 10);
            if (answer.kind !== 'ok') throw new Error(`similar failed: ${answer.reason}`);
            return { matches: answer.value.length, ids: answer.value.map((s) => s.id) };
          },
          pg: async () => {
            const { rows } = await pool.query<{ id: string }>(PG_SIMILAR, [incident, 10]);
            return { matches: rows.length, ids: rows.map((s) => String(s.id)) };
          },
        };
      },
    },
  ];
}

type Stats = {
  p50: number;
  p95: number;
  mean: number;
  max: number;
  matches: number;
  /** Elasticsearch's own time (`took`) at the median, without HTTP and the client. */
  tookP50?: number;
};
type Measured = {
  question: string;
  es: Stats;
  pg: Stats;
  pgListOnly: Stats | null;
  /** Ids both engines put in the first page, as a share of the shorter page. */
  overlap: number;
  /** Each measured round: what it asked and how many records each engine matched. */
  rounds: { label: string; es: number; pg: number }[];
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

type Sample = { ms: number; matches: number; took?: number };

function stats(samples: Sample[]): Stats {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const took = samples.flatMap((s) => (s.took === undefined ? [] : [s.took]));
  return {
    ...(took.length > 0
      ? {
          tookP50: percentile(
            took.sort((a, b) => a - b),
            50,
          ),
        }
      : {}),
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    max: ms.at(-1) ?? NaN,
    matches: samples.reduce((a, s) => a + s.matches, 0) / samples.length,
  };
}

// The `took` of the last search Elasticsearch answered (the bench asks one question at a time).
let lastTook: number | undefined;

async function timed(run: () => Promise<Answer>): Promise<{ ms: number; answer: Answer }> {
  const started = performance.now();
  const answer = await run();
  return { ms: performance.now() - started, answer };
}

/** Asks a question warm-up + iterations times, both engines per round, in alternating order. */
async function measure(question: Question): Promise<Measured> {
  const r = createRandom(seed, 7, question.name.length);
  const samples = { es: [], pg: [], pgList: [] } as Record<'es' | 'pg' | 'pgList', Sample[]>;
  let overlap = 0;
  const rounds: Measured['rounds'] = [];
  for (let k = 0; k < warmup + iterations; k++) {
    const round = question.round(r);
    const order: ('es' | 'pg' | 'pgList')[] = k % 2 === 0 ? ['es', 'pg'] : ['pg', 'es'];
    if (round.pgList) order.push('pgList');
    const answers: Partial<Record<'es' | 'pg' | 'pgList', Answer>> = {};
    for (const engine of order) {
      const run = round[engine]!;
      lastTook = undefined;
      const { ms, answer } = await timed(run);
      answers[engine] = answer;
      if (k >= warmup)
        samples[engine].push({
          ms,
          matches: answer.matches,
          ...(engine === 'es' && lastTook !== undefined ? { took: lastTook } : {}),
        });
    }
    if (k >= warmup) {
      const es = new Set(answers.es!.ids);
      const shorter = Math.min(answers.es!.ids.length, answers.pg!.ids.length);
      const common = answers.pg!.ids.filter((i) => es.has(i)).length;
      overlap += shorter === 0 ? 1 : common / shorter;
      rounds.push({ label: round.label, es: answers.es!.matches, pg: answers.pg!.matches });
    }
  }
  return {
    question: question.name,
    es: stats(samples.es),
    pg: stats(samples.pg),
    pgListOnly: samples.pgList.length > 0 ? stats(samples.pgList) : null,
    overlap: overlap / iterations,
    rounds,
  };
}

/**
 * The cost of a round trip that does no work, for reading the rest: an Elasticsearch search for
 * nothing (size 0, from the request cache) and PostgreSQL's `SELECT 1`, each through its client.
 */
async function roundTripFloor(es: SearchClient, pool: Pool): Promise<{ es: number; pg: number }> {
  const esTimes: number[] = [];
  const pg: number[] = [];
  for (let k = 0; k < warmup + iterations; k++) {
    let started = performance.now();
    await es.search({ index: aliasOf(prefix, 'incident'), size: 0, track_total_hits: false });
    if (k >= warmup) esTimes.push(performance.now() - started);
    started = performance.now();
    await pool.query('-- A round trip that does nothing. Params: none.\nSELECT 1');
    if (k >= warmup) pg.push(performance.now() - started);
  }
  const p50 = (xs: number[]) =>
    percentile(
      xs.sort((a, b) => a - b),
      50,
    );
  return { es: p50(esTimes), pg: p50(pg) };
}

// --- Indexing ----------------------------------------------------------------------------------

type IndexingBreakdown = {
  pgReadSeconds: number;
  serializeSeconds: number;
  bulkSeconds: number;
  bulkTookSeconds: number;
  bulkRequests: number;
  /** Index creation, settings, alias swaps: every other Elasticsearch request of the reindex. */
  adminSeconds: number;
  /** Share of the wall time the Node main thread was busy (event loop utilization). */
  nodeBusy: number;
  /** CPU seconds of this process and of the Elasticsearch node (others' requests included). */
  nodeCpuSeconds: number;
  elasticsearchCpuSeconds: number;
};

/** A pool whose queries add up the time they take (the projection's PostgreSQL reads). */
function timedPool(pool: Pool, spent: IndexingBreakdown): Pool {
  return new Proxy(pool, {
    get(target, property) {
      if (property === 'query') {
        return async (...params: unknown[]) => {
          const started = performance.now();
          try {
            return await (target.query as (...p: unknown[]) => Promise<unknown>)(...params);
          } finally {
            spent.pgReadSeconds += elapsed(started);
          }
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

/**
 * Adds up, for bulk requests, JSON serialization and the round trip (with ES's own `took`), and
 * the time of every other request (index creation, settings, aliases). Returns a stop function.
 */
function watchRequests(es: SearchClient, spent: IndexingBreakdown): () => void {
  const started = new Map<unknown, { bulk: boolean; serializing: number; sent?: number }>();
  const onSerialization = (_err: unknown, result: DiagnosticResult | null) => {
    if (!result) return;
    const bulk = result.meta.request.params.path.endsWith('/_bulk');
    started.set(result.meta.request.id, { bulk, serializing: performance.now() });
  };
  const onRequest = (_err: unknown, result: DiagnosticResult | null) => {
    const t = result && started.get(result.meta.request.id);
    if (t && t.sent === undefined) {
      t.sent = performance.now();
      if (t.bulk) spent.serializeSeconds += (t.sent - t.serializing) / 1000;
    }
  };
  const onResponse = (_err: unknown, result: DiagnosticResult | null) => {
    const t = result && started.get(result.meta.request.id);
    if (!result || !t || t.sent === undefined) return;
    started.delete(result.meta.request.id);
    if (!t.bulk) {
      spent.adminSeconds += elapsed(t.serializing);
      return;
    }
    spent.bulkSeconds += elapsed(t.sent);
    spent.bulkRequests++;
    spent.bulkTookSeconds += ((result.body as { took?: number } | undefined)?.took ?? 0) / 1000;
  };
  es.diagnostic.on('serialization', onSerialization);
  es.diagnostic.on('request', onRequest);
  es.diagnostic.on('response', onResponse);
  return () => {
    es.diagnostic.off('serialization', onSerialization);
    es.diagnostic.off('request', onRequest);
    es.diagnostic.off('response', onResponse);
  };
}

async function elasticsearchCpuSeconds(es: SearchClient): Promise<number> {
  const stats = await es.nodes.stats({ metric: 'process' });
  return Object.values(stats.nodes).reduce(
    (total, node) => total + (node.process?.cpu?.total_in_millis ?? 0) / 1000,
    0,
  );
}

async function waitForMerges(es: SearchClient, indices: string[]): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const s = await es.indices.stats({ index: indices, metric: 'merge' });
    if ((s._all.total?.merges?.current ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return elapsed(started);
}

// --- The run -----------------------------------------------------------------------------------

const loadBefore = loadavg();
const startedAt = performance.now();
const dataset = createDataset({
  seed,
  incidents: incidentCount,
  alerts: alertCount,
  now: new Date(),
});
const es = createSearchClient(args['elasticsearch-url']);
await ensureDatabase(databaseUrl);
// Opens its connections on first use: after the database settings below, which apply to them.
const pool = createPool(databaseUrl, 4);

type Load = { table: string; rows: number; seconds: number };
const loads: Load[] = [];
const dbaIndexes: { name: string; seconds: number }[] = [];
let indexing: {
  docs: number;
  seconds: number;
  docsPerSecond: number;
  counts: Record<string, number>;
  breakdown: IndexingBreakdown;
  refreshSeconds: number;
  mergeWaitSeconds: number;
} | null = null;
const measured: Measured[] = [];
let floor = { es: NaN, pg: NaN };

try {
  const admin = createPool(`${args['database-server']}/postgres`, 1);
  for (const sql of DBA_SETTINGS(database)) await admin.query(sql);
  await admin.end();
  await migrate(pool);
  for (const sql of DBA_COLUMNS) await pool.query(sql);
  log(
    `database ${database}, index prefix ${prefix}; ${incidentCount} incidents, ${alertCount} alerts, ` +
      `${dataset.catalog.services.length} services, ${dataset.catalog.cis.length} CIs, ` +
      `${dataset.catalog.templates} title templates, seed ${seed}`,
  );

  // 1. PostgreSQL: COPY the generated rows, then let the planner know them.
  for (const [table, run] of [
    ['problems', () => copyRows(pool, COPY_PROBLEMS, dataset.catalog.problems, problemLine)],
    ['incidents', () => copyRows(pool, COPY_INCIDENTS, incidents(dataset), incidentLine)],
    ['alerts', () => copyRows(pool, COPY_ALERTS, alerts(dataset), alertLine)],
  ] as const) {
    const started = performance.now();
    const rows = await run();
    loads.push({ table, rows, seconds: elapsed(started) });
    log(`COPY ${table}: ${rows} rows in ${elapsed(started).toFixed(1)} s`);
  }
  await pool.query(AFTER_LOAD);
  let started = performance.now();
  await pool.query('VACUUM (ANALYZE) problems, incidents, alerts');
  log(`VACUUM ANALYZE in ${elapsed(started).toFixed(1)} s`);

  // 2. Elasticsearch: the whole load through Tocsin's reindex path.
  const breakdown: IndexingBreakdown = {
    pgReadSeconds: 0,
    serializeSeconds: 0,
    bulkSeconds: 0,
    bulkTookSeconds: 0,
    bulkRequests: 0,
    adminSeconds: 0,
    nodeBusy: 0,
    nodeCpuSeconds: 0,
    elasticsearchCpuSeconds: 0,
  };
  const stopWatching = watchRequests(es, breakdown);
  const esCpuBefore = await elasticsearchCpuSeconds(es);
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  started = performance.now();
  const counts = await reindexAll(timedPool(pool, breakdown), es, prefix, log);
  const seconds = elapsed(started);
  breakdown.nodeBusy = performance.eventLoopUtilization(eluBefore).utilization;
  const cpu = process.cpuUsage(cpuBefore);
  breakdown.nodeCpuSeconds = (cpu.user + cpu.system) / 1e6;
  breakdown.elasticsearchCpuSeconds = (await elasticsearchCpuSeconds(es)) - esCpuBefore;
  stopWatching();
  const docs = Object.values(counts).reduce((a, b) => a + b, 0);
  const aliases = recordTypes.map((t) => aliasOf(prefix, t));
  started = performance.now();
  await es.indices.refresh({ index: aliases });
  const refreshSeconds = elapsed(started);
  const mergeWaitSeconds = await waitForMerges(es, aliases);
  indexing = {
    docs,
    seconds,
    docsPerSecond: docs / seconds,
    counts,
    breakdown,
    refreshSeconds,
    mergeWaitSeconds,
  };
  log(`indexed ${docs} docs in ${seconds.toFixed(1)} s: ${Math.round(docs / seconds)} docs/s`);

  // 3. PostgreSQL: the indexes a DBA would add for these questions, then fresh statistics.
  await pool.query("SET maintenance_work_mem = '512MB'");
  for (const index of DBA_INDEXES) {
    started = performance.now();
    await pool.query(index.sql);
    dbaIndexes.push({ name: index.name, seconds: elapsed(started) });
  }
  await pool.query('ANALYZE incidents, alerts');
  await pool.query('RESET maintenance_work_mem');
  log(`DBA indexes built in ${dbaIndexes.reduce((a, i) => a + i.seconds, 0).toFixed(1)} s`);

  // 4. The questions, one at a time.
  es.diagnostic.on('response', (_err, result) => {
    if (result?.meta.request.params.path.endsWith('/_search'))
      lastTook = (result.body as { took?: number } | undefined)?.took;
  });
  for (const question of questions(dataset, es, pool)) {
    started = performance.now();
    measured.push(await measure(question));
    log(`${question.name}: ${elapsed(started).toFixed(1)} s`);
  }
  floor = await roundTripFloor(es, pool);
} finally {
  await pool.end();
  if (args.keep) {
    log(`kept: database ${database}, indices ${prefix}-* (drop them by hand)`);
    await es.close();
  } else {
    await dropAll();
  }
}

/** Drops the bench's database and deletes its indices by name. */
async function dropAll(): Promise<void> {
  const admin = createPool(`${args['database-server']}/postgres`, 1);
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  await admin.end();
  try {
    // Deleted by name: wildcard deletes are refused by default (destructive_requires_name).
    const found = await es.indices.get({ index: `${prefix}-*`, expand_wildcards: 'all' });
    const names = Object.keys(found);
    if (names.length > 0) await es.indices.delete({ index: names });
  } finally {
    await es.close();
  }
}

// --- Report -------------------------------------------------------------------------------------

const loadAfter = loadavg();
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number) => fmt(n, n < 10 ? 1 : 0);
const header = [
  'query',
  'ES p50',
  'ES p95',
  'ES took p50',
  'PG p50',
  'PG p95',
  'PG/ES p95',
  'matches ES / PG',
];
const rows = measured.map((m) => [
  m.question,
  ms(m.es.p50),
  ms(m.es.p95),
  m.es.tookP50 === undefined ? '-' : ms(m.es.tookP50),
  ms(m.pg.p50),
  ms(m.pg.p95),
  `${(m.pg.p95 / m.es.p95).toFixed(1)}×`,
  `${fmt(m.es.matches)} / ${fmt(m.pg.matches)}`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  `| ${cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;

const ix = indexing;
const pgLoadRows = loads.reduce((a, l) => a + l.rows, 0);
const pgLoadSeconds = loads.reduce((a, l) => a + l.seconds, 0);
const pct = (x: number) => `${Math.round(100 * x)}%`;
const share = (s: number) => pct(s / ix.seconds);
const b = ix.breakdown;

console.log(
  `\nbench/search: ${fmt(incidentCount)} incidents, ${fmt(alertCount)} alerts, seed ${seed}; ` +
    `${iterations} rounds per query after ${warmup} warm-up, latencies in ms`,
);
console.log(
  `${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, Node ${process.version}; load average ` +
    `${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ` +
    `${loadAfter.map((l) => l.toFixed(2)).join(' ')} after\n`,
);
console.log(
  `PostgreSQL load: ${fmt(pgLoadRows)} rows by COPY in ${fmt(pgLoadSeconds, 1)} s ` +
    `(${fmt(pgLoadRows / pgLoadSeconds)} rows/s)`,
);
console.log(
  `Elasticsearch indexing (reindexAll): ${fmt(ix.docs)} docs in ${fmt(ix.seconds, 1)} s = ` +
    `${fmt(ix.docsPerSecond)} docs/s; then refresh ${fmt(ix.refreshSeconds, 1)} s, merges ` +
    `settled in ${fmt(ix.mergeWaitSeconds, 1)} s`,
);
// Batches overlap (two in flight), so these are busy shares of the wall time, not a partition.
console.log(
  `  busy share of the wall time: Node main thread ${pct(b.nodeBusy)} (${fmt(
    b.nodeCpuSeconds / ix.seconds,
    2,
  )} cores), Elasticsearch node ${fmt(b.elasticsearchCpuSeconds / ix.seconds, 2)} cores; ` +
    `in flight: PostgreSQL reads ${share(b.pgReadSeconds)}, bulk requests ` +
    `${share(b.bulkSeconds)} (ES took ${share(b.bulkTookSeconds)}), JSON serialization ` +
    `${share(b.serializeSeconds)}, index admin ${share(b.adminSeconds)}; ` +
    `${b.bulkRequests} bulk requests`,
);
console.log(
  `PostgreSQL tuned as a DBA would: jit off, work_mem 32MB; indexes added for the questions (${fmt(
    dbaIndexes.reduce((a, i) => a + i.seconds, 0),
    1,
  )} s): ${dbaIndexes.map((i) => i.name).join('; ')}; plus the stored tsvector columns they index\n`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
const list = measured.find((m) => m.pgListOnly);
if (list?.pgListOnly)
  console.log(
    `\nPG list only (listTickets, what GET /api/v1/incidents runs, no facets) for "${list.question}": ` +
      `p50 ${ms(list.pgListOnly.p50)} / p95 ${ms(list.pgListOnly.p95)}`,
  );
console.log(
  `round-trip floor (a request that does no work) p50: ES ${ms(floor.es)}, PG ${ms(floor.pg)}`,
);
console.log(
  `first-page overlap ES/PG: ${measured.map((m) => `${m.question} ${Math.round(100 * m.overlap)}%`).join('; ')}`,
);

const facetedRows = measured.filter((m) => !/patterns|similar/.test(m.question));
const targets = [
  {
    target: 'faceted search (every searchRecordsFaceted question) p95 ≤ 100 ms',
    met: facetedRows.every((m) => m.es.p95 <= 100),
  },
  { target: 'indexing ≥ 10,000 docs/s', met: ix.docsPerSecond >= 10_000 },
  {
    target: 'no query slower than PostgreSQL (p50 and p95)',
    met: measured.every((m) => m.es.p50 <= m.pg.p50 && m.es.p95 <= m.pg.p95),
  },
];
const fullSize = alertCount >= 1_000_000 && incidentCount >= 100_000;
console.log(`\ntargets${fullSize ? '' : ' (set for 1,000,000 alerts / 100,000 incidents)'}:`);
for (const t of targets) console.log(`  ${t.met ? 'met    ' : 'MISSED '} ${t.target}`);
console.log(`\ntotal run ${fmt(elapsed(startedAt), 0)} s`);

const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `search-${new Date().toISOString().replaceAll(':', '-')}.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      bench: 'search',
      at: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model,
        cores: availableParallelism(),
        node: process.version,
        loadBefore,
        loadAfter,
      },
      settings: { seed, incidents: incidentCount, alerts: alertCount, iterations, warmup },
      dataset: {
        services: dataset.catalog.services.length,
        cis: dataset.catalog.cis.length,
        templates: dataset.catalog.templates,
        recurringIssues: dataset.catalog.recurring.length,
        problems: dataset.catalog.problems.length,
      },
      postgresLoad: loads,
      indexing: ix,
      postgresIndexes: dbaIndexes,
      queries: measured,
      roundTripFloorP50: floor,
      targets,
      totalSeconds: elapsed(startedAt),
    },
    null,
    2,
  ) + '\n',
);
console.log(`results: ${file}`);
