import {
  defaultEngineConfig,
  resolveEngineConfig,
  type EngineConfig,
} from '../correlator/engine/config.ts';
import cron from 'node-cron';
import { z } from 'zod';

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL with scheme ${protocols.map((p) => p.replace(':', '')).join(' or ')}`,
  );

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const prefix = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,40}$/, 'must be lower-case letters, digits, - or _ (max 41)');

const schema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default(
    'postgres://postgres@127.0.0.1:5432/tocsin',
  ),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  ELASTICSEARCH_URL: url(['http:', 'https:']).default('http://127.0.0.1:9200'),
  PORT: integer(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  TOCSIN_ADMIN_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  TOCSIN_ADMIN_TOKEN_FILE: z.string().min(1).default('.tocsin/admin-token'),
  TOCSIN_MAX_BODY_BYTES: integer(1024, 512 * 1024 * 1024).default(5 * 1024 * 1024),
  TOCSIN_MAX_BODY_BYTES_IN_FLIGHT: integer(1024, 64 * 1024 * 1024 * 1024).default(
    256 * 1024 * 1024,
  ),
  TOCSIN_MAX_ALERTS_PER_DELIVERY: integer(1, 1_000_000).default(10_000),
  TOCSIN_REQUEST_TIMEOUT_SECONDS: integer(1, 3600).default(30),
  TOCSIN_INGEST_RATE_LIMIT: integer(0, 10_000_000).default(1000),
  TOCSIN_INGEST_MAX_BACKLOG: integer(1, 10_000_000).default(100_000),
  TOCSIN_SIGNATURE_TOLERANCE_SECONDS: integer(1, 86_400).default(300),
  TOCSIN_QUEUE_PREFIX: prefix.default('tocsin'),
  TOCSIN_INDEX_PREFIX: prefix.default('tocsin'),
  TOCSIN_CORRELATOR_CONCURRENCY: integer(1, 64).default(2),
  TOCSIN_SWEEP_CRON: z
    .string()
    .refine((expr) => cron.validate(expr), 'must be a cron expression (5 or 6 fields)')
    .default('*/5 * * * * *'),
  TOCSIN_ALERT_RETENTION_DAYS: integer(0, 36_500).default(90),
  TOCSIN_RETENTION_CRON: z
    .string()
    .refine((expr) => cron.validate(expr), 'must be a cron expression (5 or 6 fields)')
    .default('17 3 * * *'),
  TOCSIN_SLA_CRON: z
    .string()
    .refine((expr) => cron.validate(expr), 'must be a cron expression (5 or 6 fields)')
    .default('*/30 * * * * *'),
  TOCSIN_PROBLEM_MINING_CRON: z
    .string()
    .refine((expr) => cron.validate(expr), 'must be a cron expression (5 or 6 fields)')
    .default('17 * * * *'),
  TOCSIN_PROBLEM_LOOKBACK_DAYS: integer(1, 3650).default(30),
  TOCSIN_PROBLEM_MIN_INCIDENTS: integer(2, 1_000_000).default(3),
  TOCSIN_PRIORITY_MATRIX: z
    .string()
    .regex(
      /^[1-5],[1-5],[1-5];[1-5],[1-5],[1-5];[1-5],[1-5],[1-5]$/,
      'must be three rows (impact 1–3) of three priorities (urgency 1–3), 1–5: "1,2,3;2,3,4;3,4,5"',
    )
    .transform((v) => v.split(';').map((row) => row.split(',').map(Number)))
    .default([
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 5],
    ]),
  TOCSIN_CORRELATION: z
    .string()
    .transform((text, ctx) => {
      try {
        const overrides = JSON.parse(text) as Partial<EngineConfig>;
        const unknown = Object.keys(overrides).filter((k) => !(k in defaultEngineConfig));
        if (unknown.length > 0) throw new Error(`unknown settings ${unknown.join(', ')}`);
        resolveEngineConfig(overrides);
        return overrides;
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a JSON object of correlation settings: ${(err as Error).message}`,
        });
        return z.NEVER;
      }
    })
    .default({}),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The validated, frozen settings every Tocsin process runs with. */
