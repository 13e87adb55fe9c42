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
});
