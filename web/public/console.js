// The Tocsin console: NOC staff review open incidents, act on them and correct their
// correlation; problem managers search, hunt recurring patterns and decide on the problems the
// miner proposes. A client of the HTTP API like any other, with the user's token.

const $ = (id) => document.getElementById(id);
const view = () => $('view');
const token = () => sessionStorage.getItem('tocsin-token') || '';

/** Calls the API; a problem+json answer becomes an Error with its detail. */
async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: {
      Authorization: 'Bearer ' + token(),
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
      ...init.headers,
    },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail || body.title || res.statusText);
  return body;
}

/** Builds an element with properties and children (strings become text nodes, never HTML). */
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** A definition list of [name, value] pairs. */
function fieldList(pairs) {
  return el(
    'dl',
    { className: 'fields' },
    ...pairs.flatMap(([k, v]) => [el('dt', { textContent: k }), el('dd', { textContent: v })]),
  );
}

function status(text) {
  $('status').textContent = text;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/**
 * A highlighted snippet from search: Elasticsearch HTML-escapes the text and wraps matches in
 * <mark>; rebuild it from text nodes and <mark> elements only, so no markup from data can run.
 */
function snippet(html) {
  const decode = (s) => {
    const t = document.createElement('textarea');
    t.innerHTML = s;
    return t.value;
  };
  const p = el('p');
  html.split(/(<mark>.*?<\/mark>)/).forEach((part) => {
    const m = /^<mark>(.*)<\/mark>$/.exec(part);
    p.append(m ? el('mark', { textContent: decode(m[1]) }) : decode(part));
  });
  return p;
}

// ---- Incidents -------------------------------------------------------------------------------

let refresh = null;

async function showIncidents() {
  const filter = el('input', {
    id: 'incident-filter',
    type: 'search',
    placeholder: 'Filter: words in title or number',
    size: 36,
  });
  const tbody = el('tbody', { id: 'incidents' });
  view().replaceChildren(
    el('div', { className: 'toolbar' }, filter),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['Number', 'P', 'Severity', 'Title', 'State', 'Alerts', 'CIs', 'Opened'].map((h) =>
            el('th', { textContent: h }),
          ),
        ),
      ),
      tbody,
    ),
  );
  const load = async () => {
    if (!token()) return;
    const q = filter.value.trim();
    const page = await api(
      '/api/v1/incidents?limit=200&sort=priority&filter=' +
        encodeURIComponent('state=new|in_progress|on_hold') +
        (q ? '&q=' + encodeURIComponent(q) : ''),
    );
    tbody.replaceChildren(
      ...page.items.map((i) => {
        const tr = el(
          'tr',
          { className: 'link' },
          el('td', { textContent: i.number }),
          el('td', { textContent: 'P' + i.priority, className: 'p' + i.priority }),
          el('td', { textContent: i.severity, className: 'sev sev-' + i.severity }),
          el('td', { textContent: i.title }),
          el('td', { textContent: i.state }),
          el('td', { textContent: String(i.alertCount) }),
          el('td', { textContent: (i.cis || []).join(', ') }),
          el('td', { textContent: when(i.openedAt) }),
        );
        tr.dataset.id = i.id;
        tr.addEventListener('click', () => (location.hash = '#/incidents/' + i.id));
        return tr;
      }),
    );
    status(page.items.length + ' open incident(s), updated ' + new Date().toLocaleTimeString());
  };
  filter.addEventListener('input', () => load().catch((e) => status(e.message)));
  await load();
  refresh = setInterval(() => load().catch((e) => status('Could not load: ' + e.message)), 5000);
}

// What an action needs from the operator, asked before it is sent.
const needs = {
  hold: ['reason', 'Why is it on hold?'],
  cancel: ['reason', 'Why cancel it?'],
  resolve: ['resolutionCode', 'Resolution code (e.g. fixed, workaround)'],
};

/**
 * Text with each incident it names (an explanation's message: "incident INC0001003") as a link to
 * that incident: `incidents` gives their ids and where the text names them (`at`); only there,
 * for the text also quotes what senders wrote (a CI called "incident 42").
 */
function linkIncidents(text, incidents = []) {
  const mentions = incidents
    .flatMap((i) => (i.at ?? []).map((at) => ({ at, id: i.id, words: 'incident ' + i.number })))
    .filter((m) => text.startsWith(m.words, m.at))
    .sort((a, b) => a.at - b.at);
  const parts = [];
  let from = 0;
  for (const m of mentions) {
    if (m.at < from) continue;
    parts.push(text.slice(from, m.at));
    parts.push(el('a', { href: '#/incidents/' + m.id, textContent: m.words }));
    from = m.at + m.words.length;
  }
  parts.push(text.slice(from));
  return parts;
}

