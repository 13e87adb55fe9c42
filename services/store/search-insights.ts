import { errors, type estypes } from '@elastic/elasticsearch';
import { aliasOf, type SearchClient } from './search.ts';

// Common English words that carry no meaning in an incident's text.
const STOP_WORDS = (
  'a an and are as at be been but by for from has have in into is it its no not of on or ' +
  'that the their then there these this to was were will with after before above below over ' +
  'under up down out off again than too very can could should would'
).split(' ');

/** A past incident like another one, with the score that ranks it. */
export type SimilarIncident = { id: string; score: number; record: Record<string, unknown> };

/** What a question to Elasticsearch gave: an answer, or Elasticsearch away. */
export type Answer<T> = { kind: 'ok'; value: T } | { kind: 'unavailable'; reason: string };

async function ask<T>(question: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { kind: 'ok', value: await question() };
  } catch (err) {
    if (err instanceof errors.ElasticsearchClientError)
      return { kind: 'unavailable', reason: err.message };
    throw err;
  }
}

/**
 * Incidents like this one, best first: more-like-this over its text (title, description,
 * resolution notes) with its CIs and service counted as terms, so that the same words on the same
 * CI rank above the same words elsewhere. The incident itself is left out.
 */
export async function similarIncidents(
  es: SearchClient,
  prefix: string,
  id: string,
  limit: number,
): Promise<Answer<SimilarIncident[]>> {
  const index = aliasOf(prefix, 'incident');
  return ask(async () => {
    const response = await es.search<Record<string, unknown>>({
      index,
      size: limit,
      query: {
        more_like_this: {
          fields: [
            'title',
            'description',
            'resolutionNotes',
            'cis',
            'primaryCi',
            'service',
            'category',
          ],
          like: [{ _index: index, _id: id }],
          min_term_freq: 1,
          min_doc_freq: 1,
          // The standard analyzer keeps stop words; "on" alone must not make incidents alike.
          stop_words: STOP_WORDS,
          max_query_terms: 40,
          minimum_should_match: '20%',
          include: false,
        },
      },
      track_total_hits: false,
    });
    return response.hits.hits.map((h) => {
      const { type: _, ...record } = h._source ?? {};
      return { id: h._id ?? '', score: h._score ?? 0, record };
    });
  });
}

/** The dimensions a problem manager groups recurring incidents by, and their indexed field. */
export const patternDimensions = {
  signature: 'title.keyword',
  ci: 'cis',
  service: 'service',
  category: 'category',
} as const;

/** One recurring pattern: how many incidents, when, the weekly trend, and covering problems. */
export type Pattern = {
  value: string;
  incidents: number;
  firstAt: string | null;
  lastAt: string | null;
  weekly: { week: string; count: number }[];
  problems: string[];
  covered: boolean;
};

type Bucket = {
  key: string;
  doc_count: number;
  first: { value_as_string?: string };
  last: { value_as_string?: string };
  weekly: { buckets: { key_as_string: string; doc_count: number }[] };
  problems: { buckets: { key: string }[] };
};

/**
 * The top recurring patterns among incidents opened in [from, to): per dimension, the values
 * with the most incidents (at least `minIncidents`), each with its weekly trend and the problems
 * that already cover some of its incidents.
 */
export async function incidentPatterns(
  es: SearchClient,
  prefix: string,
  range: { from: string; to: string; top: number; minIncidents: number },
): Promise<Answer<Record<keyof typeof patternDimensions, Pattern[]>>> {
  const perValue: Record<string, estypes.AggregationsAggregationContainer> = {
    first: { min: { field: 'openedAt' } },
    last: { max: { field: 'openedAt' } },
    weekly: {
      date_histogram: {
        field: 'openedAt',
        calendar_interval: 'week',
        min_doc_count: 0,
        extended_bounds: { min: range.from, max: range.to },
      },
    },
    problems: { terms: { field: 'problemId', size: 10 } },
  };
  // One search per dimension: each asks for up to `top` values × a weekly bucket per week of the
  // range (three years: 158) plus their problems, and in one search the four dimensions together
  // went over Elasticsearch's 65,536 buckets a search may make (too_many_buckets_exception, which
  // answered 503 "unavailable" to 500 incidents over 100 patterns).
  const byDimension = (name: string, field: string) =>
    es.search({
      index: aliasOf(prefix, 'incident'),
      size: 0,
      query: { range: { openedAt: { gte: range.from, lt: range.to } } },
      aggregations: {
        [name]: {
          terms: { field, size: range.top, min_doc_count: range.minIncidents },
          aggregations: perValue,
        },
      },
    });
  return ask(async () => {
    const responses = await Promise.all(
      Object.entries(patternDimensions).map(([name, field]) => byDimension(name, field)),
    );
    const aggs = Object.assign({}, ...responses.map((r) => r.aggregations ?? {})) as Record<
      string,
      { buckets: Bucket[] }
    >;
    return Object.fromEntries(
      Object.keys(patternDimensions).map((name) => [
        name,
        (aggs[name]?.buckets ?? []).map((b) => {
          const problems = b.problems.buckets.map((p) => String(p.key));
          return {
            value: String(b.key),
            incidents: b.doc_count,
            firstAt: b.first.value_as_string ?? null,
            lastAt: b.last.value_as_string ?? null,
            weekly: b.weekly.buckets.map((w) => ({ week: w.key_as_string, count: w.doc_count })),
            problems,
            covered: problems.length > 0,
          };
        }),
      ]),
    ) as Record<keyof typeof patternDimensions, Pattern[]>;
  });
}
