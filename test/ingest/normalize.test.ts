import { describe, expect, it } from 'vitest';
import { LABEL_SEVERITY, mapSeverity, tagsToLabels, toLabels } from '../../ingest/normalize.ts';
import { alertmanager } from '../../ingest/sources/alertmanager.ts';
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