/** The ids of incidents given by number (INC0000042) or id; an unknown one is an Error. */
async function incidentIds(refs) {
  const wanted = refs.map((r) => r.trim()).filter(Boolean);
  const numbers = wanted.filter((r) => !/^\d+$/.test(r)).map((r) => r.toUpperCase());
  const byNumber = new Map();
  if (numbers.length > 0) {
    const page = await api(
      '/api/v1/incidents?fields=id,number&limit=' +
        numbers.length +
        '&filter=' +
        encodeURIComponent('number=' + numbers.join('|')),
    );
    for (const i of page.items) byNumber.set(i.number, i.id);
  }
  return wanted.map((r) => {
    if (/^\d+$/.test(r)) return r;
    const found = byNumber.get(r.toUpperCase());
    if (!found) throw new Error('no incident ' + r);
    return found;
  });
}

async function showIncident(id) {
  const [incident, alerts, slas, similar, history] = await Promise.all([
    api('/api/v1/incidents/' + id),
    api('/api/v1/alerts?limit=200&incidentId=' + id),
    api('/api/v1/incidents/' + id + '/slas').catch(() => ({ items: [] })),
    api('/api/v1/incidents/' + id + '/similar?limit=5').catch(() => ({ items: [] })),
    api('/api/v1/incidents/' + id + '/history?limit=100'),
  ]);
  const actions = el(
    'div',
    { id: 'actions' },
    ...incident.allowedActions.map((action) => {
      const button = el('button', { className: 'action', textContent: action });
      button.dataset.action = action;
      button.addEventListener('click', async () => {
        const body = {};
        const need = needs[action];
        if (need) {
          const value = prompt(need[1]);
          if (!value) return;
          body[need[0]] = value;
        }
        try {
          await api('/api/v1/incidents/' + id + '/transitions/' + action, {
            method: 'POST',
            body: JSON.stringify(body),
            headers: { 'If-Match': '"' + incident.version + '"' },
          });
          await showIncident(id);
        } catch (e) {
          status(action + ' failed: ' + e.message);
        }
      });
      return button;
    }),
  );
  // People correct the correlation: the correlator replays and keeps what they decide.
  const selected = new Map();
  const pick = (a) => {
    const box = el('input', { type: 'checkbox', className: 'pick' });
    box.setAttribute('aria-label', 'Select alert ' + a.title);
    box.dataset.id = a.id;
    box.addEventListener('change', () =>
      box.checked ? selected.set(a.id, a) : selected.delete(a.id),
    );
    return box;
  };
  const correct = async (what, run) => {
    try {
      await run();
    } catch (e) {
      status(what + ' failed: ' + e.message);
    }
  };
  // No If-Match: in a storm the correlator changes incidents and alerts every second; the API
  // itself refuses what no longer holds (an alert not in the incident, a closed incident).
  const correction = (id, text, run) => {
    const button = el('button', { id, textContent: text });
    button.addEventListener('click', () => correct(text, run));
    return button;
  };
  const corrections = el(
    'div',
    { id: 'corrections', className: 'toolbar' },
    correction('split', 'Split selected into a new incident', async () => {
      if (selected.size === 0) return status('Select the alerts to split off first.');
      const created = await api('/api/v1/incidents/' + id + '/split', {
        method: 'POST',
        body: JSON.stringify({ alertIds: [...selected.keys()] }),
      });
      location.hash = '#/incidents/' + created.id;
    }),
    correction('move', 'Move selected to…', async () => {
      if (selected.size === 0) return status('Select the alerts to move first.');
      const target = prompt('Move to which incident? (its number, e.g. INC0000042)');
      if (!target) return;
      const [to] = await incidentIds([target]);
      for (const a of selected.values())
        await api('/api/v1/alerts/' + a.id + '/move', {
          method: 'POST',
          body: JSON.stringify({ incidentId: to }),
        });
      await showIncident(id);
      status('Moved ' + selected.size + ' alert(s) to ' + target.trim());
    }),
    correction('merge', 'Merge incidents into this one…', async () => {
      const list = prompt('Merge which incidents into this one? (numbers, comma-separated)');
      if (!list) return;
      const numbers = list.split(',').filter((n) => n.trim());
      await api('/api/v1/incidents/' + id + '/merge', {
        method: 'POST',
        body: JSON.stringify({ incidentIds: await incidentIds(numbers) }),
      });
      await showIncident(id);
      status('Merged ' + numbers.map((n) => n.trim()).join(', ') + ' into ' + incident.number);
    }),
  );
  const fields = [
    ['State', incident.state],
    [
      'Priority',
      'P' +
        incident.priority +
        ' (impact ' +
        incident.impact +
        ', urgency ' +
        incident.urgency +
        ')',
    ],
    ['Severity', incident.severity],
    ['Service', incident.service || '—'],
    ['CIs', (incident.cis || []).join(', ') || '—'],
    [
      'Assignment',
      [incident.assignmentGroup, incident.assignee].filter(Boolean).join(' / ') || '—',
    ],
    ['Opened', when(incident.openedAt)],
    ['Resolved', when(incident.resolvedAt)],
    // What the correlator found: the likely cause and why, a change made just before, a workaround.
    [
      'Likely cause',
      incident.rootCause && incident.rootCause.length > 0
        ? incident.rootCause[0].ci + ' — ' + incident.rootCause[0].reason
        : '—',
    ],
    [
      'Suspected change',
      incident.suspectedChangeId
        ? (incident.correlationNotes && incident.correlationNotes.suspectedChange) ||
          'change ' + incident.suspectedChangeId
        : '—',
    ],
    ['Workaround', incident.workaround || '—'],
  ];
  view().replaceChildren(
    el('h2', { id: 'incident-title', textContent: incident.number + ' — ' + incident.title }),
    actions,
    fieldList(fields),
    el('h2', { textContent: 'Alerts (' + alerts.items.length + ')' }),
    corrections,
    el(
      'table',
      { id: 'alerts' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['', 'Severity', 'Status', 'Title', 'CI', 'Source', 'Count', 'Last', 'Why here'].map(
            (h) => el('th', { textContent: h }),
          ),
        ),
      ),
      el(
        'tbody',
        {},
        ...alerts.items.map((a) =>
          el(
            'tr',
            {},
            el('td', {}, pick(a)),
            el('td', { textContent: a.severity, className: 'sev sev-' + a.severity }),
            el('td', { textContent: a.status }),
            el('td', { textContent: a.title }),
            el('td', { textContent: a.ci || '—' }),
            el('td', { textContent: a.source }),
            el('td', { textContent: String(a.count) }),
            el('td', { textContent: when(a.lastReceivedAt) }),
            el(
              'td',
              { className: 'why' },
              a.flapping ? 'flapping; ' : '',
              ...(a.pinned
                ? ['put here by a person']
                : a.explanation
                  ? linkIncidents(a.explanation.message, a.explanation.incidents)
                  : ['—']),
            ),
          ),
        ),
      ),
    ),
    el('h2', { textContent: 'SLAs' }),
    slas.items.length === 0
      ? el('p', { textContent: 'No SLA applies.' })
      : el(
          'ul',
          { id: 'slas' },
          ...slas.items.map((t) =>
            el('li', {
              textContent:
                t.sla +
                ' ' +
                t.kind +
                ': ' +
                t.state +
                (t.breachAt ? ', breaches ' + when(t.breachAt) : '') +
                (t.atRisk ? ' (at risk)' : ''),
            }),
          ),
        ),
    el('h2', { textContent: 'Similar incidents' }),
    el(
      'ul',
      { id: 'similar' },
      ...similar.items.map((s) => {
        const a = el('a', {
          href: '#/incidents/' + s.id,
          textContent: s.record.number + ' ' + s.record.title,
        });
        return el(
          'li',
          {},
          a,
          ' — ' +
            s.record.state +
            (s.record.resolutionNotes ? ': ' + s.record.resolutionNotes : ''),
        );
      }),
    ),
    el('h2', { textContent: 'History' }),
    el(
      'ul',
      { id: 'history' },
      ...history.items.map((h) =>
        el('li', {
          textContent:
            when(h.at) +
            ' ' +
            h.actor +
            (h.action ? ' [' + h.action + ']' : '') +
            ': ' +
            (h.field === '*'
              ? 'created'
              : h.field + ' ' + JSON.stringify(h.old) + ' → ' + JSON.stringify(h.new)),
        }),
      ),
    ),
  );
  status(incident.number + ' loaded ' + new Date().toLocaleTimeString());
}

