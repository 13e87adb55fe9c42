/**
 * What alerts say in bench/correlation: the symptoms a CI shows (each as a monitoring rule would
 * word it, in a few paraphrases, with the variable values left as `{placeholders}`), the failure
 * modes that start a fault on a root CI, and which symptoms a CI shows when something it needs
 * fails, or when nothing failed at all (background noise).
 */
import type { Severity } from '../../correlator/alert.ts';

/** A symptom: the texts of the alerts that report it. */
export type Symptom = {
  /** Stable rule name (a Prometheus alertname, a Datadog monitor, a Zabbix trigger). */
  name: string;
  /** Paraphrases of the summary; a team's rule uses one of them. */
  summaries: string[];
  /** The longer text, with its measured values. */
  detail: string;
  /** The Nagios service description. */
  check: string;
  /** The Nagios plugin output. */
  output: string;
  /** The CloudWatch metric. */
  metric: string;
  severities: Severity[];
};

const catalog: Symptom[] = [
  {
    name: 'DeviceDown',
    summaries: ['Device {ci} unreachable', '{ci} is not responding to ICMP', 'Host {ci} is down'],
    detail: 'No ICMP reply from {ip} for {n} consecutive polls (last seen {sec}s ago).',
    check: 'PING',
    output: 'PING CRITICAL - Packet loss = 100%',
    metric: 'StatusCheckFailed',
    severities: ['critical', 'major'],
  },
  {
    name: 'InterfaceDown',
    summaries: [
      'Interface {iface} down on {ci}',
      'Link down on {ci} ({iface})',
      '{ci}: Interface {iface}: Link down',
    ],
    detail:
      'ifOperStatus of {iface} on {ci} ({ip}) changed from up to down; {n} flaps in the last hour.',
    check: 'Interface {iface}',
    output: '{iface} is down (ifIndex {n})',
    metric: 'NetworkPacketsIn',
    severities: ['major', 'critical', 'minor'],
  },
  {
    name: 'PacketLoss',
    summaries: [
      'High packet loss to {ci}',
      'Packet loss {pct2}% on {ci}',
      'Unstable network path to {ci}',
    ],
    detail: 'Packet loss {pct2}% and RTT {ms} ms towards {ip} over the last 5 minutes.',
    check: 'PING',
    output: 'PING WARNING - Packet loss = {pct2}%, RTA = {ms} ms',
    metric: 'NetworkPacketsOut',
    severities: ['minor', 'major', 'warning'],
  },
  {
    name: 'BgpSessionDown',
    summaries: [
      'BGP session down on {ci}',
      'BGP peer {peerIp} not established',
      'BGP neighbor {peerIp} is Idle on {ci}',
    ],
    detail:
      'BGP neighbor {peerIp} (AS {asn}) changed state from Established to Idle on {ci}; {n} prefixes withdrawn.',
    check: 'BGP {peerIp}',
    output: 'BGP peer {peerIp} state Idle, {n} prefixes withdrawn',
    metric: 'BGPPeerState',
    severities: ['critical', 'major'],
  },
  {
    name: 'FirewallFailover',
    summaries: [
      'HA failover on {ci}',
      'Cluster member {ci} changed to standby',
      'Firewall {ci} failed over',
    ],
    detail:
      'HA state of {ci} changed from active to standby after {n} missed heartbeats; session sync {pct}%.',
    check: 'HA Status',
    output: 'HA state changed to standby ({n} missed heartbeats)',
    metric: 'HAState',
    severities: ['major', 'critical'],
  },
  {
    name: 'SessionTableFull',
    summaries: ['Session table almost full on {ci}', 'Connection table usage high on {ci}'],
    detail: 'Session table of {ci} at {pct}% ({n} new sessions/s, {n2} dropped).',
    check: 'Sessions',
    output: 'sessions {pct}% used, {n2} dropped',
    metric: 'ActiveConnectionCount',
    severities: ['major', 'critical'],
  },
  {
    name: 'LbPoolDown',
    summaries: [
      'Pool {pool} has no active members',
      'Members of {pool} down on {ci}',
      'Load balancer {ci}: pool {pool} degraded',
    ],
    detail:
      'Pool {pool} on {ci}: {n} members marked down, last health check answered HTTP 503 after {ms} ms.',
    check: 'Pool {pool}',
    output: 'pool {pool}: {n} members down',
    metric: 'UnHealthyHostCount',
    severities: ['critical', 'major'],
  },
  {
    name: 'LbHighLatency',
    summaries: ['High backend latency on {ci}', 'Slow responses through {ci}'],
    detail: 'Backend response time p95 {ms} ms on {ci} (threshold 800 ms), {n} requests queued.',
    check: 'Latency',
    output: 'p95 response time {ms} ms',
    metric: 'TargetResponseTime',
    severities: ['minor', 'major', 'warning'],
  },
  {
    name: 'HostDown',
    summaries: [
      'Instance {ci} down',
      '{ci} is unreachable',
      'No data from {ci} for 5 minutes',
      'Host {ci} not responding',
    ],
    detail: '{ci} ({ip}) has not answered for {sec}s; {n} checks failed in a row.',
    check: 'Host Alive',
    output: 'Host Unreachable ({ip})',
    metric: 'StatusCheckFailed_System',
    severities: ['critical', 'major'],
  },
  {
    name: 'HighCpu',
    summaries: [
      'High CPU usage on {ci}',
      'High CPU utilization (over 90% for 5m)',
      'CPU utilization above threshold on {ci}',
    ],
    detail: 'CPU usage is {pct}% on {ci} ({ip}); load average {load}.',
    check: 'CPU Load',
    output: 'load average: {load}, {load2}, {load3}',
    metric: 'CPUUtilization',
    severities: ['warning', 'minor', 'major'],
  },
  {
    name: 'HighMemory',
    summaries: [
      'Memory usage above 90% on {ci}',
      'Low available memory on {ci}',
      'High memory utilization (>90% for 5m)',
    ],
    detail: 'Available memory on {ci} is {mb} MB ({pct}% used); swap in use.',
    check: 'Memory',
    output: '{pct}% memory used ({mb} MB free)',
    metric: 'MemoryUtilization',
    severities: ['warning', 'minor', 'major'],
  },
  {
    name: 'DiskFull',
    summaries: [
      'Disk space low on {mount}',
      'Filesystem {mount} almost full on {ci}',
      'Free disk space is less than 10% on volume {mount}',
    ],
    detail: 'Filesystem {mount} on {ci} is {pct}% full ({mb} MB free).',
    check: 'Disk {mount}',
    output: 'DISK CRITICAL - free space: {mount} {mb} MB ({pct2}% inode={pct2}%)',
    metric: 'DiskSpaceUtilization',
    severities: ['warning', 'minor', 'major'],
  },
  {
    name: 'DiskIoLatency',
    summaries: [
      'High disk I/O latency on {ci}',
      'Disk latency high on {ci} ({dev})',
      'I/O wait above 30% on {ci}',
    ],
    detail: 'Average {dev} latency {ms} ms on {ci}, iowait {pct2}%.',
    check: 'Disk IO',
    output: '{dev} await {ms} ms',
    metric: 'VolumeTotalReadTime',
    severities: ['minor', 'major', 'warning'],
  },
  {
    name: 'NetworkErrors',
    summaries: [
      'Network interface errors on {ci}',
      'High error rate on {iface} of {ci}',
      'Network unreachable from {ci}',
    ],
    detail: '{n} rx errors and {n2} drops on {iface} of {ci} in 5m; gateway {peerIp} unreachable.',
    check: 'Network {iface}',
    output: '{iface}: {n} errors, {n2} drops',
    metric: 'NetworkPacketsIn',
    severities: ['minor', 'major'],
  },
  {
    name: 'HardwareFault',
    summaries: [
      'Hardware failure on {ci}',
      'Hardware health degraded on {ci}',
      'IPMI alert on {ci}',
    ],
    detail: 'IPMI SEL on {ci}: {hw} reported a failure (sensor 0x{hex2}).',
    check: 'IPMI',
    output: '{hw} failed (sensor 0x{hex2})',
    metric: 'StatusCheckFailed_Instance',
    severities: ['critical', 'major'],
  },
  {
    name: 'OomKill',
    summaries: ['OOM killer invoked on {ci}', 'Process killed: out of memory on {ci}'],
    detail: 'Kernel OOM killer ended pid {pid} ({proc}) on {ci}; {mb} MB RSS.',
    check: 'Kernel',
    output: 'OOM kill of {proc} (pid {pid})',
    metric: 'MemoryUtilization',
    severities: ['major', 'minor'],
  },
  {
    name: 'DatastoreLatency',
    summaries: ['Datastore latency high on {ci}', 'Storage path degraded on {ci}'],
    detail: 'Datastore {ds} on {ci}: read latency {ms} ms, {n} paths degraded.',
    check: 'Datastore {ds}',
    output: '{ds} latency {ms} ms',
    metric: 'VolumeReadLatency',
    severities: ['major', 'minor'],
  },
  {
    name: 'ClockSkew',
    summaries: ['Clock skew detected on {ci}', 'NTP offset too large on {ci}'],
    detail: 'NTP offset of {ci} is {ms} ms (stratum {digit}).',
    check: 'NTP',
    output: 'NTP WARNING: Offset {sec} secs',
    metric: 'ClockErrorBound',
    severities: ['warning', 'minor'],
  },
  {
    name: 'BackupFailed',
    summaries: ['Backup job failed on {ci}', 'Nightly backup of {ci} did not complete'],
    detail: 'Backup job {hex} for {ci} exited with code {digit} after {sec}s.',
    check: 'Backup',
    output: 'last successful backup {n} hours ago',
    metric: 'NumberOfBackupJobsFailed',
    severities: ['minor', 'warning'],
  },
  {
    name: 'CertificateExpiring',
    summaries: [
      'SSL certificate on {ci} expires soon',
      'Certificate for {fqdn} is about to expire',
    ],
    detail: 'The TLS certificate served by {fqdn}:443 (serial {hex}) expires in {days} days.',
    check: 'HTTPS Certificate',
    output: 'Certificate {fqdn} will expire in {days} days',
    metric: 'DaysToExpiry',
    severities: ['warning'],
  },
  {
    name: 'ProcessRestarted',
    summaries: ['Service restarted on {ci}', 'Process {proc} restarted on {ci}'],
    detail: 'systemd restarted {proc}.service on {ci} (exit status {digit}, pid {pid}).',
    check: 'Procs {proc}',
    output: '{proc} restarted {digit} times',
    metric: 'ProcessRestarts',
    severities: ['warning', 'info'],
  },
  {
    name: 'LogErrors',
    summaries: ['Error spike in logs of {ci}', 'Many ERROR lines in {ci} logs'],
    detail: '{n} ERROR lines in 5m on {ci}, e.g. "request {uuid} failed: {exc}".',
    check: 'Logs',
    output: '{n} errors in log',
    metric: 'ErrorLogCount',
    severities: ['warning', 'minor'],
  },
  {
    name: 'DatabaseDown',
    summaries: [
      '{engine} instance {ci} is down',
      'Database {ci} not accepting connections',
      '{engine} on {ci} unreachable',
    ],
    detail:
      '{engine} on {ci}:{port} is down; last error: connection refused ({ip}), {n} clients disconnected.',
    check: '{engine}',
    output: 'could not connect to {ci}:{port}',
    metric: 'DatabaseConnections',
    severities: ['critical'],
  },
  {
    name: 'ReplicationLag',
    summaries: [
      'Replication lag on {ci}',
      'Replica {ci} lagging behind primary',
      'Replication lag above 30s on {ci}',
    ],
    detail: 'Replica {ci} is {sec}s behind {upstream} (wal position {hex}).',
    check: 'Replication',
    output: 'replication delay {sec} seconds',
    metric: 'ReplicaLag',
    severities: ['minor', 'major'],
  },
  {
    name: 'ReplicationBroken',
    summaries: ['Replication stopped on {ci}', 'Replica {ci} cannot reach primary {upstream}'],
    detail:
      'Replication on {ci} stopped: could not connect to {upstream}:{port}: timeout after {ms} ms.',
    check: 'Replication',
    output: 'replication not running ({upstream} unreachable)',
    metric: 'ReplicaLag',
    severities: ['major', 'critical'],
  },
  {
    name: 'TooManyConnections',
    summaries: [
      'Connections exhausted on {ci}',
      'Too many connections to {ci}',
      '{ci} near max_connections',
    ],
    detail: '{ci}: {n} connections in use ({pct}% of max); {n2} clients waiting.',
    check: 'Connections',
    output: '{n} connections ({pct}% of max)',
    metric: 'DatabaseConnections',
    severities: ['major', 'critical'],
  },
  {
    name: 'LockWaits',
    summaries: [
      'Long running transactions on {ci}',
      'Lock waits high on {ci}',
      'Slow queries on {ci}',
    ],
    detail: 'Transaction {hex} on {ci} has held locks for {sec}s; {n} sessions waiting.',
    check: 'Locks',
    output: '{n} waiting locks, oldest {sec}s',
    metric: 'DiskQueueDepth',
    severities: ['minor', 'major', 'warning'],
  },
  {
    name: 'CacheDown',
    summaries: [
      'Redis {ci} down',
      'Redis instance {ci} unreachable',
      'Cache node {ci} not responding',
    ],
    detail: 'redis_up == 0 on {ci}:{port} ({ip}); {n} clients disconnected.',
    check: 'Redis',
    output: 'connection refused on port {port}',
    metric: 'CurrConnections',
    severities: ['critical', 'major'],
  },
  {
    name: 'CacheMemory',
    summaries: ['Redis memory usage high on {ci}', 'Evictions on {ci}'],
    detail: 'used_memory at {pct}% of maxmemory on {ci}; {n} keys evicted in 5m.',
    check: 'Redis memory',
    output: 'memory {pct}%, {n} evictions',
    metric: 'DatabaseMemoryUsagePercentage',
    severities: ['minor', 'warning', 'major'],
  },
  {
    name: 'CacheLatency',
    summaries: ['Redis latency high on {ci}', 'Slow commands on {ci}'],
    detail: 'Command latency p99 {ms} ms on {ci}; slowlog has {n} entries.',
    check: 'Redis latency',
    output: 'p99 {ms} ms',
    metric: 'EngineCPUUtilization',
    severities: ['minor', 'major'],
  },
  {
    name: 'BrokerDown',
    summaries: [
      '{engine} broker {ci} offline',
      'Message broker {ci} down',
      '{engine} node {ci} unreachable',
    ],
    detail: 'Broker {ci} ({ip}:{port}) left the cluster; {n} partitions without leader.',
    check: 'Broker',
    output: 'broker not reachable on {port}',
    metric: 'ActiveControllerCount',
    severities: ['critical', 'major'],
  },
  {
    name: 'ConsumerLag',
    summaries: [
      'Consumer lag on {topic} growing',
      'Queue {topic} backlog high',
      'Messages piling up in {topic}',
    ],
    detail: 'Consumer group {group} on {topic} is {n} messages behind ({sec}s).',
    check: 'Queue {topic}',
    output: '{n} messages in {topic}',
    metric: 'ApproximateNumberOfMessagesVisible',
    severities: ['minor', 'major', 'warning'],
  },
  {
    name: 'ClusterDegraded',
    summaries: [
      'Offline partitions in {ci}',
      'Cluster {ci} degraded',
      'Under-replicated partitions on {ci}',
    ],
    detail: '{n} partitions of {ci} are under-replicated, {n2} offline; ISR shrunk {digit} times.',
    check: 'Cluster',
    output: '{n} under-replicated, {n2} offline partitions',
    metric: 'OfflinePartitionsCount',
    severities: ['major', 'critical'],
  },
  {
    name: 'StorageLatency',
    summaries: ['Array {ci} latency high', 'Volume latency above threshold on {ci}'],
    detail: 'Average latency {ms} ms on {ci} aggregate {pool} ({n} IOPS).',
    check: 'Latency',
    output: 'latency {ms} ms',
    metric: 'VolumeReadLatency',
    severities: ['major', 'minor'],
  },
  {
    name: 'ControllerFailover',
    summaries: ['Controller failover on {ci}', 'Storage controller {ctrl} offline on {ci}'],
    detail: 'Controller {ctrl} of {ci} went offline; takeover by its partner after {sec}s.',
    check: 'Controller',
    output: 'controller {ctrl} offline, takeover done',
    metric: 'ControllerStatus',
    severities: ['major', 'critical'],
  },
  {
    name: 'PoolFull',
    summaries: ['Storage pool {pool} almost full', 'Capacity warning on {ci}'],
    detail: 'Aggregate {pool} on {ci} is {pct}% full ({n} GiB free).',
    check: 'Capacity {pool}',
    output: '{pool} {pct}% used',
    metric: 'StorageUtilization',
    severities: ['minor', 'major', 'warning'],
  },
  {
    name: 'KubeApiDown',
    summaries: [
      'Kubernetes API server unreachable',
      'KubeAPIDown on {ci}',
      'Control plane of {ci} not responding',
    ],
    detail: 'apiserver of {ci} failed {n} probes; last error: dial tcp {ip}:6443: i/o timeout.',
    check: 'kube-apiserver',
    output: 'apiserver probe failed: i/o timeout',
    metric: 'APIServerRequestErrors',
    severities: ['critical', 'major'],
  },
  {
    name: 'EtcdLatency',
    summaries: ['etcd high fsync durations on {ci}', 'etcd leader changes on {ci}'],
    detail: 'etcd on {ci}: fsync p99 {ms} ms, {digit} leader changes in 10m.',
    check: 'etcd',
    output: 'fsync p99 {ms} ms',
    metric: 'EtcdDiskLatency',
    severities: ['major', 'minor'],
  },
  {
    name: 'KubeNodeNotReady',
    summaries: ['Node {ci} NotReady', 'Kubernetes node {ci} not ready', 'KubeNodeNotReady'],
    detail: 'Node {ci} has been NotReady for {sec}s; {n} pods evicted.',
    check: 'kubelet',
    output: 'node NotReady for {sec}s',
    metric: 'NodeStatusCondition',
    severities: ['major', 'critical'],
  },
  {
    name: 'InstanceDown',
    summaries: [
      'Instance {ci} down',
      'Health check failed for {ci}',
      '{ci} is not responding on port {port}',
    ],
    detail: 'GET http://{ci}:{port}/health failed: {err} after {ms} ms (request {uuid}).',
    check: 'HTTP',
    output: 'HTTP CRITICAL - {err}',
    metric: 'HealthyHostCount',
    severities: ['critical', 'major'],
  },
  {
    name: 'HighErrorRate',
    summaries: [
      'High HTTP 5xx rate on {ci}',
      'Error rate above threshold on {ci}',
      'Elevated errors on {app}',
    ],
    detail: '{n} of {m} requests failed with 5xx in 5m ({pct2}%); example trace {hex}.',
    check: 'HTTP errors',
    output: '{pct2}% of requests failed',
    metric: 'HTTPCode_Target_5XX_Count',
    severities: ['major', 'critical', 'minor'],
  },
  {
    name: 'HighLatency',
    summaries: [
      'p99 latency high on {ci}',
      'Slow responses from {ci}',
      'Latency SLO at risk on {app}',
    ],
    detail: 'p99 latency {ms} ms on {ci} (threshold 500 ms) for {sec}s.',
    check: 'HTTP latency',
    output: 'p99 {ms} ms',
    metric: 'TargetResponseTime',
    severities: ['minor', 'major', 'warning'],
  },
  {
    name: 'DependencyErrors',
    summaries: [
      'Cannot connect to {upstream}',
      'Database connection errors on {ci}',
      'Connection pool exhausted on {ci}',
    ],
    detail:
      'HikariPool-1 - Connection is not available, request timed out after {ms}ms (host {upstream}, request {uuid}).',
    check: 'DB connectivity',
    output: 'cannot connect to {upstream}',
    metric: 'DatabaseConnectionErrors',
    severities: ['major', 'critical'],
  },
  {
    name: 'CacheErrors',
    summaries: [
      'Redis timeouts from {ci}',
      'Cache errors on {ci}',
      'Calls to {upstream} timing out',
    ],
    detail:
      'RedisCommandTimeoutException: command timed out after {ms} ms talking to {upstream} (request {uuid}).',
    check: 'Cache connectivity',
    output: '{n} cache timeouts',
    metric: 'CacheErrors',
    severities: ['minor', 'major'],
  },
  {
    name: 'PublishErrors',
    summaries: ['Failed to publish to {upstream}', 'Message broker errors on {ci}'],
    detail:
      'TimeoutException: expiring {n} record(s) for {topic}-{digit}: {ms} ms has passed since batch creation ({upstream}).',
    check: 'Broker connectivity',
    output: '{n} publish failures',
    metric: 'PublishErrors',
    severities: ['major', 'minor'],
  },
  {
    name: 'UpstreamErrors',
    summaries: [
      'Upstream {upstream} returning errors',
      'Calls to {upstream} failing from {ci}',
      'Dependency {upstream} degraded',
    ],
    detail:
      'HTTP 503 from {upstream} on {n} of {m} calls in 5m; circuit breaker open (request {uuid}).',
    check: 'Upstream',
    output: '{n} upstream errors',
    metric: 'UpstreamErrors',
    severities: ['major', 'minor'],
  },
  {
    name: 'CrashLoop',
    summaries: [
      '{ci} restarting repeatedly',
      'Pod {ci} in CrashLoopBackOff',
      'Container of {ci} keeps crashing',
    ],
    detail:
      'Container {ci}-{hex5} restarted {n} times in 10m (exit code 137); last log line: {exc}.',
    check: 'Process',
    output: 'process restarted {digit} times',
    metric: 'ContainerRestarts',
    severities: ['major', 'critical'],
  },
  {
    name: 'MemoryLeak',
    summaries: [
      'Heap usage high on {ci}',
      '{ci} running out of memory',
      'Memory leak suspected on {ci}',
    ],
    detail: 'JVM heap {pct}% after full GC on {ci}; GC pause {ms} ms.',
    check: 'JVM heap',
    output: 'heap {pct}% used',
    metric: 'JVMHeapUsed',
    severities: ['minor', 'major'],
  },
  {
    name: 'ThreadPoolExhausted',
    summaries: ['Thread pool exhausted on {ci}', 'Request queue full on {ci}'],
    detail: '{n} requests rejected on {ci}: pool size 200, active 200, queued {n2}.',
    check: 'Threads',
    output: '{n} requests rejected',
    metric: 'RejectedRequests',
    severities: ['major', 'minor'],
  },
  {
    name: 'SloBurn',
    summaries: [
      'Error budget burn rate high for {app}',
      'SLO {app}-availability burning fast',
      '{app} availability SLO at risk',
    ],
    detail: 'Burn rate {rate}x over 1h for {app}; {pct2}% of the monthly budget left.',
    check: 'SLO',
    output: 'burn rate {rate}x',
    metric: 'SLOBurnRate',
    severities: ['major', 'critical'],
  },
  {
    name: 'ApdexLow',
    summaries: [
      'Apdex dropped on {app}',
      'APM: {app} apdex below 0.7',
      'Degraded user experience on {app}',
    ],
    detail: 'Apdex {apdex} for {app} (threshold 0.85); {n} slow transactions, {n2} errors.',
    check: 'Apdex',
    output: 'apdex {apdex}',
    metric: 'Apdex',
    severities: ['minor', 'major'],
  },
  {
    name: 'DeploymentFailed',
    summaries: ['Deployment of {app} failed', 'Rollout of {app} stuck', 'Canary of {app} failing'],
    detail: 'Rollout of {app} {version}: {n} new pods unhealthy, error rate {pct2}% (build {hex}).',
    check: 'Deploy',
    output: 'rollout stuck at {pct2}%',
    metric: 'DeploymentErrors',
    severities: ['major', 'critical'],
  },
  {
    name: 'SyntheticFailed',
    summaries: [
      'Synthetic check of {ci} failing',
      '[Synthetics] {ci} journey failed',
      'Browser test for {ci} failing',
    ],
    detail: 'Step {digit} of the {ci} journey failed from {n2} locations: {err} ({ms} ms).',
    check: 'Synthetic',
    output: 'journey failed at step {digit}: {err}',
    metric: 'SuccessPercent',
    severities: ['critical', 'major'],
  },
  {
    name: 'AvailabilityLow',
    summaries: ['Availability of {ci} below target', '{ci} availability under SLA'],
    detail: 'Availability of {ci} is {pct}% over 30 min (SLA 99.9%); {n} failed requests.',
    check: 'Availability',
    output: 'availability {pct}%',
    metric: 'Availability',
    severities: ['major', 'critical'],
  },
  {
    name: 'LoginFailures',
    summaries: ['Login failures spike on {ci}', 'Authentication errors on {ci}'],
    detail: '{n} failed logins in 5m on {ci} ({pct2}%): timeout calling {upstream}.',
    check: 'Login',
    output: '{n} failed logins',
    metric: 'LoginFailures',
    severities: ['major', 'critical'],
  },
];

