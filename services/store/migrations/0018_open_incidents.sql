-- The SLA sweep (every 30 s) looks for incidents whose timers run, or that are open with none
-- while an SLA is active. Asked of every incident, it scanned the whole table, closed history
-- included, each time; these are the open ones, in id order, for it to page through.
CREATE INDEX incidents_open ON incidents (id) WHERE state IN ('new', 'in_progress', 'on_hold');
