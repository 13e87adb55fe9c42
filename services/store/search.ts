import { Client, errors } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { getAlerts } from './alerts.ts';
import { assetStore } from './assets.ts';
import { knownErrorStore } from './known-errors.ts';
import { getCis } from './cmdb.ts';
import type { Pool, Queryable } from './db.ts';
import { withTransaction } from './db.ts';
import { getTickets, ticketFields, type Field, type TicketKind } from './tickets.ts';
import { claimOutbox, claimRepeats, deleteOutbox, recordTypes, type RecordType } from './outbox.ts';
import { getRecords, type RecordStore, type StoredRecord } from './records.ts';
import { serviceStore } from './services.ts';

/** The Elasticsearch client type, re-exported so that callers need not import the client. */
export type SearchClient = Client;

/** Opens a client; requests fail fast so that an outage delays search instead of piling up. */
export function createSearchClient(url: string): Client {
  return new Client({ node: url, requestTimeout: 10_000, maxRetries: 1 });
}

const keyword = { type: 'keyword' } as const;
const date = { type: 'date' } as const;
const textWithKeyword = {
  type: 'text',
  fields: { keyword: { type: 'keyword', ignore_above: 512 } },
} as const;

// Fields searched as words and sorted or aggregated whole.
const nameFields = new Set(['title', 'name', 'model']);
// Fields searched as prose; every other text field is an exact keyword.
const proseFields = new Set([
  'description',
  'symptom',
  'cause',
  'workaround',
  'fix',
  'resolutionNotes',
  'holdReason',
  'implementationPlan',
  'backoutPlan',
  'testPlan',
]);

function fieldMapping(name: string, field: Field): estypes.MappingProperty {
  if (nameFields.has(name)) return textWithKeyword;
  switch (field.type) {
    case 'text':
      return proseFields.has(name) ? { type: 'text' } : keyword;
    case 'id':
    case 'texts':
      return keyword;
    case 'int':
      return ['impact', 'urgency', 'priority'].includes(name)
        ? { type: 'byte' }
        : { type: 'integer' };
    case 'decimal':
      // For range filters and sorting; PostgreSQL keeps the exact amount (and scaled_float needs
      // the mapper-extras module, which not every node has).
      return { type: 'double' };
    case 'bool':
      return { type: 'boolean' };
    case 'time':
    case 'date':
      return date;
    case 'json':
      return { type: 'object', enabled: false };
  }
}

/** A ticket type's mapping, derived from its fields (the version is the document's version). */
function ticketMapping(kind: TicketKind): estypes.MappingTypeMapping {
  // A change's own `type` (standard, normal, emergency) is indexed as `changeType`: `type` is the
  // record type in every document.
  const { type: _, ...fields }: Record<string, Field> = ticketFields[kind];
  return recordMapping(fields, {
    stateCategory: keyword,
    ...(kind === 'change' ? { changeType: keyword } : {}),
  });
}

/** A record type's mapping, derived from its fields and the derived ones it serves. */
function recordMapping(
  fields: Record<string, Field>,
  derived: Record<string, estypes.MappingProperty> = {},
): estypes.MappingTypeMapping {
  return {
    dynamic: 'strict',
    properties: {
      type: keyword,
      ...derived,
      ...Object.fromEntries(
        Object.entries(fields)
          .filter(([name]) => name !== 'version')
          .map(([name, field]) => [name, fieldMapping(name, field)]),
      ),
    },
  };
}

