/**
 * The estate and storm that bench/pipeline and bench/correlator-drain both run on, so that their
 * figures are about the same stream.
 */
import { defaultEstateOptions, type Cmdb } from './correlation/estate.ts';
import { defaultStormOptions, type Tier } from './correlation/storms.ts';

/** About 9,900 CIs and 16,000 relationships: four data centres and a larger cloud region. */
export const pipelineEstateOptions = {
  ...defaultEstateOptions,
  datacenters: 4,
  racksPerDatacenter: 32,
  serversPerRack: 14,
  cloudVms: 600,
  applications: 450,
  businessServices: 40,
};

/** Two days of tier C-like storms on that estate: about 93,000 deliveries of 29,000 alerts. */
export const pipelineStormOptions = {
  ...defaultStormOptions,
  days: 2,
  faultsPerDay: 400,
  noisePerDay: 20_000,
  concurrentShare: 0.6,
  sameDatacenterShare: 0.7,
};

/** The storms above on the estate, as the generator takes them (its CMDB the estate as it is). */
export function pipelineTier(estate: Cmdb, summary: string): Tier {
  return { name: 'C', summary, estate, cmdb: estate, storm: pipelineStormOptions };
}
