/**
 * The command-line settings that `run.ts`, `write-storm.ts` and the diagnostics share: which
 * estate and which storms to generate. Every default gives the stream the bench reports on.
 */
import type { EngineConfig } from '../../correlator/engine/config.ts';
import { defaultEstateOptions } from './estate.ts';
import { createTiers, defaultStormOptions, type Tier } from './storms.ts';

/** The `parseArgs` options that describe the estate and the storms. */
export const stormArgs = {
  'estate-seed': { type: 'string', default: String(defaultEstateOptions.seed) },
  seed: { type: 'string', default: String(defaultStormOptions.seed) },
  days: { type: 'string', default: String(defaultStormOptions.days) },
  'faults-per-day': { type: 'string', default: String(defaultStormOptions.faultsPerDay) },
  'noise-per-day': { type: 'string', default: String(defaultStormOptions.noisePerDay) },
  'recurring-problems': { type: 'string', default: String(defaultStormOptions.recurringProblems) },
  applications: { type: 'string', default: String(defaultEstateOptions.applications) },
} as const;

/** Parsed values of `stormArgs`. */
export type StormArgs = { [K in keyof typeof stormArgs]: string };

/** A number from the command line, or an error naming the flag. */
function positive(args: StormArgs, flag: keyof StormArgs): number {
  const n = Number(args[flag]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a number ≥ 0`);
  return n;
}

/** The tiers the flags describe, restricted to the names given. */
export function tiersFromArgs(args: StormArgs, names: readonly string[]): Tier[] {
  const wanted = new Set(names.map((n) => n.trim().toUpperCase()));
  for (const n of wanted)
    if (!['A', 'B', 'C'].includes(n)) throw new Error(`unknown tier ${n} (A, B or C)`);
  const tiers = createTiers(
    {
      ...defaultEstateOptions,
      seed: positive(args, 'estate-seed'),
      applications: positive(args, 'applications'),
    },
    {
      seed: positive(args, 'seed'),
      days: positive(args, 'days'),
      faultsPerDay: positive(args, 'faults-per-day'),
      noisePerDay: positive(args, 'noise-per-day'),
      recurringProblems: positive(args, 'recurring-problems'),
    },
  );
  return tiers.filter((t) => wanted.has(t.name));
}

/**
 * The `parseArgs` options of a diagnostic: the storms', the tiers it runs by default, the seeds
 * (comma-separated; `--seed` when absent) and engine settings as JSON.
 */
export function diagnosticArgs(tiers: string) {
  return {
    ...stormArgs,
    tiers: { type: 'string', default: tiers },
    seeds: { type: 'string' },
    'engine-config': { type: 'string', default: '{}' },
  } as const;
}

/** Parsed values of `diagnosticArgs`. */
export type DiagnosticArgs = StormArgs & { tiers: string; seeds?: string; 'engine-config': string };

/** The engine settings a diagnostic was given. */
export function engineConfigOf(args: DiagnosticArgs): Partial<EngineConfig> {
  return JSON.parse(args['engine-config']) as Partial<EngineConfig>;
}

/** The seeds a diagnostic runs. */
export function seedsOf(args: DiagnosticArgs): string[] {
  return (args.seeds ?? args.seed).split(',').map((s) => s.trim());
}

/** Every tier a diagnostic runs, seed by seed. */
export function* runsOf(args: DiagnosticArgs): Generator<{ seed: string; tier: Tier }> {
  for (const seed of seedsOf(args))
    for (const tier of tiersFromArgs({ ...args, seed }, args.tiers.split(',')))
      yield { seed, tier };
}
