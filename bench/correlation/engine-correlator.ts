/**
 * The correlation engine (correlator/engine) as a bench Correlator in its fast in-process mode:
 * the deliveries pushed in delivery order into one engine over the tier's CMDB, then flushed, and
 * its incidents, root causes and candidate problems read back in the bench's answer shape.
 */
import { type EngineConfig } from '../../correlator/engine/config.ts';
import { createCorrelationEngine } from '../../correlator/engine/engine.ts';
import type { Correlator, Prediction } from './correlator.ts';

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
      const problems = new Map<string, string>();
      for (const incident of result.incidents) {
        rootCauses.set(
          incident.id,
          incident.rootCause.map((c) => c.ci),
        );
        if (incident.problem !== null) problems.set(incident.id, incident.problem);
      }
      return { incidents: result.incidentOf, rootCauses, problems };
    },
  };
}
