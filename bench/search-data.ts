/**
 * The data of bench/search: a deterministic generator of incidents, their alerts and the problems
 * behind recurring incidents, as a NOC of ~50 services and ~3,000 CIs would see them over 180 days.
 *
 * Every record is a pure function of (seed, index): incidents stream one at a time and the alert
 * pass regenerates each incident instead of keeping it, so a million alerts never sit in memory.
 * Titles come from a few hundred templates (symptom × phrasing × form) with variable parts (hosts,
 * services, percentages, latencies); ~30% of incidents repeat a recurring issue (same title, same
 * CI, often on a weekly slot), and a third of those issues have a problem record.
 */

import { createRandom, type Random } from './random.ts';

/** A weighted choice over n items, drawn in O(log n). */
type Weighted = { total: number; cumulative: number[] };

function weighted(weights: number[]): Weighted {
  let total = 0;
  const cumulative = weights.map((w) => (total += w));
  return { total, cumulative };
}

function draw(w: Weighted, r: Random): number {
  const x = r.next() * w.total;
  let lo = 0;
  let hi = w.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (w.cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Severities, worst first, as the alert and incident tables take them. */
export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info';

type Role =
  | 'web'
  | 'api'
  | 'app'
  | 'worker'
  | 'db'
  | 'cache'
  | 'mq'
  | 'lb'
  | 'k8s'
  | 'storage'
  | 'sw'
  | 'rtr'
  | 'fw';

/** A symptom: what breaks, where, who gets it, and how its incidents and alerts read. */
type Symptom = {
  key: string;
  category: string;
  roles: Role[];
  /** An assignment group, or `app` for the service's application support group. */
  group: string;
  sources: string[];
  severities: Severity[];
  titles: string[];
  alert: string;
  description: string;
  resolutions: string[];
};

const symptoms: Symptom[] = [
  {
    key: 'DiskSpaceLow',
    category: 'capacity',
    roles: ['app', 'db', 'worker', 'storage', 'k8s'],
    group: 'linux-ops',
    sources: ['alertmanager', 'zabbix', 'datadog'],
    severities: ['major', 'critical', 'minor'],
    titles: [
      'Disk usage above {pct}% on {mount}',
      'Filesystem {mount} almost full',
      'Disk full on {mount}',
    ],
    alert: 'Disk space low: {mount} at {pct}%',
    description:
      'Filesystem {mount} on {host} is at {pct}% of its capacity; writes fail when it is full.',
    resolutions: [
      'Rotated and compressed old logs on {mount}.',
      'Extended the volume behind {mount} by 100 GiB.',
      'Removed stale core dumps and temporary files from {mount}.',
    ],
  },
  {
    key: 'InodesExhausted',
    category: 'capacity',
    roles: ['app', 'worker', 'storage'],
    group: 'linux-ops',
    sources: ['zabbix', 'alertmanager'],
    severities: ['major', 'minor'],
    titles: ['Inodes exhausted on {mount}', 'No free inodes left on {mount}'],
    alert: 'Inode usage {pct}% on {mount}',
    description: 'Inode usage on {mount} of {host} is {pct}%; new files cannot be created.',
    resolutions: ['Purged millions of small session files from {mount}.'],
  },
  {
    key: 'HighCpu',
    category: 'performance',
    roles: ['app', 'api', 'web', 'worker', 'k8s', 'db'],
    group: 'linux-ops',
    sources: ['alertmanager', 'datadog', 'zabbix', 'dynatrace'],
    severities: ['minor', 'major', 'warning'],
    titles: ['CPU usage above {pct}%', 'High CPU load', 'CPU saturated for 15 minutes'],
    alert: 'High CPU usage {pct}%',
    description:
      'CPU usage on {host} has stayed above {pct}% for 15 minutes; {service} slows down.',
    resolutions: [
      'A runaway report query was killed; CPU back to normal.',
      'Scaled {service} out by two instances.',
      'Restarted the process stuck in a busy loop.',
    ],
  },
  {
    key: 'MemoryPressure',
    category: 'performance',
    roles: ['app', 'api', 'worker', 'k8s', 'cache'],
    group: 'linux-ops',
    sources: ['alertmanager', 'datadog', 'zabbix'],
    severities: ['minor', 'major'],
    titles: ['Memory usage above {pct}%', 'High memory usage', 'Swap usage high'],
    alert: 'Memory usage {pct}%',
    description: 'Memory usage on {host} is {pct}% and swap is in use; latency of {service} rises.',
    resolutions: ['Restarted the leaking worker.', 'Raised the memory limit of {service}.'],
  },
  {
    key: 'OomKilled',
    category: 'software',
    roles: ['k8s', 'app', 'worker'],
    group: 'platform-eng',
    sources: ['alertmanager', 'datadog'],
    severities: ['major', 'minor'],
    titles: ['Process OOM killed', 'Container killed: out of memory', 'OOMKilled {pod}'],
    alert: 'Container OOMKilled: {pod}',
    description:
      'The kernel OOM killer ended {pod} on {host}; the container restarted {n} times in an hour.',
    resolutions: [
      'Raised the memory limit of {pod}.',
      'Fixed an unbounded cache in {service} (release 4.2.1).',
    ],
  },
  {
    key: 'PodCrashLoop',
    category: 'software',
    roles: ['k8s'],
    group: 'platform-eng',
    sources: ['alertmanager', 'datadog', 'gcp-monitoring'],
    severities: ['major', 'critical'],
    titles: ['Pod {pod} in CrashLoopBackOff', 'Container restarting repeatedly'],
    alert: 'KubePodCrashLooping {pod}',
    description:
      'Pod {pod} of {service} restarted {n} times; it fails its readiness probe on start.',
    resolutions: ['Rolled back the last deployment of {service}.', 'Fixed a missing secret.'],
  },
  {
    key: 'NodeNotReady',
    category: 'availability',
    roles: ['k8s'],
    group: 'platform-eng',
    sources: ['alertmanager', 'azure-monitor'],
    severities: ['major', 'critical'],
    titles: ['Kubernetes node NotReady', 'Node not ready'],
    alert: 'KubeNodeNotReady {host}',
    description: 'Node {host} reports NotReady; its pods are being evicted to other nodes.',
    resolutions: ['Drained and rebooted the node.', 'Replaced the failed kubelet certificate.'],
  },
  {
    key: 'ReplicationLag',
    category: 'database',
    roles: ['db'],
    group: 'dba-team',
    sources: ['alertmanager', 'datadog', 'zabbix'],
    severities: ['major', 'critical', 'minor'],
    titles: [
      'Replication lag above {sec}s',
      'Replica lagging behind primary',
      'Replication lag high',
    ],
    alert: 'PostgreSQL replication lag {sec}s',
    description:
      'The replica {host} is {sec} seconds behind its primary; reads of {service} may be stale.',
    resolutions: [
      'A long vacuum on the replica was cancelled; lag caught up.',
      'Network throughput between sites restored.',
    ],
  },
  {
    key: 'DbConnectionsExhausted',
    category: 'database',
    roles: ['db'],
    group: 'dba-team',
    sources: ['alertmanager', 'datadog'],
    severities: ['critical', 'major'],
    titles: ['Database connections exhausted', 'Too many connections to {db}'],
    alert: 'Connections {pct}% of max_connections on {db}',
    description: '{db} on {host} uses {pct}% of max_connections; new sessions of {service} fail.',
    resolutions: ['Put PgBouncer in front of {db}.', 'Fixed a connection leak in {service}.'],
  },
  {
    key: 'SlowQueries',
    category: 'database',
    roles: ['db'],
    group: 'dba-team',
    sources: ['datadog', 'newrelic', 'dynatrace'],
    severities: ['minor', 'warning', 'major'],
    titles: ['Slow queries on {db}', 'Query latency above {ms} ms'],
    alert: 'Slow query rate high on {db}',
    description: 'Queries on {db} take {ms} ms at p95; a missing index is suspected.',
    resolutions: ['Added the missing index on orders(customer_id).', 'Analyzed the table.'],
  },
  {
    key: 'Deadlocks',
    category: 'database',
    roles: ['db'],
    group: 'dba-team',
    sources: ['datadog', 'zabbix'],
    severities: ['minor', 'major'],
    titles: ['Deadlocks detected on {db}', 'Deadlock rate high'],
    alert: 'Deadlocks on {db}: {n}/min',
    description: '{n} deadlocks per minute on {db}; transactions of {service} are retried.',
    resolutions: ['Changed the lock order in the batch update.'],
  },
  {
    key: 'DbDown',
    category: 'availability',
    roles: ['db'],
    group: 'dba-team',
    sources: ['alertmanager', 'zabbix', 'pagerduty'],
    severities: ['critical'],
    titles: ['Database {db} unreachable', 'PostgreSQL down'],
    alert: 'PostgreSQL instance down',
    description: '{db} on {host} does not accept connections; {service} is down.',
    resolutions: ['Failed over to the standby.', 'Restarted PostgreSQL after a full WAL disk.'],
  },
  {
    key: 'BackupFailed',
    category: 'storage',
    roles: ['db', 'storage'],
    group: 'storage-ops',
    sources: ['zabbix', 'splunk'],
    severities: ['minor', 'major'],
    titles: ['Nightly backup failed', 'Backup job of {db} failed'],
    alert: 'Backup failed: {db}',
    description: 'The nightly backup of {db} on {host} ended with error code {n}.',
    resolutions: ['Re-ran the backup manually.', 'Renewed the backup target credentials.'],
  },
  {
    key: 'HttpErrors',
    category: 'application',
    roles: ['web', 'api', 'lb'],
    group: 'app',
    sources: ['datadog', 'newrelic', 'alertmanager', 'cloudwatch'],
    severities: ['major', 'critical', 'minor'],
    titles: [
      'HTTP {code} errors above {small}%',
      '5xx error rate high',
      'Elevated {code} responses',
    ],
    alert: 'HTTP {code} rate {small}%',
    description: '{small}% of requests to {service} answer {code} since {time}; users see errors.',
    resolutions: [
      'Rolled back release 2024.{n} of {service}.',
      'Restarted the unhealthy instances behind the load balancer.',
    ],
  },
  {
    key: 'HighLatency',
    category: 'performance',
    roles: ['api', 'web'],
    group: 'app',
    sources: ['datadog', 'newrelic', 'dynatrace', 'alertmanager'],
    severities: ['minor', 'major', 'warning'],
    titles: ['p99 latency above {ms} ms', 'Slow responses', 'Response time degraded'],
    alert: 'p99 latency {ms} ms',
    description: 'p99 latency of {service} is {ms} ms (objective 300 ms) on {host}.',
    resolutions: ['Cache warm-up after the deploy finished.', 'Added two instances.'],
  },
  {
    key: 'EndpointDown',
    category: 'availability',
    roles: ['web', 'api', 'app'],
    group: 'app',
    sources: ['alertmanager', 'pagerduty', 'opsgenie', 'gcp-monitoring'],
    severities: ['critical', 'major'],
    titles: ['Health check failing', 'Endpoint unreachable', 'Service down'],
    alert: 'Probe failed: https://{host}/healthz',
    description: 'The health check of {service} on {host} fails from {region}.',
    resolutions: ['Restarted the service.', 'Fixed the expired upstream credentials.'],
  },
  {
    key: 'CertExpiring',
    category: 'security',
    roles: ['web', 'lb'],
    group: 'security-ops',
    sources: ['alertmanager', 'zabbix'],
    severities: ['warning', 'minor'],
    titles: ['TLS certificate for {cert} expires in {days} days', 'SSL certificate expiring'],
    alert: 'Certificate expiry {days}d: {cert}',
    description: 'The certificate of {cert} served by {host} expires in {days} days.',
    resolutions: ['Renewed the certificate through ACME.', 'Deployed the renewed certificate.'],
  },
  {
    key: 'CertExpired',
    category: 'security',
    roles: ['web', 'lb', 'api'],
    group: 'security-ops',
    sources: ['alertmanager', 'datadog'],
    severities: ['critical', 'major'],
    titles: ['TLS certificate expired for {cert}', 'SSL handshake failures'],
    alert: 'TLS handshake errors {n}/min',
    description: 'Clients fail the TLS handshake with {cert} on {host}: the certificate expired.',
    resolutions: ['Installed the renewed certificate and reloaded the proxy.'],
  },
  {
    key: 'ConnectionRefused',
    category: 'application',
    roles: ['app', 'api', 'worker'],
    group: 'app',
    sources: ['sentry', 'splunk', 'datadog'],
    severities: ['major', 'minor'],
    titles: ['Connection refused to port {port}', 'Cannot connect to {dep}:{port}'],
    alert: 'Connection refused {dep}:{port}',
    description: '{service} on {host} cannot open connections to {dep}:{port}: connection refused.',
    resolutions: ['Restarted {dep}.', 'Opened port {port} in the security group.'],
  },
  {
    key: 'DnsFailure',
    category: 'network',
    roles: ['app', 'api', 'k8s'],
    group: 'network-ops',
    sources: ['alertmanager', 'cloudwatch'],
    severities: ['major', 'critical'],
    titles: ['DNS resolution failures', 'DNS lookup timeout'],
    alert: 'DNS lookups failing {small}%',
    description: '{small}% of DNS lookups from {host} time out; {service} cannot reach {dep}.',
    resolutions: ['Restarted the resolver pods.', 'Fixed the forwarder configuration.'],
  },
  {
    key: 'PacketLoss',
    category: 'network',
    roles: ['sw', 'rtr', 'fw', 'lb'],
    group: 'network-ops',
    sources: ['zabbix', 'splunk'],
    severities: ['major', 'minor'],
    titles: ['Packet loss {small}% on {iface}', 'High packet loss'],
    alert: 'Packet loss {small}% on {iface}',
    description: '{iface} on {host} drops {small}% of packets; CRC errors rising.',
    resolutions: ['Replaced the faulty optic on {iface}.', 'Moved traffic to the second uplink.'],
  },
  {
    key: 'InterfaceDown',
    category: 'network',
    roles: ['sw', 'rtr', 'fw'],
    group: 'network-ops',
    sources: ['zabbix'],
    severities: ['critical', 'major'],
    titles: ['Interface {iface} down', 'Link down on {iface}'],
    alert: 'Interface {iface} operationally down',
    description: '{iface} on {host} went down at {time}; the redundant path carries the traffic.',
    resolutions: ['Reseated the cable.', 'The carrier fixed a fibre cut.'],
  },
  {
    key: 'BgpSessionDown',
    category: 'network',
    roles: ['rtr'],
    group: 'network-ops',
    sources: ['zabbix', 'splunk'],
    severities: ['critical', 'major'],
    titles: ['BGP session down with peer {peer}', 'BGP neighbour flapping'],
    alert: 'BGP peer {peer} down',
    description: 'The BGP session between {host} and {peer} is down; routes were withdrawn.',
    resolutions: ['The provider restored the session.', 'Raised the hold timer.'],
  },
  {
    key: 'FirewallDrops',
    category: 'security',
    roles: ['fw'],
    group: 'network-ops',
    sources: ['splunk'],
    severities: ['minor', 'major'],
    titles: ['Firewall dropping traffic', 'Denied connections spike'],
    alert: 'Denied connections {n}/s',
    description:
      '{host} denies {n} connections per second to {service}; a rule change is suspected.',
    resolutions: ['Reverted the rule change.'],
  },
  {
    key: 'LbBackendDown',
    category: 'availability',
    roles: ['lb'],
    group: 'network-ops',
    sources: ['cloudwatch', 'azure-monitor', 'zabbix'],
    severities: ['major', 'critical'],
    titles: ['Load balancer backend pool degraded', '{few} backends unhealthy'],
    alert: 'Unhealthy backends: {few}',
    description: '{few} of the backends of {service} behind {host} fail their health check.',
    resolutions: ['Restarted the failing backends.'],
  },
  {
    key: 'KafkaConsumerLag',
    category: 'application',
    roles: ['mq'],
    group: 'messaging-team',
    sources: ['alertmanager', 'datadog'],
    severities: ['minor', 'major'],
    titles: ['Kafka consumer lag above {n}k messages on {topic}', 'Consumer group lagging'],
    alert: 'Kafka consumer lag {n}k on {topic}',
    description: 'The consumers of {topic} on {host} are {n}k messages behind; {service} is late.',
    resolutions: ['Added consumers to the group.', 'Skipped a poison message.'],
  },
  {
    key: 'QueueBacklog',
    category: 'application',
    roles: ['mq', 'worker'],
    group: 'messaging-team',
    sources: ['alertmanager', 'cloudwatch'],
    severities: ['minor', 'major', 'warning'],
    titles: ['Queue {queue} backlog above {n}', 'Messages piling up in {queue}'],
    alert: 'Queue depth {n} on {queue}',
    description: '{n} messages wait in {queue} on {host}; the consumers of {service} are stuck.',
    resolutions: ['Restarted the stuck consumers.'],
  },
  {
    key: 'CacheEvictions',
    category: 'performance',
    roles: ['cache'],
    group: 'platform-eng',
    sources: ['alertmanager', 'datadog'],
    severities: ['minor', 'warning'],
    titles: ['Redis memory full, evicting keys', 'Cache hit ratio below {low}%'],
    alert: 'Redis evictions {n}/s',
    description:
      'Redis on {host} evicts {n} keys per second; the hit ratio of {service} fell to {low}%.',
    resolutions: ['Raised maxmemory.', 'Set TTLs on session keys.'],
  },
  {
    key: 'CacheDown',
    category: 'availability',
    roles: ['cache'],
    group: 'platform-eng',
    sources: ['alertmanager', 'pagerduty'],
    severities: ['critical', 'major'],
    titles: ['Redis unreachable', 'Cache cluster down'],
    alert: 'Redis down',
    description: 'Redis on {host} does not answer; {service} falls back to the database.',
    resolutions: ['Promoted a replica.', 'Restarted Redis after the disk filled.'],
  },
  {
    key: 'JobFailed',
    category: 'batch',
    roles: ['worker'],
    group: 'app',
    sources: ['splunk', 'sentry'],
    severities: ['minor', 'major'],
    titles: ['Batch job {job} failed', 'Scheduled job did not complete'],
    alert: 'Job {job} exit code {few}',
    description: 'The {job} job of {service} on {host} exited with code {few} after {n} seconds.',
    resolutions: ['Re-ran the job.', 'Fixed the input file format.'],
  },
  {
    key: 'CronMissed',
    category: 'batch',
    roles: ['worker', 'app'],
    group: 'app',
    sources: ['alertmanager'],
    severities: ['warning', 'minor'],
    titles: ['Cron job {job} missed its schedule', 'Scheduled run missing'],
    alert: 'Cron {job} missed',
    description: 'The {job} cron of {service} did not run at {time} on {host}.',
    resolutions: ['The scheduler restarted; the job ran.'],
  },
  {
    key: 'LoginFailures',
    category: 'security',
    roles: ['app', 'api'],
    group: 'identity-team',
    sources: ['splunk', 'datadog'],
    severities: ['major', 'minor'],
    titles: ['Login failures spike', 'Authentication errors above {small}%'],
    alert: 'Auth failures {small}%',
    description: '{small}% of logins to {service} fail with invalid_grant since {time}.',
    resolutions: ['Rotated the signing key again.', 'Fixed the clock skew on {host}.'],
  },
  {
    key: 'BruteForce',
    category: 'security',
    roles: ['app', 'api', 'fw'],
    group: 'security-ops',
    sources: ['splunk'],
    severities: ['major', 'critical'],
    titles: ['Possible brute force attack', 'Repeated failed logins from {ip}'],
    alert: 'Brute force from {ip}',
    description: '{n} failed logins from {ip} against {service} in ten minutes.',
    resolutions: ['Blocked {ip} at the firewall.'],
  },
  {
    key: 'ClockDrift',
    category: 'software',
    roles: ['app', 'db', 'k8s'],
    group: 'linux-ops',
    sources: ['alertmanager', 'zabbix'],
    severities: ['warning', 'minor'],
    titles: ['Clock drift {ms} ms', 'NTP out of sync'],
    alert: 'Clock skew {ms} ms',
    description: 'The clock of {host} is {ms} ms off; NTP lost its upstream servers.',
    resolutions: ['Restarted chronyd.'],
  },
  {
    key: 'ThreadPoolExhausted',
    category: 'application',
    roles: ['app', 'api'],
    group: 'app',
    sources: ['dynatrace', 'newrelic'],
    severities: ['major', 'minor'],
    titles: ['Thread pool exhausted', 'Worker threads saturated'],
    alert: 'Thread pool {pct}% busy',
    description: 'The request thread pool of {service} on {host} is {pct}% busy; requests queue.',
    resolutions: ['Raised the pool size.', 'Timeouts added to the slow downstream call.'],
  },
  {
    key: 'GcPauses',
    category: 'performance',
    roles: ['app', 'api', 'mq'],
    group: 'app',
    sources: ['dynatrace', 'newrelic', 'datadog'],
    severities: ['minor', 'warning'],
    titles: ['Long GC pauses ({ms} ms)', 'JVM heap usage above {pct}%'],
    alert: 'GC pause {ms} ms',
    description: 'The JVM of {service} on {host} pauses {ms} ms in GC; heap at {pct}%.',
    resolutions: ['Increased the heap.', 'Switched to G1 with a pause target.'],
  },
  {
    key: 'FileDescriptors',
    category: 'software',
    roles: ['app', 'web', 'mq'],
    group: 'linux-ops',
    sources: ['alertmanager'],
    severities: ['minor', 'major'],
    titles: ['Too many open files', 'File descriptors above {pct}%'],
    alert: 'Open files {pct}% of limit',
    description: '{service} on {host} uses {pct}% of its file descriptor limit.',
    resolutions: ['Raised nofile.', 'Fixed a socket leak.'],
  },
  {
    key: 'StorageLatency',
    category: 'storage',
    roles: ['storage', 'db'],
    group: 'storage-ops',
    sources: ['zabbix', 'cloudwatch'],
    severities: ['major', 'minor'],
    titles: ['Storage latency above {ms} ms', 'Slow I/O on volume {vol}'],
    alert: 'Volume {vol} latency {ms} ms',
    description: 'Volume {vol} attached to {host} answers in {ms} ms; the array is rebuilding.',
    resolutions: ['The array rebuild finished.', 'Moved the volume to the faster tier.'],
  },
  {
    key: 'RaidDegraded',
    category: 'hardware',
    roles: ['storage', 'db'],
    group: 'storage-ops',
    sources: ['zabbix'],
    severities: ['major', 'critical'],
    titles: ['RAID array degraded', 'Disk failure in array'],
    alert: 'RAID degraded on {host}',
    description: 'The RAID array of {host} lost a disk in slot {few}; it runs without redundancy.',
    resolutions: ['Replaced the disk in slot {few}; rebuild complete.'],
  },
  {
    key: 'PowerSupply',
    category: 'hardware',
    roles: ['db', 'storage', 'sw', 'rtr'],
    group: 'linux-ops',
    sources: ['zabbix'],
    severities: ['minor', 'major'],
    titles: ['Power supply failure', 'PSU redundancy lost'],
    alert: 'PSU {few} failed',
    description: 'Power supply {few} of {host} failed; the device runs on one supply.',
    resolutions: ['The vendor replaced the power supply.'],
  },
  {
    key: 'Temperature',
    category: 'hardware',
    roles: ['db', 'storage', 'sw'],
    group: 'linux-ops',
    sources: ['zabbix'],
    severities: ['minor', 'major'],
    titles: ['Temperature above threshold', 'Fan failure'],
    alert: 'Inlet temperature {temp} C',
    description: '{host} reports an inlet temperature of {temp} C; a fan failed.',
    resolutions: ['The fan was replaced.', 'Facilities fixed the CRAC unit.'],
  },
  {
    key: 'HostDown',
    category: 'availability',
    roles: ['app', 'db', 'worker', 'web', 'k8s', 'cache', 'mq'],
    group: 'linux-ops',
    sources: ['zabbix', 'alertmanager', 'pagerduty'],
    severities: ['critical', 'major'],
    titles: ['Host unreachable', 'Server not responding to ping'],
    alert: 'Host down',
    description: '{host} does not answer ping or SSH since {time}.',
    resolutions: ['Power-cycled the host through the BMC.', 'The hypervisor was restarted.'],
  },
  {
    key: 'DeploymentFailed',
    category: 'software',
    roles: ['k8s', 'app'],
    group: 'release-eng',
    sources: ['opsgenie', 'datadog'],
    severities: ['minor', 'major'],
    titles: ['Deployment of {service} failed', 'Rollout stuck'],
    alert: 'Rollout stalled: {service}',
    description: 'The rollout of {service} release 2024.{n} stalled at {few} of 6 replicas.',
    resolutions: ['Rolled back the release.', 'Fixed the failing migration and re-deployed.'],
  },
  {
    key: 'ConfigDrift',
    category: 'software',
    roles: ['app', 'web', 'db'],
    group: 'sre-core',
    sources: ['splunk'],
    severities: ['warning', 'info'],
    titles: ['Configuration drift detected', 'Config differs from baseline'],
    alert: 'Config drift on {host}',
    description: '{host} differs from its baseline in {few} settings.',
    resolutions: ['Re-applied the baseline with Ansible.'],
  },
  {
    key: 'ErrorSpike',
    category: 'application',
    roles: ['app', 'api', 'web'],
    group: 'app',
    sources: ['sentry', 'splunk', 'newrelic'],
    severities: ['minor', 'major'],
    titles: ['Error rate spike in logs', 'Exceptions above {n}/min'],
    alert: 'Exceptions {n}/min: NullPointerException',
    description: '{service} on {host} logs {n} exceptions per minute (NullPointerException).',
    resolutions: ['Hotfix 2024.{n}.1 deployed.', 'A feature flag was turned off.'],
  },
  {
    key: 'GatewayTimeout',
    category: 'application',
    roles: ['app', 'api'],
    group: 'app',
    sources: ['datadog', 'newrelic', 'sentry'],
    severities: ['major', 'critical'],
    titles: ['Payment gateway timeouts', 'Third-party API timeouts', 'Upstream {dep} timing out'],
    alert: 'Upstream timeouts {small}%',
    description: '{small}% of calls from {service} to {dep} time out after {ms} ms.',
    resolutions: ['The provider fixed an outage.', 'Failed over to the secondary provider.'],
  },
  {
    key: 'EmailDelay',
    category: 'application',
    roles: ['mq', 'app'],
    group: 'messaging-team',
    sources: ['splunk', 'alertmanager'],
    severities: ['minor', 'warning'],
    titles: ['Email delivery delayed', 'SMTP relay queue growing'],
    alert: 'SMTP queue {n}',
    description:
      '{n} emails wait in the relay queue of {host}; notifications of {service} are late.',
    resolutions: ['The relay was unblocked by the provider.'],
  },
  {
    key: 'RateLimited',
    category: 'application',
    roles: ['api', 'app'],
    group: 'app',
    sources: ['datadog', 'splunk'],
    severities: ['minor', 'warning'],
    titles: ['Upstream API rate limited (HTTP 429)', 'Rate limit exceeded on {dep}'],
    alert: 'HTTP 429 from {dep}',
    description: '{dep} answers 429 to {service}; requests are retried with backoff.',
    resolutions: ['Raised the quota with the provider.', 'Added client-side caching.'],
  },
  {
    key: 'VpnDown',
    category: 'network',
    roles: ['fw', 'rtr'],
    group: 'network-ops',
    sources: ['zabbix', 'cloudwatch'],
    severities: ['major', 'critical'],
    titles: ['VPN tunnel down to {site}', 'IPsec tunnel flapping'],
    alert: 'VPN tunnel {site} down',
    description: 'The IPsec tunnel from {host} to {site} is down; {site} staff lose access.',
    resolutions: ['Re-keyed the tunnel.', 'The ISP at {site} fixed the line.'],
  },
  {
    key: 'WanLatency',
    category: 'network',
    roles: ['rtr'],
    group: 'network-ops',
    sources: ['zabbix'],
    severities: ['minor', 'warning'],
    titles: ['WAN latency above {ms} ms to {site}', 'High latency to {site}'],
    alert: 'RTT {ms} ms to {site}',
    description: 'Round-trip time from {host} to {site} is {ms} ms.',
    resolutions: ['The carrier rerouted the circuit.'],
  },
  {
    key: 'IoWait',
    category: 'performance',
    roles: ['db', 'app', 'storage'],
    group: 'linux-ops',
    sources: ['alertmanager', 'zabbix'],
    severities: ['minor', 'warning'],
    titles: ['High iowait {small}%', 'I/O wait high'],
    alert: 'iowait {small}%',
    description: '{host} spends {small}% of its CPU time waiting for I/O.',
    resolutions: ['Moved the backup window away from peak.'],
  },
  {
    key: 'ProcessDown',
    category: 'availability',
    roles: ['app', 'worker', 'web'],
    group: 'linux-ops',
    sources: ['zabbix', 'alertmanager'],
    severities: ['major', 'minor'],
    titles: ['Process not running: {proc}', '{proc} stopped'],
    alert: 'Process {proc} not running',
    description: '{proc} of {service} is not running on {host}; systemd gave up restarting it.',
    resolutions: ['Restarted {proc}.', 'Fixed the unit file.'],
  },
  {
    key: 'SyntheticFailed',
    category: 'availability',
    roles: ['web', 'lb'],
    group: 'app',
    sources: ['datadog', 'newrelic', 'dynatrace'],
    severities: ['major', 'critical'],
    titles: ['Synthetic checkout journey failing', 'Synthetic check failed from {region}'],
    alert: 'Synthetic test failed: {service} from {region}',
    description: 'The synthetic journey of {service} fails at step {few} from {region}.',
    resolutions: ['A broken static asset was re-deployed.'],
  },
  {
    key: 'IndexLag',
    category: 'application',
    roles: ['worker', 'app'],
    group: 'data-eng',
    sources: ['alertmanager', 'datadog'],
    severities: ['minor', 'warning'],
    titles: ['Search indexing behind by {n} minutes', 'Indexer lagging'],
    alert: 'Indexing lag {n} min',
    description: 'The indexer of {service} on {host} is {n} minutes behind its source.',
    resolutions: ['Restarted the indexer.', 'Added a worker.'],
  },
  {
    key: 'EtlFailed',
    category: 'batch',
    roles: ['worker', 'db'],
    group: 'data-eng',
    sources: ['splunk', 'opsgenie'],
    severities: ['minor', 'major'],
    titles: ['ETL load failed', 'Data pipeline {job} failed'],
    alert: 'ETL {job} failed',
    description: 'The {job} pipeline of {service} failed at step {few}: schema mismatch.',
    resolutions: ['Updated the schema mapping and re-ran.'],
  },
  {
    key: 'LicenseExpiring',
    category: 'software',
    roles: ['app', 'db'],
    group: 'service-desk',
    sources: ['splunk'],
    severities: ['info', 'warning'],
    titles: ['License expires in {days} days', 'Software license expiring'],
    alert: 'License expiry {days}d',
    description: 'The license of the software on {host} expires in {days} days.',
    resolutions: ['Renewed the license.'],
  },
];

const serviceNames = [
  'billing',
  'checkout',
  'payments',
  'ledger',
  'search',
  'auth',
  'catalog',
  'inventory',
  'orders',
  'shipping',
  'notifications',
  'email',
  'sms-gateway',
  'crm',
  'erp',
  'payroll',
  'hr-portal',
  'analytics',
  'reporting',
  'data-warehouse',
  'etl',
  'kafka-platform',
  'k8s-platform',
  'dns',
  'vpn',
  'network',
  'storage',
  'backup',
  'monitoring',
  'logging',
  'ci-cd',
  'artifacts',
  'git',
  'wiki',
  'ticketing',
  'chat',
  'video',
  'mobile-api',
  'web-frontend',
  'cdn',
  'recommendations',
  'pricing',
  'fraud',
  'loyalty',
  'customer-portal',
  'partner-api',
  'identity',
  'maps',
  'media',
  'warehouse-ops',
];

const appRoles: Role[] = [
  'web',
  'api',
  'app',
  'worker',
  'db',
  'cache',
  'mq',
  'lb',
  'k8s',
  'storage',
];
const appRoleWeights = [10, 10, 20, 15, 10, 6, 5, 4, 15, 5];
const networkRoles: Role[] = ['sw', 'rtr', 'fw', 'lb'];

const appSupport = [
  'app-support-commerce',
  'app-support-finance',
  'app-support-corporate',
  'app-support-digital',
];

const groups = [
  'noc-l1',
  'noc-l2',
  'linux-ops',
  'platform-eng',
  'dba-team',
  'network-ops',
  'storage-ops',
  'security-ops',
  'sre-core',
  'messaging-team',
  'identity-team',
  'data-eng',
  'release-eng',
  'service-desk',
  ...appSupport,
];

const firstNames = [
  'ana',
  'ben',
  'chloe',
  'dev',
  'elif',
  'femi',
  'gao',
  'hana',
  'ivan',
  'jon',
  'kira',
  'liam',
  'mara',
  'nils',
  'omar',
  'paula',
  'quinn',
  'raj',
  'sara',
  'tom',
  'uma',
  'vik',
  'wen',
  'yara',
];
const lastNames = [
  'adams',
  'berg',
  'costa',
  'diaz',
  'eriksen',
  'fischer',
  'garcia',
  'haddad',
  'ito',
  'jensen',
  'kumar',
  'lopez',
  'meyer',
  'nakamura',
  'okafor',
  'petrov',
  'rossi',
  'silva',
  'tanaka',
  'weber',
];

const mounts = ['/var', '/', '/data', '/opt', '/var/log', '/tmp', '/home', '/srv'];
const queues = ['orders', 'payments', 'emails', 'events', 'invoices', 'audit', 'webhooks'];
const topics = ['orders.v1', 'payments.events', 'clickstream', 'audit-log', 'inventory.updates'];
const ports = [443, 5432, 6379, 9092, 8080, 3306, 5672, 9200];
const codes = [500, 502, 503, 504];
const ifaces = ['eth0', 'eth1', 'bond0', 'ens192', 'Gi1/0/24', 'Te1/1/1', 'xe-0/0/3'];
const regions = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-1'];
const sites = ['paris', 'frankfurt', 'london', 'madrid', 'warsaw', 'dublin'];
const peers = ['as3356', 'as1299', 'as174', 'as6939', 'as2914'];
const jobs = ['nightly-export', 'invoice-run', 'reconcile', 'cleanup', 'sync-users', 'rollup'];
const procs = ['nginx', 'haproxy', 'sshd', 'node_exporter', 'filebeat', 'java', 'gunicorn'];
const deps = ['stripe', 'adyen', 'twilio', 'sendgrid', 'postgres', 'redis', 'kafka', 'ldap'];
const holdReasons = ['awaiting vendor', 'awaiting change window', 'awaiting caller', 'monitoring'];
const resolutionCodes = ['fixed', 'workaround', 'no_fault_found', 'resolved_by_change'];

/** A configuration item of the catalog: its name, its service and its role. */
export type CatalogCi = { name: string; service: number; role: Role };

type Recurring = {
  symptom: number;
  title: string;
  description: string;
  vars: Vars;
  ci: CatalogCi;
  from: number;
  to: number;
  /** A weekly slot (weekday and hour, in ms from the start of a week) or null. */
  slot: number | null;
  problemId: number | null;
};

/** The fixed parts of the data: services, CIs, groups, people, templates, recurring issues. */
export type Catalog = {
  services: string[];
  cis: CatalogCi[];
  groups: string[];
  people: string[];
  templates: number;
  recurring: Recurring[];
  problems: GeneratedProblem[];
};

/** What a generated dataset is: its seed, its size and the instant it ends at. */
export type DatasetOptions = { seed: number; incidents: number; alerts: number; now: Date };

/** A dataset: its options, its catalog and the precomputed draws the records use. */
export type Dataset = DatasetOptions & {
  catalog: Catalog;
  start: number;
  end: number;
  meanAlerts: number;
  symptomWeights: Weighted;
  recurringWeights: Weighted;
  /** Per symptom, the CIs of the roles it happens on, and their weights (service popularity). */
  symptomCis: { cis: CatalogCi[]; weights: Weighted }[];
  serviceWeights: number[];
  serviceGroup: string[];
};

type Vars = Record<string, string>;

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
// How far back the data goes.
const HISTORY_DAYS = 180;
// Monday 1970-01-05T00:00Z: weekly slots are counted from a Monday, like calendar weeks.
const WEEK_ORIGIN = 4 * DAY;

function fill(template: string, vars: Vars): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => vars[name] ?? name);
}

