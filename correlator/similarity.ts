/**
 * Text similarity of alert templates, the "text" signal of correlation. Each distinct template
 * (see templates.ts) is tokenized and stemmed with `natural` once, and gets a TF-IDF vector;
 * candidates are narrowed with an inverted index (stem → templates) and compared by cosine, never
 * every pair. Memory is bounded: least recently used templates are evicted past `maxTemplates`.
 *
 * IDF and vector stability: IDF is learned from the templates the index holds (smoothed,
 * `ln((1 + N) / (1 + df)) + 1`) and frozen in epochs. Every vector of an epoch is weighted with
 * the same frozen table, so scores are consistent, symmetric and do not drift with each template
 * added. A new epoch starts once the templates added or evicted since the last one exceed
 * `idfRefreshRatio` (10%) of the templates held then: the table is rebuilt and every held vector
 * re-weighted in place, O(terms held) once per 10% churn, so O(terms of a template / 0.1)
 * amortized per new template. Stems first seen during an epoch get the IDF of a stem in no
 * template (the highest) until the next one. Over an epoch N moves by at most 10%, so IDF moves by
 * at most ln 1.1 ≈ 0.1 through N; only stems whose own df jumps (a new storm) move more, and only
 * until the next epoch.
 *
 * `natural` is imported lazily (first createTemplateIndex or loadTextTools), and only its
 * tokenizer and Porter stemmer files: the package entry loads ~1,270 modules (1.4–1.8 s here)
 * and its storage back-ends run dotenv, which prints to stdout and loads a `.env` file into
 * `process.env`. The two files load in ≈ 10–25 ms and print nothing.
 */
// Types from the subfolders: the package entry's types include a .ts file that tsc rejects here.
import type { Stemmer } from 'natural/lib/natural/stemmers/index.js';
import type { RegexpTokenizer } from 'natural/lib/natural/tokenizers/index.js';
import { toTemplate } from './templates.ts';

/** natural's tokenizer and stemmer, uncached: what the index is built on. */
export type TextTools = {
  /** Words and placeholders (`<ci>`) of a template, in order. */
  tokenize(text: string): string[];
  /** The Porter stem of one lower-case word. */
  stem(word: string): string;
};

// Held in variables so that TypeScript does not resolve these untyped files (their types are
// imported above, as types only).
const tokenizerModule = 'natural/lib/natural/tokenizers/regexp_tokenizer.js';
const stemmerModule = 'natural/lib/natural/stemmers/porter_stemmer.js';

let loading: Promise<TextTools> | undefined;

/** Loads natural's tokenizer and Porter stemmer once, on first call, without the package entry. */
export function loadTextTools(): Promise<TextTools> {
  loading ??= importTextTools();
  return loading;
}

async function importTextTools(): Promise<TextTools> {
  const [tokenizers, stemmer] = await Promise.all([
    import(tokenizerModule) as Promise<{
      default: { RegexpTokenizer: new (options: object) => RegexpTokenizer };
    }>,
    import(stemmerModule) as Promise<{ default: Stemmer }>,
  ]);
  // Matching mode: a placeholder is one token (`<ci>`, not `ci`), so it never meets the word "ci".
  const tokenizer = new tokenizers.default.RegexpTokenizer({
    pattern: /<[a-z]+>|[\p{L}\p{N}]+/gu,
    gaps: false,
  });
  const porter = stemmer.default;
  return {
    tokenize: (text) => {
      // natural returns String.match's null, not [], for a text without tokens.
      const tokens: string[] | null = tokenizer.tokenize(text);
      return tokens ?? [];
    },
    stem: (word) => porter.stem(word),
  };
}

/**
 * Words that say nothing about a failure. natural's own list is not used: it drops "above",
 * "below", "over", "under", "up", "out", "never", "after", "before", which alerts rely on.
 */
const stopwords = new Set(
  (
    'a an the and or but of on in at to for from by with as via into onto is are was were be been ' +
    'being am has have had do does did it its this that these those there their our your my we you ' +
    'they he she his her them us i me will would can could should may might shall than then so'
  )
    .split(' ')
    .filter((word) => word !== ''),
);

/** Limits and the IDF epoch length of a TemplateIndex. */
export type TemplateIndexOptions = {
  /** Templates held at most; the least recently used are evicted past it. Default 20,000. */
  maxTemplates?: number;
  /** Share of templates added or evicted that starts a new IDF epoch. Default 0.1. */
  idfRefreshRatio?: number;
  /** Templates compared at most by one nearest() call (rarest stems first). Default 2,000. */
  maxCandidates?: number;
  /** Words whose stems are cached (FIFO past it). Default 50,000. */
  maxStemCache?: number;
};

