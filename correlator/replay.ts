/**
 * Replay: a recorded stream of alerts through the correlation engine at full speed. Because the
 * engine keeps time by the stream's own event times (never the clock) and processes deliveries in
 * the order given, a replay of what the live pipeline received, in the order it correlated it,
 * gives the incidents the live pipeline made; and the same stream always gives the same answer.
 *
 * A stream is NDJSON: one delivery per line, either a canonical alert as
 * `POST /api/v1/ingest/generic` takes it, or `{ "receivedAt": "<RFC 3339>", "alert": { … } }` as
 * `npm run export-alerts` writes it. Every line is validated; a bad one is reported with its
 * line number and nothing is replayed.
 */
import { alertInputSchema } from './alert.ts';
import type { EngineConfig } from './engine/config.ts';
import {
  createCorrelationEngine,
  type EngineCmdb,
  type EngineAlert,
  type EngineDelivery,
  type EngineIncident,
} from './engine/engine.ts';

/** A line of a stream that is not a valid delivery. */
export class StreamError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'StreamError';
  }
}

/** Parses and validates an NDJSON stream into deliveries in order. */
export function parseStream(text: string): EngineDelivery[] {
  const deliveries: EngineDelivery[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new StreamError(i + 1, `not JSON: ${(err as Error).message}`);
    }
    const wrapped =
      typeof value === 'object' && value !== null && 'alert' in value
        ? (value as { receivedAt?: unknown; alert: unknown })
        : { receivedAt: undefined, alert: value };
    const parsed = alertInputSchema.safeParse(wrapped.alert);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new StreamError(i + 1, `/${issue.path.join('/')}: ${issue.message}`);
    }
    const alert = parsed.data;
    const receivedAt =
      typeof wrapped.receivedAt === 'string' && !Number.isNaN(Date.parse(wrapped.receivedAt))
        ? wrapped.receivedAt
        : (alert.startsAt ?? alert.endsAt ?? null);
    if (receivedAt === null)
      throw new StreamError(i + 1, 'needs startsAt (or a receivedAt beside the alert)');
    deliveries.push({
      seq: deliveries.length,
      deliveredAt: receivedAt,
      alert: { ...alert, source: alert.source ?? 'generic' },
    });
  }
  return deliveries;
}

/** What a replay made of a stream. */
export type Replay = {
  /** The incident of each delivery, by its position in the stream. */
  incidentOf: string[];
  /** The alert (episode) of each delivery as it stands at the end, with why it is where it is. */
  alertOf: EngineAlert[];
  /** The incidents still live at the end (those long resolved are forgotten, as live). */
  incidents: EngineIncident[];
};

/**
 * Runs a stream through an engine over a CMDB, as the live correlator runs it (deliveries on
 * arrival, forgetting what the watermark left behind), and returns where each delivery went.
 */
export async function replay(
  cmdb: EngineCmdb,
  deliveries: readonly EngineDelivery[],
  config: Partial<EngineConfig> = {},
): Promise<Replay> {
  const engine = await createCorrelationEngine(cmdb, config, {
    recordDeliveries: true,
    evict: true,
  });
  for (const delivery of deliveries) {
    engine.push(delivery);
    // As the live correlator takes each batch's changes; the engine forgets nothing untaken.
    if (delivery.seq % 100 === 99) engine.takeChanges();
  }
  engine.flush();
  const result = engine.result();
  return {
    incidentOf: result.incidentOf.map((i) => i ?? ''),
    alertOf: result.alertOf.map((a) => a!),
    incidents: result.incidents,
  };
}
