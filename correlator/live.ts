/**
 * The live correlator: the correlation engine fed from the inbox and written back to PostgreSQL.
 *
 * Correlation is one ordered stream with state (open incidents, recent alerts per CI and
 * template), so exactly one process runs it at a time: the one holding the correlator lease, a
 * PostgreSQL advisory lock held on a dedicated connection. It reads the inbox in id order in
 * batches, pushes each delivery into the engine, and writes the batch's effects — alerts,
 * incidents, merges, the rows marked processed — in one transaction, so a crash re-reads exactly
 * the unwritten rows. Any other correlator process stands by and takes the lease when the
 * holder's connection goes; it then restores the engine from the stored live incidents. Whoever
 * runs it, the same inbox order gives the same incidents.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  isTransientError,
  withTransaction,
  type Pool,
  type PoolClient,
  type Queryable,
} from '../services/store/db.ts';
import {
  alertTemplates,
  beginCorrelationBatch,
  cmdbStamp,
  incidentsClosedSince,
  latestEpisodes,
  latestEventTime,
  linkSuspects,
  liveIncidents,
  nextDeliveries,
  readCmdb,
  reserveIds,
  writeCorrelation,
  type AlertTouch,
  type AlertWrite,
  type CorrelationWrite,
  type IncidentWrite,
  type PendingDelivery,
  type StoredIncident,
} from '../services/store/correlation.ts';
import {
  markOverridesApplied,
  pendingOverrides,
  type CorrelationOverride,
} from '../services/store/correlation-overrides.ts';
import { firstPendingInbox, setInboxAside } from '../services/store/inbox.ts';
import { enqueueOutbox } from '../services/store/outbox.ts';
import type { PriorityMatrix } from '../services/store/workflows.ts';
import type { Severity } from './alert.ts';
import type { EngineConfig } from './engine/config.ts';
import { ENGINE_NAME, renameRefs } from './explanation-refs.ts';
import { SuspectFinder, type SuspectQuery, type SuspectSettings } from './suspects.ts';
import {
  createCorrelationEngine,
  type CorrelationEngine,
  type EngineAlert,
  type EngineChanges,
  type EngineIncidentChange,
  type Explanation,
  type LifecycleState,
  type RestoredIncident,
} from './engine/engine.ts';

/** What the live correlator needs. */
export type LiveCorrelatorOptions = {
  pool: Pool;
  engine: Partial<EngineConfig>;
  /** Suspected-change look-back and known-error matching. */
  suspects?: Partial<SuspectSettings>;
  priorityMatrix: PriorityMatrix;
  /** Deliveries per batch (one transaction). */
  batchSize?: number;
  /** How often the holder looks for new deliveries when nothing woke it. */
  pollMs?: number;
  /** How often a standby tries to take the lease. */
  leaseRetryMs?: number;
  /** After this long with no delivery, event time follows the clock (see advanceTo). */
  idleMs?: number;
  /** How often the CMDB is checked for changes (0: with every batch read; the check is counts). */
  cmdbCheckMs?: number;
  /** Called after each written batch with its inbox receipt times and touched incident ids. */
  onBatch?: (batch: { receivedAt: string[]; incidents: string[]; alerts: string[] }) => void;
  log: Logger;
};

// One key for the whole installation's correlation stream ("tocsin.correlator" in ASCII).
const LEASE_KEY = 0x746f6373696e2e63n;

const urgencyBySeverity: Record<Severity, number> = {
  critical: 1,
  major: 1,
  minor: 2,
  warning: 2,
  info: 3,
};

/** One batch's effects, built before it is written (see #plan). */
type BatchWrite = {
  rows: PendingDelivery[];
  write: CorrelationWrite;
  suspects: SuspectQuery[];
};

// An index entry holds at most 2,704 bytes (incidents_signature: the signature and the opening
// time), and a template may be 1,024 characters of up to 4 bytes each in UTF-8.
const MAX_SIGNATURE = 600;

/**
 * An incident's signature, `<root-cause CI>|<template>`: what recurring incidents share. One
 * over 600 characters is kept as its head and a digest of the whole, so that it still indexes
 * and two long ones are equal exactly when their full signatures are.
 */
export function incidentSignature(root: string, template: string): string {
  const full = `${root}|${template}`;
  if (full.length <= MAX_SIGNATURE) return full;
  const digest = createHash('sha256').update(full).digest('hex').slice(0, 16);
  return `${full.slice(0, MAX_SIGNATURE - 18).toWellFormed()}…#${digest}`;
}