/** Every symptom by name. */
export const symptoms: ReadonlyMap<string, Symptom> = new Map(catalog.map((s) => [s.name, s]));

/** A way a root CI fails: the symptoms it shows, and how far and how long the fault spreads. */
export type FailureMode = {
  key: string;
  /** The CI kinds it happens to (a class, or `cluster:<kind>`). */
  kinds: string[];
  /** Relative frequency among the modes of a kind. */
  weight: number;
  /** Multiplies the chance that the first hop of the cascade happens (0: stays on the root). */
  spread: number;
  /** Median duration in minutes. */
  minutes: number;
  symptoms: string[];
  /** Chronic modes (capacity, leaks, contention) are the ones that tend to recur. */
  chronic: boolean;
  /** The root's contained CIs (an application's instances) are affected too: a bad deploy. */
  contained?: true;
};

const NETWORK = ['router', 'switch', 'firewall'];
const HOSTS = ['server', 'virtual_machine'];

/** A failure mode from a row of the table below. */
function mode(
  key: string,
  kinds: string[],
  weight: number,
  spread: number,
  minutes: number,
  symptoms: string[],
  chronic: boolean,
  extra: { contained?: true } = {},
): FailureMode {
  return { key, kinds, weight, spread, minutes, symptoms, chronic, ...extra };
}

