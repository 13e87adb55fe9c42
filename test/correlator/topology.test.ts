import { describe, expect, it } from 'vitest';
import {
  defaultEstateOptions,
  degradeCmdb,
  generateEstate,
} from '../../bench/correlation/estate.ts';
import { defaultEngineConfig } from '../../correlator/engine/config.ts';
import { Topology } from '../../correlator/engine/topology.ts';

describe('the topology', () => {
  it("counts as a CI's dependents exactly the CIs whose dependencies include it, hubs and all", () => {
    const estate = generateEstate(defaultEstateOptions);
    // A degraded copy too: spurious edges may close cycles the real estate has none of.
    for (const cmdb of [estate, degradeCmdb(estate)]) {
      const topology = new Topology(cmdb.cis, cmdb.relationships, {
        maxHops: defaultEngineConfig.maxHops,
        hubDegree: defaultEngineConfig.hubDegree,
        dependencyDepth: defaultEngineConfig.dependencyDepth,
      });
      const counts = new Map<string, number>();
      for (const ci of cmdb.cis)
        for (const dependency of topology.dependencies(ci.name).keys())
          counts.set(dependency, (counts.get(dependency) ?? 0) + 1);
      const hubs = cmdb.cis.filter((ci) => topology.isHub(ci.name));
      expect(hubs.length).toBeGreaterThan(0);
      expect(Math.max(...hubs.map((ci) => topology.dependentCount(ci.name)))).toBeGreaterThan(100);
      for (const ci of cmdb.cis)
        expect([ci.name, topology.dependentCount(ci.name)]).toEqual([
          ci.name,
          counts.get(ci.name) ?? 0,
        ]);
    }
  });

  it("counts a whole's parts in its impact set once, one level down, and names its wholes", () => {
    const topology = new Topology(
      ['app', 'i-1', 'i-2', 'db', 'cluster'].map((name) => ({ name })),
      [
        { source: 'app', target: 'i-1', type: 'contains' },
        { source: 'app', target: 'i-2', type: 'contains' },
        { source: 'i-1', target: 'db', type: 'uses' },
        // A part that also depends on its whole is counted once.
        { source: 'i-2', target: 'app', type: 'depends_on' },
        { source: 'cluster', target: 'app', type: 'contains' },
      ],
      { maxHops: 3, hubDegree: 50, dependencyDepth: 8 },
    );
    expect(topology.wholes('i-1')).toEqual(['app']);
    expect(topology.parts('app')).toEqual(['i-1', 'i-2']);
    expect(topology.parts('i-1')).toEqual([]);
    // app: itself, i-2 (a dependent and a part), i-1 (a part), cluster (a dependent).
    expect(topology.dependentCount('app')).toBe(2);
    expect(topology.impactSize('app')).toBe(4);
    // cluster contains app, not app's parts.
    expect(topology.impactSize('cluster')).toBe(2);
    // db (no parts): i-1 uses it, app contains i-1, cluster contains app, i-2 depends on app.
    expect(topology.impactSize('db')).toBe(topology.dependentCount('db') + 1);
    expect(topology.dependentCount('db')).toBe(4);
  });
});