function varsFor(r: Random, ci: CatalogCi, services: string[], at: number): Vars {
  const service = services[ci.service]!;
  return {
    host: ci.name,
    service,
    pct: String(85 + r.int(15)),
    small: String(2 + r.int(38)),
    low: String(40 + r.int(40)),
    mount: r.pick(mounts),
    ms: String(200 + 50 * r.int(97)),
    sec: String(30 + 10 * r.int(88)),
    n: String(2 + r.int(498)),
    few: String(1 + r.int(5)),
    days: String(1 + r.int(29)),
    temp: String(38 + r.int(20)),
    queue: r.pick(queues),
    topic: r.pick(topics),
    port: String(r.pick(ports)),
    code: String(r.pick(codes)),
    iface: r.pick(ifaces),
    region: r.pick(regions),
    site: r.pick(sites),
    peer: r.pick(peers),
    job: r.pick(jobs),
    proc: r.pick(procs),
    dep: r.pick(deps),
    db: `${service.replaceAll('-', '_')}_db`,
    cert: `${service}.example.com`,
    pod: `${service}-${r.pick(['api', 'worker', 'web'])}-${(r.int(0xfffff) + 0x10000).toString(16)}`,
    vol: `vol-${(r.int(0xffffff) + 0x1000000).toString(16)}`,
    ip: `203.0.113.${1 + r.int(254)}`,
    time: new Date(at).toISOString().slice(11, 16) + ' UTC',
  };
}