// Each record type's own fields.
const typeMappings: Record<RecordType, estypes.MappingTypeMapping> = {
  incident: ticketMapping('incident'),
  problem: ticketMapping('problem'),
  change: ticketMapping('change'),
  asset: recordMapping(assetStore.fields, { stateCategory: keyword }),
  known_error: recordMapping(knownErrorStore.fields, { stateCategory: keyword }),
  service: recordMapping(serviceStore.fields),
  alert: {
    dynamic: 'strict',
    properties: {
      type: keyword,
      id: keyword,
      fingerprint: keyword,
      incidentId: keyword,
      ci: keyword,
      title: textWithKeyword,
      description: { type: 'text' },
      severity: keyword,
      status: keyword,
      source: keyword,
      service: keyword,
      labels: { type: 'flattened' },
      startsAt: date,
      endsAt: date,
      firstReceivedAt: date,
      lastReceivedAt: date,
      count: { type: 'integer' },
      episode: { type: 'integer' },
      // The masked message: what a problem manager searches recurring alerts by.
      template: textWithKeyword,
      // Why it is in its incident: shown with the alert, not searched.
      explanation: { type: 'object', enabled: false },
      flapping: { type: 'boolean' },
      expiredAt: date,
      pinned: { type: 'boolean' },
    },
  },
  ci: {
    dynamic: 'strict',
    properties: {
      type: keyword,
      id: keyword,
      name: textWithKeyword,
      class: keyword,
      // The class and its ancestors, root first: a facet on any level of the class tree.
      classPath: keyword,
      description: { type: 'text' },
      // A value longer than a keyword is kept in the document but not indexed: Lucene refuses a
      // term over 32 kB, and with it the whole document.
      attributes: { type: 'flattened', ignore_above: 512 },
      lifecycleStatus: keyword,
      operationalStatus: keyword,
      environment: keyword,
      criticality: { type: 'byte' },
      supportGroup: keyword,
      owner: keyword,
      createdAt: date,
      updatedAt: date,
    },
  },
};

/**
 * Explicit mappings per record type: nothing is left to dynamic mapping. Every document also has
 * `at`, when it happened (opened, started, created), so results of every type sort newest first.
 */
export const mappings = Object.fromEntries(
  Object.entries(typeMappings).map(([type, m]): [string, estypes.MappingTypeMapping] => [
    type,
    { ...m, properties: { ...m.properties, at: date } },
  ]),
) as Record<RecordType, estypes.MappingTypeMapping>;

/** The alias searched and written for a record type. */
export function aliasOf(prefix: string, type: RecordType): string {
  return `${prefix}-${type}s`;
}

const settings: estypes.IndicesIndexSettings = { number_of_shards: 1, number_of_replicas: 0 };

/**
 * Creates each record type's first index behind its alias when the alias is missing, and adds
 * fields that a newer Tocsin maps to an existing index (a changed field needs `npm run reindex`).
 */
export async function ensureIndices(es: Client, prefix: string): Promise<void> {
  for (const type of recordTypes) {
    const alias = aliasOf(prefix, type);
    if (await es.indices.existsAlias({ name: alias })) {
      await es.indices.putMapping({ index: alias, ...mappings[type] });
      continue;
    }
    try {
      await es.indices.create({
        index: `${alias}-000001`,
        settings,
        mappings: mappings[type],
        aliases: { [alias]: { is_write_index: true } },
      });
    } catch (err) {
      // Another process created it first.
      if (errorType(err) !== 'resource_already_exists_exception') throw err;
    }
  }
}

type ErrorBody = { error?: { type?: string; reason?: string; root_cause?: { reason?: string }[] } };

/** The `error.type` of an Elasticsearch error response, if err is one. */
function errorType(err: unknown): string | undefined {
  return err instanceof errors.ResponseError ? (err.body as ErrorBody)?.error?.type : undefined;
}

const indicesEnsured = new WeakMap<Client, Set<string>>();

type Doc = { id: string; version: number } & Record<string, unknown>;

async function loadDocs(q: Queryable, type: RecordType, ids: string[]): Promise<Doc[]> {
  switch (type) {
    case 'incident':
    case 'problem':
    case 'change':
      return (await getTickets(q, type, ids)).map(({ version, type: changeType, ...r }) => ({
        ...r,
        ...(type === 'change' ? { changeType } : {}),
        type,
        version,
      }));
    case 'alert':
      // The delivery id points at the raw payload in PostgreSQL; it is not searched.
      return (await getAlerts(q, ids)).map(({ version, lastDeliveryId: _, ...r }) => ({
        ...r,
        type,
        version,
      }));
    case 'ci':
      return (await getCis(q, ids)).map(({ version, ...r }) => ({ ...r, type, version }));
    case 'asset':
      return recordDocs(q, assetStore, ids);
    case 'service':
      return recordDocs(q, serviceStore, ids);
    case 'known_error':
      return recordDocs(q, knownErrorStore, ids);
  }
}

/** When a record happened, for sorting results of every type newest first. */
function recencyOf(doc: Record<string, unknown>): unknown {
  return doc.openedAt ?? doc.startsAt ?? doc.createdAt ?? doc.updatedAt ?? null;
}

async function recordDocs<R extends StoredRecord>(
  q: Queryable,
  store: RecordStore<R>,
  ids: string[],
): Promise<Doc[]> {
  return (await getRecords(q, store, ids)).map((r) => ({ ...r, type: store.type }));
}