// ---- Search --------------------------------------------------------------------------------

async function showSearch(params) {
  const q = el('input', {
    id: 'q',
    type: 'search',
    size: 50,
    value: params.get('q') || '',
    placeholder: 'disk full, service:checkout, "replication lag" AND NOT staging',
  });
  const form = el(
    'form',
    { className: 'toolbar' },
    q,
    el('button', { type: 'submit', textContent: 'Search' }),
  );
  const facets = el('aside', { className: 'facet', id: 'facets' });
  const hits = el('div', { id: 'hits' });
  view().replaceChildren(form, el('div', { className: 'columns' }, facets, hits));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash =
      '#/search?' + new URLSearchParams({ q: q.value, filter: params.get('filter') || '' });
  });
  if (!params.has('q')) return;
  const filter = params.get('filter') || '';
  const result = await api(
    '/api/v1/search?limit=25&q=' +
      encodeURIComponent(params.get('q')) +
      (filter ? '&filter=' + encodeURIComponent(filter) : ''),
  );
  facets.replaceChildren(
    ...Object.entries(result.facets).flatMap(([name, buckets]) =>
      buckets.length === 0
        ? []
        : [
            el('h3', { textContent: name }),
            ...buckets.map((b) => {
              const button = el('button', { textContent: b.value + ' (' + b.count + ')' });
              button.addEventListener('click', () => {
                if (name === 'time') return;
                const clause = name + '=' + b.value;
                location.hash =
                  '#/search?' +
                  new URLSearchParams({
                    q: params.get('q'),
                    filter: filter ? filter + ';' + clause : clause,
                  });
              });
              return button;
            }),
          ],
    ),
  );
  hits.replaceChildren(
    ...(filter ? [el('p', { textContent: 'Filter: ' + filter })] : []),
    ...result.items.map((h) => {
      const r = h.record;
      const title = (r.number ? r.number + ' ' : '') + (r.title || r.name || r.tag || h.id);
      const link =
        h.type === 'incident'
          ? el('a', { href: '#/incidents/' + h.id, textContent: title })
          : el('strong', { textContent: title });
      return el(
        'div',
        { className: 'hit' },
        el('div', {
          className: 'kind',
          textContent:
            h.type + (r.state ? ' · ' + r.state : '') + (r.status ? ' · ' + r.status : ''),
        }),
        link,
        ...Object.values(h.highlight || {})
          .flat()
          .slice(0, 2)
          .map(snippet),
      );
    }),
  );
  status(result.items.length + ' result(s)' + (result.nextCursor ? ' (more available)' : ''));
}

