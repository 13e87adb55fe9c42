/**
 * The correlation engine (correlator/engine) as a bench Correlator in its fast in-process mode:
 * the deliveries pushed in delivery order into one engine over the tier's CMDB, then flushed, and
 * its incidents and root causes read back in the bench's answer shape. Candidate problems come
 * from the live miner's rule (correlator/problems.ts recurringPatterns) over those incidents, so
 * this mode and the pipeline mode measure one implementation.
 */
import { type EngineConfig } from '../../correlator/engine/config.ts';
import { createCorrelationEngine, type EngineResult } from '../../correlator/engine/engine.ts';
import { problemMiningDefaults, recurringPatterns } from '../../correlator/problems.ts';
import { createTemplateIndex } from '../../correlator/similarity.ts';
import type { CiAnchor, RecurrenceIncident } from '../../services/store/problem-candidates.ts';
import type { Correlator, Prediction } from './correlator.ts';
import type { Cmdb } from './estate.ts';

/** The engine, in process, with its defaults overridden by `config`. */
export function engineInProcess(config: Partial<EngineConfig> = {}): Correlator {
  return {
    name: 'engine (in-process)',
    mode: 'in-process',
    async correlate(stream, cmdb): Promise<Prediction> {
      const engine = await createCorrelationEngine(cmdb, config);
      for (const delivery of stream) engine.push(delivery);
      engine.flush();
      const result = engine.result();
      const rootCauses = new Map<string, string[]>();
      for (const incident of result.incidents)
        rootCauses.set(
          incident.id,
          incident.rootCause.map((c) => c.ci),
        );
      return { incidents: result.incidentOf, rootCauses, problems: await mine(result, cmdb) };
    },
  };
}

/** The miner's patterns over the engine's incidents, the whole stream being the look-back. */
async function mine(result: EngineResult, cmdb: Cmdb): Promise<Map<string, string>> {
  const { incidents, classCis, anchors } = minerInput(result, cmdb);
  const problems = new Map<string, string>();
  const patterns = await recurringPatterns(
    incidents,
    await createTemplateIndex(),
    classCis,
    anchors,
    { ...problemMiningDefaults },
  );
  for (const pattern of patterns)
    for (const i of pattern.incidents)
      problems.set(i.number, pattern.scope + '|' + pattern.template);
  return problems;
}

/** What the miner reads of the engine's incidents and the CMDB, as the store would give it. */
export function minerInput(
  result: EngineResult,
  cmdb: Cmdb,
): {
  incidents: RecurrenceIncident[];
  classCis: Map<string, number>;
  anchors: Map<string, CiAnchor[]>;
} {
  const classOf = new Map(cmdb.cis.map((ci) => [ci.name, ci.class]));
  const classCis = new Map<string, number>();
  for (const ci of cmdb.cis)
    if (ci.lifecycleStatus !== 'retired') classCis.set(ci.class, (classCis.get(ci.class) ?? 0) + 1);
  const incidents: RecurrenceIncident[] = result.incidents.flatMap((incident, n) => {
    const root = incident.rootCause[0]?.ci;
    // As the store's recurrenceIncidents(): only incidents whose root-cause CI alerted itself.
    if (root === undefined || !incident.template || !incident.alerts.some((a) => a.ci === root))
      return [];
    return [
      {
        // The miner orders by a numeric id; the engine's own id rides along as the number.
        id: String(n + 1),
        number: incident.id,
        openedAt: new Date(incident.firstAt).toISOString(),
        lastAlertAt: new Date(incident.lastAt).toISOString(),
        rootCauseCi: root,
        ciClass: classOf.get(root) ?? null,
        template: incident.template,
        templates: [
          ...new Set([
            incident.template,
            ...incident.alerts.filter((a) => a.ci === root).map((a) => a.template),
          ]),
        ],
        alertCount: incident.alerts.length,
      },
    ];
  });
  return { incidents, classCis, anchors: anchorsOf(cmdb) };
}

/** As the store's ciAnchors(): each CI's CMDB neighbours and how many CIs of its class they touch. */
function anchorsOf(cmdb: Cmdb): Map<string, CiAnchor[]> {
  const live = new Map(
    cmdb.cis.filter((ci) => ci.lifecycleStatus !== 'retired').map((ci) => [ci.name, ci.class]),
  );
  const classOf = new Map(cmdb.cis.map((ci) => [ci.name, ci.class]));
  const next = new Map<string, Set<string>>();
  const link = (a: string, b: string) => next.set(a, (next.get(a) ?? new Set()).add(b));
  for (const r of cmdb.relationships) {
    link(r.source, r.target);
    link(r.target, r.source);
  }
  const anchors = new Map<string, CiAnchor[]>();
  for (const [ci, around] of next) {
    const ciClass = classOf.get(ci);
    anchors.set(
      ci,
      [...around].sort().map((anchor) => ({
        anchor,
        peers: [...next.get(anchor)!].filter((p) => live.get(p) === ciClass).length,
      })),
    );
  }
  return anchors;
}