// Three forms per phrasing: with the host, with the service, with the host in parentheses.
const FORMS = ['{t} on {host}', '{service}: {t}', '{t} ({host})'];

function titleOf(symptom: Symptom, phrasing: number, form: number, vars: Vars): string {
  return fill(FORMS[form]!.replace('{t}', symptom.titles[phrasing]!), vars);
}

/** Builds the catalog and the draws of a dataset; the same options give the same dataset. */
export function createDataset(options: DatasetOptions): Dataset {
  const r = createRandom(options.seed, 0);
  const end = options.now.getTime();
  const start = end - HISTORY_DAYS * DAY;
  // ~3,000 CIs over 50 services, more on the popular ones.
  const serviceWeights = serviceNames.map((_, i) => 1 / Math.pow(i + 1, 0.8));
  const weightSum = serviceWeights.reduce((a, b) => a + b, 0);
  const cis: CatalogCi[] = [];
  const roleDraw = weighted(appRoleWeights);
  serviceNames.forEach((service, s) => {
    const count = Math.max(12, Math.round((2400 * serviceWeights[s]!) / weightSum) + 12);
    const perRole = new Map<Role, number>();
    for (let k = 0; k < count; k++) {
      const role = service === 'network' ? r.pick(networkRoles) : appRoles[draw(roleDraw, r)]!;
      const n = (perRole.get(role) ?? 0) + 1;
      perRole.set(role, n);
      cis.push({ name: `${service}-${role}-${String(n).padStart(2, '0')}`, service: s, role });
    }
  });
  const people = firstNames
    .flatMap((f) => lastNames.map((l) => `${f}.${l}`))
    .filter(() => r.chance(0.32));
  const serviceGroup = serviceNames.map((_, s) => appSupport[s % appSupport.length]!);
  const symptomCis = symptoms.map((sym) => {
    const matching = cis.filter((c) => sym.roles.includes(c.role));
    return {
      cis: matching,
      weights: weighted(matching.map((c) => serviceWeights[c.service]!)),
    };
  });
  const symptomWeights = weighted(symptoms.map((_, i) => 1 / Math.pow(i + 1, 0.6)));
  // Recurring issues: the same title on the same CI for weeks, a third with a problem record.
  const recurring: Recurring[] = [];
  const problems: GeneratedProblem[] = [];
  const count = Math.max(20, Math.round(options.incidents / 500));
  for (let k = 0; k < count; k++) {
    const symptom = draw(symptomWeights, r);
    const sym = symptoms[symptom]!;
    const { cis: candidates, weights } = symptomCis[symptom]!;
    const ci = candidates[draw(weights, r)]!;
    const from = start + r.next() * (HISTORY_DAYS - 20) * DAY;
    const to = Math.min(end, from + (20 + r.int(160)) * DAY);
    const vars = varsFor(r, ci, serviceNames, from);
    const title = titleOf(sym, r.int(sym.titles.length), r.int(FORMS.length), vars);
    const slot = r.chance(0.5) ? r.int(7) * DAY + r.int(24) * HOUR : null;
    let problemId: number | null = null;
    if (k % 3 === 0) {
      problemId = problems.length + 1;
      problems.push(
        problemOf(
          problemId,
          k,
          sym,
          title,
          vars,
          ci,
          serviceNames,
          groupOf(sym, ci, serviceGroup),
          {
            openedAt: Math.min(end - HOUR, from + 14 * DAY),
            r,
          },
        ),
      );
    }
    recurring.push({
      symptom,
      title,
      description: fill(sym.description, vars),
      vars,
      ci,
      from,
      to,
      slot,
      problemId,
    });
  }
  return {
    ...options,
    catalog: {
      services: serviceNames,
      cis,
      groups,
      people,
      templates: symptoms.reduce((n, s) => n + s.titles.length * FORMS.length, 0),
      recurring,
      problems,
    },
    start,
    end,
    meanAlerts: Math.max(1, (0.95 * options.alerts) / Math.max(1, options.incidents)),
    symptomWeights,
    recurringWeights: weighted(recurring.map((_, k) => 1 / Math.pow(k + 1, 0.7))),
    symptomCis,
    serviceWeights,
    serviceGroup,
  };
}