// ---- Patterns ------------------------------------------------------------------------------

async function showPatterns() {
  const result = await api('/api/v1/problems/patterns?minIncidents=2');
  const bars = '·▁▂▃▄▅▆▇█';
  const trend = (weekly) => {
    const max = Math.max(1, ...weekly.map((w) => w.count));
    return weekly.map((w) => bars[Math.round((w.count / max) * 8)]).join('');
  };
  const section = (name, rows) =>
    el(
      'div',
      {},
      el('h2', { textContent: 'By ' + name }),
      el(
        'table',
        { className: 'patterns' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['Pattern', 'Incidents', 'First', 'Last', 'Weekly', 'Problem'].map((h) =>
              el('th', { textContent: h }),
            ),
          ),
        ),
        el(
          'tbody',
          {},
          ...rows.map((p) => {
            const cover = p.covered
              ? el('td', {
                  className: 'covered',
                  textContent: 'covered by ' + p.problems.map((id) => 'PRB#' + id).join(', '),
                })
              : el('td', {}, propose(p, name));
            return el(
              'tr',
              {},
              el('td', { textContent: p.value }),
              el('td', { textContent: String(p.incidents) }),
              el('td', { textContent: when(p.firstAt) }),
              el('td', { textContent: when(p.lastAt) }),
              el('td', { className: 'trend', textContent: trend(p.weekly) }),
              cover,
            );
          }),
        ),
      ),
    );
  const propose = (p, name) => {
    const button = el('button', { className: 'uncovered', textContent: 'Open a problem' });
    button.addEventListener('click', async () => {
      try {
        const problem = await api('/api/v1/problems', {
          method: 'POST',
          body: JSON.stringify({
            title: 'Recurring: ' + p.value,
            description:
              p.incidents +
              ' incidents by ' +
              name +
              ' between ' +
              p.firstAt +
              ' and ' +
              p.lastAt +
              '.',
          }),
        });
        status('Opened ' + problem.number);
        button.replaceWith(document.createTextNode(problem.number));
      } catch (e) {
        status('Could not open a problem: ' + e.message);
      }
    });
    return button;
  };
  view().replaceChildren(
    el('p', {
      textContent:
        'Incidents opened between ' +
        when(result.from) +
        ' and ' +
        when(result.to) +
        ' that recur.',
    }),
    ...Object.entries(result.patterns).map(([name, rows]) => section(name, rows)),
  );
  status('Patterns over the last 90 days');
}

