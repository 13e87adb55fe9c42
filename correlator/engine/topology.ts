/**
 * The CMDB as the correlation engine sees it: an undirected graph for distance (an alert near
 * another, either way, is evidence they share a cause) that keeps the impact direction for root
 * cause (for every relationship type but `connected_to`, the source needs the target, so a
 * failure of the target impacts the source). `contains` is a composition and also reaches the
 * other way, one level: a failure of the whole itself (a bad release of an application) is on
 * its parts (wholes(), impactSize()). Very-connected hubs (a core router, a shared
 * database cluster) may be reached but are never traversed through, so that they do not put
 * every CI within a few hops of every other. Searches are bounded breadth-first searches, run
 * lazily per CI and cached.
 */

/** A CI as the engine needs it: its name and the other names alerts may call it by. */
export type TopologyCi = { name: string; attributes?: Record<string, unknown> };
/** A relationship by CI names; `type` decides whether it has an impact direction. */
export type TopologyRelationship = { source: string; target: string; type: string };

/** Bounds of the topology searches. */
export type TopologyOptions = {
  /** Hops at most between two CIs for them to count as near (undirected). */
  maxHops: number;
  /** A CI with more neighbours than this is a hub: reachable, never traversed through. */
  hubDegree: number;
  /** Hops at most along the impact direction when asking what a CI depends on. */
  dependencyDepth: number;
};

/** A CI near another: hops and the path, first CI to last. */
export type Nearby = { hops: number; path: readonly string[] };

/**
 * The CIs within maxHops of one, in the order the search found them (itself first), and the hops
 * to each: two arrays rather than a Map, a quarter of the memory (a 10,000-CI estate holds
 * millions of such entries once its CIs have alerted: 31 MB against 128 MB at 4 hops).
 */
export type Near = { readonly cis: readonly string[]; readonly hops: Uint8Array };

/**
 * near() with, for each CI in it at h hops, how many CIs lie within h hops of that CI (`rooms`)
 * and within h − 1 (`inner`, 0 at 0 hops): the room an unrelated alert has to land that close
 * to it, and the ring exactly that far, for every CI an alert's candidates can be on, read from
 * arrays rather than looked up per candidate. 16-bit counts where the estate allows (below 65,536
 * CIs): 4 bytes an entry beside Near's 9.
 */
export type Around = Near & {
  readonly rooms: Uint16Array | Uint32Array;
  readonly inner: Uint16Array | Uint32Array;
};

/** Attributes whose values alerts use as a CI's name (a host's FQDN, IP, cloud instance id). */
const aliasAttributes = ['fqdn', 'instanceId', 'ip'] as const;

/** Distance, dependency and name look-ups over one CMDB snapshot; see the module comment. */
export class Topology {
  readonly options: Readonly<TopologyOptions>;
  readonly #names = new Map<string, string>();
  /** Undirected neighbours, sorted by name so that searches do not depend on input order. */
  readonly #adjacent = new Map<string, string[]>();
  /** What each CI needs directly (impact direction), sorted by name. */
  readonly #needs = new Map<string, string[]>();
  readonly #near = new Map<string, Near>();
  readonly #around = new Map<string, Around>();
  /** neighbourhood()'s Maps, for the look-ups of diagnostics; the engine walks near(). */
  readonly #nearMaps = new Map<string, Map<string, number>>();
  /** Per CI, how many CIs lie within 0, 1, … maxHops of it (see #balls()). */
  readonly #ballSizes = new Map<string, number[]>();
  /** How many CIs the CMDB has (aliases not counted). */
  readonly size: number;
  readonly #dependencies = new Map<string, Map<string, number>>();
  /** What needs each CI directly (the impact direction reversed), sorted by name. */
  readonly #neededBy = new Map<string, string[]>();
  readonly #dependentCounts = new Map<string, number>();
  /** What each CI contains directly (`contains`: the source is the whole), sorted by name. */
  readonly #parts = new Map<string, string[]>();
  /** What contains each CI directly, sorted by name. */
  readonly #wholes = new Map<string, string[]>();
  readonly #impactSizes = new Map<string, number>();