/** A template found by nearest(), with its cosine similarity to the query. */
export type TemplateMatch = { templateId: number; score: number };

/** Counters of a TemplateIndex, for metrics and for tests that check it does not scan. */
export type TemplateIndexStats = {
  /** Templates held now. */
  templates: number;
  /** Distinct stems (and placeholders) of the templates held. */
  terms: number;
  /** add() calls. */
  adds: number;
  /** add() calls whose template was already held (no tokenizing, stemming or vector work). */
  templateHits: number;
  stemCacheHits: number;
  stemCacheMisses: number;
  evictions: number;
  /** IDF epochs started (see the module comment). */
  idfEpochs: number;
  /** Vectors weighted: one per new template, plus every held one at each new IDF epoch. */
  vectorComputations: number;
  nearestCalls: number;
  /** Postings entries read by nearest() while collecting candidates. */
  postingsVisited: number;
  /** Cosine computations by nearest() (candidates scored). */
  comparisons: number;
  /** nearest() calls that stopped at maxCandidates. */
  truncatedQueries: number;
};

type Entry = {
  readonly id: number;
  readonly template: string;
  /** Term ids, ascending, each once. */
  readonly terms: Int32Array;
  /** Sublinear term frequencies (1 + ln count), aligned with terms. */
  readonly tf: Float64Array;
  /** Unit-length TF-IDF weights under the current IDF table, aligned with terms. */
  readonly weights: Float64Array;
  /** The last nearest() query that collected this entry as a candidate (or asked about it). */
  mark: number;
};

/** Per-template tokens, stems and TF-IDF vectors with an inverted index; see the module comment. */
export class TemplateIndex {
  readonly #tools: TextTools;
  readonly #maxTemplates: number;
  readonly #idfRefreshRatio: number;
  readonly #maxCandidates: number;
  readonly #maxStemCache: number;

  /** Held templates by id, least recently used first (a Map keeps insertion order). */
  readonly #byId = new Map<number, Entry>();
  readonly #byTemplate = new Map<string, Entry>();
  #nextId = 1;

  readonly #termIds = new Map<string, number>();
  readonly #termNames: string[] = [];
  readonly #df: number[] = [];
  readonly #postings: (Set<Entry> | undefined)[] = [];
  /** Per term, at least the largest weight any held template gives it (exact after an epoch). */
  readonly #maxWeight: number[] = [];
  /** Term ids free for reuse: freed before the current IDF table was frozen, so it rates them df 0. */
  readonly #freeTerms: number[] = [];
  /** Term ids freed during this epoch; the frozen table still holds their old IDF. */
  #retiredTerms: number[] = [];

  #idf = new Float64Array(0);
  #unseenIdf = 1;
  #epochTemplates = 0;
  #changesSinceEpoch = 0;