export type Config = Readonly<{
  databaseUrl: string;
  redisUrl: string;
  elasticsearchUrl: string;
  port: number;
  host: string;
  adminToken: string | undefined;
  adminTokenFile: string;
  maxBodyBytes: number;
  /** Bytes of request bodies one process reads at once (TOCSIN_MAX_BODY_BYTES_IN_FLIGHT). */
  maxBodyBytesInFlight: number;
  /** Alerts one delivery may carry; more is a 413 (TOCSIN_MAX_ALERTS_PER_DELIVERY). */
  maxAlertsPerDelivery: number;
  /** Time a client has to send a whole request (TOCSIN_REQUEST_TIMEOUT_SECONDS), in ms. */
  requestTimeoutMs: number;
  ingestRateLimit: number;
  ingestMaxBacklog: number;
  signatureToleranceSeconds: number;
  queuePrefix: string;
  indexPrefix: string;
  correlatorConcurrency: number;
  sweepCron: string;
  alertRetentionDays: number;
  retentionCron: string;
  slaCron: string;
  /** The correlation engine's settings that differ from its defaults. */
  correlation: Partial<EngineConfig>;
  /** When the correlator mines recurring incidents for candidate problems. */
  problemMiningCron: string;
  /** Incidents opened this many days back are mined for recurring patterns. */
  problemLookbackDays: number;
  /** Incidents a pattern needs within the look-back to be proposed as a problem. */
  problemMinIncidents: number;
  /** Priority by impact (rows) and urgency (columns). */
  priorityMatrix: readonly (readonly number[])[];
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
}>;

/** Thrown by loadConfig with every invalid variable listed, so one restart fixes them all. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates Tocsin's environment variables; the only place that reads them. */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): Config {
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === '' ? [] : [[key, value]];
    }),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '');
        return `${key}=${JSON.stringify(present[key])}: ${issue.message}`;
      }),
    );
  }
  const v = parsed.data;
  if (v.TOCSIN_MAX_BODY_BYTES_IN_FLIGHT < v.TOCSIN_MAX_BODY_BYTES)
    throw new ConfigError([
      `TOCSIN_MAX_BODY_BYTES_IN_FLIGHT=${v.TOCSIN_MAX_BODY_BYTES_IN_FLIGHT}: must be at least TOCSIN_MAX_BODY_BYTES (${v.TOCSIN_MAX_BODY_BYTES}), or no largest body could ever be read`,
    ]);
  return Object.freeze({
    databaseUrl: v.DATABASE_URL,
    redisUrl: v.REDIS_URL,
    elasticsearchUrl: v.ELASTICSEARCH_URL,
    port: v.PORT,
    host: v.HOST,
    adminToken: v.TOCSIN_ADMIN_TOKEN,
    adminTokenFile: v.TOCSIN_ADMIN_TOKEN_FILE,
    maxBodyBytes: v.TOCSIN_MAX_BODY_BYTES,
    maxBodyBytesInFlight: v.TOCSIN_MAX_BODY_BYTES_IN_FLIGHT,
    maxAlertsPerDelivery: v.TOCSIN_MAX_ALERTS_PER_DELIVERY,
    requestTimeoutMs: v.TOCSIN_REQUEST_TIMEOUT_SECONDS * 1000,
    ingestRateLimit: v.TOCSIN_INGEST_RATE_LIMIT,
    ingestMaxBacklog: v.TOCSIN_INGEST_MAX_BACKLOG,
    signatureToleranceSeconds: v.TOCSIN_SIGNATURE_TOLERANCE_SECONDS,
    queuePrefix: v.TOCSIN_QUEUE_PREFIX,
    indexPrefix: v.TOCSIN_INDEX_PREFIX,
    correlatorConcurrency: v.TOCSIN_CORRELATOR_CONCURRENCY,
    sweepCron: v.TOCSIN_SWEEP_CRON,
    priorityMatrix: v.TOCSIN_PRIORITY_MATRIX,
    alertRetentionDays: v.TOCSIN_ALERT_RETENTION_DAYS,
    retentionCron: v.TOCSIN_RETENTION_CRON,
    slaCron: v.TOCSIN_SLA_CRON,
    correlation: v.TOCSIN_CORRELATION,
    problemMiningCron: v.TOCSIN_PROBLEM_MINING_CRON,
    problemLookbackDays: v.TOCSIN_PROBLEM_LOOKBACK_DAYS,
    problemMinIncidents: v.TOCSIN_PROBLEM_MIN_INCIDENTS,
    logLevel: v.LOG_LEVEL,
  });
}