/** The failure modes of root CIs: key, kinds, weight, spread, minutes, symptoms, chronic. */
export const failureModes: FailureMode[] = [
  mode('down', NETWORK, 2, 1, 15, ['DeviceDown'], false),
  mode('bgp-flap', ['router'], 2, 0.6, 12, ['BgpSessionDown', 'PacketLoss'], true),
  mode('uplink-down', ['switch', 'firewall'], 2, 0.8, 20, ['InterfaceDown'], false),
  mode('errors', NETWORK, 1, 0.4, 40, ['PacketLoss', 'NetworkErrors'], true),
  mode('failover', ['firewall'], 2, 0.5, 6, ['FirewallFailover'], false),
  mode('sessions-full', ['firewall'], 1, 0.7, 30, ['SessionTableFull'], true),
  mode('down', ['load_balancer'], 1, 1, 15, ['DeviceDown'], false),
  mode('pool-down', ['load_balancer'], 2, 0.8, 20, ['LbPoolDown'], false),
  mode('latency', ['load_balancer'], 1, 0.5, 30, ['LbHighLatency'], true),
  mode('latency', ['storage'], 2, 0.6, 40, ['StorageLatency'], true),
  mode('controller-failover', ['storage'], 1, 0.5, 8, ['ControllerFailover'], false),
  mode('pool-full', ['storage'], 1, 0.3, 120, ['PoolFull'], true),
  mode('down', HOSTS, 3, 1, 25, ['HostDown'], false),
  mode('hardware', ['server'], 2, 0.8, 60, ['HardwareFault', 'HostDown'], false),
  mode('nic', ['server'], 1, 0.9, 30, ['NetworkErrors', 'HostDown'], false),
  mode('disk-full', HOSTS, 3, 0.35, 90, ['DiskFull'], true),
  mode('cpu', HOSTS, 3, 0.3, 30, ['HighCpu'], true),
  mode('memory', ['virtual_machine'], 2, 0.4, 30, ['HighMemory', 'OomKill'], true),
  mode('down', ['database'], 2, 1, 20, ['DatabaseDown'], false),
  mode('connections', ['database'], 2, 0.8, 25, ['TooManyConnections'], true),
  mode('locks', ['database'], 2, 0.6, 20, ['LockWaits'], true),
  mode('disk-full', ['database'], 1, 0.8, 45, ['DiskFull', 'DatabaseDown'], true),
  mode('down', ['cache'], 2, 1, 15, ['CacheDown'], false),
  mode('memory', ['cache'], 2, 0.5, 30, ['CacheMemory'], true),
  mode('latency', ['cache'], 1, 0.5, 20, ['CacheLatency'], true),
  mode('down', ['queue'], 2, 0.9, 20, ['BrokerDown'], false),
  mode('backlog', ['queue'], 2, 0.5, 40, ['ConsumerLag'], true),
  mode('api-down', ['cluster:kubernetes'], 2, 0.8, 15, ['KubeApiDown'], false),
  mode('etcd', ['cluster:kubernetes'], 1, 0.5, 20, ['EtcdLatency'], true),
  mode('partitions', ['cluster:kafka'], 1, 0.8, 25, ['ClusterDegraded'], true),
  mode('crash', ['app_instance'], 3, 0.4, 15, ['CrashLoop', 'InstanceDown'], false),
  mode('memory-leak', ['app_instance'], 2, 0.3, 45, ['MemoryLeak'], true),
  mode('threads', ['app_instance'], 2, 0.4, 20, ['ThreadPoolExhausted', 'HighLatency'], true),
  mode('bad-deploy', ['application'], 1, 0.7, 30, ['DeploymentFailed', 'HighErrorRate'], false, {
    contained: true,
  }),
  mode('outage', ['technical_service'], 1, 0.8, 20, ['SyntheticFailed', 'AvailabilityLow'], false),
];