  readonly #stems = new Map<string, string>();
  readonly #stats: Omit<TemplateIndexStats, 'templates' | 'terms'> = {
    adds: 0,
    templateHits: 0,
    stemCacheHits: 0,
    stemCacheMisses: 0,
    evictions: 0,
    idfEpochs: 0,
    vectorComputations: 0,
    nearestCalls: 0,
    postingsVisited: 0,
    comparisons: 0,
    truncatedQueries: 0,
  };

  /** Builds an index on loaded tools; createTemplateIndex() loads them first. */
  constructor(tools: TextTools, options: TemplateIndexOptions = {}) {
    this.#tools = tools;
    this.#maxTemplates = positive(options.maxTemplates ?? 20_000, 'maxTemplates');
    this.#idfRefreshRatio = positive(options.idfRefreshRatio ?? 0.1, 'idfRefreshRatio');
    this.#maxCandidates = positive(options.maxCandidates ?? 2_000, 'maxCandidates');
    this.#maxStemCache = positive(options.maxStemCache ?? 50_000, 'maxStemCache');
  }

  /**
   * Adds an alert text's template (or finds it) and returns its id; the CI's own name is masked.
   * toTemplate is idempotent, so a stored template may be passed back as the text.
   */
  add(text: string, ci?: string | null): number {
    this.#stats.adds++;
    const template = toTemplate(text, ci);
    const held = this.#byTemplate.get(template);
    if (held) {
      this.#stats.templateHits++;
      this.#touch(held);
      return held.id;
    }
    const entry = this.#analyze(template);
    this.#byTemplate.set(template, entry);
    this.#byId.set(entry.id, entry);
    for (const term of entry.terms) {
      this.#df[term]!++;
      this.#postings[term]!.add(entry);
    }
    this.#weigh(entry);
    this.#changesSinceEpoch++;
    while (this.#byId.size > this.#maxTemplates) {
      const oldest = this.#byId.values().next();
      if (oldest.done === true) break;
      this.#evict(oldest.value);
    }
    if (this.#changesSinceEpoch > this.#idfRefreshRatio * this.#epochTemplates) this.#startEpoch();
    return entry.id;
  }

  /** Whether a template id is still held (evicted ids never come back). */
  has(templateId: number): boolean {
    return this.#byId.has(templateId);
  }

  /** The template string of an id, for explanations and storage; undefined once evicted. */
  template(templateId: number): string | undefined {
    return this.#byId.get(templateId)?.template;
  }

  /** Cosine similarity (0..1) of two templates' TF-IDF vectors; 0 when either is not held. */
  similarity(a: number, b: number): number {
    const left = this.#byId.get(a);
    const right = this.#byId.get(b);
    if (!left || !right) return 0;
    if (a === b) return left.terms.length > 0 ? 1 : 0;
    return dot(left.terms, left.weights, right.terms, right.weights);
  }

  /**
   * The k held templates most similar to one, best first (ties by id), each with a score of at
   * least minScore (and above 0). Candidates come from the inverted index, and the postings of the
   * query's weakest stems are not read when, together, they cannot reach minScore: a template
   * sharing only stems S scores at most min(Σ_S q·maxWeight, ‖q_S‖) (max-score and prefix
   * filtering), so words and placeholders that every template has do not pull in the whole index.
   */
  nearest(templateId: number, k = 10, minScore = 0.5): TemplateMatch[] {
    const query = this.#byId.get(templateId);
    if (!query || k <= 0) return [];
    this.#stats.nearestCalls++;
    this.#touch(query);
    const { terms, weights } = query;
    const bound = Float64Array.from(terms, (term, i) => weights[i]! * this.#maxWeight[term]!);
    const order = [...terms.keys()].sort((i, j) => bound[i]! - bound[j]! || i - j);
    let skipped = 0;
    for (let sum = 0, squares = 0; skipped < order.length; skipped++) {
      const i = order[skipped]!;
      if (Math.min(sum + bound[i]!, Math.sqrt(squares + weights[i]! ** 2)) >= minScore) break;
      sum += bound[i]!;
      squares += weights[i]! ** 2;
    }
    // Each candidate once: marked with this query's number instead of held in a Set.
    const mark = this.#stats.nearestCalls;
    query.mark = mark;
    const candidates: Entry[] = [];
    probing: for (const i of order.slice(skipped).reverse()) {
      for (const entry of this.#postings[terms[i]!]!) {
        this.#stats.postingsVisited++;
        if (entry.mark === mark) continue;
        if (candidates.length >= this.#maxCandidates) {
          this.#stats.truncatedQueries++;
          break probing;
        }
        entry.mark = mark;
        candidates.push(entry);
      }
    }
    const matches: TemplateMatch[] = [];
    for (const entry of candidates) {
      const score = dot(terms, weights, entry.terms, entry.weights);
      if (score >= minScore && score > 0) matches.push({ templateId: entry.id, score });
    }
    this.#stats.comparisons += candidates.length;
    matches.sort((x, y) => y.score - x.score || x.templateId - y.templateId);
    return matches.slice(0, k);
  }

  /** The stems (and placeholders) two templates share, heaviest first: why they are similar. */
  sharedTerms(a: number, b: number, limit = 5): string[] {
    const left = this.#byId.get(a);
    const right = this.#byId.get(b);
    if (!left || !right) return [];
    const lw = left.weights;
    const rw = right.weights;
    const shared: { term: string; weight: number }[] = [];
    for (let i = 0, j = 0; i < left.terms.length && j < right.terms.length;) {
      const lt = left.terms[i]!;
      const rt = right.terms[j]!;
      if (lt === rt) shared.push({ term: this.#termNames[lt]!, weight: lw[i++]! * rw[j++]! });
      else if (lt < rt) i++;
      else j++;
    }
    shared.sort((x, y) => y.weight - x.weight || (x.term < y.term ? -1 : 1));
    return shared.slice(0, limit).map(({ term }) => term);
  }

  /** Counters since creation, with the current number of templates and terms. */
  stats(): TemplateIndexStats {
    return { templates: this.#byId.size, terms: this.#termIds.size, ...this.#stats };
  }

  #analyze(template: string): Entry {
    const counts = new Map<number, number>();
    for (const token of this.#tools.tokenize(template)) {
      let term: string;
      if (token.startsWith('<')) term = token;
      else if (token.length < 2 || stopwords.has(token)) continue;
      else term = this.#stem(token);
      const id = this.#termId(term);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const terms = Int32Array.from(counts.keys()).sort();
    const tf = Float64Array.from(terms, (term) => 1 + Math.log(counts.get(term)!));
    const weights = new Float64Array(terms.length);
    return { id: this.#nextId++, template, terms, tf, weights, mark: 0 };
  }

  #stem(word: string): string {
    const cached = this.#stems.get(word);
    if (cached !== undefined) {
      this.#stats.stemCacheHits++;
      return cached;
    }
    this.#stats.stemCacheMisses++;
    const stem = this.#tools.stem(word);
    if (this.#stems.size >= this.#maxStemCache) {
      const oldest = this.#stems.keys().next();
      if (oldest.done !== true) this.#stems.delete(oldest.value);
    }
    this.#stems.set(word, stem);
    return stem;
  }

  #termId(term: string): number {
    let id = this.#termIds.get(term);
    if (id === undefined) {
      id = this.#freeTerms.pop() ?? this.#termNames.length;
      this.#termIds.set(term, id);
      this.#termNames[id] = term;
      this.#df[id] = 0;
      this.#postings[id] = new Set();
      this.#maxWeight[id] = 0;
    }
    return id;
  }

  #touch(entry: Entry): void {
    this.#byId.delete(entry.id);
    this.#byId.set(entry.id, entry);
  }

  #evict(entry: Entry): void {
    this.#byId.delete(entry.id);
    this.#byTemplate.delete(entry.template);
    for (const term of entry.terms) {
      this.#postings[term]!.delete(entry);
      if (--this.#df[term]! === 0) {
        this.#termIds.delete(this.#termNames[term]!);
        this.#termNames[term] = '';
        this.#postings[term] = undefined;
        this.#retiredTerms.push(term);
      }
    }
    this.#stats.evictions++;
    this.#changesSinceEpoch++;
  }

  /** Freezes a new IDF table from the templates held now and re-weights every vector with it. */
  #startEpoch(): void {
    const held = this.#byId.size;
    const idf = new Float64Array(this.#df.length);
    for (let term = 0; term < idf.length; term++) {
      idf[term] = Math.log((1 + held) / (1 + this.#df[term]!)) + 1;
    }
    this.#idf = idf;
    this.#unseenIdf = Math.log(1 + held) + 1;
    for (const term of this.#retiredTerms) this.#freeTerms.push(term);
    this.#retiredTerms = [];
    this.#maxWeight.fill(0);
    for (const entry of this.#byId.values()) this.#weigh(entry);
    this.#epochTemplates = held;
    this.#changesSinceEpoch = 0;
    this.#stats.idfEpochs++;
  }

  /** Sets an entry's unit TF-IDF weights under the current IDF table, in place. */
  #weigh(entry: Entry): void {
    const { terms, tf, weights } = entry;
    let norm = 0;
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i]!;
      const w = tf[i]! * (term < this.#idf.length ? this.#idf[term]! : this.#unseenIdf);
      weights[i] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < terms.length; i++) {
      const w = norm > 0 ? weights[i]! / norm : 0;
      weights[i] = w;
      if (w > this.#maxWeight[terms[i]!]!) this.#maxWeight[terms[i]!] = w;
    }
    this.#stats.vectorComputations++;
  }
}

/** Dot product of two sparse vectors, each as term ids (ascending) and aligned weights. */
function dot(
  leftTerms: Int32Array,
  leftWeights: Float64Array,
  rightTerms: Int32Array,
  rightWeights: Float64Array,
): number {
  let sum = 0;
  for (let i = 0, j = 0; i < leftTerms.length && j < rightTerms.length;) {
    const lt = leftTerms[i]!;
    const rt = rightTerms[j]!;
    if (lt === rt) sum += leftWeights[i++]! * rightWeights[j++]!;
    else if (lt < rt) i++;
    else j++;
  }
  // Rounding can push the cosine of two equal vectors a hair above 1.
  return Math.min(1, sum);
}

function positive(value: number, name: string): number {
  if (!(value > 0)) throw new RangeError(`${name} must be positive, got ${value}`);
  return value;
}

/** Loads natural (once, lazily) and returns an empty TemplateIndex. */
export async function createTemplateIndex(
  options: TemplateIndexOptions = {},
): Promise<TemplateIndex> {
  return new TemplateIndex(await loadTextTools(), options);
}