function groupOf(sym: Symptom, ci: CatalogCi, serviceGroup: string[]): string {
  return sym.group === 'app' ? serviceGroup[ci.service]! : sym.group;
}

/** A problem behind a recurring issue. */
export type GeneratedProblem = {
  id: number;
  number: string;
  title: string;
  description: string;
  state: string;
  impact: number;
  urgency: number;
  priority: number;
  category: string;
  service: string;
  primaryCi: string;
  cis: string[];
  assignmentGroup: string;
  openedAt: Date;
  cause: string | null;
  workaround: string;
  signature: string;
  updatedAt: Date;
};

function problemOf(
  id: number,
  k: number,
  sym: Symptom,
  title: string,
  vars: Vars,
  ci: CatalogCi,
  services: string[],
  group: string,
  { openedAt, r }: { openedAt: number; r: Random },
): GeneratedProblem {
  const state = r.pick(['assess', 'root_cause_analysis', 'fix_in_progress', 'resolved']);
  return {
    id,
    number: `PRB${String(1000 + id).padStart(7, '0')}`,
    title: `Recurring: ${title}`,
    description: `Incidents "${title}" keep coming back on ${ci.name}. ${fill(sym.description, vars)}`,
    state,
    impact: 2,
    urgency: 2,
    priority: 3,
    category: sym.category,
    service: services[ci.service]!,
    primaryCi: ci.name,
    cis: [ci.name],
    assignmentGroup: group,
    openedAt: new Date(openedAt),
    cause: state === 'assess' ? null : `Root cause under review for ${sym.key} on ${ci.name}.`,
    workaround: fill(sym.resolutions[0]!, vars),
    signature: `${sym.key}|${ci.name}|${k}`,
    updatedAt: new Date(openedAt + DAY),
  };
}

