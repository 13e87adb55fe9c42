import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mineProblems } from '../../correlator/problems.ts';
import { createPool, type Pool } from '../../services/store/db.ts';
import { defaultPriorityMatrix } from '../../services/store/workflows.ts';
import { ADMIN_TOKEN, eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

// Debian's Chromium, driven by playwright-core: never a browser download.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let tocsin: TestTocsin;
let base: string;
let browser: Browser;
let page: Page;
let pool: Pool;
const problems: string[] = [];
const printers: { id: string; number: string }[] = [];

const post = async (path: string, body: unknown) => {
  const res = await tocsin.request(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as { id: string; number: string };
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium).`);
  tocsin = await startTestTocsin();
  base = await tocsin.listen();
  pool = createPool(tocsin.config.databaseUrl, 2);
  await post('/api/v1/ingest/generic', [
    { title: 'Replication lag above 30s', ci: 'db-ledger-2', severity: 'major' },
    { title: 'Replica WAL receiver restarted', ci: 'db-ledger-2', severity: 'minor' },
  ]);
  for (const n of [1, 2])
    printers.push(
      await post('/api/v1/incidents', {
        title: 'Printer jam on floor 3',
        service: 'office',
        cis: [`printer-${n}`],
      }),
    );
  await eventually(
    async () => {
      const res = (await (
        await tocsin.request('/api/v1/search?q=replication&type=alert')
      ).json()) as {
        items: unknown[];
      };
      return res.items.length > 0 ? true : undefined;
    },
    { what: 'the alerts to be correlated and searchable' },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
});
afterAll(async () => {
  await browser?.close();
  await pool?.end();
  await tocsin?.destroy();
});

describe('the console, in a real browser', () => {
  it('asks for a token, then lists the open incidents by priority', async () => {
    await page.goto(base + '/');
    await expect.poll(() => page.textContent('#status')).toContain('Enter an API token');
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#token-form button');
    await page.waitForSelector('#incidents tr');
    const rows = await page.$$eval('#incidents tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows).toHaveLength(3);
    expect(
      rows.some((r) => r.includes('Replication lag above 30s — likely cause db-ledger-2')),
    ).toBe(true);
    await page.fill('#incident-filter', 'printer');
    await expect.poll(() => page.$$eval('#incidents tr', (trs) => trs.length)).toBe(2);
  });

  it('opens an incident with its alerts, acknowledges it, and shows the audit trail', async () => {
    // Flapping alerts: their explanations are shown after "flapping; " and still link.
    await pool.query(`UPDATE alerts SET flapping = true WHERE ci = 'db-ledger-2'`);
    await page.fill('#incident-filter', 'replication');
    await expect.poll(() => page.$$eval('#incidents tr', (trs) => trs.length)).toBe(1);
    await page.click('#incidents tr');
    await page.waitForSelector('#incident-title');
    const alerts = await page.$$eval('#alerts tbody tr', (trs) =>
      trs.map((tr) => tr.textContent ?? ''),
    );
    expect(alerts).toHaveLength(2);
    expect(alerts.join(' ')).toContain('Replica WAL receiver restarted');
    // Each alert says why it is in the incident; the incident names its likely cause.
    expect(alerts.join(' ')).toContain('same CI db-ledger-2');
    // The incident an explanation names is a link to it.
    const named = await page.$$eval('#alerts td.why a', (as) =>
      as.map((a) => a.getAttribute('href')),
    );
    expect(named).toContain(`#/incidents/${page.url().split('/').at(-1)}`);
    expect(alerts.join(' ')).toContain('flapping; incident INC');
    const fields = await page.$eval('dl.fields', (dl) => dl.textContent ?? '');
    expect(fields).toContain('Likely causedb-ledger-2 — ');
    await page.click('#actions button[data-action="acknowledge"]');
    await expect.poll(() => page.textContent('dl.fields')).toContain('in_progress');
    await expect.poll(() => page.textContent('#history')).toContain('[acknowledge]');
    await page.screenshot({ path: '.cache/console-incident.png', fullPage: true });
    expect(
      await page.$$eval('#actions button', (bs) => bs.map((b) => b.dataset.action)),
    ).not.toContain('acknowledge');
  });

  it('searches with facets and highlighted words, and narrows by a facet', async () => {
    await page.goto(base + '/#/search?q=replication');
    await page.waitForSelector('.hit');
    expect(await page.textContent('#facets')).toContain('type');
    expect(await page.$$eval('.hit mark', (ms) => ms.map((m) => m.textContent))).toContain(
      'Replication',
    );
    await page.click('#facets button:has-text("alert")');
    await expect.poll(() => page.textContent('#hits')).toContain('Filter: type=alert');
    const kinds = await page.$$eval('.hit .kind', (ks) => ks.map((k) => k.textContent ?? ''));
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds.every((k) => k.startsWith('alert'))).toBe(true);
  });

  it('shows recurring patterns and opens a problem for one', async () => {
    await page.goto(base + '/#/patterns');
    await page.waitForSelector('table.patterns');
    const text = await page.textContent('#view');
    expect(text).toContain('Printer jam on floor 3');
    await page.click('button.uncovered >> nth=0');
    await expect.poll(() => page.textContent('#status')).toMatch(/Opened PRB\d{7}/);
    await page.screenshot({ path: '.cache/console-patterns.png', fullPage: true });
  });

  it('corrects the correlation: splits an alert off, moves it back, merges an incident', async () => {
    const get = async <T>(path: string) => (await (await tocsin.request(path)).json()) as T;
    const alertsOf = async (id: string) =>
      (await get<{ items: { title: string }[] }>(`/api/v1/alerts?incidentId=${id}`)).items;
    const [replication] = (
      await get<{ items: { id: string; number: string }[] }>('/api/v1/incidents?q=replication')
    ).items;
    await page.goto(`${base}/#/incidents/${replication!.id}`);
    await page.waitForSelector('#alerts tbody tr');
    await page.check('#alerts tr:has-text("Replica WAL receiver restarted") input.pick');
    await page.click('#split');
    await page.waitForURL((url) => !url.hash.endsWith(`/incidents/${replication!.id}`));
    const split = page.url().split('/').at(-1)!;
    await expect.poll(() => page.textContent('#incident-title')).toContain('Replica WAL receiver');
    expect((await alertsOf(split)).map((a) => a.title)).toEqual(['Replica WAL receiver restarted']);
    expect(await alertsOf(replication!.id)).toHaveLength(1);
    // The split-off alert says a person put it there.
    expect(await page.textContent('#alerts')).toContain('put here by a person');

    // Moved back by the incident's number: the incident it leaves has no alert and is canceled.
    page.once('dialog', (d) => void d.accept(replication!.number));
    await page.check('#alerts input.pick');
    await page.click('#move');
    await expect.poll(() => page.textContent('#status')).toContain(`to ${replication!.number}`);
    expect(await alertsOf(replication!.id)).toHaveLength(2);
    expect(await get<{ state: string }>(`/api/v1/incidents/${split}`)).toMatchObject({
      state: 'canceled',
    });

    const [into, from] = printers as [
      { id: string; number: string },
      { id: string; number: string },
    ];
    await page.goto(`${base}/#/incidents/${into.id}`);
    // The last incident's view stays until this one's has loaded: wait for this one's title.
    await expect.poll(() => page.textContent('#incident-title')).toContain(into.number);
    page.once('dialog', (d) => void d.accept(from.number.toLowerCase()));
    await page.click('#merge');
    await expect
      .poll(() => page.textContent('#status'))
      .toContain(`Merged ${from.number.toLowerCase()}`);
    expect(await get(`/api/v1/incidents/${from.id}`)).toMatchObject({
      state: 'canceled',
      resolutionCode: 'merged',
    });
    // A number that names no incident is said, and nothing is sent.
    page.once('dialog', (d) => void d.accept('INC9999999'));
    await page.click('#merge');
    await expect.poll(() => page.textContent('#status')).toContain('no incident INC9999999');
  });

  it('lists the candidate problems the miner proposed, to accept or reject', async () => {
    // Incidents as the correlator leaves them, recurring on two CIs; the real miner proposes them.
    const now = Date.now();
    for (const [ci, template] of [
      ['db-ledger', 'disk <num>% full on <ci>'],
      ['cache-7', 'evicting keys on <ci>'],
    ] as const)
      for (const daysAgo of [25, 12, 9, 5, 2])
        await pool.query(
          `INSERT INTO incidents (title, severity, priority, opened_at, last_alert_at, cis,
             root_cause_ci, template, signature, state, alert_count)
           VALUES ($1, 'major', 3, $2, $2, ARRAY[$3], $3, $4, $3 || '|' || $4, 'resolved', 1)`,
          [template.replace('<ci>', ci), new Date(now - daysAgo * 86_400_000), ci, template],
        );
    const mined = await mineProblems(
      pool,
      { lookbackDays: 30, minIncidents: 3, priorityMatrix: defaultPriorityMatrix },
      new Date(now),
    );
    expect(mined.patterns.filter((p) => p.outcome === 'proposed')).toHaveLength(2);

    await page.goto(`${base}/#/problems`);
    await page.waitForSelector('article.candidate');
    const cards = await page.$$eval('article.candidate', (as) =>
      as.map((a) => a.textContent ?? ''),
    );
    expect(cards).toHaveLength(2);
    const ledger = cards.find((c) => c.includes('db-ledger'))!;
    expect(ledger).toContain('ci:db-ledger');
    expect(ledger).toContain('disk <num>% full on <ci>');
    expect(ledger).toContain('5 times');
    expect(ledger).toContain('rising');
    await page.screenshot({ path: '.cache/console-problems.png', fullPage: true });

    await page.click('article.candidate:has-text("db-ledger") button.accept');
    await expect.poll(() => page.textContent('#status')).toMatch(/^Accepted PRB\d{7}/);
    await expect.poll(() => page.$$eval('article.candidate', (as) => as.length)).toBe(1);
    page.once('dialog', (d) => void d.accept('Evictions are the cache doing its job'));
    await page.click('article.candidate:has-text("cache-7") button.reject');
    await expect.poll(() => page.textContent('#status')).toMatch(/^Rejected PRB\d{7}/);
    await page.waitForSelector('text=No candidate problems');
    const states = await pool.query<{ state: string; cis: string[]; linked: number }>(
      `SELECT p.state, p.cis, (SELECT count(*)::int FROM incidents i WHERE i.problem_id = p.id) AS linked
       FROM problems p WHERE p.signature IS NOT NULL ORDER BY p.cis`,
    );
    expect(states.rows).toEqual([
      { state: 'rejected', cis: ['cache-7'], linked: 0 },
      { state: 'new', cis: ['db-ledger'], linked: 5 },
    ]);
  });

  it('ran without a script error or a Content-Security-Policy violation', () => {
    expect(problems).toEqual([]);
  });
});