/**
 * An incident's title: what its root cause shows, the likely cause, and how many more CIs alert.
 * The alert it quotes is one of the root-cause CI's with the incident's template (the dominant
 * one of that CI's alerts, as in the signature), else that CI's first; when the cause is inferred
 * (it does not alert itself), the title says so and quotes an alert with the incident's template
 * (then the dominant one of all). At most 500 characters.
 */
export function incidentTitle(
  incident: Pick<EngineIncidentChange, 'alerts' | 'cis' | 'rootCause' | 'template'>,
): string {
  const root = incident.rootCause[0]?.ci ?? null;
  const alerts = incident.alerts;
  const own = root === null ? [] : alerts.filter((a) => a.ci === root);
  const pool = own.length > 0 ? own : alerts;
  const quoted = pool.find((a) => a.template === incident.template) ?? pool[0];
  const what = quoted?.title ?? 'Alerts';
  if (root === null) return what.slice(0, 500);
  const alerting = incident.cis.includes(root);
  const others = incident.cis.length - (alerting ? 1 : 0);
  const affected = `${others}${alerting ? ' more' : ''} CI${others === 1 ? '' : 's'} affected`;
  return (
    `${what} — likely cause ${root}${alerting ? '' : ' (not alerting)'}` +
    (others > 0 ? `, ${affected}` : '')
  ).slice(0, 500);
}

/** The live correlator; see the module comment. */
export class LiveCorrelator {
  readonly #o: Required<Omit<LiveCorrelatorOptions, 'onBatch'>> &
    Pick<LiveCorrelatorOptions, 'onBatch'>;
  readonly #suspects: SuspectFinder;
  /** Per engine incident, what it looked like when its suspects were last sought. */
  readonly #sought = new Map<string, string>();
  #lease: PoolClient | null = null;
  /** Gives the lease up when its connection fails; removed when the lease is given back. */
  readonly #onLeaseError = () => void this.#release();
  #engine: CorrelationEngine | null = null;
  #cmdbStamp = '';
  #closing = false;
  #running: Promise<void> | null = null;
  #wakeAgain = false;
  /**
   * A failing batch: the first pending inbox row when steps failed, how many times in a row, and
   * whether batches are down to one delivery to find the one that fails (see #isolate).
   */
  #failedAt: string | null = null;
  #failures = 0;
  #single = false;
  #timer: NodeJS.Timeout | null = null;
  #lastDeliveryAt = Date.now();
  /** The latest event time when the stream went quiet. */
  #quietFrom: number | null = null;
  #lastCmdbCheck = 0;
  #closedSince = new Date().toISOString();
  #seq = 0;
  /** Engine alert id ↔ stored alert id and episode; engine incident ↔ stored incident. */
  readonly #alertIds = new Map<string, { id: string; episode: number }>();
  readonly #alertKeys = new Map<string, string>();
  readonly #incidentIds = new Map<string, string>();
  readonly #incidentKeys = new Map<string, string>();
  /**
   * Ids reserved for rows not yet inserted (see #provisionIds), ascending: rows get them in the
   * order the engine made them, which is the order a restore reads them back in.
   */
  readonly #freeIds = { alerts: new IdBlock(), incidents: new IdBlock() };
  /** The latest episode per fingerprint this process wrote or looked up (see #lookUpEpisodes). */
  readonly #episodes = new Map<string, number>();
  /**
   * Per stored alert id, what was last written of it: a digest of its fields (see #touchOnly),
   * and the engine's explanation it was written with.
   */
  readonly #written = new Map<string, { digest: string; explanation: Explanation }>();