/** An incident as the bench stores it (API field names), with what its alerts are made from. */
export type GeneratedIncident = {
  id: number;
  number: string;
  title: string;
  description: string;
  state: string;
  severity: Severity;
  impact: number;
  urgency: number;
  priority: number;
  category: string;
  service: string;
  primaryCi: string;
  cis: string[];
  assignmentGroup: string;
  assignee: string | null;
  openedAt: Date;
  acknowledgedAt: Date | null;
  resolvedAt: Date | null;
  closedAt: Date | null;
  holdReason: string | null;
  resolutionCode: string | null;
  resolutionNotes: string | null;
  reopenCount: number;
  channel: string;
  major: boolean;
  problemId: number | null;
  lastAlertAt: Date;
  alertCount: number;
  version: number;
  updatedAt: Date;
  /** What its alerts are made of (not stored). */
  symptom: number;
  vars: Vars;
  source: string;
};

// Default TOCSIN_PRIORITY_MATRIX: priority by impact (rows) and urgency (columns).
const PRIORITY = [
  [1, 2, 3],
  [2, 3, 4],
  [3, 4, 5],
];

function impactUrgency(severity: Severity, r: Random): [number, number] {
  switch (severity) {
    case 'critical':
      return [1, 1 + r.int(2)];
    case 'major':
      return [1 + r.int(2), 1 + r.int(2)];
    case 'minor':
      return [2, 2 + r.int(2)];
    case 'warning':
    case 'info':
      return [2 + r.int(2), 3];
  }
}