/** The symptoms a CI of this kind shows when a CI of `cause`'s kind that it needs fails. */
export function impactSymptoms(kind: string, cause: string): string[] {
  switch (kind) {
    case 'router':
      return ['DeviceDown', 'BgpSessionDown', 'PacketLoss'];
    case 'switch':
    case 'firewall':
      return ['DeviceDown', 'InterfaceDown', 'PacketLoss'];
    case 'load_balancer':
      return ['LbPoolDown', 'PacketLoss', 'LbHighLatency'];
    case 'storage':
      return ['StorageLatency', 'ControllerFailover'];
    case 'server':
    case 'virtual_machine':
      if (cause === 'storage') return ['DatastoreLatency', 'DiskIoLatency'];
      if (cause === 'cluster:kubernetes') return ['KubeNodeNotReady'];
      if (HOSTS.includes(cause)) return ['HostDown', 'PacketLoss'];
      return ['HostDown', 'NetworkErrors', 'PacketLoss'];
    case 'database':
      return cause === 'database' ? ['ReplicationBroken', 'ReplicationLag'] : ['DatabaseDown'];
    case 'cache':
      return ['CacheDown', 'CacheLatency'];
    case 'queue':
      return ['BrokerDown', 'ConsumerLag'];
    case 'cluster:kubernetes':
      return ['KubeApiDown', 'EtcdLatency'];
    case 'cluster:kafka':
      return ['ClusterDegraded'];
    case 'app_instance':
      if (cause === 'database') return ['DependencyErrors', 'HighLatency', 'HighErrorRate'];
      if (cause === 'cache') return ['CacheErrors', 'HighLatency'];
      if (cause === 'queue' || cause === 'cluster:kafka') return ['PublishErrors', 'ConsumerLag'];
      if (cause === 'technical_service') return ['UpstreamErrors', 'HighErrorRate'];
      if (cause === 'application') return ['HighErrorRate', 'CrashLoop', 'HighLatency'];
      return ['InstanceDown', 'HighErrorRate'];
    case 'application':
      if (cause === 'app_instance') return ['HighErrorRate', 'SloBurn', 'ApdexLow'];
      return ['UpstreamErrors', 'SloBurn', 'ApdexLow'];
    case 'technical_service':
      return ['SyntheticFailed', 'AvailabilityLow', 'LoginFailures'];
    case 'business_service':
      return ['SyntheticFailed', 'AvailabilityLow'];
    default:
      return ['HighErrorRate'];
  }
}

