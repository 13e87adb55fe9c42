import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus metrics of one process; each process serves its own at /metrics. */
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Creates the registry and Tocsin's metrics. `queueDepth`, `correlatorState` and
 * `bodyBytesInFlight` are read at scrape time through the given callbacks, so a scrape always
 * shows the current figures.
 */
export function createMetrics(
  queueDepth?: () => Promise<Record<string, number>>,
  correlatorState?: () => Record<string, number>,
  bodyBytesInFlight?: () => number,
) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tocsin_' });
  return {
    registry,
    heapLive: heapLiveGauge(registry),
    correlatorState: new Gauge({
      name: 'tocsin_correlator_state',
      help: 'What the live correlator holds in memory, per kind (alerts, incidents, lookups, id links)',
      labelNames: ['kind'] as const,
      registers: [registry],
      collect() {
        if (!correlatorState) return;
        for (const [kind, n] of Object.entries(correlatorState())) this.set({ kind }, n);
      },
    }),
    bodyBytesInFlight: new Gauge({
      name: 'tocsin_body_bytes_in_flight',
      help: 'Bytes of request bodies being read or answered (ingest: until stored), as counted against TOCSIN_MAX_BODY_BYTES_IN_FLIGHT',
      registers: [registry],
      collect() {
        if (bodyBytesInFlight) this.set(bodyBytesInFlight());
      },
    }),
    ingestRequests: new Counter({
      name: 'tocsin_ingest_requests_total',
      help: 'Webhook deliveries received, per source and HTTP status (4xx/5xx are rejections)',
      labelNames: ['source', 'status'] as const,
      registers: [registry],
    }),
    alertsAccepted: new Counter({
      name: 'tocsin_alerts_accepted_total',
      help: 'Alerts accepted (durable in PostgreSQL) by ingest, per source',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    ingestCommitDeliveries: new Histogram({
      name: 'tocsin_ingest_commit_deliveries',
      help: 'Deliveries written by one group commit of ingest (one statement, one commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
      registers: [registry],
    }),
    alertsCorrelated: new Counter({
      name: 'tocsin_alerts_correlated_total',
      help: 'Accepted alerts correlated into incidents',
      registers: [registry],
    }),
    correlationLatency: new Histogram({
      name: 'tocsin_correlation_latency_seconds',
      help: 'Time from acceptance (202) to the alert being correlated into an incident',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'tocsin_job_duration_seconds',
      help: 'Time a queue job took in this process, per job (alert.correlate, problem.mine, sla.check, ...) and outcome (completed, failed)',
      labelNames: ['job', 'outcome'] as const,
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'tocsin_queue_depth',
      help: 'Jobs waiting, delayed or running, per queue',
      labelNames: ['queue'] as const,
      registers: [registry],
      async collect() {
        if (!queueDepth) return;
        try {
          for (const [queue, n] of Object.entries(await queueDepth())) this.set({ queue }, n);
        } catch {
          // Redis down: the gauge keeps its last value; /readyz reports the outage.
        }
      },
    }),
  };
}

/**
 * The V8 heap in use just after the last full (mark-compact) collection: what the process
 * holds, without the garbage a scrape of the heap in use also counts (that one saw-tooths with
 * every collection). Read in the collection's observer, which runs shortly after it, so what was
 * allocated in between is counted too. 0 until the first full collection. One observer per
 * process, whatever the number of registries.
 */
let heapLive: { bytes: number } | null = null;

function heapLiveGauge(registry: Registry): Gauge {
  if (heapLive === null) {
    const live = { bytes: 0 };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
        if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
          live.bytes = getHeapStatistics().used_heap_size;
      }
    }).observe({ entryTypes: ['gc'] });
    heapLive = live;
  }
  const live = heapLive;
  return new Gauge({
    name: 'tocsin_nodejs_heap_live_bytes',
    help: 'V8 heap in use just after the last full garbage collection',
    registers: [registry],
    collect() {
      this.set(live.bytes);
    },
  });
}
