import { describe, expect, it } from 'vitest';
import { incidentsWithLiveSlas } from '../../services/store/slas.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();

const incident = async (state: string): Promise<string> => {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO incidents (title, state, severity, priority, opened_at, last_alert_at)
     VALUES ($1, $2, 'major', 3, now(), now()) RETURNING id`,
    [`${state} incident`, state],
  );
  return rows[0]!.id;
};

const definition = async (name: string, active: boolean): Promise<string> => {
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO sla_definitions (name, response_minutes, resolution_minutes, active)
     VALUES ($1, 15, 240, $2) RETURNING id`,
    [name, active],
  );
  return rows[0]!.id;
};

const timer = (incidentId: string, slaId: string, kind: string, stopped: boolean) =>
  db.pool.query(
    `INSERT INTO sla_timers (sla_id, incident_id, kind, target_seconds, accounted_at, read_at,
       stopped_at)
     VALUES ($1, $2, $3, 900, now(), now(), CASE WHEN $4::boolean THEN now() END)`,
    [slaId, incidentId, kind, stopped],
  );

describe('the SLA sweep’s incidents (every 30 s)', () => {
  it('are those with a running timer, and the open ones without timers while an SLA is active', async () => {
    const retired = await definition('Retired', false);
    const running = await incident('new');
    await timer(running, retired, 'response', false);
    await timer(running, retired, 'resolution', false);
    const finished = await incident('resolved');
    await timer(finished, retired, 'resolution', true);
    const untimed = await incident('in_progress');
    // Closed with a timer still running (stopped by the next read): read once more.
    const closedRunning = await incident('closed');
    await timer(closedRunning, retired, 'resolution', false);
    const heldStopped = await incident('on_hold');
    await timer(heldStopped, retired, 'response', true);
    const resolvedUntimed = await incident('resolved');

    // No active SLA: an open incident without timers has none to start.
    expect(await incidentsWithLiveSlas(db.pool, '0', 500)).toEqual([running, closedRunning]);

    await definition('Everything', true);
    const due = [running, untimed, closedRunning].sort((a, b) => Number(a) - Number(b));
    expect(await incidentsWithLiveSlas(db.pool, '0', 500)).toEqual(due);
    expect(due).not.toContain(resolvedUntimed);
    expect(due).not.toContain(heldStopped);
    expect(due).not.toContain(finished);

    // Paged by id.
    expect(await incidentsWithLiveSlas(db.pool, '0', 2)).toEqual(due.slice(0, 2));
    expect(await incidentsWithLiveSlas(db.pool, due[1]!, 2)).toEqual(due.slice(2));
  });
});
