import { errors, type estypes } from '@elastic/elasticsearch';
import { recordTypes, type RecordType } from './outbox.ts';
import { decodeCursor, encodeCursor } from './page.ts';
import { aliasOf, type SearchClient } from './search.ts';

/** How a field may be filtered in search: an exact keyword, a number, or a time. */
export type SearchFieldType = 'keyword' | 'number' | 'time';

/**
 * The fields `filter` may name across record types (a record without the field never matches a
 * predicate on it). Field names are those of the API and of the indexed documents.
 */
export const searchFields: Record<string, SearchFieldType> = {
  type: 'keyword',
  id: 'keyword',
  number: 'keyword',
  state: 'keyword',
  stateCategory: 'keyword',
  priority: 'number',
  impact: 'number',
  urgency: 'number',
  severity: 'keyword',
  status: 'keyword',
  source: 'keyword',
  service: 'keyword',
  category: 'keyword',
  class: 'keyword',
  ci: 'keyword',
  cis: 'keyword',
  primaryCi: 'keyword',
  assignmentGroup: 'keyword',
  assignee: 'keyword',
  channel: 'keyword',
  changeType: 'keyword',
  fingerprint: 'keyword',
  incidentId: 'keyword',
  problemId: 'keyword',
  openedAt: 'time',
  resolvedAt: 'time',
  startsAt: 'time',
  lastReceivedAt: 'time',
  updatedAt: 'time',
};

/** A structured predicate over search fields (the same syntax as list filters). */
export type SearchPredicate = {
  field: string;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=';
  values: (string | number)[];
};

/** The facets every search answers with, each a list of values and their counts. */
export const facetFields = [
  'type',
  'state',
  'priority',
  'severity',
  'service',
  'class',
  'assignmentGroup',
] as const;

// Time facets: how recent a record is, by whichever time field its type has.
const TIME_FIELDS = ['openedAt', 'startsAt', 'updatedAt'];
const TIME_BUCKETS = { '1h': 'now-1h', '24h': 'now-24h', '7d': 'now-7d', '30d': 'now-30d' };

// Searched by free text, with boosts; prose fields are highlighted.
const TEXT_FIELDS = [
  'title^3',
  'number^5',
  'name^3',
  'description',
  'cause',
  'symptom',
  'workaround',
  'fix',
  'resolutionNotes',
  'ci',
  'cis',
  'service',
  'assignmentGroup',
  'assignee',
  'fingerprint',
  'labels',
  'tag^5',
  'serial^5',
  'model',
  'manufacturer',
  'owner',
  'entryPointCis',
];
const HIGHLIGHTED = [
  'title',
  'description',
  'symptom',
  'cause',
  'workaround',
  'fix',
  'resolutionNotes',
  'name',
];

/** One value of a facet and how many hits have it. */
export type FacetBucket = { value: string | number; count: number };

/** A hit: type, id, score, the record as indexed, and highlighted snippets by field. */
export type SearchHit = {
  type: RecordType;
  id: string;
  score: number | null;
  record: Record<string, unknown>;
  highlight: Record<string, string[]>;
};

/** A page of hits with the facets of the whole result. */
export type SearchResult = {
  items: SearchHit[];
  nextCursor: string | null;
  facets: Record<string, FacetBucket[]>;
};

/** A search's outcome: results, a query Elasticsearch refused (with why), or Elasticsearch away. */
export type SearchOutcome =
  | { kind: 'ok'; result: SearchResult }
  | { kind: 'bad-query'; reason: string }
  | { kind: 'unavailable'; reason: string };

/** What a search asks. */
export type SearchRequest = {
  q: string;
  types: RecordType[];
  predicates: SearchPredicate[];
  limit: number;
  cursor: string | null;
};

function predicateQuery(p: SearchPredicate): estypes.QueryDslQueryContainer {
  if (p.op === '=' || p.op === '!=') {
    const match: estypes.QueryDslQueryContainer = { terms: { [p.field]: p.values } };
    return p.op === '=' ? match : { bool: { must_not: [match] } };
  }
  const bound = { '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' }[p.op];
  return { range: { [p.field]: { [bound]: p.values[0] } } };
}