/** The symptoms of background alerts on a CI of this kind: one-offs, not part of any incident. */
export function noiseSymptoms(kind: string): string[] {
  switch (kind) {
    case 'router':
    case 'switch':
    case 'firewall':
      return ['InterfaceDown', 'PacketLoss', 'HighCpu', 'CertificateExpiring'];
    case 'load_balancer':
      return ['LbHighLatency', 'CertificateExpiring', 'LbPoolDown'];
    case 'storage':
      return ['PoolFull', 'StorageLatency'];
    case 'server':
    case 'virtual_machine':
      return [
        'HighCpu',
        'HighMemory',
        'DiskFull',
        'ClockSkew',
        'BackupFailed',
        'ProcessRestarted',
        'LogErrors',
        'DiskIoLatency',
        'CertificateExpiring',
      ];
    case 'database':
      return ['LockWaits', 'BackupFailed', 'ReplicationLag', 'TooManyConnections', 'DiskFull'];
    case 'cache':
      return ['CacheMemory', 'CacheLatency'];
    case 'queue':
      return ['ConsumerLag'];
    case 'cluster:kubernetes':
      return ['EtcdLatency'];
    case 'cluster:kafka':
      return ['ClusterDegraded'];
    case 'app_instance':
      return [
        'HighLatency',
        'HighErrorRate',
        'CrashLoop',
        'LogErrors',
        'MemoryLeak',
        'CertificateExpiring',
      ];
    case 'application':
      return ['ApdexLow', 'SloBurn', 'DeploymentFailed'];
    default:
      return ['SyntheticFailed'];
  }
}
