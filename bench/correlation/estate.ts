/**
 * The estate of bench/correlation: a deterministic CMDB of a mid-size company, in the import shape
 * of `POST /api/v1/cmdb/import`, and the degraded copy of it that tier B's engine sees.
 *
 * Two on-premises data centres (core routers, firewalls, load balancers, fibre-channel switches,
 * SAN arrays, one top-of-rack switch per rack; servers that are hypervisors, database hosts,
 * bare-metal application hosts or infrastructure boxes; VMs on the hypervisors; a Kubernetes
 * cluster and a Kafka cluster each) and one cloud region (EC2 instances, ALBs, RDS databases).
 * On top: applications in three layers (front ends, APIs, back ends) made of instances that run
 * on VMs, Kubernetes nodes, bare metal or EC2, with their own databases, replicas, caches and
 * queues; a few very-connected hubs (the core routers, a shared PostgreSQL cluster, a shared Redis,
 * the Kafka clusters, SSO); technical and business services on top of the applications.
 *
 * Relationship directions follow the CMDB's rule: for every type but `connected_to` the source
 * needs the target, so a failure of the target impacts the source. The needs-graph is acyclic.
 */
import type { CiInput, RelationshipInput, RelationshipType } from '../../services/store/cmdb.ts';
import { createRandom, type Random } from '../random.ts';

/** A CMDB in the import shape of `POST /api/v1/cmdb/import`. */
export type Cmdb = { cis: CiInput[]; relationships: RelationshipInput[] };

/** The size of the estate; every count is per data centre unless it says otherwise. */
export type EstateOptions = {
  seed: number;
  /** On-premises data centres (at most 4). */
  datacenters: number;
  racksPerDatacenter: number;
  serversPerRack: number;
  /** Average VMs per hypervisor, counting the idle ones. */
  vmsPerHypervisor: number;
  /** EC2 instances of the cloud region, counting the idle ones (in all). */
  cloudVms: number;
  /** Applications in all. */
  applications: number;
  /** Business services in all. */
  businessServices: number;
};

/** About 2,400 CIs and 4,700 relationships. */
export const defaultEstateOptions: EstateOptions = {
  seed: 1,
  datacenters: 2,
  racksPerDatacenter: 18,
  serversPerRack: 12,
  vmsPerHypervisor: 6,
  cloudVms: 110,
  applications: 90,
  businessServices: 24,
};

const DATACENTERS = ['fra1', 'ams1', 'lon1', 'par1'];
const CLOUD = 'euw1';
const DOMAIN = 'corp.example.net';

const DOMAINS = [
  'checkout',
  'payments',
  'ledger',
  'orders',
  'inventory',
  'catalog',
  'search',
  'pricing',
  'shipping',
  'billing',
  'invoicing',
  'crm',
  'loyalty',
  'notifications',
  'accounts',
  'reporting',
  'analytics',
  'recommendations',
  'cart',
  'fraud',
  'kyc',
  'statements',
  'payroll',
  'timesheets',
  'ticketing',
  'email',
  'sms',
  'documents',
  'media',
  'geo',
  'tax',
  'fx-rates',
  'settlement',
  'clearing',
  'reconciliation',
  'audit',
  'onboarding',
  'support',
  'chat',
  'feature-flags',
  'scheduler',
  'etl',
  'partner',
  'warehouse',
  'returns',
  'subscriptions',
  'quotes',
  'claims',
  'policy',
  'underwriting',
  'pdf-render',
  'mobile',
  'consent',
  'vouchers',
  'delivery-slots',
];

const LAYER_KINDS = [
  ['web', 'portal', 'bff'],
  ['api', 'svc', 'gateway'],
  ['worker', 'engine', 'core'],
];

const BUSINESS_SERVICES = [
  'online-checkout',
  'payments',
  'customer-login',
  'order-tracking',
  'product-search',
  'mobile-banking',
  'partner-integration',
  'payroll',
  'customer-support',
  'email-notifications',
  'invoicing',
  'management-reporting',
  'loyalty-program',
  'returns-handling',
  'subscriptions',
  'claims-handling',
  'quotes',
  'customer-onboarding',
  'fraud-screening',
  'account-statements',
  'warehouse-operations',
  'shipping',
  'pricing',
  'product-catalog',
  'b2b-ordering',
  'hr-self-service',
  'data-platform',
  'marketing-campaigns',
  'store-locator',
  'gift-cards',
];

