import { describe, expect, it } from 'vitest';
import { LABEL_SEVERITY, mapSeverity, tagsToLabels, toLabels } from '../../ingest/normalize.ts';
import { alertmanager } from '../../ingest/sources/alertmanager.ts';
import { datadog } from '../../ingest/sources/datadog.ts';
import { normalizeBody } from '../support/fixtures.ts';

describe('mapSeverity', () => {
  it('reads a tool’s names case-insensitively and passes canonical names through', () => {
    expect(mapSeverity(' CRIT ', LABEL_SEVERITY)).toBe('critical');
    expect(mapSeverity('minor', {})).toBe('minor');
    expect(mapSeverity(3, { '3': 'minor' })).toBe('minor');
    expect(mapSeverity('unheard-of', LABEL_SEVERITY, 'info')).toBe('info');
    expect(mapSeverity({ a: 1 }, LABEL_SEVERITY)).toBe('warning');
  });

  // A plain object's inherited names once came back as a function where a severity belongs.
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'takes %s for an unknown name, not an inherited property',
    (name) => {
      expect(mapSeverity(name, LABEL_SEVERITY)).toBe('warning');
      const result = normalizeBody(alertmanager, {
        status: 'firing',
        alerts: [{ labels: { alertname: 'x', severity: name } }],
      });
      expect(result.kind === 'alerts' && result.alerts[0]!.severity).toBe('warning');
    },
  );
});

describe('labels', () => {
  it('keeps names that are Object properties as labels, and counts them toward the limit', () => {
    expect(tagsToLabels(['constructor:a', 'hasOwnProperty', 'toString:b'])).toEqual({
      constructor: 'a',
      hasOwnProperty: '',
      toString: 'b',
    });
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`l${i}`, i]));
    const labels = toLabels({ constructor: 'first' }, many);
    expect(Object.keys(labels)).toHaveLength(128);
    expect(labels.constructor).toBe('first');
    expect(labels.l126).toBe('126');
    expect(labels).not.toHaveProperty('l127');
  });
});

describe('fingerprints', () => {
  const fingerprintOf = (body: object) => {
    const result = normalizeBody(datadog, { title: '[Triggered] Disk full', ...body });
    return result.kind === 'alerts' ? result.alerts[0]!.fingerprint : null;
  };

  it('keep keys that differ only past 512 characters apart, within 512', () => {
    // A monitor's group scope of many long tags; cut alone, every group was one alert.
    const scope = (pod: string) => `${'kube_namespace:payments-'.repeat(25)},pod_name:${pod}`;
    const a = fingerprintOf({ alert_id: '42', alert_scope: scope('api-7d9f-a') });
    const b = fingerprintOf({ alert_id: '42', alert_scope: scope('api-7d9f-b') });
    const test = fingerprintOf({
      alert_id: '42',
      alert_scope: scope('api-7d9f-a'),
      title: '[TEST] x',
    });
    expect(new Set([a, b, test]).size).toBe(3);
    for (const f of [a, b, test]) expect(f!.length).toBeLessThanOrEqual(512);
    expect(a).toMatch(/^datadog:42\/kube_namespace:payments-/);
    // The same key, the same fingerprint; a short one as it was sent.
    expect(fingerprintOf({ alert_id: '42', alert_scope: scope('api-7d9f-a') })).toBe(a);
    expect(fingerprintOf({ alert_id: '42', alert_scope: 'env:prod' })).toBe('datadog:42/env:prod');
  });
});