// States by age: recent incidents are open, old ones closed.
const STATES_BY_AGE: { maxAge: number; states: [string, number][] }[] = [
  {
    maxAge: 4 * HOUR,
    states: [
      ['new', 45],
      ['in_progress', 40],
      ['on_hold', 5],
      ['resolved', 10],
    ],
  },
  {
    maxAge: DAY,
    states: [
      ['new', 10],
      ['in_progress', 35],
      ['on_hold', 10],
      ['resolved', 40],
      ['canceled', 5],
    ],
  },
  {
    maxAge: 7 * DAY,
    states: [
      ['new', 2],
      ['in_progress', 8],
      ['on_hold', 5],
      ['resolved', 35],
      ['closed', 45],
      ['canceled', 5],
    ],
  },
  {
    maxAge: Infinity,
    states: [
      ['in_progress', 1],
      ['on_hold', 1],
      ['resolved', 2],
      ['closed', 90],
      ['canceled', 6],
    ],
  },
];
const stateDraws = STATES_BY_AGE.map((b) => ({
  maxAge: b.maxAge,
  states: b.states.map(([s]) => s),
  weights: weighted(b.states.map(([, w]) => w)),
}));

const CHANNELS = weighted([85, 6, 5, 4]);
const CHANNEL_NAMES = ['monitoring', 'phone', 'email', 'self_service'];
const SEVERITY_ORDER: Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];