  /** Indexes a CMDB snapshot; nothing is searched until asked. */
  constructor(
    cis: readonly TopologyCi[],
    relationships: readonly TopologyRelationship[],
    options: TopologyOptions,
  ) {
    this.options = Object.freeze({ ...options });
    this.size = new Set(cis.map((ci) => ci.name)).size;
    for (const ci of cis) {
      this.#names.set(ci.name.toLowerCase(), ci.name);
      for (const key of aliasAttributes) {
        const alias = ci.attributes?.[key];
        if (typeof alias === 'string' && !this.#names.has(alias.toLowerCase()))
          this.#names.set(alias.toLowerCase(), ci.name);
      }
    }
    const add = (map: Map<string, string[]>, from: string, to: string) => {
      const list = map.get(from);
      if (list === undefined) map.set(from, [to]);
      else if (!list.includes(to)) list.push(to);
    };
    for (const r of relationships) {
      if (r.source === r.target) continue;
      add(this.#adjacent, r.source, r.target);
      add(this.#adjacent, r.target, r.source);
      if (r.type !== 'connected_to') {
        add(this.#needs, r.source, r.target);
        add(this.#neededBy, r.target, r.source);
      }
      if (r.type === 'contains') {
        add(this.#parts, r.source, r.target);
        add(this.#wholes, r.target, r.source);
      }
    }
    for (const map of [this.#adjacent, this.#needs, this.#neededBy, this.#parts, this.#wholes])
      for (const list of map.values()) list.sort(byName);
  }

  /** The CMDB name of what an alert calls its CI (name, FQDN, IP, instance id); null if unknown. */
  resolve(ci: string | null | undefined): string | null {
    return ci ? (this.#names.get(ci.toLowerCase()) ?? null) : null;
  }

  /**
   * Whether the CMDB relates a CI to anything. One it does not know, or knows with no
   * relationship (an orphan: its edges are missing), it cannot place: its distance to any other
   * CI says nothing either way.
   */
  placed(ci: string): boolean {
    return this.#adjacent.has(ci);
  }

  /** Whether a CI is a hub: too connected to be traversed through. */
  isHub(ci: string): boolean {
    return (this.#adjacent.get(ci)?.length ?? 0) > this.options.hubDegree;
  }

  /**
   * Every CI within maxHops of one (itself at 0 hops), with the hops to it; cached. Hops only:
   * paths for every pair would be most of the engine's memory, and only the chosen candidate's
   * is ever shown (see path()).
   */
  neighbourhood(ci: string): ReadonlyMap<string, number> {
    const known = this.#nearMaps.get(ci);
    if (known) return known;
    const { cis, hops } = this.near(ci);
    const found = new Map(cis.map((x, i) => [x, hops[i]!]));
    if (this.#adjacent.has(ci)) this.#nearMaps.set(ci, found);
    return found;
  }

  /**
   * neighbourhood() as two arrays in the search's order (see Near), cached: what the engine walks
   * for every alert.
   */
  near(ci: string): Near {
    const known = this.#near.get(ci);
    if (known) return known;
    // A CI the CMDB lacks is near only itself; not cached, so unknown names cost no memory.
    if (!this.#adjacent.has(ci)) return { cis: [ci], hops: new Uint8Array(1) };
    const found = this.#search(ci, null).hops;
    const near = { cis: [...found.keys()], hops: Uint8Array.from(found.values()) };
    this.#near.set(ci, near);
    return near;
  }

  /** near() with the room around each of its CIs (see Around), cached as near() is. */
  around(ci: string): Around {
    const known = this.#around.get(ci);
    if (known) return known;
    const { cis, hops } = this.near(ci);
    // A ball holds at most every CI the CMDB relates (or lists).
    const Counts = Math.max(this.size, this.#adjacent.size) < 2 ** 16 ? Uint16Array : Uint32Array;
    const rooms = new Counts(cis.length);
    const inner = new Counts(cis.length);
    for (let i = 0; i < cis.length; i++) {
      const balls = this.#balls(cis[i]!);
      const h = hops[i]!;
      rooms[i] = balls[h]!;
      inner[i] = h > 0 ? balls[h - 1]! : 0;
    }
    const around = { cis, hops, rooms, inner };
    if (this.#adjacent.has(ci)) this.#around.set(ci, around);
    return around;
  }

  /**
   * How many CIs lie within 0, 1, … maxHops of one (itself included), on neighbourhood()'s
   * search: entry h is the room an unrelated alert has to land within h hops of it by chance.
   * Cached per CI.
   */
  #balls(ci: string): readonly number[] {
    let sizes = this.#ballSizes.get(ci);
    if (sizes === undefined) {
      sizes = new Array<number>(this.options.maxHops + 1).fill(0);
      // From the cached neighbourhood when there is one, else counted by a search that keeps
      // nothing: around() counts the balls of every CI near an alert's, most of which never
      // alert themselves.
      const known = this.#near.get(ci);
      if (known !== undefined) for (const h of known.hops) sizes[h] = sizes[h]! + 1;
      else this.#countRings(ci, sizes);
      for (let h = 1; h < sizes.length; h++) sizes[h] = sizes[h]! + sizes[h - 1]!;
      // Unknown CIs are near only themselves: not cached, as in neighbourhood().
      if (this.#adjacent.has(ci)) this.#ballSizes.set(ci, sizes);
    }
    return sizes;
  }

  /**
   * How many CIs lie exactly 0, 1, … maxHops from one, into `rings`: #search()'s walk (the same
   * hubs passed through) without its maps of hops and parents.
   */
  #countRings(ci: string, rings: number[]): void {
    rings[0] = 1;
    const seen = new Set<string>([ci]);
    let frontier = [ci];
    for (let h = 1; h <= this.options.maxHops && frontier.length > 0; h++) {
      const next: string[] = [];
      for (const x of frontier) {
        const adjacent = this.#adjacent.get(x);
        if (adjacent === undefined || (x !== ci && adjacent.length > this.options.hubDegree))
          continue;
        for (const y of adjacent)
          if (!seen.has(y)) {
            seen.add(y);
            next.push(y);
          }
      }
      rings[h] = next.length;
      frontier = next;
    }
  }

  /**
   * The shortest path from one CI to another that neighbourhood() finds (the same search, so the
   * same path every time), first CI to last; null when not within maxHops.
   */
  path(from: string, to: string): string[] | null {
    if (from === to) return [from];
    if (!this.#adjacent.has(from)) return null;
    const { parent } = this.#search(from, to);
    if (!parent.has(to)) return null;
    const path = [to];
    for (let x = to; x !== from;) {
      x = parent.get(x)!;
      path.push(x);
    }
    return path.reverse();
  }

  /**
   * Breadth-first from a CI within maxHops, neighbours in name order, hubs reached but not
   * crossed (the start may be a hub: its own alerts still find their neighbours); stops once
   * `stopAt` is found.
   */
  #search(
    ci: string,
    stopAt: string | null,
  ): { hops: Map<string, number>; parent: Map<string, string> } {
    const hops = new Map<string, number>([[ci, 0]]);
    const parent = new Map<string, string>();
    let frontier = [ci];
    for (let h = 1; h <= this.options.maxHops && frontier.length > 0; h++) {
      const next: string[] = [];
      for (const x of frontier) {
        if (x !== ci && this.isHub(x)) continue;
        for (const y of this.#adjacent.get(x) ?? [])
          if (!hops.has(y)) {
            hops.set(y, h);
            parent.set(y, x);
            if (y === stopAt) return { hops, parent };
            next.push(y);
          }
      }
      frontier = next;
    }
    return { hops, parent };
  }

  /** How far two CIs are (undirected, bounded, hubs not crossed); null when not within maxHops. */
  distance(a: string, b: string): Nearby | null {
    const hops = this.neighbourhood(a).get(b);
    return hops === undefined ? null : { hops, path: this.path(a, b)! };
  }

  /**
   * What a CI depends on, in the impact direction, within dependencyDepth hops (hubs reached but
   * not crossed), with the hops to each; the CI itself is not included. Cached.
   */
  dependencies(ci: string): ReadonlyMap<string, number> {
    const known = this.#dependencies.get(ci);
    if (known) return known;
    const found = this.#reach(ci, this.#needs);
    this.#dependencies.set(ci, found);
    return found;
  }

  /**
   * How many CIs depend on one within dependencyDepth: those whose dependencies() include it (the
   * same search reversed, hubs other than the CI itself not crossed). What a failure of the CI
   * could reach. Cached as a count: only the size is asked for.
   */
  dependentCount(ci: string): number {
    const known = this.#dependentCounts.get(ci);
    if (known !== undefined) return known;
    const count = this.#reach(ci, this.#neededBy).size;
    this.#dependentCounts.set(ci, count);
    return count;
  }

  /** The CIs one contains directly (the targets of its `contains` relationships), by name. */
  parts(ci: string): readonly string[] {
    return this.#parts.get(ci) ?? [];
  }

  /**
   * The CIs that contain one directly (the sources of its `contains` relationships), by name: a
   * failure of such a whole itself reaches this part.
   */
  wholes(ci: string): readonly string[] {
    return this.#wholes.get(ci) ?? [];
  }

  /**
   * How many CIs a failure of one could make alert when its own failure also reaches its parts:
   * itself, its dependents (as dependentCount()) and the CIs it contains directly, each once.
   * Cached.
   */
  impactSize(ci: string): number {
    const known = this.#impactSizes.get(ci);
    if (known !== undefined) return known;
    const dependents = this.#reach(ci, this.#neededBy);
    let size = 1 + dependents.size;
    for (const part of this.#parts.get(ci) ?? []) if (!dependents.has(part)) size++;
    this.#impactSizes.set(ci, size);
    return size;
  }

  /**
   * The CIs reached from one along these edges within dependencyDepth hops, with the hops to
   * each; a hub other than the start is reached but not crossed; the start is not included.
   */
  #reach(ci: string, edges: ReadonlyMap<string, readonly string[]>): Map<string, number> {
    const found = new Map<string, number>();
    if (!edges.has(ci)) return found;
    let frontier = [ci];
    for (let hops = 1; hops <= this.options.dependencyDepth && frontier.length > 0; hops++) {
      const next: string[] = [];
      for (const x of frontier) {
        if (x !== ci && this.isHub(x)) continue;
        for (const y of edges.get(x) ?? [])
          if (y !== ci && !found.has(y)) {
            found.set(y, hops);
            next.push(y);
          }
      }
      frontier = next;
    }
    return found;
  }
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