  constructor(options: LiveCorrelatorOptions) {
    // Each delivery is marked correlated in the batch that hands it to the engine: one held in a
    // reorder buffer would be lost with the process. Here late deliveries are allowedLatenessMs's.
    if ((options.engine.reorderMs ?? 0) > 0)
      throw new RangeError(
        'engine config: reorderMs must be 0 for the live correlator (a reorder buffer is for ' +
          'replays: deliveries it holds would be lost with the process); set allowedLatenessMs ' +
          'for late deliveries instead',
      );
    this.#o = {
      batchSize: 2000,
      pollMs: 100,
      leaseRetryMs: 1000,
      idleMs: 60_000,
      cmdbCheckMs: 0,
      suspects: {},
      ...options,
    };
    this.#suspects = new SuspectFinder(this.#o.suspects);
  }

  /** Whether this process holds the lease and runs correlation. */
  get leader(): boolean {
    return this.#engine !== null;
  }

  /** Starts trying for the lease and, once held, correlating. */
  start(): void {
    this.#schedule(0);
  }

  /** Something arrived: correlate now if this process is the holder. */
  wake(): void {
    if (this.#engine === null || this.#closing) return;
    if (this.#running) this.#wakeAgain = true;
    else this.#schedule(0);
  }

  /** Correlates everything pending now (the holder only); resolves when the inbox is drained. */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#engine !== null) await this.#run();
  }

  /** Stops correlating and gives the lease up. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#timer) clearTimeout(this.#timer);
    while (this.#running) await this.#running;
    await this.#release();
  }

  #schedule(ms: number): void {
    if (this.#closing) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#run().finally(() => {
        if (this.#closing) return;
        const again = this.#wakeAgain;
        this.#wakeAgain = false;
        this.#schedule(again ? 0 : this.#engine ? this.#o.pollMs : this.#o.leaseRetryMs);
      });
    }, ms);
  }

  #run(): Promise<void> {
    if (this.#running) return this.#running;
    this.#running = this.#step()
      .then(() => {
        this.#failedAt = null;
        this.#failures = 0;
        this.#single = false;
      })
      .catch(async (err: Error) => {
        this.#o.log.error({ err: err.message }, 'correlator: batch failed; restoring from storage');
        await this.#release();
        if (isTransientError(err)) return;
        await this.#isolate(err).catch((e: Error) =>
          this.#o.log.error({ err: e.message }, 'correlator: could not set a failing alert aside'),
        );
      })
      .finally(() => {
        this.#running = null;
      });
    return this.#running;
  }

  async #step(): Promise<void> {
    if (this.#engine === null && !(await this.#acquire())) return;
    // Forgetting the id links of what the engine forgot happens only here, with no write in
    // flight and no batch's changes waiting to be planned: a change the engine still reports for
    // an alert or incident it has just forgotten must find its stored id.
    this.#prune();
    await this.#retireClosed();
    await this.#applyOverrides();
    // One batch is written while the next is read and correlated. A batch's write is built in
    // full (ids, episodes, rows) before the next batch touches the engine, and starts only once
    // the previous one committed, so the effects land in stream order, as one at a time would.
    let writing: { done: Promise<void>; first: string; last: string } | null = null;
    try {
      for (;;) {
        const size = this.#single ? 1 : this.#o.batchSize;
        const rows = await nextDeliveries(this.#o.pool, size, writing);
        // The CMDB after the batch is read, not before: an alert accepted after a CMDB change
        // committed is then always correlated on the changed CMDB, as a replay over it would be.
        if (Date.now() - this.#lastCmdbCheck >= this.#o.cmdbCheckMs) await this.#checkCmdb();
        if (rows.length > 0) this.#lastDeliveryAt = Date.now();
        else if (Date.now() - this.#lastDeliveryAt > this.#o.idleMs) {
          // Quiet: event time moves on as fast as the clock from where the stream left it (not
          // to the clock itself: a stream of old or skewed event times keeps its own time).
          const quietFor = Date.now() - this.#lastDeliveryAt;
          const engine = this.#engine!;
          if (this.#quietFrom === null) this.#quietFrom = engine.latest;
          engine.advanceTo(this.#quietFrom + quietFor);
        }
        if (rows.length > 0) this.#quietFrom = null;
        await this.#provisionIds(rows.length);
        for (const row of rows) this.#engine!.push(this.#delivery(row));
        const changes = this.#engine!.takeChanges();
        if (rows.length === 0 && changes.alerts.length === 0 && changes.incidents.length === 0)
          return;
        if (writing !== null) await writing.done;
        await this.#lookUpEpisodes(changes);
        const done = this.#commit(this.#plan(rows, changes));
        // Awaited before the next write or when the step ends; a failure is seen there.
        done.catch(() => {});
        writing = { done, first: rows[0]?.id ?? '0', last: rows.at(-1)?.id ?? '0' };
        if (rows.length < size) return;
      }
    } finally {
      if (writing !== null) await writing.done;
    }
  }

  /**
   * After a step failed (not for a transient error: a lost connection, a deadlock): one accepted alert whose effects cannot be
   * written (a bug, a value the schema refuses) would otherwise fail its batch for ever and hold
   * up every alert after it. Three failures at the same first pending row put batches down to one
   * delivery; two more at the same row set that row aside: marked processed without effects, and
   * shown to admins as a notice (GET /api/v1/notices) with the error. A step that succeeds ends it.
   */
  async #isolate(err: Error): Promise<void> {
    const first = await firstPendingInbox(this.#o.pool);
    if (first === null) return;
    if (first !== this.#failedAt) {
      this.#failedAt = first;
      this.#failures = 1;
      return;
    }
    this.#failures++;
    if (!this.#single) {
      if (this.#failures >= 3) {
        this.#single = true;
        this.#failures = 0;
      }
      return;
    }
    if (this.#failures < 2) return;
    await setInboxAside(this.#o.pool, first, err.message);
    this.#o.log.error(
      { inboxId: first, err: err.message },
      'correlator: set aside an accepted alert whose correlation fails every time',
    );
    this.#failedAt = null;
    this.#failures = 0;
    this.#single = false;
  }

  #delivery(row: PendingDelivery) {
    return { seq: this.#seq++, deliveredAt: row.receivedAt, alert: row.alert };
  }

  async #acquire(): Promise<boolean> {
    const client = await this.#o.pool.connect();
    try {
      const { rows } = await client.query<{ held: boolean }>(
        '-- Take the correlator lease. Params: key.\nSELECT pg_try_advisory_lock($1) AS held',
        [LEASE_KEY.toString()],
      );
      if (!rows[0]!.held) {
        client.release();
        return false;
      }
    } catch (err) {
      client.release();
      throw err;
    }
    this.#lease = client;
    client.on('error', this.#onLeaseError);
    try {
      await this.#restore();
    } catch (err) {
      await this.#release();
      throw err;
    }
    this.#o.log.info('correlator: took the lease; correlating');
    return true;
  }

  async #release(): Promise<void> {
    this.#engine = null;
    this.#written.clear();
    this.#episodes.clear();
    this.#alertIds.clear();
    this.#alertKeys.clear();
    this.#incidentIds.clear();
    this.#incidentKeys.clear();
    const lease = this.#lease;
    this.#lease = null;
    if (lease === null) return;
    try {
      await lease.query('SELECT pg_advisory_unlock_all()');
      lease.release();
    } catch {
      // A broken connection ends its session, and the lock with it.
      lease.release(true);
    }
    // Back in the pool (which listens for its errors now), it must not call this correlator.
    lease.off('error', this.#onLeaseError);
  }

  /**
   * Builds the engine on the current CMDB and restores into it, at the event time the last
   * holder's engine had reached, the incidents it may still hold and its text statistics: the
   * restored engine decides as the last holder's would have (see the restore tests).
   */
  async #restore(): Promise<void> {
    // The stamp first: a change landing between the two reads is then seen at the next check.
    const stamp = await cmdbStamp(this.#o.pool);
    const cmdb = await readCmdb(this.#o.pool);
    const engine = await createCorrelationEngine(cmdb, this.#o.engine, {
      recordDeliveries: false,
      evict: true,
    });
    // Event time, never the clock: a stream of past (or skewed) event times restores as well.
    const latestAt = await latestEventTime(this.#o.pool);
    const latest = latestAt === null ? -Infinity : Date.parse(latestAt);
    const since = Number.isFinite(latest) ? engine.restoreHorizon(latest) : -Infinity;
    const stored = await liveIncidents(
      this.#o.pool,
      Number.isFinite(since) ? new Date(since).toISOString() : '-infinity',
    );
    const names = engine.restore(stored.map(restored), {
      latest,
      templates: await alertTemplates(this.#o.pool),
    });
    this.#alertIds.clear();
    this.#alertKeys.clear();
    this.#incidentIds.clear();
    this.#incidentKeys.clear();
    stored.forEach((incident, i) => {
      this.#link(names[i]!, incident.id);
      for (const a of incident.alerts) {
        this.#alertIds.set(`db:${a.id}`, { id: a.id, episode: 0 });
        this.#alertKeys.set(a.id, `db:${a.id}`);
      }
    });
    this.#engine = engine;
    this.#cmdbStamp = stamp;
    this.#lastCmdbCheck = Date.now();
  }

  /**
   * Puts a changed CMDB under the running engine. Its state stays: rebuilding it from storage
   * would lose what storage does not hold (flap times, recently resolved incidents, text
   * statistics), and the engine would decide differently from one that ran through the change.
   */
  async #checkCmdb(): Promise<void> {
    this.#lastCmdbCheck = Date.now();
    // The stamp first: a change landing between the two reads is then seen at the next check.
    const stamp = await cmdbStamp(this.#o.pool);
    if (stamp === this.#cmdbStamp) return;
    this.#o.log.info('correlator: the CMDB changed; rebuilding topology');
    this.#engine!.replaceCmdb(await readCmdb(this.#o.pool));
    this.#cmdbStamp = stamp;
  }

  /** Incidents a person closed or canceled take no new alerts. */
  async #retireClosed(): Promise<void> {
    const now = new Date().toISOString();
    const ids = await incidentsClosedSince(this.#o.pool, this.#closedSince);
    this.#closedSince = now;
    for (const id of ids) {
      const name = this.#incidentKeys.get(id);
      if (name !== undefined) this.#engine!.retire(name);
    }
  }

  #link(name: string, id: string): void {
    this.#incidentIds.set(name, id);
    this.#incidentKeys.set(id, name);
  }

  /** Tops up the ids reserved for new alerts and incidents: a batch makes at most one each per row. */
  async #provisionIds(rows: number): Promise<void> {
    const want = 2 * Math.max(rows, this.#o.batchSize);
    const [alerts, incidents] = await Promise.all([
      this.#freeIds.alerts.size < rows
        ? reserveIds(this.#o.pool, 'alerts', want - this.#freeIds.alerts.size)
        : [],
      this.#freeIds.incidents.size < rows
        ? reserveIds(this.#o.pool, 'incidents', want - this.#freeIds.incidents.size)
        : [],
    ]);
    this.#freeIds.alerts.add(alerts);
    this.#freeIds.incidents.add(incidents);
  }

  /**
   * The latest stored episode of each new alert's fingerprint, from what this process wrote or
   * looked up before, else from the database. A fingerprint this process wrote stays known until
   * its write has committed (#prune runs only between writes), so a write still in flight is
   * never missed.
   */
  async #lookUpEpisodes(changes: EngineChanges): Promise<void> {
    const unknown = new Set<string>();
    for (const { alert } of changes.alerts)
      if (!this.#alertIds.has(alert.id) && !this.#episodes.has(alert.fingerprint))
        unknown.add(alert.fingerprint);
    if (unknown.size === 0) return;
    const stored = await latestEpisodes(this.#o.pool, [...unknown]);
    for (const fingerprint of unknown)
      this.#episodes.set(fingerprint, stored.get(fingerprint) ?? 0);
  }

  /** A batch's write, built in full from the engine's changes; links new ids as it goes. */
  #plan(rows: PendingDelivery[], changes: EngineChanges): BatchWrite {
    const engine = this.#engine!;
    // The latest delivery of each touched alert in this batch, and the first receipt of new ones.
    const latest = new Map<string, PendingDelivery>();
    const first = new Map<string, PendingDelivery>();
    for (const { seq, alertId } of engine.takeProcessed()) {
      const row = rows[seq - (this.#seq - rows.length)];
      if (row === undefined) continue;
      latest.set(alertId, row);
      if (!first.has(alertId)) first.set(alertId, row);
    }
    const take = (free: IdBlock) => free.take();
    const insertedIncidents = new Set<string>();
    for (const incident of changes.incidents)
      if (!this.#incidentIds.has(incident.id)) {
        this.#link(incident.id, take(this.#freeIds.incidents));
        insertedIncidents.add(incident.id);
      }
    const inserted = new Set<string>();
    for (const { alert } of changes.alerts)
      if (!this.#alertIds.has(alert.id)) {
        const episode = (this.#episodes.get(alert.fingerprint) ?? 0) + 1;
        this.#episodes.set(alert.fingerprint, episode);
        const id = take(this.#freeIds.alerts);
        this.#alertIds.set(alert.id, { id, episode });
        this.#alertKeys.set(id, alert.id);
        inserted.add(alert.id);
      }
    const written: AlertWrite[] = [];
    const touched: AlertTouch[] = [];
    for (const { alert, incident, resolvedAt, recentChanges } of changes.alerts) {
      const stored = this.#alertIds.get(alert.id)!;
      const row = latest.get(alert.id);
      // The engine replaces an alert's explanation when it changes and never edits one: the same
      // object as last written is stored already (a re-send's, mostly) and is not sent again —
      // nearly half of what an alert's update carried, to serialize, send and parse.
      const last = this.#written.get(stored.id);
      const explained = last?.explanation !== alert.explanation;
      const write: AlertWrite = {
        id: stored.id,
        insert: inserted.has(alert.id),
        fingerprint: alert.fingerprint,
        episode: stored.episode,
        incidentId: this.#incidentIds.get(incident)!,
        status: alert.firing ? 'firing' : 'resolved',
        severity: alert.severity,
        startsAt: new Date(alert.startsAt).toISOString(),
        // When the engine took it as resolved (the source's endsAt, or when it expired): what
        // a successor restores it with.
        endsAt: alert.firing ? null : iso(resolvedAt),
        template: alert.template,
        explanation: explained ? this.#storedExplanation(alert.explanation) : null,
        flapping: alert.flapping,
        changes: alert.changes,
        recentChanges: recentChanges.map((t) => new Date(t).toISOString()),
        expiredAt: alert.expired ? iso(resolvedAt) : null,
        pinned: alert.pinned,
        count: alert.deliveries,
        content: row
          ? {
              ci: row.alert.ci,
              title: row.alert.title,
              description: row.alert.description,
              source: row.alert.source,
              service: row.alert.service,
              labels: row.alert.labels,
              receivedAt: row.receivedAt,
              firstReceivedAt: (first.get(alert.id) ?? row).receivedAt,
              deliveryId: row.deliveryId,
              partial: row.alert.partial === true,
            }
          : null,
      };
      if (this.#touchOnly(write, alert.explanation, last?.digest))
        touched.push({ id: write.id, count: write.count, receivedAt: write.content!.receivedAt });
      else written.push(write);
    }
    const incidents = changes.incidents.map((incident) =>
      this.#incidentWrite(incident, insertedIncidents.has(incident.id)),
    );
    const merged = changes.merged
      .map(({ from, into }) => ({
        from: this.#incidentIds.get(from),
        into: this.#incidentIds.get(into),
      }))
      .filter((m): m is { from: string; into: string } => !!m.from && !!m.into);
    const suspects = this.#suspectQueries(changes.incidents);
    for (const { from } of changes.merged) {
      const id = this.#incidentIds.get(from);
      this.#incidentIds.delete(from);
      if (id !== undefined) this.#incidentKeys.delete(id);
    }
    return {
      rows,
      write: {
        incidents,
        merged,
        alerts: written,
        touched,
        inboxIds: rows.map((r) => r.id),
        latestEventAt: Number.isFinite(engine.latest) ? iso(engine.latest) : null,
        priorityMatrix: this.#o.priorityMatrix,
      },
      suspects,
    };
  }

  /** Writes a planned batch in one transaction. */
  async #commit({ rows, write, suspects }: BatchWrite): Promise<void> {
    await withTransaction(this.#o.pool, async (tx) => {
      await beginCorrelationBatch(tx);
      await writeCorrelation(tx, write);
      if (suspects.length > 0) await this.#linkSuspects(tx, suspects);
      // A touched alert's search document keeps its count until the alert next changes.
      await enqueueOutbox(
        tx,
        'alert',
        write.alerts.map((a) => a.id),
      );
      await enqueueOutbox(tx, 'incident', [
        ...write.incidents.map((i) => i.id),
        ...write.merged.map((m) => m.from),
      ]);
    });
    // Told once it is committed (withTransaction may run the transaction again).
    this.#o.onBatch?.({
      receivedAt: rows.map((r) => r.receivedAt),
      incidents: write.incidents.map((i) => i.id),
      alerts: [...write.alerts.map((a) => a.id), ...write.touched.map((t) => t.id)],
    });
  }

  /**
   * Whether this write of an alert is a re-send that changed nothing but its delivery count and
   * last-received time (most deliveries, in a steady stream of firing alerts): such an alert is
   * touched, not rewritten, and not re-indexed for search. Compares a digest of everything else
   * but the explanation with the last write's, and the explanation by identity (null in `write`:
   * the one last written); the first write of an alert in this process is always a full one.
   * `lastDigest` is the last write's (its #written entry, which this replaces).
   */
  #touchOnly(write: AlertWrite, explanation: Explanation, lastDigest: string | undefined): boolean {
    const c = write.content;
    const digest = createHash('sha1')
      .update(
        JSON.stringify([
          write.incidentId,
          write.status,
          write.severity,
          write.startsAt,
          write.endsAt,
          write.template,
          write.flapping,
          write.changes,
          write.expiredAt,
          write.pinned,
          c && [c.ci, c.title, c.description, c.source, c.service, c.labels, c.partial],
        ]),
      )
      .digest('base64');
    const same = !write.insert && c !== null && write.explanation === null && lastDigest === digest;
    this.#written.set(write.id, { digest, explanation });
    return same;
  }

  /**
   * What to seek a suspected change and a known error for: the incidents that are new or whose
   * root cause or CIs changed since they were last sought.
   */
  #suspectQueries(incidents: readonly EngineIncidentChange[]): SuspectQuery[] {
    const engine = this.#engine!;
    const queries: SuspectQuery[] = [];
    for (const incident of incidents) {
      const root = incident.rootCause[0]?.ci ?? null;
      const look = `${root}|${incident.cis.length}|${incident.template}`;
      if (incident.state === 'resolved' || this.#sought.get(incident.id) === look) continue;
      this.#sought.set(incident.id, look);
      const services = new Map<string, number>();
      for (const a of incident.alerts)
        if (a.service) services.set(a.service, (services.get(a.service) ?? 0) + 1);
      queries.push({
        key: this.#incidentIds.get(incident.id)!,
        openedAt: new Date(incident.firstAt).toISOString(),
        rootCauseCi: root,
        alertingCis: incident.cis,
        dependencyCis: engine.dependenciesOf(incident.cis),
        service: [...services.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null,
        templates: [...new Set(incident.alerts.map((a) => a.template))].slice(0, 20),
      });
    }
    return queries;
  }

  /** Seeks and links a suspected change and a known error for these incidents. */
  async #linkSuspects(tx: Queryable, queries: SuspectQuery[]): Promise<void> {
    const found = await this.#suspects.find(tx, queries);
    await linkSuspects(
      tx,
      [...found].map(([id, { change, knownError }]) => ({
        id,
        changeId: change?.changeId ?? null,
        changeReason: change?.reason ?? null,
        knownErrorId: knownError?.knownErrorId ?? null,
        workaround: knownError?.workaround ?? null,
        knownErrorReason: knownError?.reason ?? null,
      })),
    );
  }

  /** Applies people's corrections, in the order they made them, to the engine's state. */
  async #applyOverrides(): Promise<void> {
    const engine = this.#engine!;
    for (;;) {
      const overrides = await pendingOverrides(this.#o.pool, '0', 500);
      if (overrides.length === 0) return;
      for (const override of overrides) this.#applyOverride(engine, override);
      await markOverridesApplied(
        this.#o.pool,
        overrides.map((o) => o.id),
      );
      if (overrides.length < 500) return;
    }
  }

  #applyOverride(engine: CorrelationEngine, override: CorrelationOverride): void {
    const alertKeys = (ids: readonly string[]) =>
      ids.map((id) => this.#alertKeys.get(id)).filter((k): k is string => k !== undefined);
    switch (override.kind) {
      case 'merge': {
        const into = this.#incidentKeys.get(override.payload.into);
        if (into === undefined) return;
        const from = override.payload.incidentIds
          .map((id) => this.#incidentKeys.get(id))
          .filter((k): k is string => k !== undefined);
        engine.mergeIncidents(from, into);
        for (const id of override.payload.incidentIds) {
          const name = this.#incidentKeys.get(id);
          this.#incidentKeys.delete(id);
          if (name !== undefined && name !== into) this.#incidentIds.delete(name);
        }
        return;
      }
      case 'split': {
        const name = engine.splitAlerts(alertKeys(override.payload.alertIds));
        this.#link(name, override.payload.incidentId);
        return;
      }
      case 'move': {
        const to = this.#incidentKeys.get(override.payload.incidentId);
        if (to !== undefined) engine.moveAlerts(alertKeys(override.payload.alertIds), to);
        else {
          // The target is not live in the engine (resolved long ago, say): it takes the alerts
          // as a person's incident of its own.
          const name = engine.splitAlerts(alertKeys(override.payload.alertIds));
          this.#link(name, override.payload.incidentId);
        }
        return;
      }
      default: {
        const unknown: never = override;
        this.#o.log.warn({ override: unknown }, 'correlator: unknown override kind');
      }
    }
  }

  #incidentWrite(incident: EngineIncidentChange, insert: boolean): IncidentWrite {
    const root = incident.rootCause[0]?.ci ?? null;
    const title = incidentTitle(incident);
    return {
      id: this.#incidentIds.get(incident.id)!,
      insert,
      title,
      lifecycle: incident.state,
      resolvesAt: iso(incident.resolvesAt),
      resolvedAt: iso(incident.resolvedAt),
      severity: incident.severity,
      urgency: urgencyBySeverity[incident.severity],
      openedAt: new Date(incident.firstAt).toISOString(),
      lastAlertAt: new Date(incident.lastAt).toISOString(),
      alertCount: incident.alerts.length,
      cis: [...incident.cis],
      rootCause: incident.rootCause,
      rootCauseCi: root,
      template: incident.template,
      signature:
        root !== null && incident.template !== null
          ? incidentSignature(root, incident.template)
          : null,
      blastRadius: incident.cis.length,
    };
  }

  /**
   * The explanation as stored: the incidents its message names (at `refs`) by stored id, as
   * "incident <id>" (at `incidentRefs`). One restored from storage is already.
   */
  #storedExplanation(explanation: Explanation): Explanation {
    const name = (n: string) => this.#incidentIds.get(n) ?? n;
    const { refs, ...rest } = explanation;
    const stored = { ...rest, merged: explanation.merged.map(name) };
    if (refs === undefined) return stored;
    const named = renameRefs(explanation.message, refs, ENGINE_NAME, (n) => `incident ${name(n)}`);
    return { ...stored, message: named.message, incidentRefs: named.refs };
  }

  /** Forgets the id links of alerts and incidents the engine has forgotten. */
  #prune(): void {
    const engine = this.#engine!;
    if (this.#alertIds.size < 2 * engine.alertCount + 10_000) return;
    for (const [key, { id }] of this.#alertIds)
      if (!engine.hasAlert(key)) {
        this.#alertIds.delete(key);
        this.#alertKeys.delete(id);
        this.#written.delete(id);
        this.#episodes.delete(key.slice(0, key.lastIndexOf('#')));
      }
    for (const [name, id] of this.#incidentIds)
      if (!engine.hasIncident(name)) {
        this.#incidentIds.delete(name);
        this.#incidentKeys.delete(id);
        this.#sought.delete(name);
      }
  }

  /** The engine alert id of a stored alert, if the engine holds it (for people's overrides). */
  alertKey(id: string): string | undefined {
    return this.#alertKeys.get(id);
  }

  /** The engine incident of a stored incident, if the engine holds it. */
  incidentKey(id: string): string | undefined {
    return this.#incidentKeys.get(id);
  }

  /**
   * How much state this correlator holds, per kind: the engine's (none while another process
   * holds the lease) and the links between engine and stored ids. For metrics: where memory goes.
   */
  state(): Record<string, number> {
    const size = this.#engine?.size;
    return {
      incidents: size?.incidents ?? 0,
      alerts: size?.alerts ?? 0,
      firing: size?.firing ?? 0,
      templates: size?.templates ?? 0,
      ci_lookups: size?.ciLookups ?? 0,
      template_lookups: size?.templateLookups ?? 0,
      alert_links: this.#alertIds.size,
      incident_links: this.#incidentIds.size,
      episodes: this.#episodes.size,
      written: this.#written.size,
    };
  }
}

/** Reserved ids, handed out in the order they were reserved (sequence order: ascending). */
class IdBlock {
  #ids: string[] = [];
  #next = 0;

  get size(): number {
    return this.#ids.length - this.#next;
  }

  add(ids: readonly string[]): void {
    this.#ids = [...this.#ids.slice(this.#next), ...ids];
    this.#next = 0;
  }

  take(): string {
    const id = this.#ids[this.#next++];
    if (id === undefined) throw new Error('correlator: ran out of reserved ids');
    return id;
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A stored incident in the engine's terms. */
function restored(incident: StoredIncident): RestoredIncident {
  const state: LifecycleState =
    incident.state === 'resolved'
      ? 'resolved'
      : incident.state === 'closed' || incident.state === 'canceled'
        ? 'closed'
        : incident.resolvesAt !== null
          ? 'resolving'
          : 'open';
  return {
    firstAt: Date.parse(incident.openedAt),
    lastAt: Date.parse(incident.lastAlertAt),
    state,
    resolvesAt: incident.resolvesAt === null ? null : Date.parse(incident.resolvesAt),
    resolvedAt: incident.resolvedAt === null ? null : Date.parse(incident.resolvedAt),
    reopened: incident.reopenCount,
    manual:
      incident.createdBy !== 'correlator' ||
      incident.corrected ||
      incident.alerts.some((a) => a.pinned),
    alerts: incident.alerts.map((a) => ({
      id: `db:${a.id}`,
      fingerprint: a.fingerprint,
      source: a.source,
      ci: a.ci,
      service: a.service,
      title: a.title,
      description: a.description,
      severity: a.severity,
      startsAt: Date.parse(a.startsAt),
      firing: a.status === 'firing',
      // ends_at is written as the engine's own resolution time (older rows may lack it).
      resolvedAt:
        a.status === 'firing' ? null : Date.parse(a.endsAt ?? a.expiredAt ?? a.lastReceivedAt),
      // The engine's is the latest receipt or event time; the store keeps receipts only.
      lastSeenAt: Math.max(Date.parse(a.lastReceivedAt), Date.parse(a.startsAt)),
      flapping: a.flapping,
      changes: a.changes,
      expired: a.expiredAt !== null,
      pinned: a.pinned,
      deliveries: a.count,
      explanation: (a.explanation as Explanation | null) ?? null,
      template: a.template,
      recentChanges: a.recentChanges.map((t) => Date.parse(t)),
    })),
  };
}

export type { EngineAlert };