/** Incident i of the dataset (ids from 1), a pure function of the seed and i. */
export function generateIncident(d: Dataset, i: number): GeneratedIncident {
  const r = createRandom(d.seed, 1, i);
  const { catalog } = d;
  // Spread over the history in id order, so that ids grow with time as they do in production.
  let openedAt = d.start + ((i + r.next()) / d.incidents) * (d.end - d.start);
  let symptomIndex: number;
  let ci: CatalogCi;
  let title: string;
  let description: string;
  let vars: Vars;
  let problemId: number | null = null;
  const rec = r.chance(0.3) ? catalog.recurring[draw(d.recurringWeights, r)]! : null;
  if (rec && openedAt >= rec.from && openedAt < rec.to) {
    if (rec.slot !== null) {
      // On its weekly slot (a backup every Sunday at 02:00), give or take 20 minutes.
      const week = Math.floor((openedAt - WEEK_ORIGIN) / (7 * DAY));
      openedAt = WEEK_ORIGIN + week * 7 * DAY + rec.slot + r.int(20) * MINUTE;
      if (openedAt > d.end) openedAt -= 7 * DAY;
    }
    symptomIndex = rec.symptom;
    ci = rec.ci;
    title = rec.title;
    vars = { ...rec.vars, time: new Date(openedAt).toISOString().slice(11, 16) + ' UTC' };
    description = rec.description;
    const problem = rec.problemId === null ? null : catalog.problems[rec.problemId - 1]!;
    if (problem && openedAt >= problem.openedAt.getTime()) problemId = problem.id;
  } else {
    symptomIndex = draw(d.symptomWeights, r);
    const { cis, weights } = d.symptomCis[symptomIndex]!;
    ci = cis[draw(weights, r)]!;
    vars = varsFor(r, ci, catalog.services, openedAt);
    const sym = symptoms[symptomIndex]!;
    title = titleOf(sym, r.int(sym.titles.length), r.int(FORMS.length), vars);
    description = fill(sym.description, vars);
  }
  const sym = symptoms[symptomIndex]!;
  const service = catalog.services[ci.service]!;
  const source = r.pick(sym.sources);
  const severity = r.chance(0.7) ? sym.severities[0]! : r.pick(sym.severities);
  const [impact, urgency] = impactUrgency(severity, r);
  const priority = PRIORITY[impact - 1]![urgency - 1]!;
  const cis = [ci.name];
  // Related CIs of the same service: what the correlator attached.
  for (let k = r.int(3); k > 0; k--) {
    const other = catalog.cis[r.int(catalog.cis.length)]!;
    if (other.service === ci.service && !cis.includes(other.name)) cis.push(other.name);
  }
  const age = d.end - openedAt;
  const band = stateDraws.find((b) => age < b.maxAge)!;
  let state = band.states[draw(band.weights, r)]!;
  const acknowledgedAt = state === 'new' ? null : openedAt + (1 + r.int(60)) * MINUTE;
  let resolvedAt: number | null = null;
  let closedAt: number | null = null;
  if (state === 'resolved' || state === 'closed') {
    resolvedAt = Math.min(d.end, (acknowledgedAt ?? openedAt) + r.exponential(priority * 2 * HOUR));
    if (state === 'closed') {
      closedAt = resolvedAt + 3 * DAY;
      if (closedAt > d.end) {
        closedAt = null;
        state = 'resolved';
      }
    }
  }
  if (state === 'canceled') closedAt = Math.min(d.end, openedAt + r.int(120) * MINUTE);
  const group = r.chance(0.15) ? r.pick(['noc-l1', 'noc-l2']) : groupOf(sym, ci, d.serviceGroup);
  const lastAlertAt = Math.min(resolvedAt ?? closedAt ?? d.end, openedAt + r.int(90) * MINUTE);
  const resolutionNotes =
    resolvedAt !== null
      ? `${fill(r.pick(sym.resolutions), vars)} Verified in ${source} that the alert cleared.`
      : state === 'canceled'
        ? r.pick(['False positive during maintenance.', 'Duplicate of an open incident.'])
        : null;
  const updatedAt = Math.max(openedAt, acknowledgedAt ?? 0, resolvedAt ?? 0, closedAt ?? 0);
  const major = priority === 1 && r.chance(0.1);
  return {
    id: i + 1,
    number: `INC${String(1000 + i + 1).padStart(7, '0')}`,
    title,
    description: `${description} Detected by ${source}.`,
    state,
    severity,
    impact,
    urgency,
    priority,
    category: sym.category,
    service,
    primaryCi: ci.name,
    cis,
    assignmentGroup: group,
    assignee: state === 'new' ? null : r.pick(catalog.people),
    openedAt: new Date(openedAt),
    acknowledgedAt: acknowledgedAt === null ? null : new Date(acknowledgedAt),
    resolvedAt: resolvedAt === null ? null : new Date(resolvedAt),
    closedAt: closedAt === null ? null : new Date(closedAt),
    holdReason: state === 'on_hold' ? r.pick(holdReasons) : null,
    resolutionCode:
      resolvedAt !== null ? r.pick(resolutionCodes) : state === 'canceled' ? 'canceled' : null,
    resolutionNotes,
    reopenCount: r.chance(0.03) ? 1 : 0,
    channel: CHANNEL_NAMES[draw(CHANNELS, r)]!,
    major,
    problemId,
    lastAlertAt: new Date(lastAlertAt),
    // Replaced by the planned count in `incidents()`.
    alertCount: 0,
    version: 1 + (acknowledgedAt ? 1 : 0) + (resolvedAt ? 1 : 0) + (closedAt ? 1 : 0),
    updatedAt: new Date(updatedAt),
    symptom: symptomIndex,
    vars,
    source,
  };
}

