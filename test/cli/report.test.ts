import { describe, expect, it } from 'vitest';
import { compareHtml, compareRows, compareTable, RunRecorder, stallPercentiles, type CompareRun } from '../../src/cli/report';
import type { SnapshotStats } from '../../src/pipeline/events';
import { simulatedRuns } from './support/compareRuns';

/** Every `<svg …>…</svg>` element whose `data-plot` is `plot`. */
function plots(html: string, plot: string): string[] {
  return [...html.matchAll(/<svg\b[^>]*>[\s\S]*?<\/svg>/g)].map((m) => m[0]).filter((s) => s.includes(`data-plot="${plot}"`));
}

/** The `d` of every element of `svg` with `class="…"`. */
function paths(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<path class="${cls}"[^>]*\\sd="([^"]*)"`, 'g'))].map((m) => m[1] as string);
}

/** The x, y pairs a path's `d` visits (M, L, H and V commands, absolute). */
function vertices(d: string): [number, number][] {
  const out: [number, number][] = [];
  let [x, y] = [0, 0];
  for (const [, cmd, args] of d.matchAll(/([MLHVZ])\s*([^MLHVZ]*)/g)) {
    const n = (args ?? '').split(/[\s,]+/).filter(Boolean).map(Number);
    if (cmd === 'H') x = n[0] as number;
    else if (cmd === 'V') y = n[0] as number;
    else if (cmd === 'M' || cmd === 'L') [x, y] = [n[0] as number, n[1] as number];
    if (cmd !== 'Z') out.push([x, y]);
  }
  return out;
}

function size(svg: string): { width: number; height: number } {
  const [, w, h] = /viewBox="0 0 (\d+) (\d+)"/.exec(svg) ?? [];
  return { width: Number(w), height: Number(h) };
}

/** Stats of a run that nothing else needs to be true of: one strategy, pool and stall. */
function stats(overrides: Partial<SnapshotStats>): SnapshotStats {
  return {
    strategy: 'copy',
    kind: 'full',
    identity: { id: '00000000-0000-4000-8000-000000000001', root: '00000000-0000-4000-8000-000000000001', link: 0 },
    pageSize: 4096,
    totalPages: 1024,
    memoryPages: 1024,
    saved: { bulk: 1024, fault: 0, copy: 0 },
    faults: 0,
    stall: { count: 0, p50: 0, p99: 0, max: 0 },
    pool: { pages: 16, peakPages: 0, peakBytes: 0 },
    writes: 16,
    bytesWritten: 4 << 20,
    t0: 0,
    t0PauseMs: 0,
    t0Redos: 0,
    cut: [],
    durationMs: 40,
    ...overrides,
  };
}

describe('RunRecorder', () => {
  const runs = simulatedRuns({ storage: 'hdd', memoryBytes: 16 << 20 });

  it("records every fault's stall, agreeing with the pipeline's own percentiles", () => {
    for (const run of runs) {
      if (run.stalls.kind !== 'samples') throw new Error('expected samples');
      const sorted = Float64Array.from(run.stalls.micros).sort();
      expect(sorted.length).toBe(run.stats.faults);
      expect(sorted.length).toBeGreaterThan(100);
      // The pipeline's HDR histogram keeps three significant digits.
      const close = (micros: number, ms: number) => expect(Math.abs(micros / 1000 - ms)).toBeLessThanOrEqual(ms * 2e-3 + 1e-9);
      close(sorted[sorted.length - 1] as number, run.stats.stall.max);
      close(sorted[Math.ceil(sorted.length * 0.99) - 1] as number, run.stats.stall.p99);
      close(sorted[Math.ceil(sorted.length * 0.5) - 1] as number, run.stats.stall.p50);
    }
  });

  it('records the progress events as time series from t0 to the end', () => {
    for (const { series, stats: s } of runs) {
      expect(series.length).toBeGreaterThan(10);
      series.forEach((p, k) => {
        expect(p.atMs).toBeGreaterThanOrEqual(k === 0 ? 0 : (series[k - 1]?.atMs as number));
        expect(p.poolInUse).toBeLessThanOrEqual(s.pool.peakPages);
      });
      const last = series[series.length - 1];
      expect(last?.saved).toEqual(s.saved);
      expect(last?.atMs).toBeCloseTo(s.durationMs, 6);
    }
  });

  it('pairs faults with the unprotect of their own page, in their own block', () => {
    const recorder = new RunRecorder('by hand');
    recorder.next({ type: 'started', t0: 100, wallTime: 0, kind: 'full', identity: { id: '00000000-0000-4000-8000-000000000001', root: '00000000-0000-4000-8000-000000000001', link: 0 }, totalPages: 8, memoryPages: 8, pageSize: 4096, strategy: 'queue', cut: [], t0PauseMs: 0, t0Redos: 0 });
    recorder.next({ type: 'fault', block: 'a', page: 3, at: 110 });
    recorder.next({ type: 'fault', block: 'a', page: 3, at: 112 });
    recorder.next({ type: 'fault', block: 'b', page: 3, at: 113 });
    recorder.next({ type: 'unprotected', block: 'a', page: 2, count: 2, via: 'fault', at: 115 });
    recorder.next({ type: 'unprotected', block: 'b', page: 0, count: 4, via: 'bulk', at: 120.5 });
    recorder.next({ type: 'done', stats: stats({ strategy: 'queue', faults: 3 }) });
    const run = recorder.result();
    expect(run.label).toBe('by hand');
    expect(run.stalls).toEqual({ kind: 'samples', micros: [5000, 3000, 7500] });
  });

  it("falls back on the stats' percentiles without `detail`, and has no result before `done`", () => {
    const recorder = new RunRecorder();
    expect(() => recorder.result()).toThrow('has not emitted `done`');
    const [queue] = simulatedRuns({ storage: 'ssd', memoryBytes: 4 << 20, detail: false });
    expect(queue?.stalls).toEqual(stallPercentiles((queue as CompareRun).stats.stall));
    expect(queue?.stalls.kind === 'percentiles' && queue.stalls.points.map((p) => p.percentile)).toEqual([50, 99, 100]);
  });
});