/** A record whose document Elasticsearch refused for what it holds (a value its mapping cannot take). */
export type RefusedDocument = { type: RecordType; id: string; reason: string };

// Errors that say a document's content cannot be indexed as it is: sending it again fails again.
const CONTENT_REFUSALS = new Set(['document_parsing_exception', 'mapper_parsing_exception']);

/**
 * Writes the current state of these records into an index (or alias), external-versioned so that
 * a slower writer never overwrites a newer version. Records gone from PostgreSQL are deleted. A
 * document refused for its content (a CI's attributes nested deeper than the flattened field
 * takes, say) is reported to `onRefused` and left out: thrown, it failed its whole batch at every
 * try, and the outbox drain and a reindex stuck behind it. Any other rejection throws. Returns
 * how many documents were written.
 */
export async function projectRecords(
  es: Client,
  q: Queryable,
  index: string,
  type: RecordType,
  ids: string[],
  onRefused: (refused: RefusedDocument) => void = () => {},
): Promise<number> {
  const unique = [...new Set(ids)];
  const docs = await loadDocs(q, type, unique);
  const found = new Set(docs.map((d) => d.id));
  const operations: unknown[] = [];
  for (const { version, ...doc } of docs) {
    operations.push(
      { index: { _index: index, _id: doc.id, version, version_type: 'external' } },
      { ...doc, at: recencyOf(doc) },
    );
  }
  for (const id of unique)
    if (!found.has(id)) operations.push({ delete: { _index: index, _id: id } });
  if (operations.length === 0) return 0;
  // Only the ids and the failures come back: the full answer (a dozen fields an item) cost the
  // projection about as much to parse as its documents cost to write.
  const result = await es.bulk({
    operations,
    filter_path: ['errors', 'items.*._id', 'items.*.error'],
  });
  let refused = 0;
  if (result.errors) {
    // A version conflict is a newer version already there; a delete of a missing document is not
    // an error at all.
    const failures = (result.items ?? [])
      .map((item) => Object.values(item)[0])
      .filter((r) => r?.error && r.error.type !== 'version_conflict_engine_exception');
    const others = failures.filter((r) => !CONTENT_REFUSALS.has(r!.error!.type));
    if (others.length > 0) {
      throw new Error(
        `Elasticsearch rejected ${others.length} documents: ${JSON.stringify(others[0]?.error)}`,
      );
    }
    for (const r of failures) {
      refused++;
      const cause = r!.error!.caused_by?.reason;
      onRefused({
        type,
        id: r!._id ?? '',
        reason: `${r!.error!.reason ?? r!.error!.type}${cause ? `: ${cause}` : ''}`,
      });
    }
  }
  return docs.length - refused;
}

/**
 * Drains the search outbox into Elasticsearch in bulk batches until it is empty. Rows are deleted
 * only after Elasticsearch acknowledged them, so an outage delays search and loses nothing; a
 * document it refused for its content goes to `onRefused` (see projectRecords) and its row too.
 */
export async function drainOutbox(
  pool: Pool,
  es: Client,
  prefix: string,
  batchSize = 2000,
  onRefused?: (refused: RefusedDocument) => void,
): Promise<number> {
  // Never let a bulk write through a missing alias auto-create an index with dynamic mappings.
  const ensured = indicesEnsured.get(es) ?? new Set<string>();
  if (!ensured.has(prefix)) {
    await ensureIndices(es, prefix);
    indicesEnsured.set(es, ensured.add(prefix));
  }
  let total = 0;
  for (;;) {
    const drained = await withTransaction(pool, async (client) => {
      const rows = await claimOutbox(client, batchSize);
      // Before the records are read: their state then includes every claimed change.
      const repeats = await claimRepeats(client, rows);
      for (const type of recordTypes) {
        const ids = rows.filter((r) => r.type === type).map((r) => r.recordId);
        if (ids.length > 0)
          await projectRecords(es, client, aliasOf(prefix, type), type, ids, onRefused);
      }
      if (rows.length > 0) await deleteOutbox(client, [...rows.map((r) => r.id), ...repeats]);
      return rows.length;
    });
    total += drained;
    if (drained < batchSize) return total;
  }
}

/** Whether Elasticsearch answers, for readiness reporting. */
export async function pingSearch(es: Client): Promise<boolean> {
  try {
    return await es.ping({}, { requestTimeout: 2000 });
  } catch {
    return false;
  }
}
