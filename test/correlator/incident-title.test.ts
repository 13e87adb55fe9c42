import { describe, expect, it } from 'vitest';
import type { EngineAlert, RootCauseCandidate } from '../../correlator/engine/engine.ts';
import { incidentTitle } from '../../correlator/live.ts';

/** An alert of the incident: its CI, title and template; the rest does not make the title. */
function alert(ci: string | null, title: string, template: string): EngineAlert {
  return {
    id: `${ci}/${title}`,
    fingerprint: `${ci}/${title}`,
    source: 'generic',
    service: null,
    ci,
    title,
    severity: 'critical',
    template,
    startsAt: 0,
    firing: true,
    flapping: false,
    changes: 0,
    expired: false,
    pinned: false,
    deliveries: 1,
    explanation: {
      decision: 'new',
      score: 0,
      hops: null,
      path: [],
      text: 0,
      chance: 0,
      secondsSinceFirst: 0,
      merged: [],
      late: false,
      message: 'new incident',
    },
  };
}

const cause = (ci: string): RootCauseCandidate => ({ ci, score: 1, reason: 'test' });

describe('the incident title', () => {
  const hostDown = alert('host-1', 'Host host-1 down', 'Host <*> down');
  const hardware = alert('host-1', 'Hardware fault on host-1: PSU 2', 'Hardware fault on <*>');
  const vmDown = alert('vm-1', 'VM vm-1 unreachable', 'VM <*> unreachable');
  const vmDown2 = alert('vm-2', 'VM vm-2 unreachable', 'VM <*> unreachable');

  it("quotes the root cause's alert with the incident's template and counts the other CIs", () => {
    const title = incidentTitle({
      alerts: [hardware, vmDown, hostDown],
      cis: ['host-1', 'vm-1'],
      rootCause: [cause('host-1')],
      template: 'Host <*> down',
    });
    expect(title).toBe('Host host-1 down — likely cause host-1, 1 more CI affected');
  });

  it("quotes the root cause's first alert when none has the incident's template", () => {
    const title = incidentTitle({
      alerts: [vmDown, hardware, hostDown],
      cis: ['vm-1', 'host-1'],
      rootCause: [cause('host-1')],
      template: null,
    });
    expect(title).toBe('Hardware fault on host-1: PSU 2 — likely cause host-1, 1 more CI affected');
  });

  it('says when the likely cause does not alert itself, and counts every CI as affected', () => {
    const title = incidentTitle({
      alerts: [hardware, vmDown, vmDown2],
      cis: ['host-1', 'vm-1', 'vm-2'],
      rootCause: [cause('switch-1')],
      template: 'VM <*> unreachable',
    });
    expect(title).toBe(
      'VM vm-1 unreachable — likely cause switch-1 (not alerting), 3 CIs affected',
    );
  });

  it('is the first alert alone without a root cause, and at most 500 characters', () => {
    expect(incidentTitle({ alerts: [vmDown], cis: [], rootCause: [], template: null })).toBe(
      'VM vm-1 unreachable',
    );
    const long = alert('host-1', 'x'.repeat(600), 'x');
    const title = incidentTitle({
      alerts: [long],
      cis: ['host-1'],
      rootCause: [cause('host-1')],
      template: 'x',
    });
    expect(title).toHaveLength(500);
  });
});