type Layer = 0 | 1 | 2;
type Hosting = 'vm' | 'k8s' | 'metal' | 'cloud';
type ServerRole = 'hypervisor' | 'db' | 'app' | 'infra';

const SERVER_PREFIX: Record<ServerRole, string> = {
  hypervisor: 'esx',
  db: 'dbh',
  app: 'aph',
  infra: 'inf',
};

/** What the builder remembers of one data centre while it places things in it. */
type Site = {
  name: string;
  index: number;
  cloud: boolean;
  hypervisors: string[];
  dbHosts: string[];
  appHosts: string[];
  k8sNodes: string[];
  loadBalancers: string[];
  kafka: string | null;
  vmCount: number;
  ipCount: number;
};

/** Generates the estate: the same options always give the same CMDB, in the same order. */
export function generateEstate(options: EstateOptions = defaultEstateOptions): Cmdb {
  if (options.datacenters < 1 || options.racksPerDatacenter < 1 || options.serversPerRack < 3)
    throw new Error('estate: at least one data centre, one rack and three servers per rack');
  const r = createRandom(options.seed, 1);
  const cis: CiInput[] = [];
  const relationships: RelationshipInput[] = [];
  const names = new Set<string>();

  const ci = (name: string, cls: string, attributes: Record<string, unknown>, extra = {}) => {
    if (names.has(name)) throw new Error(`estate: duplicate CI ${name}`);
    names.add(name);
    cis.push({ name, class: cls, environment: 'production', attributes, ...extra });
    return name;
  };
  const needs = (source: string, type: RelationshipType, target: string) => {
    relationships.push({ source, target, type });
  };
  const ipOf = (site: Site) => {
    const n = 10 + site.ipCount++;
    const second = site.cloud ? 200 : site.index * 16 + ((n >> 16) & 15);
    return `10.${second}.${(n >> 8) & 255}.${n & 255}`;
  };
  const host = (site: Site, name: string, cls: string, attributes: Record<string, unknown>) =>
    ci(
      name,
      cls,
      { dc: site.name, ip: ipOf(site), fqdn: `${name}.${site.name}.${DOMAIN}`, ...attributes },
      { supportGroup: cls === 'server' ? 'datacenter-ops' : 'linux-ops', criticality: 3 },
    );

  const sites: Site[] = [];
  const datacenters = Math.min(options.datacenters, DATACENTERS.length);
  for (let d = 0; d < datacenters; d++) sites.push(buildDatacenter(d));
  const cloud = buildCloud();
  sites.push(cloud);

  function newSite(name: string, index: number, isCloud: boolean): Site {
    return {
      name,
      index,
      cloud: isCloud,
      hypervisors: [],
      dbHosts: [],
      appHosts: [],
      k8sNodes: [],
      loadBalancers: [],
      kafka: null,
      vmCount: 0,
      ipCount: 0,
    };
  }

  function buildDatacenter(d: number): Site {
    const site = newSite(DATACENTERS[d]!, d, false);
    const dc = site.name;
    const net = (name: string, cls: string, attributes: Record<string, unknown>) =>
      ci(
        name,
        cls,
        { dc, ip: ipOf(site), fqdn: `${name}.${dc}.${DOMAIN}`, ...attributes },
        { supportGroup: 'network-ops', criticality: 1 },
      );
    const core = [1, 2].map((i) =>
      net(`core-rtr-${dc}-0${i}`, 'router', { vendor: 'Juniper', model: 'MX480', role: 'core' }),
    );
    needs(core[0]!, 'connected_to', core[1]!);
    const firewalls = [1, 2].map((i) =>
      net(`fw-${dc}-0${i}`, 'firewall', { vendor: 'Palo Alto', model: 'PA-5220', ha: 'pair' }),
    );
    needs(firewalls[0]!, 'connected_to', firewalls[1]!);
    for (const fw of firewalls) for (const rtr of core) needs(fw, 'depends_on', rtr);
    for (let i = 1; i <= 4; i++) {
      const lb = net(`lb-${dc}-0${i}`, 'load_balancer', { vendor: 'F5', model: 'BIG-IP i7800' });
      for (const fw of firewalls) needs(lb, 'depends_on', fw);
      site.loadBalancers.push(lb);
    }
    const fabric = [1, 2].map((i) =>
      net(`fc-sw-${dc}-0${i}`, 'switch', { vendor: 'Brocade', model: 'G720', role: 'san-fabric' }),
    );
    const arrays = [1, 2].map((i) => {
      const array = ci(
        `san-${dc}-0${i}`,
        'storage',
        { dc, vendor: 'NetApp', model: 'AFF A400', capacityTb: 180 + 20 * i },
        { supportGroup: 'storage-ops', criticality: 1 },
      );
      for (const sw of fabric) needs(array, 'depends_on', sw);
      return array;
    });

    for (let rack = 1; rack <= options.racksPerDatacenter; rack++) {
      const rr = String(rack).padStart(2, '0');
      const tor = net(`tor-sw-${dc}-r${rr}`, 'switch', {
        vendor: 'Arista',
        model: '7050X3',
        role: 'top-of-rack',
        rack: `r${rr}`,
      });
      for (const rtr of core) needs(tor, 'depends_on', rtr);
      for (let s = 1; s <= options.serversPerRack; s++) {
        const role = r.pick<ServerRole>([
          'hypervisor',
          'hypervisor',
          'hypervisor',
          'hypervisor',
          'db',
          'db',
          'app',
          'app',
          'infra',
        ]);
        const name = `${SERVER_PREFIX[role]}-${dc}-r${rr}-${String(s).padStart(2, '0')}`;
        host(site, name, 'server', {
          rack: `r${rr}`,
          role,
          vendor: r.pick(['Dell', 'HPE', 'Lenovo']),
          os: role === 'hypervisor' ? 'VMware ESXi 8.0' : r.pick(['RHEL 9.4', 'Ubuntu 22.04']),
        });
        needs(name, 'depends_on', tor);
        if (role === 'hypervisor') {
          needs(name, 'uses', arrays[s % arrays.length]!);
          site.hypervisors.push(name);
        } else if (role === 'db') site.dbHosts.push(name);
        else if (role === 'app') site.appHosts.push(name);
      }
    }
    if (site.hypervisors.length === 0) throw new Error(`estate: no hypervisor in ${dc}`);

    const cluster = ci(
      `k8s-${dc}`,
      'cluster',
      { dc, kind: 'kubernetes', version: '1.30' },
      { supportGroup: 'platform-eng', criticality: 1 },
    );
    for (let i = 1; i <= 3; i++) needs(cluster, 'hosted_on', vm(site, 'k8s-control-plane'));
    for (let i = 1; i <= 8; i++) {
      const node = vm(site, 'k8s-node');
      needs(node, 'member_of', cluster);
      site.k8sNodes.push(node);
    }
    site.kafka = ci(
      `kafka-${dc}`,
      'cluster',
      { dc, kind: 'kafka', version: '3.7' },
      { supportGroup: 'platform-eng', criticality: 1 },
    );
    for (let i = 1; i <= 3; i++) {
      const broker = ci(`kafka-${dc}-b${i}`, 'queue', { dc, engine: 'kafka', port: 9092 });
      needs(broker, 'runs_on', r.pick(site.dbHosts.length > 0 ? site.dbHosts : site.hypervisors));
      needs(site.kafka, 'contains', broker);
    }
    return site;
  }

  function buildCloud(): Site {
    const site = newSite(CLOUD, datacenters, true);
    for (let i = 1; i <= 2; i++) {
      site.loadBalancers.push(
        ci(
          `alb-${CLOUD}-0${i}`,
          'load_balancer',
          { dc: CLOUD, provider: 'aws', region: 'eu-west-1', kind: 'application' },
          { supportGroup: 'cloud-ops', criticality: 2 },
        ),
      );
    }
    return site;
  }

  /** A new VM on a hypervisor of the site (or an EC2 instance in the cloud region). */
  function vm(site: Site, role: string): string {
    const n = ++site.vmCount;
    if (site.cloud) {
      const name = `ec2-${CLOUD}-${String(n).padStart(4, '0')}`;
      const instanceId = `i-0${hex(r, 16)}`;
      return host(site, name, 'virtual_machine', {
        role,
        provider: 'aws',
        region: 'eu-west-1',
        az: r.pick(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']),
        instanceId,
      });
    }
    const name = `vm-${site.name}-${String(n).padStart(4, '0')}`;
    host(site, name, 'virtual_machine', { role, os: r.pick(['RHEL 9.4', 'Ubuntu 22.04']) });
    needs(name, 'hosted_on', r.pick(site.hypervisors));
    return name;
  }

  // Data stores that several applications share: the hubs of the estate.
  const home = sites[0]!;
  const sharedDb = ci(
    'pg-shared-01',
    'database',
    { dc: home.name, engine: 'postgresql', version: '16', port: 5432, role: 'primary' },
    { supportGroup: 'dba-team', criticality: 1 },
  );
  const dbHost = () => (home.dbHosts.length > 0 ? r.pick(home.dbHosts) : vm(home, 'db'));
  needs(sharedDb, 'runs_on', dbHost());
  for (const i of [2, 3]) {
    const replica = ci(
      `pg-shared-0${i}`,
      'database',
      { dc: home.name, engine: 'postgresql', version: '16', port: 5432, role: 'replica' },
      { supportGroup: 'dba-team', criticality: 2 },
    );
    needs(replica, 'runs_on', dbHost());
    needs(replica, 'depends_on', sharedDb);
  }
  const sharedCache = ci(
    'redis-shared',
    'cache',
    { dc: home.name, engine: 'redis', version: '7.2', port: 6379, mode: 'cluster' },
    { supportGroup: 'platform-eng', criticality: 1 },
  );
  for (let i = 1; i <= 3; i++) needs(sharedCache, 'runs_on', vm(home, 'redis'));

  // Applications: front ends call APIs, APIs call back ends; an application only depends on
  // applications later in the list, so the graph stays acyclic.
  type App = { name: string; layer: Layer; site: Site; hosting: Hosting; instances: string[] };
  const apps: App[] = [];
  const used = new Set<string>();
  const domains = shuffle(r, DOMAINS);
  for (let i = 0; i < options.applications; i++) {
    const layer: Layer =
      i < options.applications * 0.25 ? 0 : i < options.applications * 0.6 ? 1 : 2;
    let name = i === Math.ceil(options.applications * 0.25) ? 'identity-api' : '';
    for (let k = 0; !name || used.has(name); k++) {
      const domain = domains[(i + k) % domains.length]!;
      const suffix = k >= domains.length ? `-${Math.floor(k / domains.length) + 1}` : '';
      name = `${domain}-${r.pick(LAYER_KINDS[layer]!)}${suffix}`;
    }
    used.add(name);
    const site = r.chance(0.15) ? cloud : r.pick(sites.slice(0, -1));
    const hosting: Hosting = site.cloud
      ? 'cloud'
      : r.pick<Hosting>(layer === 2 ? ['vm', 'vm', 'metal', 'k8s'] : ['vm', 'k8s', 'k8s', 'vm']);
    apps.push({ name, layer, site, hosting, instances: [] });
  }
  apps.sort((a, b) => a.layer - b.layer);

  for (const [index, app] of apps.entries()) {
    const team = `team-${app.name.split('-')[0]}`;
    const { site } = app;
    ci(
      app.name,
      'application',
      {
        dc: site.name,
        layer: ['frontend', 'api', 'backend'][app.layer],
        language: r.pick(['java', 'go', 'node', 'python', 'dotnet']),
      },
      { supportGroup: team, criticality: app.layer === 0 ? 2 : 3 },
    );
    const count = 2 + r.int(app.layer === 0 ? 6 : 4);
    const version = `${1 + r.int(5)}.${r.int(20)}.${r.int(10)}`;
    for (let i = 1; i <= count; i++) {
      const instance = ci(
        `${app.name}-${String(i).padStart(2, '0')}`,
        'app_instance',
        { dc: site.name, application: app.name, version, port: 8080 + r.int(4) * 10 },
        { supportGroup: team },
      );
      needs(app.name, 'contains', instance);
      app.instances.push(instance);
      const runsOn =
        app.hosting === 'k8s'
          ? r.pick(site.k8sNodes)
          : app.hosting === 'metal' && site.appHosts.length > 0
            ? r.pick(site.appHosts)
            : vm(site, 'app');
      needs(instance, 'runs_on', runsOn);
    }
    if (app.layer < 2) needs(app.name, 'depends_on', r.pick(site.loadBalancers));

    // Its own data: a database (with a replica sometimes), a cache, a queue.
    const stores: string[] = [];
    const replicas: string[] = [];
    if (r.chance(app.layer === 0 ? 0.3 : 0.75)) {
      const engine = site.cloud
        ? 'aurora-postgresql'
        : r.pick(['postgresql', 'postgresql', 'mysql', 'mongodb']);
      const prefix = {
        postgresql: 'pg',
        mysql: 'mysql',
        mongodb: 'mongo',
        'aurora-postgresql': 'rds',
      }[engine]!;
      const port = { postgresql: 5432, mysql: 3306, mongodb: 27017, 'aurora-postgresql': 5432 }[
        engine
      ]!;
      const db = (i: number, role: string) => {
        const name = ci(
          `${prefix}-${app.name}-0${i}`,
          'database',
          { dc: site.name, engine, port, role, application: app.name },
          { supportGroup: 'dba-team', criticality: 2 },
        );
        if (!site.cloud)
          needs(
            name,
            'runs_on',
            site.dbHosts.length > 0 && r.chance(0.7) ? r.pick(site.dbHosts) : vm(site, 'db'),
          );
        return name;
      };
      const primary = db(1, 'primary');
      stores.push(primary);
      if (r.chance(0.5)) {
        const replica = db(2, 'replica');
        needs(replica, 'depends_on', primary);
        replicas.push(replica);
      }
    }
    if (!site.cloud && r.chance(0.22)) {
      const cache = ci(
        `redis-${app.name}`,
        'cache',
        { dc: site.name, engine: 'redis', port: 6379, application: app.name },
        { supportGroup: team },
      );
      needs(cache, 'runs_on', vm(site, 'redis'));
      stores.push(cache);
    }
    if (!site.cloud && r.chance(0.12)) {
      const queue = ci(
        `rabbitmq-${app.name}`,
        'queue',
        { dc: site.name, engine: 'rabbitmq', port: 5672, application: app.name },
        { supportGroup: team },
      );
      needs(queue, 'runs_on', vm(site, 'rabbitmq'));
      stores.push(queue);
    }
    const shared: string[] = [];
    if (r.chance(app.layer === 0 ? 0.15 : 0.4)) shared.push(sharedDb);
    if (r.chance(0.4)) shared.push(sharedCache);
    if (r.chance(app.layer === 0 ? 0.1 : 0.35))
      shared.push((site.kafka ?? r.pick(sites.slice(0, -1)).kafka)!);
    for (const instance of app.instances) {
      for (const store of [...stores, ...shared]) needs(instance, 'uses', store);
      for (const replica of replicas) if (r.chance(0.5)) needs(instance, 'uses', replica);
    }

    // Calls to applications further down, mostly in the next layer.
    const later = apps.slice(index + 1);
    const next = later.filter((a) => a.layer === app.layer + 1);
    const calls = app.layer === 2 ? r.int(2) : 1 + r.int(3);
    for (let k = 0; k < calls && later.length > 0; k++) {
      const callee = r.pick(next.length > 0 && r.chance(0.8) ? next : later);
      if (!relationships.some((x) => x.source === app.name && x.target === callee.name))
        needs(app.name, 'depends_on', callee.name);
    }
  }

  // Technical services: SSO in front of identity-api (a hub: front ends log users in through it)
  // and an SMTP relay on two VMs.
  const sso = ci(
    'sso',
    'technical_service',
    { provider: 'keycloak' },
    { supportGroup: 'iam-team', criticality: 1 },
  );
  if (names.has('identity-api')) needs(sso, 'depends_on', 'identity-api');
  for (const app of apps) if (app.layer === 0 && r.chance(0.45)) needs(app.name, 'depends_on', sso);
  const smtp = ci(
    'smtp-relay',
    'technical_service',
    {},
    { supportGroup: 'linux-ops', criticality: 2 },
  );
  for (let i = 0; i < 2; i++) needs(smtp, 'runs_on', vm(sites[i % (sites.length - 1)]!, 'smtp'));
  for (const app of apps)
    if (/^(notifications|email|sms|statements)/.test(app.name)) needs(app.name, 'uses', smtp);

  // Business services on top of front ends and APIs.
  const upper = apps.filter((a) => a.layer < 2);
  for (let i = 0; i < options.businessServices; i++) {
    const base = BUSINESS_SERVICES[i % BUSINESS_SERVICES.length]!;
    const name =
      i < BUSINESS_SERVICES.length
        ? base
        : `${base}-${Math.floor(i / BUSINESS_SERVICES.length) + 1}`;
    ci(
      name,
      'business_service',
      { owner: 'business' },
      { supportGroup: 'service-desk', criticality: r.chance(0.4) ? 1 : 2 },
    );
    const count = 1 + r.int(3);
    for (const app of shuffle(r, upper).slice(0, count)) needs(name, 'depends_on', app.name);
    const backEnds = apps.filter((a) => a.layer === 2);
    if (backEnds.length > 0 && r.chance(0.3)) needs(name, 'depends_on', r.pick(backEnds).name);
  }

  // Idle VMs fill the hypervisors up to their average (jump hosts, CI runners, monitoring…).
  for (const site of sites) {
    const target = site.cloud
      ? options.cloudVms
      : site.hypervisors.length * options.vmsPerHypervisor;
    while (site.vmCount < target)
      vm(
        site,
        r.pick(['jump', 'ci-runner', 'monitoring', 'backup-proxy', 'build', 'batch', 'ftp']),
      );
  }
  return { cis, relationships };
}

/** Settings of the CMDB an engine sees in tier B: real CMDBs miss edges and keep stale ones. */
export type DegradeOptions = { seed: number; missingShare: number; spuriousShare: number };

/** Tier B's degradation: 20% of the edges missing, 5% spurious. */
export const defaultDegrade: DegradeOptions = { seed: 2, missingShare: 0.2, spuriousShare: 0.05 };

/**
 * A copy of the CMDB with a share of its relationships removed and spurious ones added. A
 * spurious edge is a stale one: a real edge whose target is swapped for another CI of the same
 * class (an instance still recorded on the VM it moved away from, a database it no longer uses).
 */
export function degradeCmdb(cmdb: Cmdb, options: DegradeOptions = defaultDegrade): Cmdb {
  const r = createRandom(options.seed, 2);
  const all = cmdb.relationships;
  const missing = Math.round(all.length * options.missingShare);
  const dropped = new Set(
    shuffle(
      r,
      all.map((_, i) => i),
    ).slice(0, missing),
  );
  const byClass = new Map<string, string[]>();
  const classOf = new Map<string, string>();
  for (const c of cmdb.cis) {
    classOf.set(c.name, c.class);
    byClass.set(c.class, [...(byClass.get(c.class) ?? []), c.name]);
  }
  const key = (x: RelationshipInput) => `${x.source}\u0000${x.target}\u0000${x.type}`;
  const present = new Set(all.map(key));
  const spurious: RelationshipInput[] = [];
  const wanted = Math.round(all.length * options.spuriousShare);
  for (let tries = 0; spurious.length < wanted && tries < wanted * 20; tries++) {
    const real = r.pick(all);
    const target = r.pick(byClass.get(classOf.get(real.target)!)!);
    const edge = { source: real.source, target, type: real.type };
    if (target === real.source || present.has(key(edge))) continue;
    present.add(key(edge));
    spurious.push(edge);
  }
  return {
    cis: cmdb.cis,
    relationships: [...all.filter((_, i) => !dropped.has(i)), ...spurious],
  };
}

function shuffle<T>(r: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function hex(r: Random, digits: number): string {
  let s = '';
  for (let i = 0; i < digits; i++) s += r.int(16).toString(16);
  return s;
}
