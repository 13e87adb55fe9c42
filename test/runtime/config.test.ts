import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../runtime/config.ts';

describe('loadConfig', () => {
  it('fills every default from an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/tocsin',
      redisUrl: 'redis://127.0.0.1:6379',
      elasticsearchUrl: 'http://127.0.0.1:9200',
      port: 8080,
      adminToken: undefined,
      maxBodyBytes: 5 * 1024 * 1024,
      maxAlertsPerDelivery: 10_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the variables it is given', () => {
    const config = loadConfig({
      PORT: '9000',
      TOCSIN_ADMIN_TOKEN: 'a-long-enough-secret',
      DATABASE_URL: 'postgresql://u@db:5432/x',
    });
    expect(config.port).toBe(9000);
    expect(config.adminToken).toBe('a-long-enough-secret');
    expect(config.databaseUrl).toBe('postgresql://u@db:5432/x');
  });

  it('lists every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://localhost/tocsin',
        REDIS_URL: 'not a url',
        TOCSIN_ADMIN_TOKEN: 'short',
        TOCSIN_SWEEP_CRON: 'every minute',
        LOG_LEVEL: 'loud',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(6);
    for (const key of [
      'PORT',
      'DATABASE_URL',
      'REDIS_URL',
      'TOCSIN_ADMIN_TOKEN',
      'TOCSIN_SWEEP_CRON',
      'LOG_LEVEL',
    ]) {
      expect(problems.some((p) => p.startsWith(`${key}=`))).toBe(true);
    }
    expect((error as Error).message).toContain('PORT="eighty": must be a whole number');
  });

  it('refuses a budget of bodies in flight smaller than the largest body', () => {
    expect(() =>
      loadConfig({ TOCSIN_MAX_BODY_BYTES: '8192', TOCSIN_MAX_BODY_BYTES_IN_FLIGHT: '4096' }),
    ).toThrow(/TOCSIN_MAX_BODY_BYTES_IN_FLIGHT=4096: must be at least TOCSIN_MAX_BODY_BYTES/);
    expect(loadConfig({}).maxBodyBytesInFlight).toBe(256 * 1024 * 1024);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });
});