function plannedAlerts(d: Dataset, incident: GeneratedIncident): number {
  const r = createRandom(d.seed, 2, incident.id);
  const mean = d.meanAlerts * (incident.major ? 3 : 1);
  return Math.min(Math.ceil(mean * 20), 1 + Math.round(r.exponential(Math.max(0, mean - 1))));
}

/**
 * The incidents of the dataset in id order, each with the number of alerts that the alert pass
 * gives it (the alerts run out before the incidents only in tiny datasets).
 */
export function* incidents(d: Dataset): Generator<GeneratedIncident> {
  let left = d.alerts;
  for (let i = 0; i < d.incidents; i++) {
    const incident = generateIncident(d, i);
    const count = Math.min(left, plannedAlerts(d, incident));
    left -= count;
    incident.alertCount = count;
    yield incident;
  }
}

/** An alert as the bench stores it (API field names). */
export type GeneratedAlert = {
  id: number;
  fingerprint: string;
  incidentId: number | null;
  ci: string;
  title: string;
  description: string;
  severity: Severity;
  status: 'firing' | 'resolved';
  source: string;
  service: string;
  labels: Record<string, string>;
  startsAt: Date;
  endsAt: Date | null;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
  count: number;
  version: number;
};

const sources = [...new Set(symptoms.flatMap((s) => s.sources))];

function hex(r: Random, digits: number): string {
  let s = '';
  while (s.length < digits) s += (r.int(0x10000000) + 0x10000000).toString(16).slice(1);
  return s.slice(0, digits);
}

function alertOf(
  d: Dataset,
  id: number,
  incident: GeneratedIncident | null,
  k: number,
  of: number,
): GeneratedAlert {
  const r = createRandom(d.seed, 3, id);
  const { catalog } = d;
  let sym: Symptom;
  let ci: string;
  let service: string;
  let vars: Vars;
  let startsAt: number;
  let severity: Severity;
  let resolved: boolean;
  let source: string;
  let group: string;
  if (incident) {
    sym = symptoms[incident.symptom]!;
    ci = k === 0 || r.chance(0.6) ? incident.primaryCi : r.pick(incident.cis);
    service = incident.service;
    // Each alert has its own reading (another percentage, another latency) on its own CI.
    vars = { ...incident.vars, ...pickReadings(r), host: ci };
    const span = Math.max(MINUTE, incident.lastAlertAt.getTime() - incident.openedAt.getTime());
    startsAt = incident.openedAt.getTime() - 3 * MINUTE + (span * k) / of + r.int(60_000);
    const i = SEVERITY_ORDER.indexOf(incident.severity);
    severity = r.chance(0.7) ? incident.severity : SEVERITY_ORDER[Math.min(4, i + 1)]!;
    resolved = incident.resolvedAt !== null || incident.closedAt !== null || r.chance(0.1);
    source = r.chance(0.8) ? incident.source : r.pick(sym.sources);
    group = incident.assignmentGroup;
  } else {
    // Not correlated: low-severity noise on any CI.
    const c = catalog.cis[r.int(catalog.cis.length)]!;
    sym = symptoms[draw(d.symptomWeights, r)]!;
    ci = c.name;
    service = catalog.services[c.service]!;
    startsAt = d.start + r.next() * (d.end - d.start);
    vars = varsFor(r, c, catalog.services, startsAt);
    severity = r.chance(0.7) ? 'info' : 'warning';
    resolved = r.chance(0.9);
    source = r.pick(sources);
    group = groupOf(sym, c, d.serviceGroup);
  }
  startsAt = Math.min(startsAt, d.end - MINUTE);
  const count = 1 + Math.floor(r.exponential(3));
  const firstReceivedAt = startsAt + r.int(30_000);
  const limit = incident?.resolvedAt?.getTime() ?? d.end;
  const lastReceivedAt = Math.max(
    firstReceivedAt,
    Math.min(limit, firstReceivedAt + (count - 1) * 5 * MINUTE),
  );
  const endsAt = resolved ? Math.min(d.end, lastReceivedAt + r.int(10) * MINUTE) : null;
  return {
    id,
    fingerprint: hex(r, 24) + id.toString(16),
    incidentId: incident?.id ?? null,
    ci,
    title: fill(sym.alert, vars),
    description: fill(sym.description, vars),
    severity,
    status: resolved ? 'resolved' : 'firing',
    source,
    service,
    labels: {
      alertname: sym.key,
      env: r.chance(0.9) ? 'production' : 'staging',
      region: vars.region ?? 'eu-west-1',
      team: group,
      instance: `${ci}:9100`,
      job: sym.category,
    },
    startsAt: new Date(startsAt),
    endsAt: endsAt === null ? null : new Date(endsAt),
    firstReceivedAt: new Date(firstReceivedAt),
    lastReceivedAt: new Date(lastReceivedAt),
    count,
    version: count + (resolved ? 1 : 0),
  };
}

function pickReadings(r: Random): Vars {
  return {
    pct: String(85 + r.int(15)),
    small: String(2 + r.int(38)),
    ms: String(200 + 50 * r.int(97)),
    sec: String(30 + 10 * r.int(88)),
    n: String(2 + r.int(498)),
  };
}

/**
 * The alerts of the dataset in id order: each incident's alerts (regenerated, not kept), then
 * uncorrelated low-severity alerts up to the total.
 */
export function* alerts(d: Dataset): Generator<GeneratedAlert> {
  let id = 0;
  for (const incident of incidents(d)) {
    for (let k = 0; k < incident.alertCount; k++)
      yield alertOf(d, ++id, incident, k, incident.alertCount);
  }
  while (id < d.alerts) yield alertOf(d, ++id, null, 0, 1);
}