// ---- Candidate problems ----------------------------------------------------------------------

/** The problems the miner proposed from recurring incidents, with their evidence, to decide on. */
async function showCandidates() {
  const page = await api('/api/v1/problems?state=candidate&limit=100');
  const decide = (problem, action) => async () => {
    const body = {};
    if (action === 'reject') {
      const reason = prompt('Why is this not a problem? (the pattern is not proposed again)');
      if (!reason) return;
      body.reason = reason;
    }
    try {
      await api('/api/v1/problems/' + problem.id + '/transitions/' + action, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'If-Match': '"' + problem.version + '"' },
      });
      await showCandidates();
      status((action === 'accept' ? 'Accepted ' : 'Rejected ') + problem.number);
    } catch (e) {
      status(action + ' failed: ' + e.message);
    }
  };
  const card = (p) => {
    const e = p.evidence || {};
    const facts = [
      ['Pattern', e.scope + (e.anchor ? ' (next to ' + e.anchor + ')' : '')],
      ['Wording', e.template || '—'],
      [
        'Recurs',
        (e.occurrences ?? e.count) +
          ' times' +
          (e.perWeek === undefined ? '' : ', ' + e.perWeek.toFixed(1) + ' a week') +
          (e.trend ? ', ' + e.trend.direction : '') +
          (e.corroborated ? '; ' + e.corroborated + ' reported by several alerts' : ''),
      ],
      [
        'By chance',
        typeof e.chance === 'number'
          ? e.chance.toPrecision(2) +
            ' of its ' +
            e.peers +
            ' peer CIs would recur so by chance' +
            (e.test ? ' (' + e.test + ')' : '')
          : '—',
      ],
      ['First / last', when(e.firstAt) + ' / ' + when(e.lastAt)],
      [
        'Schedule',
        e.schedule ? 'around ' + e.schedule.at + ' UTC on ' + e.schedule.days + ' days' : '—',
      ],
    ];
    const accept = el('button', { className: 'accept', textContent: 'Accept' });
    accept.addEventListener('click', decide(p, 'accept'));
    const reject = el('button', { className: 'reject', textContent: 'Reject…' });
    reject.addEventListener('click', decide(p, 'reject'));
    return el(
      'article',
      { className: 'candidate' },
      el('h3', { textContent: p.number + ' — ' + p.title }),
      fieldList(facts),
      el(
        'ul',
        { className: 'evidence' },
        ...(e.incidents || []).map((i) =>
          el(
            'li',
            {},
            el('a', { href: '#/incidents/' + i.id, textContent: i.number }),
            ' ' + when(i.openedAt) + ' on ' + i.ci,
          ),
        ),
      ),
      el('div', { className: 'toolbar' }, accept, reject),
    );
  };
  view().replaceChildren(
    page.items.length === 0
      ? el('p', { textContent: 'No candidate problems: nothing recurs more often than chance.' })
      : el('div', { id: 'candidates' }, ...page.items.map(card)),
  );
  status(page.items.length + ' candidate problem(s) to decide on');
}

// ---- Routing -------------------------------------------------------------------------------

async function route() {
  clearInterval(refresh);
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const parts = (path || '/incidents').split('/').filter(Boolean);
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.dataset.view === parts[0]);
  if (!token()) return status('Enter an API token to start.');
  try {
    if (parts[0] === 'incidents' && parts[1]) await showIncident(parts[1]);
    else if (parts[0] === 'search') await showSearch(new URLSearchParams(query || ''));
    else if (parts[0] === 'patterns') await showPatterns();
    else if (parts[0] === 'problems') await showCandidates();
    else await showIncidents();
  } catch (e) {
    status('Could not load: ' + e.message);
  }
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem('tocsin-token', $('token').value.trim());
  $('token').value = '';
  route();
});
window.addEventListener('hashchange', route);
route();