describe('compareHtml', () => {
  const runs = simulatedRuns({ storage: 'hdd', memoryBytes: 16 << 20 });
  const html = compareHtml(runs, { subtitle: '16 MiB on hdd' });

  it('draws one stall curve per run, one pool line per run with a pool, and a pages-saved plot per run', () => {
    const [stall] = plots(html, 'stall-distribution');
    const [pool] = plots(html, 'pool-memory');
    expect(paths(stall as string, 'curve')).toHaveLength(4);
    expect(paths(pool as string, 'curve')).toHaveLength(2);
    const saved = plots(html, 'pages-saved');
    expect(saved.map((s) => /data-run="(\d+)"/.exec(s)?.[1])).toEqual(['0', '1', '2', '3']);
    // A layer for each way pages were saved in the run, bottom to top.
    saved.forEach((svg, i) => {
      const { saved: by } = (runs[i] as CompareRun).stats;
      const layers = [...svg.matchAll(/data-via="(\w+)"/g)].map((m) => m[1]);
      expect(layers).toEqual((['bulk', 'fault', 'copy'] as const).filter((via) => by[via] > 0));
    });
    expect(runs[0]?.stats.saved.fault).toBeGreaterThan(0);
    expect(runs[2]?.stats.saved.copy).toBeGreaterThan(0);
  });

  it('keeps every curve and area inside its plot', () => {
    for (const svg of [...plots(html, 'stall-distribution'), ...plots(html, 'pool-memory'), ...plots(html, 'pages-saved')]) {
      const { width, height } = size(svg);
      const ds = [...paths(svg, 'curve'), ...paths(svg, 'area')];
      expect(ds.length).toBeGreaterThan(0);
      for (const d of ds) {
        const points = vertices(d);
        expect(points.length).toBeGreaterThanOrEqual(2);
        for (const [x, y] of points) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(width);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThanOrEqual(height);
        }
      }
    }
  });

  it('is one self-contained page', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|\ssrc=|\shref=|url\(/i);
    const svgs = html.match(/<svg /g)?.length ?? 0;
    expect(svgs).toBe(2 + runs.length);
    expect([...html.matchAll(/https?:\/\/[^"\s]+/g)].map((m) => m[0])).toEqual(Array(svgs).fill('http://www.w3.org/2000/svg'));
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
    expect(html).toContain('<p class="note">16 MiB on hdd</p>');
  });

  it('draws empty plots, not broken ones, for no runs', () => {
    const page = compareHtml([]);
    expect(plots(page, 'stall-distribution')).toHaveLength(1);
    expect(plots(page, 'pool-memory')[0]).toContain('no run had a copy pool');
    expect(plots(page, 'pages-saved')).toEqual([]);
    expect(page).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('draws a run known by percentiles through them, and leaves out a run without faults', () => {
    const byPercentiles: CompareRun = {
      label: 'copy <from stats> & more',
      stats: stats({ faults: 200, stall: { count: 200, p50: 0, p99: 0.8, max: 2.5 } }),
      series: [{ atMs: 20, poolInUse: 3, saved: { bulk: 500, fault: 0, copy: 12 } }],
      stalls: stallPercentiles({ count: 200, p50: 0, p99: 0.8, max: 2.5 }),
    };
    const idle: CompareRun = { stats: stats({ strategy: 'queue', pool: { pages: 0, peakPages: 0, peakBytes: 0 } }), series: [], stalls: { kind: 'samples', micros: [] } };
    const page = compareHtml([idle, byPercentiles]);
    const [stall] = plots(page, 'stall-distribution');
    const curves = [...(stall as string).matchAll(/<path class="curve" data-run="(\d+)"[^>]*>/g)];
    expect(curves.map((m) => m[1])).toEqual(['1']);
    expect(curves[0]?.[0]).toContain('stroke-dasharray');
    expect((stall as string).match(/<circle /g)).toHaveLength(3);
    expect(page).toContain('<b>queue</b>: no faults');
    expect(page).toContain('copy &#60;from stats&#62; &#38; more');
    expect(page).not.toContain('<from stats>');
    expect(page).not.toMatch(/NaN|Infinity/);
  });
});

describe('compareTable', () => {
  it('prints one row per run under the header, figures right-aligned', () => {
    const runs = simulatedRuns({ storage: 'ssd', memoryBytes: 4 << 20 });
    const lines = compareTable(runs).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^run +faults +stall p50 +p99 +max +duration +throughput +pool +pool peak +bulk +fault +copy$/);
    expect(lines.slice(1).map((l) => l.split(/ {2,}/)[0])).toEqual(['queue', 'copy, pool 0 B', 'copy, pool 1 MiB', 'copy, pool 16 MiB']);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    const rows = compareRows(runs);
    expect(rows[1]?.[7]).toBe('-');
    expect(rows[3]?.slice(7, 8)).toEqual(['1 MiB']);
    expect(rows.slice(1).map((r) => Number(r[9]) + Number(r[10]) + Number(r[11]))).toEqual(runs.map((r) => r.stats.totalPages));
  });
});

describe('the comparison page, as read', () => {
  const runs = simulatedRuns({ storage: 'ssd', memoryBytes: 16 << 20 });
  const html = compareHtml(runs);

  it('has a title that names what its plots show', () => {
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1];
    expect(title).toBe('bgsnap compare: writer stall, copy-pool use and pages saved per run');
    expect(plots(html, 'stall-distribution')).toHaveLength(1);
    expect(plots(html, 'pool-memory')).toHaveLength(1);
  });

  it('labels the pool axis in round binary sizes and marks each allocated pool size on it, or names it above', () => {
    const [pool] = plots(html, 'pool-memory') as [string];
    const labels = [...pool.matchAll(/<text x="[\d.]+" y="[\d.]+" text-anchor="end">([^<]+)<\/text>/g)].map((m) => m[1] as string);
    const sizes = labels.filter((l) => /^\d+(\.\d+)? (B|KiB|MiB)$/.test(l));
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    // Every tick a whole multiple of one power-of-two step from 0.
    const bytes = sizes.map((l) => Number(l.split(' ')[0]) * { B: 1, KiB: 1024, MiB: 1024 ** 2 }[l.split(' ')[1] as 'B']);
    const step = bytes[1] as number;
    expect(Math.log2(step) % 1).toBe(0);
    bytes.forEach((b, i) => expect(b).toBe(i * step));
    // The 1 MiB pool is the smallest that holds the highest use: the axis ends at it, with its line; 16 MiB is named above.
    expect(bytes.at(-1)).toBe(1 << 20);
    expect(pool).toMatch(/<line class="ref" data-allocated="1048576"/);
    expect(pool).toContain('1 MiB allocated');
    expect(pool).toContain('above the axis: 16 MiB allocated');
  });

  it('holds the pages saved at their last level after a run ends, to the end of the time axis', () => {
    const saved = plots(html, 'pages-saved');
    saved.forEach((svg, i) => {
      const run = runs[i] as CompareRun;
      const bulk = vertices(paths(svg, 'area')[0] as string);
      const top = bulk.slice(0, bulk.length / 2);
      const xEnd = Math.max(...top.map(([x]) => x));
      // The area's top edge reaches the plot's right edge (372 - 12) at the level it ended at, never back to 0.
      expect(xEnd).toBeCloseTo(360, 0);
      const atEnd = top.filter(([x]) => x === xEnd).map(([, y]) => y);
      const last = top[top.length - 1] as [number, number];
      expect(atEnd).toEqual([last[1]]);
      expect(last[1]).toBeLessThan(220 - 46);
      expect(svg).toMatch(new RegExp(`<line class="ref" data-done="${run.stats.durationMs.toFixed(1)}"`));
    });
  });

  it('gives the median and range over repeats in the table when it has them', () => {
    const spread = { median: 2, min: 1, max: 4 };
    const flat = { median: 3, min: 3, max: 3 };
    const spreads = runs.map(() => ({
      durationMs: { median: 1500, min: 1200, max: 2000 },
      throughputBytesPerSecond: flat,
      stallP50Ms: spread,
      stallP99Ms: spread,
      stallMaxMs: spread,
      poolPeakBytes: { median: 8192, min: 4096, max: 12288 },
    }));
    const rows = compareRows(runs, spreads);
    expect(rows[3]?.slice(2, 7)).toEqual(['2 ms (1 ms–4 ms)', '2 ms (1 ms–4 ms)', '2 ms (1 ms–4 ms)', '1.5 s (1.2 s–2 s)', '3 B/s']);
    expect(rows[3]?.[8]).toBe('8 KiB (4 KiB–12 KiB)');
    const page = compareHtml(runs, { spreads, repeat: 5 });
    expect(page).toContain('Each configuration ran 5 times');
    expect(page).toContain('2 ms (1 ms–4 ms)');
  });
});
