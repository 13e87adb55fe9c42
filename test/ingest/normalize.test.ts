import { describe, expect, it } from 'vitest';
import { LABEL_SEVERITY, mapSeverity } from '../../ingest/normalize.ts';
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
