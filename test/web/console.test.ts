import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

// Debian's Chromium, driven by playwright-core: never a browser download.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let tocsin: TestTocsin;
let base: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

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
  await post('/api/v1/ingest/generic', [
    { title: 'Replication lag above 30s', ci: 'db-ledger-2', severity: 'major' },
    { title: 'Replica WAL receiver restarted', ci: 'db-ledger-2', severity: 'minor' },
  ]);
  for (const n of [1, 2])
    await post('/api/v1/incidents', {
      title: 'Printer jam on floor 3',
      service: 'office',
      cis: [`printer-${n}`],
    });
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

  it('ran without a script error or a Content-Security-Policy violation', () => {
    expect(problems).toEqual([]);
  });
});
