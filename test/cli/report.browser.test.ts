/**
 * The comparison report, opened in a real headless Chromium (Debian's
 * `chromium`, driven by playwright-core): the plots must render, with
 * non-empty curves and areas inside their plots. A screenshot is kept in
 * test-output/ (git-ignored) for a human to look at.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareHtml } from '../../src/cli/report';
import { simulatedRuns } from './support/compareRuns';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = join(__dirname, '..', '..', 'test-output');

/** The box of each element matching `selector` in the page, with the box of its `<svg>`. */
async function boxes(page: Page, selector: string) {
  return page.$$eval(selector, (elements) =>
    elements.map((el) => {
      const box = el.getBoundingClientRect();
      const svg = (el.closest('svg') ?? el).getBoundingClientRect();
      const length = 'getTotalLength' in el ? (el as unknown as { getTotalLength(): number }).getTotalLength() : 0;
      return {
        run: el.getAttribute('data-run'),
        box: { x: box.x, y: box.y, width: box.width, height: box.height },
        svg: { x: svg.x, y: svg.y, width: svg.width, height: svg.height },
        length,
      };
    }),
  );
}

describe('the comparison report in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];
  const runs = simulatedRuns({ storage: 'hdd', memoryBytes: 64 << 20 });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install chromium), or set CHROMIUM_PATH`);
    }
    mkdirSync(OUT, { recursive: true });
    const file = join(OUT, 'compare-report.html');
    writeFileSync(file, compareHtml(runs, { subtitle: '64 MiB on the hdd profile; 2 writers × 200 writes/s; simulated, seed 7.' }));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(pathToFileURL(file).href);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('loads nothing but the page itself, without errors', () => {
    expect(requests).toEqual([pathToFileURL(join(OUT, 'compare-report.html')).href]);
    expect(errors).toEqual([]);
  });

  it('renders the stall distribution: a visible curve per run', async () => {
    const svg = page.locator('svg[data-plot="stall-distribution"]');
    await expect(svg.count()).resolves.toBe(1);
    const curves = await boxes(page, 'svg[data-plot="stall-distribution"] path.curve');
    expect(curves.map((c) => c.run)).toEqual(['0', '1', '2', '3']);
    for (const c of curves) {
      expect(c.length).toBeGreaterThan(0);
      expect(c.box.width + c.box.height).toBeGreaterThan(0);
      expect(c.svg.width).toBeGreaterThan(300);
      expect(c.svg.height).toBeGreaterThan(200);
      // Inside its plot, allowing for the stroke.
      expect(c.box.x).toBeGreaterThanOrEqual(c.svg.x - 3);
      expect(c.box.y).toBeGreaterThanOrEqual(c.svg.y - 3);
      expect(c.box.x + c.box.width).toBeLessThanOrEqual(c.svg.x + c.svg.width + 3);
      expect(c.box.y + c.box.height).toBeLessThanOrEqual(c.svg.y + c.svg.height + 3);
    }
    // queue's faults wait for storage: its curve reaches across the plot.
    expect(curves[0]?.box.width).toBeGreaterThan(100);
    expect(await page.locator('svg[data-plot="stall-distribution"] text').allTextContents()).toEqual(expect.arrayContaining(['p50', 'p99', '1 ms', '100%']));
  });

  it('renders the pool memory over time: a visible line per run with a pool', async () => {
    const lines = await boxes(page, 'svg[data-plot="pool-memory"] path.curve');
    expect(lines.map((l) => l.run)).toEqual(['2', '3']);
    for (const l of lines) {
      expect(l.length).toBeGreaterThan(100);
      expect(l.box.width).toBeGreaterThan(100);
      expect(l.box.height).toBeGreaterThan(10);
    }
  });

  it('renders pages saved over time: stacked areas in a plot per run', async () => {
    const plots = await boxes(page, 'svg[data-plot="pages-saved"]');
    expect(plots.map((p) => p.run)).toEqual(['0', '1', '2', '3']);
    for (const p of plots) expect(p.box.width * p.box.height).toBeGreaterThan(0);
    const areas = await page.$$eval('svg[data-plot="pages-saved"] path.area', (elements) =>
      elements.map((el) => {
        const box = el.getBoundingClientRect();
        return { run: el.closest('svg')?.getAttribute('data-run'), via: el.getAttribute('data-via'), width: box.width, height: box.height };
      }),
    );
    for (const [i, run] of runs.entries()) {
      const mine = areas.filter((a) => a.run === String(i));
      expect(mine.map((a) => a.via)).toEqual((['bulk', 'fault', 'copy'] as const).filter((via) => run.stats.saved[via] > 0));
      for (const a of mine) expect(a.width * a.height).toBeGreaterThan(0);
    }
  });

  it('keeps a screenshot', async () => {
    const shot = join(OUT, 'compare-report.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  });
});