function reasonOf(err: errors.ResponseError): string {
  const body = err.body as {
    error?: {
      reason?: string;
      root_cause?: { reason?: string }[];
      caused_by?: { reason?: string };
    };
  };
  return (
    body?.error?.caused_by?.reason ??
    body?.error?.root_cause?.[0]?.reason ??
    body?.error?.reason ??
    err.message
  );
}

/**
 * Searches records: free text in Lucene query syntax (words, `field:value`, `"phrases"`, AND /
 * OR / NOT, parentheses; no leading wildcards), structured filters, facets over the whole result,
 * highlighted snippets, best first, paged with `search_after`.
 */
export async function searchRecordsFaceted(
  es: SearchClient,
  prefix: string,
  request: SearchRequest,
): Promise<SearchOutcome> {
  const after = request.cursor === null ? undefined : decodeCursor(request.cursor);
  const query: estypes.QueryDslQueryContainer = {
    bool: {
      must: request.q.trim()
        ? [
            {
              query_string: {
                query: request.q,
                fields: TEXT_FIELDS,
                default_operator: 'AND',
                allow_leading_wildcard: false,
                lenient: true,
                fuzzy_max_expansions: 20,
              },
            },
          ]
        : [{ match_all: {} }],
      filter: request.predicates.map(predicateQuery),
    },
  };
  const aggregations: Record<string, estypes.AggregationsAggregationContainer> = {
    ...Object.fromEntries(facetFields.map((f) => [f, { terms: { field: f, size: 20 } }] as const)),
    time: {
      filters: {
        filters: Object.fromEntries(
          Object.entries(TIME_BUCKETS).map(([name, since]) => [
            name,
            {
              bool: {
                should: TIME_FIELDS.map((f) => ({ range: { [f]: { gte: since } } })),
                minimum_should_match: 1,
              },
            },
          ]),
        ),
      },
    },
  };
  try {
    const response = await es.search<Record<string, unknown>>({
      index: request.types.map((t) => aliasOf(prefix, t)),
      size: request.limit + 1,
      query,
      aggregations,
      highlight: {
        encoder: 'html',
        pre_tags: ['<mark>'],
        post_tags: ['</mark>'],
        fields: Object.fromEntries(HIGHLIGHTED.map((f) => [f, { number_of_fragments: 2 }])),
      },
      // Best first, then newest first (ids are keywords: they would sort as text).
      sort: [
        { _score: { order: 'desc' } },
        { at: { order: 'desc', missing: '_last', unmapped_type: 'date' } },
        { type: { order: 'asc' } },
        { id: { order: 'desc' } },
      ],
      ...(Array.isArray(after) ? { search_after: after as estypes.SortResults } : {}),
      track_total_hits: false,
      ignore_unavailable: true,
    });
    const hits = response.hits.hits;
    const more = hits.length > request.limit;
    const kept = more ? hits.slice(0, request.limit) : hits;
    const aggs = (response.aggregations ?? {}) as Record<
      string,
      {
        buckets?:
          { key: string | number; doc_count: number }[] | Record<string, { doc_count: number }>;
      }
    >;
    const facets: Record<string, FacetBucket[]> = {};
    for (const f of facetFields) {
      const buckets = aggs[f]?.buckets;
      facets[f] = Array.isArray(buckets)
        ? buckets.map((b) => ({ value: b.key, count: b.doc_count }))
        : [];
    }
    const time = aggs.time?.buckets;
    facets.time =
      time && !Array.isArray(time)
        ? Object.keys(TIME_BUCKETS).map((name) => ({
            value: name,
            count: time[name]?.doc_count ?? 0,
          }))
        : [];
    return {
      kind: 'ok',
      result: {
        items: kept.map((h) => {
          const { type, ...record } = h._source ?? {};
          return {
            type: type as RecordType,
            id: h._id ?? '',
            score: h._score ?? null,
            record,
            highlight: h.highlight ?? {},
          };
        }),
        nextCursor: more && kept.at(-1)?.sort ? encodeCursor(kept.at(-1)?.sort) : null,
        facets,
      },
    };
  } catch (err) {
    if (err instanceof errors.ResponseError && err.statusCode === 400)
      return { kind: 'bad-query', reason: reasonOf(err) };
    if (err instanceof errors.ElasticsearchClientError)
      return { kind: 'unavailable', reason: err.message };
    throw err;
  }
}

/** Every record type, for a search that names none. */
export const searchableTypes: readonly RecordType[] = recordTypes;
